"""Adapter: near repeat (Knox test) and near-repeat alert zones from the store.

Only validation, I/O and projection happen here; the statistics are in :mod:`spatial.spacetime.knox`
and the zones in :mod:`spatial.spacetime.nearrepeat`.

* **Space.** Incidents are projected at analysis time from lon/lat to the study area's metric
  CRS (:func:`geo_service.analyses.hotspots.study_area`: RD New in the Netherlands, else the local
  UTM
  zone), so distances are metres in one CRS.
* **Time.** ``t`` is the local calendar date of ``occurred_from`` (the store keeps local
  wall-clock time), as whole days; the time gap of a pair is the absolute difference of the
  two dates in days, so two burglaries on the same date are 0 days apart and 23:50 / 00:10
  the next day are 1 day apart. Bands are half-open: ``[0, 7)`` days holds gaps 0-6.
* **Alert zones.** For every incident since a date: a circle and a period of raised risk
  (:func:`spatial.spacetime.nearrepeat.merge_alert_zones`), radius and period read from the
  significant
  cells of a Knox test on the municipality's own incidents in the ``history_days`` before that
  date (:func:`spatial.spacetime.nearrepeat.near_repeat_extent`), else 200 m / 14 days; dwellings
  inside
  a zone estimated by areal weighting of the finest stored areas with dwellings. Alert zones
  locate incidents: analysts only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
import shapely.geometry

from geo_service import __version__
from geo_service.analyses.hotspots import study_area
from geo_service.filters import IncidentFilter, analysis_parameters
from geo_service.store import Store
from layers.geojson import COORD_DECIMALS
from spatial.errors import InvalidParameterError
from spatial.grid.crs import WGS84, transform
from spatial.spacetime.knox import KnoxResult, knox_test
from spatial.spacetime.nearrepeat import (
    DEFAULT_DAYS,
    DEFAULT_RADIUS_M,
    AlertZones,
    NearRepeatExtent,
    areal_estimate,
    merge_alert_zones,
    near_repeat_extent,
)

#: Near Repeat Calculator defaults (Ratcliffe 2009): 100 m and 7-day bands.
DISTANCE_EDGES_M: Final = (0.0, 100.0, 200.0, 300.0, 400.0, 500.0)
TIME_EDGES_DAYS: Final = (0.0, 7.0, 14.0, 21.0, 28.0, 35.0, 42.0, 49.0, 56.0)
#: Largest distance edge: pairs grow with its square (5 km over a city is ~all pairs).
MAX_DISTANCE_M: Final = 5_000.0
#: The metric CRS comes from the study area at this (coarsest) resolution: cheap, and the
#: median cell centre hardly moves with the resolution.
CRS_RES: Final = 8


def _edges(name: str, edges: tuple[float, ...], upper: float | None) -> None:
    e = np.asarray(edges, dtype=np.float64)
    if e.ndim != 1 or e.size < 2 or e.size > 51:
        raise InvalidParameterError(f"{name} needs 2 to 51 edges, got {edges!r}")
    if not np.isfinite(e).all() or e[0] < 0 or not (np.diff(e) > 0).all():
        raise InvalidParameterError(
            f"{name} must be finite, >= 0 and strictly increasing, got {edges!r}"
        )
    if upper is not None and e[-1] > upper:
        raise InvalidParameterError(f"{name} may reach at most {upper:g}, got {edges!r}")


def _check_knox_args(permutations: int, seed: int) -> None:
    if isinstance(permutations, bool) or not isinstance(permutations, int):
        raise InvalidParameterError(f"permutations must be an integer, got {permutations!r}")
    if not 0 <= permutations <= 9999:
        raise InvalidParameterError(f"permutations must be from 0 to 9999, got {permutations!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidParameterError(f"seed must be an integer >= 0, got {seed!r}")


@dataclass(frozen=True)
class NearRepeatParams:
    """Every parameter of a Knox near-repeat test; validated on construction.

    Attributes
    ----------
    incidents
        Which incidents (category required; municipality; period of local days).
    distance_edges_m
        Distance band edges in metres (half-open bands), at most 5 km.
    time_edges_days
        Time band edges in days (half-open bands).
    permutations
        Monte-Carlo permutations of the dates (0: observed counts and analytic expectation).
    seed
        Seed of the permutations.

    Raises
    ------
    InvalidParameterError
    """

    incidents: IncidentFilter
    distance_edges_m: tuple[float, ...] = DISTANCE_EDGES_M
    time_edges_days: tuple[float, ...] = TIME_EDGES_DAYS
    permutations: int = 99
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.incidents.category:
            raise InvalidParameterError("category is required / categorie is verplicht")
        _edges("distance_edges_m", self.distance_edges_m, MAX_DISTANCE_M)
        _edges("time_edges_days", self.time_edges_days, 36_500.0)
        _check_knox_args(self.permutations, self.seed)


@dataclass(frozen=True)
class NearRepeatResult:
    """A Knox table with the metadata that reproduces it."""

    knox: KnoxResult
    metadata: dict[str, Any] = field(default_factory=dict)


def metric_crs(store: Store, flt: IncidentFilter) -> str:
    """Return the metric CRS of the study area of ``flt`` (RD New in NL, else UTM).

    Raises
    ------
    NotFoundError, EmptyStudyAreaError
    """
    return study_area(store, flt, CRS_RES).metric_crs


def _days(frame: pd.DataFrame) -> npt.NDArray[np.int64]:
    """Local calendar date of ``occurred_from`` as days since 1970-01-01."""
    return np.asarray(
        frame["occurred_from"].to_numpy().astype("datetime64[D]").astype(np.int64), dtype=np.int64
    )


def _knox_on(
    frame: pd.DataFrame,
    crs: str,
    distance_edges_m: tuple[float, ...],
    time_edges_days: tuple[float, ...],
    permutations: int,
    seed: int,
) -> KnoxResult:
    x, y = transform(frame["lon"].to_numpy(), frame["lat"].to_numpy(), WGS84, crs)
    return knox_test(
        x,
        y,
        _days(frame),
        distance_edges_m,
        time_edges_days,
        permutations=permutations,
        rng=seed,
    )


def knox_bands(knox: KnoxResult) -> list[dict[str, Any]]:
    """Return the Knox table as one record per (distance band, time band), row-major.

    Keys: ``distance_from``, ``distance_to`` (m), ``days_from``, ``days_to`` (half-open),
    ``observed``, ``expected`` (mean over the permutations), ``expected_analytic``,
    ``ratio`` and ``p`` (None where undefined).
    """
    d = knox.distance_edges_m
    t = knox.time_edges_days
    n_t = t.size - 1
    cell = np.arange((d.size - 1) * n_t)
    a, b = cell // n_t, cell % n_t  # row-major: distance band, then time band

    def col(values: npt.NDArray[Any], decimals: int) -> list[Any]:
        v = np.round(np.asarray(values, dtype=np.float64).ravel(), decimals)
        return [None if not np.isfinite(x) else float(x) for x in v.tolist()]

    columns = {
        "distance_from": col(d[a], 3),
        "distance_to": col(d[a + 1], 3),
        "days_from": col(t[b], 3),
        "days_to": col(t[b + 1], 3),
        "observed": knox.observed.ravel().astype(int).tolist(),
        "expected": col(knox.expected, 4),
        "expected_analytic": col(knox.expected_analytic, 4),
        "ratio": col(knox.ratio, 4),
        "p": col(knox.p_value, 4),
    }
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def near_repeat(store: Store, params: NearRepeatParams) -> NearRepeatResult:
    """Run the Knox test on the store's incidents.

    Raises
    ------
    NotFoundError, EmptyStudyAreaError, InvalidParameterError
        Among others: fewer than 2 incidents match.
    """
    flt = params.incidents
    crs = metric_crs(store, flt)
    pts = store.incident_points(flt)
    knox = _knox_on(
        pts,
        crs,
        params.distance_edges_m,
        params.time_edges_days,
        params.permutations,
        params.seed,
    )
    first = pts["occurred_from"].min()
    last = pts["occurred_from"].max()
    parameters = analysis_parameters(params)
    meta: dict[str, Any] = {
        "analysis": "Knox test for space-time interaction (near repeat), Monte-Carlo p",
        "parameters": parameters,
        "n_incidents": knox.n,
        "pairs_considered": knox.pairs_considered,
        "first_incident": first.date().isoformat(),
        "last_incident": last.date().isoformat(),
        "metric_crs": crs,
        "distance": f"euclidean metres in {crs}",
        "time": (
            "|verschil| in kalenderdagen van de lokale datum van occurred_from / absolute "
            "difference of local calendar dates"
        ),
        "bands": "half-open [from, to)",
        "p_value": "one-sided (1 + #sims >= observed) / (1 + permutations)",
        "time_convention": "lokale kloktijd van de plaats van het incident (tz per incident)",
        "software": f"geo-service {__version__}",
        "data_version": store.data_version(),
    }
    return NearRepeatResult(knox=knox, metadata=meta)


def near_repeat_json(result: NearRepeatResult) -> dict[str, Any]:
    """Return ``{"metadata": ..., "bands": [...]}`` (see :func:`knox_bands`)."""
    return {"metadata": result.metadata, "bands": knox_bands(result.knox)}


def _nl(value: float, decimals: int = 2) -> str:
    """Dutch number: decimal comma, thousands dot."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def _band_label(lo: float, hi: float, unit: str, integer: bool) -> str:
    if not np.isfinite(hi):
        return f">= {lo:g} {unit}"
    if integer:
        # Whole days in [lo, hi) are lo .. hi - 1.
        return f"{int(lo)}-{int(hi) - 1} {unit}" if hi - lo > 1 else f"{int(lo)} {unit}"
    return f"{lo:g}-<{hi:g} {unit}"


def near_repeat_table(result: NearRepeatResult, alpha: float = 0.05) -> str:
    """Return the Knox table as readable Dutch text: ratio matrix, significant cells marked.

    A cell is marked ``*`` where the ratio is above 1 and ``p < alpha``.
    """
    k = result.knox
    meta = result.metadata
    par = meta["parameters"]
    d, t = k.distance_edges_m, k.time_edges_days
    whole_days = bool(np.all(np.mod(t[np.isfinite(t)], 1) == 0))
    rows = [_band_label(d[i], d[i + 1], "m", integer=False) for i in range(d.size - 1)]
    cols = [_band_label(t[j], t[j + 1], "d", integer=whole_days) for j in range(t.size - 1)]
    with np.errstate(invalid="ignore"):
        sig = (k.ratio > 1) & (k.p_value < alpha)

    def cell(i: int, j: int) -> str:
        r = k.ratio[i, j]
        text = "-" if not np.isfinite(r) else _nl(float(r))
        return text + ("*" if sig[i, j] else " ")

    def matrix(title: str, fmt: Any) -> list[str]:
        width = max(8, *(len(c) + 1 for c in cols))
        first = max(len("afstand \\ tijd"), *(len(r) for r in rows)) + 2
        out = [title, "afstand \\ tijd".ljust(first) + "".join(c.rjust(width) for c in cols)]
        for i, label in enumerate(rows):
            out.append(
                label.ljust(first) + "".join(fmt(i, j).rjust(width) for j in range(len(cols)))
            )
        return out

    period = f"{par['start'] or meta['first_incident']} t/m {par['end'] or meta['last_incident']}"
    head = [
        "Near repeat (Knox-test)",
        f"categorie: {par['category']}   gemeente: {par['municipality'] or 'alle'}   "
        f"periode: {period}",
        f"incidenten: {_nl(k.n, 0)}   paren binnen {d[-1]:g} m: {_nl(k.pairs_considered, 0)}   "
        f"permutaties: {k.permutations} (seed {k.seed})   CRS: {meta['metric_crs']}",
        "",
    ]
    body = matrix(
        "Knox-ratio (waargenomen / verwacht); * = ratio > 1 en p < "
        f"{_nl(alpha, 2)} (verhoogd risico)",
        cell,
    )
    obs = matrix("Waargenomen paren", lambda i, j: f"{_nl(int(k.observed[i, j]), 0)} ")
    foot = [
        "",
        "Banden zijn halfopen [van, tot); tijd = verschil in kalenderdagen (lokale datum).",
        f"p eenzijdig uit {k.permutations} permutaties van de data; kleinste mogelijke p = "
        f"{_nl(1 / (1 + k.permutations), 3) if k.permutations else '-'}.",
    ]
    return "\n".join([*head, *body, "", *obs, *foot])


# --------------------------------------------------------------------------- alert zones


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
    distance_edges_m, time_edges_days, permutations, seed
        Knox test parameters.
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
        _edges("distance_edges_m", self.distance_edges_m, MAX_DISTANCE_M)
        _edges("time_edges_days", self.time_edges_days, 36_500.0)
        _check_knox_args(self.permutations, self.seed)
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
            knox = _knox_on(
                past,
                crs,
                params.distance_edges_m,
                params.time_edges_days,
                params.permutations,
                params.seed,
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
    zones = merge_alert_zones(x, y, _days(pts), radius_m=extent.radius_m, days=extent.days)
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
            "cirkels samengevoegd waar cirkels en perioden overlappen / circles merged where "
            "both the discs and the periods overlap (connected components)"
        ),
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
    ``actief`` (on ``metadata.as_of``) and ``omschrijving`` (one Dutch sentence).
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
