"""Adapter: from the store to hotspot layers (Gi* and KDE per H3 cell) as GeoJSON.

Only validation, I/O and projection happen here; the statistics are in :mod:`spatial`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import h3
import numpy as np
import numpy.typing as npt
import shapely
from h3ronpy import change_resolution
from shapely.geometry.base import BaseGeometry

from geo_service import __version__
from geo_service.errors import NotFoundError
from geo_service.filters import IncidentFilter, analysis_parameters
from geo_service.store import Store
from layers.cells import CellTable
from layers.geojson import polygon_rings
from spatial.errors import EmptyStudyAreaError, InvalidParameterError
from spatial.grid.crs import WGS84, metric_crs_for, transform
from spatial.grid.h3grid import (
    MIN_RES,
    H3Grid,
    buffer_rings,
    cells_of_points,
    check_resolution,
    count_in_cells,
    footprint_grid,
    neighbours,
    study_grid,
)
from spatial.hotspots.gistar import P_SIM_METHODS, PSimMethod, gistar
from spatial.hotspots.kde import MIN_BANDWIDTH_CELLS, KDEResult, kde_grid, mean_per_cell
from spatial.privacy.disclosure import CellKeyPerturbation, cell_keys, impute_withheld

Method = Literal["gistar", "kde"]

#: How far (metres) a footprint study area reaches beyond the cells that ever held an incident.
FOOTPRINT_BUFFER_M = 250.0


@dataclass(frozen=True)
class HotspotParams:
    """Every parameter of a hotspot layer; validated on construction.

    ``incidents`` says which incidents (category, municipality, period); ``k_ring`` is the
    Gi* neighbourhood (grid distance); ``max_cells`` caps the study grid of one request.

    Raises
    ------
    InvalidParameterError, InvalidResolutionError
    """

    incidents: IncidentFilter
    method: Method = "gistar"
    res: int = 10
    k_ring: int = 1
    permutations: int = 999
    p_sim_method: PSimMethod = "two-sided-midrank"
    fdr_alpha: float = 0.05
    bandwidth_m: float | None = None
    seed: int = 0
    cell_m: float = 25.0
    max_cells: int | None = 250_000
    #: Publish for viewers: counts by the cell key method, statistics from the published
    #: counts only (see :func:`compute_hotspots`); None = exact (analysts).
    disclosure: CellKeyPerturbation | None = None

    def __post_init__(self) -> None:
        if not self.incidents.category:
            raise InvalidParameterError("category is required / categorie is verplicht")
        if self.method not in ("gistar", "kde"):
            raise InvalidParameterError(f"method must be gistar or kde, got {self.method!r}")
        check_resolution(self.res)
        if (
            isinstance(self.k_ring, bool)
            or not isinstance(self.k_ring, int)
            or not 1 <= self.k_ring <= 5
        ):
            raise InvalidParameterError(
                f"k_ring must be an integer from 1 to 5, got {self.k_ring!r}"
            )
        if isinstance(self.permutations, bool) or not 0 <= self.permutations <= 9999:
            raise InvalidParameterError(
                f"permutations must be from 0 to 9999, got {self.permutations!r}"
            )
        if self.p_sim_method not in P_SIM_METHODS:
            raise InvalidParameterError(
                f"p_sim_method must be one of {P_SIM_METHODS}, got {self.p_sim_method!r}"
            )
        if not 0 < self.fdr_alpha < 1:
            raise InvalidParameterError(f"fdr_alpha must be in (0, 1), got {self.fdr_alpha!r}")
        if not 5 <= self.cell_m <= 500:
            raise InvalidParameterError(f"cell_m must be from 5 to 500 m, got {self.cell_m!r}")
        if self.bandwidth_m is not None and not (
            MIN_BANDWIDTH_CELLS * self.cell_m <= self.bandwidth_m <= 20_000
        ):
            raise InvalidParameterError(
                f"bandwidth_m must be from {MIN_BANDWIDTH_CELLS:g} cells "
                f"({MIN_BANDWIDTH_CELLS * self.cell_m:g} m) to 20000 m, got {self.bandwidth_m!r}"
            )


@dataclass(frozen=True)
class HotspotLayer:
    """Per-cell results of one hotspot computation (a typed table: one array per column)."""

    grid: H3Grid
    properties: dict[str, npt.NDArray[Any]]
    metadata: dict[str, Any] = field(default_factory=dict)
    area: StudyArea | None = None

    def table(self) -> CellTable:
        """Return the layer as a :class:`~layers.cells.CellTable` (exact values).

        Ids and rings come from the study area (made once per area) when it has them, else
        from the grid.
        """
        if self.area is not None and self.area.rings:
            ids, rings = self.area.hex_ids, self.area.rings
        else:
            ids, rings = self.grid.hex_ids(), polygon_rings(self.grid.polygons())
        return CellTable.from_cells(ids, rings, self.properties, self.metadata)


@dataclass(frozen=True)
class StudyArea:
    """The cells an analysis works on, why, and the metric CRS it computes in.

    ``hex_ids`` and ``rings`` (GeoJSON polygons) are made once per study area and reused by
    every layer on it.
    """

    grid: H3Grid
    note: str
    metric_crs: str
    hex_ids: list[str] = field(default_factory=list)
    rings: list[Any] = field(default_factory=list)


def study_area(
    store: Store, flt: IncidentFilter, res: int, *, max_cells: int | None = None
) -> StudyArea:
    """Choose the study area of an analysis; memoised per data version (see :func:`_study_area`).

    Raises
    ------
    EmptyStudyAreaError, TooManyCellsError, NotFoundError
    """
    key = ("study_area", store.data_version(), flt.municipality, res, max_cells)
    area: StudyArea = store.memo.get_or_compute(
        key, lambda: _study_area(store, flt, res, max_cells=max_cells)
    )
    return area


def _study_area(
    store: Store, flt: IncidentFilter, res: int, *, max_cells: int | None = None
) -> StudyArea:
    """Choose the study area of an analysis (the policy in the README).

    1. the municipality's polygon, when ``flt.municipality`` names one that is stored;
    2. else the union of all imported areas (without a municipality filter);
    3. else the footprint of ALL stored incidents (of that municipality, any category and
       period): the cells that held one, plus a k-ring buffer of ~250 m.

    The area never depends on the filter's category or period, so it cannot outline the
    incidents being analysed, and it is never a convex hull (sea and fields add zeros that
    inflate hotspots). The metric CRS is RD New for Dutch areas, else the local UTM zone.

    Raises
    ------
    EmptyStudyAreaError, TooManyCellsError
    """
    geom: BaseGeometry | None = None
    note = ""
    if flt.municipality:
        try:
            geom = store.municipality_geometry(flt.municipality)
            note = f"gemeente {flt.municipality}"
        except NotFoundError:
            geom = None
    elif (union := store.areas_geometry()) is not None:
        geom, note = union, "alle ingelezen gebieden"
    if geom is not None:
        grid = study_grid(geom, res, max_cells=max_cells)
    else:
        pts = store.footprint_points(flt.municipality)
        if pts.empty and flt.municipality:
            raise NotFoundError(
                f"no areas and no incidents for municipality {flt.municipality!r} "
                "/ gemeente onbekend"
            )
        if pts.empty:
            raise EmptyStudyAreaError(
                "no incidents stored and no area polygons / geen incidenten en geen gebieden"
            )
        rings = buffer_rings(res, FOOTPRINT_BUFFER_M)
        grid = footprint_grid(
            pts["lon"].to_numpy(), pts["lat"].to_numpy(), res, k_ring=rings, max_cells=max_cells
        )
        note = f"voetafdruk van alle opgeslagen incidenten + {rings} ring(en) (~250 m)" + (
            f", gemeente {flt.municipality}" if flt.municipality else ""
        )
    clon, clat = grid.centroids()
    crs = metric_crs_for([float(np.median(clon))], [float(np.median(clat))])
    return StudyArea(
        grid=grid,
        note=note,
        metric_crs=crs,
        hex_ids=grid.hex_ids(),
        rings=polygon_rings(grid.polygons()),
    )


def _metric_bounds(grid: H3Grid, crs: str) -> tuple[float, float, float, float]:
    env = shapely.get_coordinates(shapely.union_all(grid.polygons()).envelope)
    hx, hy = transform(env[:, 0], env[:, 1], WGS84, crs)
    return (float(hx.min()), float(hy.min()), float(hx.max()), float(hy.max()))


def _node_cells(kde: KDEResult, grid: H3Grid, crs: str) -> npt.NDArray[np.int64]:
    nx_, ny_ = kde.node_coordinates()
    nlon, nlat = transform(nx_, ny_, crs, WGS84)
    return grid.index_of(cells_of_points(nlon, nlat, grid.res))


def _imputed(
    grid: H3Grid,
    pts: Any,
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    shown: npt.NDArray[np.float64],
    withheld: npt.NDArray[np.bool_],
    ck: CellKeyPerturbation,
) -> npt.NDArray[np.float64]:
    """Return the counts a viewer layer's statistics use: withheld cells imputed.

    Withheld cells get their share of the published count of their parent cell one resolution
    coarser (:func:`spatial.privacy.disclosure.impute_withheld`) -- the value the coarser
    viewer layer shows for the same incidents, so nothing new is published. At the coarsest
    resolution withheld cells count 0.
    """
    if grid.res <= MIN_RES:
        return shown
    parent_res = grid.res - 1
    cells = np.asarray(grid.cells, dtype=np.uint64)
    parents = np.asarray(change_resolution(cells, parent_res), dtype=np.uint64)
    uniq, parent_idx = np.unique(parents, return_inverse=True)
    pt_parent = cells_of_points(lon, lat, parent_res)
    pos = np.minimum(np.searchsorted(uniq, pt_parent), len(uniq) - 1)
    at = np.where(uniq[pos] == pt_parent, pos, -1)
    n_parent = np.bincount(at[at >= 0], minlength=len(uniq))
    keys = cell_keys(pts["record_key"].to_numpy(dtype=np.uint64), at, len(uniq))
    pv, p_withheld = ck.perturb(n_parent, keys)
    return impute_withheld(
        shown, withheld, parent_idx, np.where(p_withheld, 0.0, pv), ck.min_count - 1 + ck.max_noise
    )


def viewer_bandwidth_m(res: int) -> float:
    """Return the KDE bandwidth of viewer layers: 2.5 mean H3 edge lengths, at least 250 m.

    Examples
    --------
    >>> [round(viewer_bandwidth_m(r)) for r in (8, 9, 10, 11)]
    [1329, 502, 250, 250]
    """
    return max(250.0, 2.5 * float(h3.average_hexagon_edge_length(res, unit="m")))


def compute_hotspots(store: Store, params: HotspotParams) -> HotspotLayer:
    """Compute a hotspot layer from the store.

    Points are projected from lon/lat to the study area's metric CRS here, at analysis time,
    so one analysis never mixes projections.

    Raises
    ------
    NotFoundError, EmptyStudyAreaError, InvalidParameterError, TooManyCellsError
    """
    area = study_area(store, params.incidents, params.res, max_cells=params.max_cells)
    grid = area.grid
    published = params.disclosure is not None
    pts = store.incident_points(params.incidents, record_keys=published)
    lon, lat = pts["lon"].to_numpy(), pts["lat"].to_numpy()
    counts, outside = count_in_cells(grid, lon, lat)
    props: dict[str, npt.NDArray[Any]] = {"count": counts.astype(np.int64)}
    meta: dict[str, Any] = {}
    if params.disclosure is not None:
        # Viewers: every count by the cell key method, and every statistic below from those
        # published counts (withheld = 0), never from the exact ones -- a class or a density
        # then tells nothing the counts do not.
        keys = cell_keys(
            pts["record_key"].to_numpy(dtype=np.uint64),
            grid.index_of(cells_of_points(lon, lat, grid.res)),
            grid.n,
        )
        shown, withheld = params.disclosure.perturb(counts.astype(np.int64), keys)
        published_counts = np.where(withheld, 0.0, shown)
        props["count"] = np.ma.MaskedArray(published_counts.astype(np.int64), mask=withheld)
        props["suppressed"] = withheld
        counts = _imputed(grid, pts, lon, lat, published_counts, withheld, params.disclosure)
    w = neighbours(grid, params.k_ring)
    # Incidents in each cell's neighbourhood (itself + k-ring): the privacy model shows a class
    # to viewers only where this reaches k.
    props["n_neighbourhood"] = np.asarray(w @ counts + counts, dtype=np.int64)
    if params.method == "gistar":
        result = gistar(
            counts,
            w,
            permutations=params.permutations,
            rng=params.seed,
            p_sim_method=params.p_sim_method,
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
        meta["weights"] = f"binary k-ring (k_ring={params.k_ring}), self included (Gi*)"
        meta["p_sim_method"] = result.p_sim_method
    else:
        crs = area.metric_crs
        bounds = store.memo.get_or_compute(
            ("kde_bounds", store.data_version(), params.incidents.municipality, grid.res, crs),
            lambda: _metric_bounds(grid, crs),
        )
        if params.disclosure is None:
            px, py = transform(lon, lat, WGS84, crs)
            weights = None
            bandwidth = params.bandwidth_m if params.bandwidth_m or len(pts) >= 2 else 250.0
        else:
            # Viewers: the density of the published counts at the cell centres, with a
            # bandwidth fixed by the resolution (a rule of thumb on the query's own incidents
            # would leak their spread).
            cx, cy = grid.centroids()
            px, py = transform(cx, cy, WGS84, crs)
            weights = counts
            bandwidth = params.bandwidth_m or viewer_bandwidth_m(grid.res)
        kde = kde_grid(
            px,
            py,
            bandwidth_m=bandwidth,
            cell_m=params.cell_m,
            bounds=bounds,
            weights=weights,
            crs=crs,
        )
        # Which study cell each raster node falls in depends only on the grid: made once.
        node_cell = store.memo.get_or_compute(
            (
                "kde_nodes",
                store.data_version(),
                params.incidents.municipality,
                grid.res,
                crs,
                bounds,
                kde.cell_m,
                kde.density.shape,
            ),
            lambda: _node_cells(kde, grid, crs),
        )
        props["kde_density"] = np.round(mean_per_cell(kde.density, node_cell, grid.n), 4)
        meta.update(
            bandwidth_m=round(kde.bandwidth_m, 1),
            bandwidth_rule=kde.bandwidth_rule,
            kde_cell_m=kde.cell_m,
            kde_units="incidenten per km2",
            kde_edge_loss=round(kde.edge_loss, 3),
            kde_crs=crs,
        )
    flt = params.incidents
    first = pts["occurred_from"].min() if not pts.empty else None
    last = pts["occurred_from"].max() if not pts.empty else None
    parameters = analysis_parameters(params)
    meta = {
        "parameters": parameters,
        "data_window": flt.data_window(first, last),
        "time_convention": "lokale kloktijd van de plaats van het incident (tz per incident)",
        "n_incidents": len(pts),
        "n_incidents_outside_grid": outside,
        "n_cells": grid.n,
        "study_area": area.note,
        "metric_crs": area.metric_crs,
        "h3_resolution": grid.res,
        "software": f"geo-service {__version__}",
        "data_version": store.data_version(),
        **meta,
    }
    return HotspotLayer(grid=grid, properties=props, metadata=meta, area=area)


def hotspots_geojson(store: Store, params: HotspotParams) -> dict[str, Any]:
    """Compute a hotspot layer and return it as an RFC 7946 FeatureCollection with ``metadata``."""
    return compute_hotspots(store, params).table().to_geojson()
