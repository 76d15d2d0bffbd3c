"""Adapter: from the store to hotspot layers (Gi* and KDE per H3 cell) as GeoJSON.

Only validation, I/O and projection happen here; the statistics are in :mod:`spatial`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo_service import __version__
from geo_service.errors import NotFoundError
from geo_service.store import Store
from layers.geojson import cells_feature_collection
from spatial.crs import WGS84, transform
from spatial.errors import EmptyStudyAreaError, InvalidParameterError
from spatial.gistar import gistar
from spatial.grid import (
    H3Grid,
    cells_of_points,
    check_resolution,
    count_in_cells,
    grid_from_points,
    neighbours,
    study_grid,
)
from spatial.kde import kde_grid, mean_per_cell

Method = Literal["gistar", "kde"]


@dataclass(frozen=True)
class HotspotParams:
    """Every parameter of a hotspot layer; validated on construction.

    Raises
    ------
    InvalidParameterError, InvalidResolutionError
    """

    category: str
    method: Method = "gistar"
    res: int = 10
    k: int = 1
    start: date | None = None
    end: date | None = None
    municipality: str | None = None
    permutations: int = 999
    fdr_alpha: float = 0.05
    bandwidth_m: float | None = None
    seed: int = 0
    cell_m: float = 25.0

    def __post_init__(self) -> None:
        if not self.category:
            raise InvalidParameterError("category is required / categorie is verplicht")
        if self.method not in ("gistar", "kde"):
            raise InvalidParameterError(f"method must be gistar or kde, got {self.method!r}")
        check_resolution(self.res)
        if isinstance(self.k, bool) or not isinstance(self.k, int) or not 1 <= self.k <= 5:
            raise InvalidParameterError(f"k must be an integer from 1 to 5, got {self.k!r}")
        if isinstance(self.permutations, bool) or not 0 <= self.permutations <= 9999:
            raise InvalidParameterError(
                f"permutations must be from 0 to 9999, got {self.permutations!r}"
            )
        if not 0 < self.fdr_alpha < 1:
            raise InvalidParameterError(f"fdr_alpha must be in (0, 1), got {self.fdr_alpha!r}")
        if self.bandwidth_m is not None and not 10 <= self.bandwidth_m <= 20_000:
            raise InvalidParameterError(
                f"bandwidth_m must be from 10 to 20000 m, got {self.bandwidth_m!r}"
            )
        if not 5 <= self.cell_m <= 500:
            raise InvalidParameterError(f"cell_m must be from 5 to 500 m, got {self.cell_m!r}")
        if self.start and self.end and self.start > self.end:
            raise InvalidParameterError(f"start {self.start} is after end {self.end}")


@dataclass(frozen=True)
class HotspotLayer:
    """Per-cell results of one hotspot computation."""

    grid: H3Grid
    properties: dict[str, npt.NDArray[Any]]
    metadata: dict[str, Any] = field(default_factory=dict)


def _study_area(store: Store, params: HotspotParams, pts: pd.DataFrame) -> tuple[H3Grid, str]:
    if params.municipality:
        try:
            area = store.municipality_geometry(params.municipality)
        except NotFoundError:
            if pts.empty:
                raise
        else:
            return study_grid(area, params.res), f"gemeente {params.municipality}"
    if pts.empty:
        raise EmptyStudyAreaError(
            "no incidents match and there is no municipality polygon / "
            "geen incidenten en geen gemeentegrens"
        )
    grid = grid_from_points(pts["lon"].to_numpy(), pts["lat"].to_numpy(), params.res, 250.0)
    return grid, "omhullende van de incidenten (+250 m)"


def _metric_crs(pts: pd.DataFrame, area: BaseGeometry | None) -> str:
    if not pts.empty:
        return str(pts["metric_crs"].mode().iloc[0])
    from spatial.crs import metric_crs_for

    c = area.centroid if area is not None else None
    return metric_crs_for([c.x], [c.y]) if c is not None else "EPSG:28992"


def compute_hotspots(store: Store, params: HotspotParams) -> HotspotLayer:
    """Compute a hotspot layer from the store.

    Raises
    ------
    NotFoundError, EmptyStudyAreaError, InvalidParameterError
    """
    pts = store.incident_points(
        category=params.category,
        municipality=params.municipality,
        start=params.start,
        end=params.end,
    )
    grid, area_note = _study_area(store, params, pts)
    lon, lat = pts["lon"].to_numpy(), pts["lat"].to_numpy()
    counts, outside = count_in_cells(grid, lon, lat)
    props: dict[str, npt.NDArray[Any]] = {"count": counts.astype(np.int64)}
    meta: dict[str, Any] = {}
    if params.method == "gistar":
        result = gistar(
            counts, neighbours(grid, params.k), permutations=params.permutations, rng=params.seed
        )
        props.update(
            gi_z=np.round(result.z, 6),
            gi_p=np.round(result.p_norm, 8),
            gi_p_sim=np.round(result.p_sim, 6),
            gi_p_fdr=np.round(result.p_fdr, 8),
            gi_class=result.hot_cold_class,
            gi_class_fdr=result.hot_cold_class_fdr,
            gi_significant_fdr=result.p_fdr < params.fdr_alpha,
        )
        meta["weights"] = f"binary k-ring (k={params.k}), self included (Gi*)"
    else:
        area = grid.polygons()
        crs = _metric_crs(pts, None)
        hull = shapely.union_all(area)
        env = shapely.get_coordinates(hull.envelope)
        hx, hy = transform(env[:, 0], env[:, 1], WGS84, crs)
        bounds = (hx.min(), hy.min(), hx.max(), hy.max())
        kde = kde_grid(
            pts["x"].to_numpy() if not pts.empty else np.empty(0),
            pts["y"].to_numpy() if not pts.empty else np.empty(0),
            bandwidth_m=params.bandwidth_m if params.bandwidth_m or len(pts) >= 2 else 250.0,
            cell_m=params.cell_m,
            bounds=bounds,
            crs=crs,
        )
        nx_, ny_ = kde.node_coordinates()
        nlon, nlat = transform(nx_, ny_, crs, WGS84)
        node_cell = grid.index_of(cells_of_points(nlon, nlat, grid.res))
        props["kde_density"] = np.round(mean_per_cell(kde.density, node_cell, grid.n), 4)
        meta.update(
            bandwidth_m=round(kde.bandwidth_m, 1),
            bandwidth_rule=kde.bandwidth_rule,
            kde_cell_m=kde.cell_m,
            kde_units="incidenten per km2",
            kde_edge_loss=round(kde.edge_loss, 3),
            kde_crs=crs,
        )
    first = pts["occurred_from"].min() if not pts.empty else None
    last = pts["occurred_from"].max() if not pts.empty else None
    meta = {
        "parameters": {
            k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(params).items()
        },
        "data_window": {
            "requested_start": params.start.isoformat() if params.start else None,
            "requested_end": params.end.isoformat() if params.end else None,
            "first_incident": first.date().isoformat() if first is not None else None,
            "last_incident": last.date().isoformat() if last is not None else None,
        },
        "n_incidents": len(pts),
        "n_incidents_outside_grid": outside,
        "n_cells": grid.n,
        "study_area": area_note,
        "h3_resolution": grid.res,
        "software": f"geo-service {__version__}",
        "data_version": store.data_version(),
        **meta,
    }
    return HotspotLayer(grid=grid, properties=props, metadata=meta)


def hotspots_geojson(store: Store, params: HotspotParams) -> dict[str, Any]:
    """Compute a hotspot layer and return it as an RFC 7946 FeatureCollection with ``metadata``."""
    layer = compute_hotspots(store, params)
    return cells_feature_collection(
        layer.grid.hex_ids(), layer.grid.polygons(), layer.properties, layer.metadata
    )
