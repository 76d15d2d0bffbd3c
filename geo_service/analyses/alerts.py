"""Adapter: near-repeat alert zones from the store (warning letters, *besmettingsbrieven*).

For every incident since a date: a circle and a period of raised risk
(:func:`spatial.spacetime.nearrepeat.merge_alert_zones`), radius and period read from the
significant cells of a Knox test on the municipality's own incidents in the ``history_days``
before that date (:func:`spatial.spacetime.nearrepeat.near_repeat_extent`, the Knox test run by
:mod:`geo_service.analyses.nearrepeat`, by default with the trend-proof stratified null), else
200 m / 14 days. Chained circles are split into zones that each fit in a disc of
``max_zone_radius_m`` (400 m by default: one leafleting round), never merged into a zone that
runs across a district. Dwellings inside a zone are estimated by areal weighting of the finest
stored areas with dwellings. Alert zones locate incidents: analysts only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
import shapely.geometry

from geo_service import __version__
from geo_service.analyses.nearrepeat import (
    DEFAULT_NULL,
    DEFAULT_STRATUM_M,
    DISTANCE_EDGES_M,
    MAX_DISTANCE_M,
    TIME_EDGES_DAYS,
    check_edges,
    check_knox_args,
    check_null,
    incident_days,
    knox_bands,
    knox_on,
    metric_crs,
    null_description,
)
from geo_service.filters import IncidentFilter, analysis_parameters
from geo_service.store import Store
from layers.geojson import COORD_DECIMALS
from spatial.errors import InvalidParameterError
from spatial.grid.crs import WGS84, transform
from spatial.spacetime.knox import KnoxNull, KnoxResult
from spatial.spacetime.nearrepeat import (
    DEFAULT_DAYS,
    DEFAULT_MAX_ZONE_RADIUS_M,
    DEFAULT_RADIUS_M,
    AlertZones,
    NearRepeatExtent,
    areal_estimate,
    merge_alert_zones,
    near_repeat_extent,
)


@dataclass(frozen=True)
class AlertParams:
    """Every parameter of a near-repeat alert-zone layer; validated on construction.

    Attributes
    ----------
    incidents
        Which incidents get a zone: category, municipality, ``start`` = the *since* date
        (required), optional ``end``.
    radius_m, days
        Fix the zone radius / period; None: from the Knox test (else the default).
    history_days
        The Knox test runs on the ``history_days`` before ``start``.
    distance_edges_m, time_edges_days, permutations, seed, null, stratum_m
        Knox test parameters (:class:`geo_service.analyses.nearrepeat.NearRepeatParams`).
    max_zone_radius_m
        Every zone fits in a disc of this radius (metres, at least the zone radius; 50 to
        5,000): chains of circles that do not are split (one leafleting round per zone).
    alpha
        Significance level of a Knox cell.
    as_of
        Reference day for ``active``; None: the last day of stored data of the municipality.

    Raises
    ------
    InvalidParameterError
    """

    incidents: IncidentFilter
    radius_m: float | None = None
    days: int | None = None
    history_days: int = 730
    distance_edges_m: tuple[float, ...] = DISTANCE_EDGES_M
    time_edges_days: tuple[float, ...] = TIME_EDGES_DAYS
    permutations: int = 99
    seed: int = 0
    null: KnoxNull = DEFAULT_NULL
    stratum_m: float = DEFAULT_STRATUM_M
    max_zone_radius_m: float = DEFAULT_MAX_ZONE_RADIUS_M
    alpha: float = 0.05
    as_of: date | None = None

    def __post_init__(self) -> None:
        if not self.incidents.category:
            raise InvalidParameterError("category is required / categorie is verplicht")
        if self.incidents.start is None:
            raise InvalidParameterError("since (start) is required / --since is verplicht")
        if self.radius_m is not None and not 10.0 <= self.radius_m <= 2_000.0:
            raise InvalidParameterError(
                f"radius_m must be from 10 to 2000 m, got {self.radius_m!r}"
            )
        if self.days is not None and (
            isinstance(self.days, bool)
            or not isinstance(self.days, int)
            or not 1 <= self.days <= 365
        ):
            raise InvalidParameterError(f"days must be an integer from 1 to 365, got {self.days!r}")
        if (
            isinstance(self.history_days, bool)
            or not isinstance(self.history_days, int)
            or not 30 <= self.history_days <= 3660
        ):
            raise InvalidParameterError(
                f"history_days must be an integer from 30 to 3660, got {self.history_days!r}"
            )
        check_edges("distance_edges_m", self.distance_edges_m, MAX_DISTANCE_M)
        check_edges("time_edges_days", self.time_edges_days, 36_500.0)
        check_knox_args(self.permutations, self.seed)
        check_null(self.null, self.stratum_m)
        if (
            isinstance(self.max_zone_radius_m, bool)
            or not isinstance(self.max_zone_radius_m, int | float)
            or not 50.0 <= self.max_zone_radius_m <= 5_000.0
        ):
            raise InvalidParameterError(
                f"max_zone_radius_m must be from 50 to 5000 m, got {self.max_zone_radius_m!r}"
            )
        if self.radius_m is not None and self.max_zone_radius_m < self.radius_m:
            raise InvalidParameterError(
                f"max_zone_radius_m ({self.max_zone_radius_m:g}) must be at least radius_m "
                f"({self.radius_m:g}) / de maximale zonestraal is kleiner dan de straal"
            )
        if not 0 < self.alpha < 1:
            raise InvalidParameterError(f"alpha must be in (0, 1), got {self.alpha!r}")


@dataclass(frozen=True)
class AlertLayer:
    """Alert zones (geometry in WGS84) with their incidents, extent and metadata."""

    zones: AlertZones
    geometry_wgs84: npt.NDArray[np.object_]
    incident_ids: tuple[list[str], ...]
    dwellings: npt.NDArray[np.float64]
    dwellings_coverage: npt.NDArray[np.float64]
    extent: NearRepeatExtent
    as_of: date
    metadata: dict[str, Any] = field(default_factory=dict)


def _to_wgs84(geoms: npt.NDArray[np.object_], crs: str) -> npt.NDArray[np.object_]:
    def project(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        lon, lat = transform(coords[:, 0], coords[:, 1], crs, WGS84)
        return np.column_stack([lon, lat])

    out: npt.NDArray[np.object_] = shapely.transform(geoms, project)
    return out


def _dwelling_areas(
    store: Store, municipality: str | None, crs: str
) -> tuple[str | None, npt.NDArray[np.object_], npt.NDArray[np.float64], bool]:
    """Finest stored area level with known dwellings: (level, polygons in ``crs``, dwellings)."""
    for level in ("buurt", "wijk", "gemeente"):
        areas = store.areas_frame(level=level, municipality=municipality)
        if not len(areas):
            continue
        values = pd.to_numeric(areas["dwellings"], errors="coerce").to_numpy(dtype=np.float64)
        if not np.isfinite(values).any():
            continue
        polys = shapely.make_valid(areas.geometry.to_numpy())

        def project(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            x, y = transform(coords[:, 0], coords[:, 1], WGS84, crs)
            return np.column_stack([x, y])

        estimated = (
            bool(areas["dwellings_estimated"].fillna(False).any())
            if "dwellings_estimated" in areas
            else False
        )
        return level, shapely.transform(polys, project), values, estimated
    return None, np.empty(0, dtype=object), np.empty(0), False


def _as_day(value: date | None) -> date:
    if value is None:
        raise InvalidParameterError("a date is required / datum is verplicht")
    return value.date() if isinstance(value, datetime) else value


def compute_alerts(store: Store, params: AlertParams) -> AlertLayer:
    """Alert zones for every incident since ``params.incidents.start``.

    Raises
    ------
    NotFoundError, EmptyStudyAreaError, InvalidParameterError
    """
    flt = params.incidents
    since = _as_day(flt.start)
    crs = metric_crs(store, flt)

    # 1. The extent: given, else from the Knox test on the history before `since`.
    history = IncidentFilter(
        category=flt.category,
        municipality=flt.municipality,
        start=since - timedelta(days=params.history_days),
        end=since - timedelta(days=1),
    )
    knox: KnoxResult | None = None
    if params.radius_m is None or params.days is None:
        past = store.incident_points(history)
        if len(past) >= 2:
            knox = knox_on(
                past,
                crs,
                params.distance_edges_m,
                params.time_edges_days,
                params.permutations,
                params.seed,
                params.null,
                params.stratum_m,
            )
    extent = near_repeat_extent(knox, alpha=params.alpha)
    if params.radius_m is not None and params.days is not None:
        extent = NearRepeatExtent(
            float(params.radius_m),
            int(params.days),
            "given",
            "opgegeven / given",
            np.zeros((0, 0), dtype=bool),
        )
    elif params.radius_m is not None or params.days is not None:
        extent = NearRepeatExtent(
            float(params.radius_m if params.radius_m is not None else extent.radius_m),
            int(params.days if params.days is not None else extent.days),
            "given",
            f"deels opgegeven; de rest: {extent.source} ({extent.reason}) / partly given",
            extent.region,
        )

    # 2. The zones.
    pts = store.incident_points(flt)
    x, y = transform(pts["lon"].to_numpy(), pts["lat"].to_numpy(), WGS84, crs)
    # A Knox extent wider than the bound would leave no room: the bound grows to the radius.
    max_zone = max(float(params.max_zone_radius_m), extent.radius_m)
    zones = merge_alert_zones(
        x,
        y,
        incident_days(pts),
        radius_m=extent.radius_m,
        days=extent.days,
        max_zone_radius_m=max_zone,
    )
    ids = pts["incident_id"].to_numpy(dtype=object)
    incident_ids = tuple([str(v) for v in ids[m]] for m in zones.members)

    # 3. Dwellings inside (estimate).
    level, areas, values, source_estimated = _dwelling_areas(store, flt.municipality, crs)
    dwellings, coverage = areal_estimate(zones.geometry, areas, values)

    as_of = params.as_of
    if as_of is None:
        as_of = store.data_window(IncidentFilter(municipality=flt.municipality))[1] or since
    parameters = analysis_parameters(params)
    parameters["since"] = since.isoformat()
    parameters["as_of"] = params.as_of.isoformat() if params.as_of else None
    meta: dict[str, Any] = {
        "analysis": "near-repeat alert zones (Knox extent, merged circles)",
        "parameters": parameters,
        "extent": {
            "radius_m": extent.radius_m,
            "days": extent.days,
            "source": extent.source,
            "reason": extent.reason,
            "default": {"radius_m": DEFAULT_RADIUS_M, "days": DEFAULT_DAYS},
            "period_rule": (
                "risico verhoogd van de dag van de inbraak t/m dag + days - 1 / raised from "
                "the day of the incident through day + days - 1"
            ),
        },
        "knox": None
        if knox is None
        else {
            "history_start": history.start.isoformat() if history.start else None,
            "history_end": history.end.isoformat() if history.end else None,
            "n_incidents": knox.n,
            "permutations": knox.permutations,
            "seed": knox.seed,
            "null": knox.null,
            "n_strata": knox.n_strata,
            "null_description": null_description(knox, params.stratum_m),
            "alpha": params.alpha,
            "bands": knox_bands(knox),
            "region": [
                {
                    "distance_to": float(knox.distance_edges_m[a + 1]),
                    "days_to": float(knox.time_edges_days[b + 1]),
                }
                for a, b in zip(*np.nonzero(extent.region), strict=True)
            ]
            if extent.region.shape == knox.observed.shape
            else [],
        },
        "merging": (
            "cirkels samengevoegd waar cirkels en perioden overlappen; een keten die niet "
            f"binnen een cirkel van {max_zone:g} m past, is gesplitst / circles merged where "
            "both the discs and the periods overlap (connected components); a chain that does "
            f"not fit in a disc of {max_zone:g} m is split (complete linkage, Jung's theorem)"
        ),
        "max_zone_radius_m": max_zone,
        "n_chains": zones.n_chains,
        "dwellings": {
            "estimated": True,
            "level": level,
            "source_estimated": source_estimated,
            "method": (
                "som over gebieden van woningen x aandeel van het gebied in de zone (schatting) "
                "/ sum over areas of dwellings x share of the area inside the zone (estimate)"
            ),
        },
        "n_incidents": len(pts),
        "n_zones": zones.n,
        "as_of": as_of.isoformat(),
        "metric_crs": crs,
        "privacy": (
            "alleen analisten: zones tonen de plaats van incidenten / analysts only: zones "
            "reveal incident locations"
        ),
        "time_convention": "lokale kloktijd van de plaats van het incident (tz per incident)",
        "software": f"geo-service {__version__}",
        "data_version": store.data_version(),
    }
    return AlertLayer(
        zones=zones,
        geometry_wgs84=_to_wgs84(zones.geometry, crs),
        incident_ids=incident_ids,
        dwellings=dwellings,
        dwellings_coverage=coverage,
        extent=extent,
        as_of=as_of,
        metadata=meta,
    )


def _geometry_dict(geom: Any) -> dict[str, Any]:
    # RFC 7946 section 3.1.6: exterior rings counter-clockwise, holes clockwise.
    oriented = shapely.orient_polygons(shapely.set_precision(geom, 10.0**-COORD_DECIMALS))
    out: dict[str, Any] = shapely.geometry.mapping(oriented)
    return out


def alerts_geojson(store: Store, params: AlertParams) -> dict[str, Any]:
    """Return the alert zones as an RFC 7946 FeatureCollection with ``metadata``.

    One feature per merged zone, with English keys and Dutch duplicates for mail merges:
    ``zone`` / ``zone_id``, ``period_start`` / ``begin``, ``period_end`` / ``einde``
    (inclusive), ``count`` / ``aantal_inbraken``, ``incident_ids`` / ``incidenten``,
    ``radius_m`` / ``straal_m``, ``days`` / ``dagen``, ``dwellings`` / ``woningen``
    (estimate, ``dwellings_estimated: true``), ``dwellings_coverage``, ``active`` /
    ``actief`` (on ``metadata.as_of``), ``chain`` / ``keten`` (zones with one number were split
    from one chain of overlapping circles) and ``omschrijving`` (one Dutch sentence).
    """
    layer = compute_alerts(store, params)
    z = layer.zones
    epoch = np.datetime64("1970-01-01", "D")
    start = (epoch + z.start_day.astype("timedelta64[D]")).astype(str).tolist()
    end = (epoch + z.end_day.astype("timedelta64[D]")).astype(str).tolist()
    as_of = layer.as_of.isoformat()
    dwell = [None if not np.isfinite(v) else round(float(v)) for v in layer.dwellings]
    cover = np.round(layer.dwellings_coverage, 3).tolist()
    category = params.incidents.category
    features = []
    for i in range(z.n):
        n = int(z.n_incidents[i])
        active = start[i] <= as_of <= end[i]
        what = "inbraak" if n == 1 else "inbraken"
        text = (
            f"Verhoogd risico op {category} binnen {z.radius_m:g} m van {n} {what}, "
            f"van {start[i]} t/m {end[i]}"
            + (f"; ca. {dwell[i]} woningen (schatting)" if dwell[i] is not None else "")
        )
        zone_id = f"NR-{start[i]}-{i + 1:04d}"
        props = {
            "zone": zone_id,
            "zone_id": zone_id,
            "period_start": start[i],
            "begin": start[i],
            "period_end": end[i],
            "einde": end[i],
            "count": n,
            "aantal_inbraken": n,
            "incident_ids": layer.incident_ids[i],
            "incidenten": layer.incident_ids[i],
            "radius_m": z.radius_m,
            "straal_m": z.radius_m,
            "days": z.days,
            "dagen": z.days,
            "dwellings": dwell[i],
            "woningen": dwell[i],
            "dwellings_estimated": True,
            "woningen_geschat": True,
            "dwellings_coverage": cover[i],
            "chain": int(z.chain_of[i]) + 1 if z.chain_of is not None else i + 1,
            "keten": int(z.chain_of[i]) + 1 if z.chain_of is not None else i + 1,
            "active": active,
            "actief": active,
            "omschrijving": text,
        }
        features.append(
            {
                "type": "Feature",
                "id": zone_id,
                "geometry": _geometry_dict(layer.geometry_wgs84[i]),
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": features, "metadata": layer.metadata}
