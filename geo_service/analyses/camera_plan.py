"""Adapter: a plan for the flexible cameras (``geo-service cameras plan``).

Only validation, I/O, projection and the Dutch wording happen here; the placement is
:func:`spatial.targeting.camera_plan.plan_flexible_cameras` (exact MCLP with a proven gap).

* **Demand.** Incidents of the chosen categories (default: all) in the window (default: the
  365 days up to the last stored incident of those categories), weighted by recency
  (half-life ``half_life_days``; 0 = unweighted) and merged only at identical coordinates.
* **Space.** Everything is projected to the study area's metric CRS
  (:func:`geo_service.analyses.hotspots.study_area`: RD New in the Netherlands, else the local UTM
  zone); a camera covers what lies within ``radius_m``.
* **Candidates.** Points given by the caller; else a ``spacing_m`` grid
  (:func:`spatial.targeting.coverage.grid_candidates`) inside the *designated* camera areas (areas
  of
  level ``designated``: where the mayor allows cameras, Gemeentewet art. 151c) when any are
  stored, else inside the study area. ``designated=True`` demands designated areas,
  ``False`` ignores them.
* **Cameras.** Fixed cameras' coverage counts as already covered; the current flexible
  cameras are advised keep / move / withdraw. Fixed cameras whose surroundings (within
  ``radius_m``) improved every year over the last ``review_years`` twelve-month periods are
  flagged for review.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
import shapely
from shapely.geometry.base import BaseGeometry

from geo_service import __version__
from geo_service.analyses.hotspots import study_area
from geo_service.analyses.targeting import (
    equity_metadata,
    incidents_text,
    kind_totals,
    nl,
    per_wijk,
    recent_window,
)
from geo_service.errors import NotFoundError
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from layers.geojson import COORD_DECIMALS
from spatial.errors import EmptyStudyAreaError, InvalidParameterError
from spatial.grid.crs import WGS84, transform
from spatial.grid.geometry import polygonal
from spatial.targeting.camera_plan import (
    CameraPlan,
    counts_near,
    merge_identical,
    plan_flexible_cameras,
    recency_weights,
    review_fixed,
)
from spatial.targeting.coverage import (
    CoverageCurve,
    coverage_curve,
    coverage_matrix,
    grid_candidates,
)

#: Resolution of the study grid that fixes the metric CRS and, without polygons, the area.
STUDY_RES: Final = 10


@dataclass(frozen=True)
class CameraPlanParams:
    """Every parameter of a camera plan; validated on construction.

    Attributes
    ----------
    incidents
        Municipality and period (``start``/``end``; default the 365 days up to the last
        incident); its ``category`` must be empty: use ``categories``.
    categories
        Categories of the demand (empty: all stored).
    count
        Number of flexible cameras to place.
    radius_m
        Coverage radius of a camera in metres.
    half_life_days
        Recency weighting (0 = every incident weighs 1).
    spacing_m
        Spacing of the candidate grid.
    candidates
        ``(k, 2)`` lon/lat candidate sites, or None for a grid.
    designated
        None: grid inside designated areas when stored; True: required; False: ignored.
    time_limit_s
        Solver time limit.
    review_years
        Twelve-month periods a fixed camera's surroundings must have improved in a row.
    min_move_gain
        Move a current camera only when that covers at least this much more (weighted).
    min_move_m
        Never propose a move shorter than this (metres); None: ``radius_m``, the camera's own
        view radius (a shorter move changes less than what the camera sees).

    Raises
    ------
    InvalidParameterError
    """

    incidents: IncidentFilter = field(default_factory=IncidentFilter)
    categories: tuple[str, ...] = ()
    count: int = 22
    radius_m: float = 75.0
    half_life_days: float = 90.0
    spacing_m: float = 25.0
    candidates: tuple[tuple[float, float], ...] | None = None
    designated: bool | None = None
    time_limit_s: float = 30.0
    review_years: int = 5
    min_move_gain: float = 1.0
    min_move_m: float | None = None

    def __post_init__(self) -> None:
        if self.incidents.category:
            raise InvalidParameterError("use categories, not incidents.category")
        checks = (
            ("count", self.count, 1, 500),
            ("radius_m", self.radius_m, 5, 1000),
            ("half_life_days", self.half_life_days, 0, 3650),
            ("spacing_m", self.spacing_m, 5, 1000),
            ("time_limit_s", self.time_limit_s, 1, 3600),
            ("review_years", self.review_years, 2, 10),
            ("min_move_gain", self.min_move_gain, 0, 1e6),
            ("min_move_m", self.radius_m if self.min_move_m is None else self.min_move_m, 0, 5000),
        )
        for name, value, lo, hi in checks:
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not lo <= value <= hi
            ):
                raise InvalidParameterError(f"{name} must be from {lo} to {hi}, got {value!r}")
        if self.candidates is not None and len(self.candidates) == 0:
            raise InvalidParameterError("candidates is empty / geen kandidaatlocaties")


@dataclass(frozen=True)
class CameraPlanResult:
    """A camera plan with everything its GeoJSON and pages show (metric CRS + WGS84)."""

    plan: CameraPlan
    crs: str
    site_lonlat: npt.NDArray[np.float64]
    site_counts: dict[str, npt.NDArray[np.int64]]
    current: gpd.GeoDataFrame
    fixed: gpd.GeoDataFrame
    fixed_xy: npt.NDArray[np.float64]
    current_allowed: npt.NDArray[np.bool_]
    radius_m: float
    fixed_covered: npt.NDArray[np.float64]
    fixed_counts: npt.NDArray[np.int64]
    fixed_review: npt.NDArray[np.bool_]
    review_periods: list[str]
    demand_xy: npt.NDArray[np.float64]
    demand_weights: npt.NDArray[np.float64]
    demand_lonlat: npt.NDArray[np.float64]
    incidents_lonlat: npt.NDArray[np.float64]
    incidents_category: npt.NDArray[np.object_]
    metadata: dict[str, Any]


def _project(geom: BaseGeometry, crs: str) -> BaseGeometry:
    def fn(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        x, y = transform(coords[:, 0], coords[:, 1], WGS84, crs)
        return np.column_stack([x, y])

    out: BaseGeometry = shapely.transform(geom, fn)
    return out


def _candidate_sites(
    store: Store, params: CameraPlanParams, crs: str
) -> tuple[npt.NDArray[np.float64], dict[str, Any], BaseGeometry | None]:
    """Return candidate sites (metric), a note, and the designated area (metric) if in force."""
    muni = params.incidents.municipality
    if params.candidates is not None:
        lonlat = np.asarray(params.candidates, dtype=np.float64)
        x, y = transform(lonlat[:, 0], lonlat[:, 1], WGS84, crs)
        return np.column_stack([x, y]), {"source": "opgegeven punten", "n": len(lonlat)}, None
    designated = store.areas_frame(level="designated", municipality=muni)
    if params.designated and designated.empty:
        raise NotFoundError(
            "no designated camera areas stored (areas of level 'designated') / geen "
            "aangewezen cameragebieden; importeer ze met `geo-service areas import --level "
            "designated`"
        )
    restricted = bool(len(designated)) and params.designated is not False
    if restricted:
        area = polygonal(shapely.union_all(shapely.make_valid(designated.geometry.to_numpy())))
        source = f"raster van {nl(params.spacing_m)} m in {len(designated)} aangewezen gebied(en)"
    else:
        sa = study_area(store, params.incidents, STUDY_RES)
        if muni:
            area = store.municipality_geometry(muni)
        else:
            area = store.areas_geometry() or shapely.union_all(sa.grid.polygons())
        area = polygonal(shapely.make_valid(area))
        source = f"raster van {nl(params.spacing_m)} m in het studiegebied ({sa.note})"
    metric = _project(area, crs)
    xy = grid_candidates(metric, params.spacing_m)
    if len(xy) == 0:
        raise EmptyStudyAreaError("no candidate sites in the area / geen kandidaatlocaties")
    note = {"source": source, "n": len(xy), "spacing_m": params.spacing_m}
    return xy, note, metric if restricted else None


def _points(
    store: Store, flt: IncidentFilter, cats: list[str]
) -> tuple[pd.DataFrame, npt.NDArray[np.bool_]]:
    pts = store.incident_points(flt)
    return pts, pts["category"].isin(cats).to_numpy()


def _active(cams: gpd.GeoDataFrame, day: date) -> gpd.GeoDataFrame:
    t = pd.Timestamp(day)
    ok = (cams["active_from"].isna() | (cams["active_from"] <= t)) & (
        cams["active_to"].isna() | (cams["active_to"] >= t)
    )
    return cams[ok.to_numpy()].reset_index(drop=True)


def _xy(gdf: gpd.GeoDataFrame, crs: str) -> npt.NDArray[np.float64]:
    if len(gdf) == 0:
        return np.zeros((0, 2))
    x, y = transform(
        shapely.get_x(gdf.geometry.values), shapely.get_y(gdf.geometry.values), WGS84, crs
    )
    return np.column_stack([x, y])


def compute_camera_plan(store: Store, params: CameraPlanParams) -> CameraPlanResult:
    """Plan the flexible cameras from the store.

    Raises
    ------
    NotFoundError
        No incidents of the categories, no stored designated areas when required.
    EmptyStudyAreaError, InvalidParameterError, InputFileError
    """
    flt = params.incidents
    cats = store.resolve_categories(params.categories, every=True)
    start, end = recent_window(store, flt, cats)
    crs = study_area(store, flt, STUDY_RES).metric_crs
    pts, keep = _points(store, flt.replace(category=None, start=start, end=end), cats)
    pts = pts[keep].reset_index(drop=True)
    if pts.empty:
        raise NotFoundError("no incidents in the window / geen incidenten in deze periode")
    bound = pd.Timestamp(end + timedelta(days=1))
    age = (bound - pd.DatetimeIndex(pts["occurred_from"])) / pd.Timedelta(days=1)
    w = recency_weights(age.to_numpy(dtype=np.float64), params.half_life_days)
    lon, lat = pts["lon"].to_numpy(), pts["lat"].to_numpy()
    x, y = transform(lon, lat, WGS84, crs)
    demand, weights, inverse = merge_identical(np.column_stack([x, y]), w)
    cand_xy, cand_note, allowed_area = _candidate_sites(store, params, crs)
    cams = store.cameras_frame(municipality=flt.municipality)
    fixed = _active(cams[cams["kind"] == "fixed"], end)
    current = _active(cams[cams["kind"] == "flexible"], end)
    fixed_xy, current_xy = _xy(fixed, crs), _xy(current, crs)
    allowed = (
        np.ones(len(current_xy), dtype=bool)
        if allowed_area is None
        else shapely.intersects_xy(allowed_area, current_xy[:, 0], current_xy[:, 1])
    )
    plan = plan_flexible_cameras(
        demand,
        weights,
        cand_xy,
        params.count,
        params.radius_m,
        fixed_xy=fixed_xy,
        current_xy=current_xy,
        time_limit_s=params.time_limit_s,
        min_move_gain=params.min_move_gain,
        current_allowed=allowed,
        min_move_m=params.min_move_m,
    )
    sel = plan.mclp.selected
    sx, sy = plan.selected_xy.T if sel.size else (np.zeros(0), np.zeros(0))
    slon, slat = transform(sx, sy, crs, WGS84)
    # Incidents newly covered per planned site and category (unweighted, for the reasons).
    site_of = plan.covered_by[inverse]
    categories = pts["category"].to_numpy(dtype=object)
    site_counts = {
        c: np.bincount(site_of[(site_of >= 0) & (categories == c)], minlength=sel.size).astype(
            np.int64
        )
        for c in cats
    }
    # Fixed cameras: what they cover now (weighted) and their surroundings per 12 months.
    fixed_w = _weight_near(fixed_xy, np.column_stack([x, y]), w, params.radius_m)
    months = end.year * 12 + end.month - 1
    first_month = months - 12 * params.review_years + 1
    hist_start = date(first_month // 12, first_month % 12 + 1, 1)
    hist, hkeep = _points(store, flt.replace(category=None, start=hist_start, end=end), cats)
    hist = hist[hkeep]
    hx, hy = transform(hist["lon"].to_numpy(), hist["lat"].to_numpy(), WGS84, crs)
    occ = pd.DatetimeIndex(hist["occurred_from"])
    period = (occ.year.to_numpy() * 12 + occ.month.to_numpy() - 1 - first_month) // 12
    fixed_counts = counts_near(
        fixed_xy, np.column_stack([hx, hy]), period, params.review_years, params.radius_m
    )
    review = review_fixed(fixed_counts)[0] if len(fixed) else np.zeros(0, dtype=bool)
    labels = []
    for k in range(params.review_years):
        m0, m1 = first_month + 12 * k, first_month + 12 * k + 11
        labels.append(f"{m0 // 12}-{m0 % 12 + 1:02d}/{m1 // 12}-{m1 % 12 + 1:02d}")
    r = plan.mclp
    wijken = store.areas_frame(level="wijk", municipality=flt.municipality)
    equity = equity_metadata(
        wijken,
        per_wijk(wijken, slon, slat),
        per_wijk(wijken, lon, lat),
        ("cameraplek", "cameraplekken"),
    )
    kinds = store.category_kinds()
    metadata: dict[str, Any] = {
        "category_kinds": {c: kinds.get(c, "politie") for c in cats},
        "parameters": {
            "count": params.count,
            "radius_m": params.radius_m,
            "categories": cats,
            "municipality": flt.municipality,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "half_life_days": params.half_life_days,
            "spacing_m": params.spacing_m,
            "designated": params.designated,
            "time_limit_s": params.time_limit_s,
            "review_years": params.review_years,
            "min_move_gain": params.min_move_gain,
            "min_move_m": plan.min_move_m,
        },
        "weighting": (
            f"recente incidenten wegen zwaarder: gewicht 2^(-leeftijd/{nl(params.half_life_days)}"
            " dagen)"
            if params.half_life_days
            else "elk incident weegt 1"
        ),
        "n_incidents": len(pts),
        "n_demand_points": len(demand),
        "total_demand": round(r.total_demand, 3),
        "covered_demand": round(r.covered_demand, 3),
        "covered_demand_with_advice": round(plan.covered_with_advice, 3),
        "already_covered_demand": round(r.already_covered_demand, 3),
        "coverage_fraction": round(r.coverage_fraction, 4),
        "optimality_gap": round(r.optimality_gap, 6),
        "upper_bound": round(r.upper_bound, 3),
        "status": r.status,
        "solution_quality": solution_quality(r.status, r.optimality_gap, params.time_limit_s),
        "solve_seconds": round(r.solve_seconds, 2),
        "n_sites": int(sel.size),
        "candidates": cand_note,
        "fixed_cameras": len(fixed),
        "current_flexible_cameras": len(current),
        "review": {
            "periods": labels,
            "flagged": int(review.sum()),
            "rule": f"aantal incidenten binnen {nl(params.radius_m)} m daalde elk van de "
            f"{params.review_years} perioden van 12 maanden",
        },
        "equity": equity,
        "metric_crs": crs,
        "time_convention": "lokale kloktijd van de plaats van het incident",
        "software": f"geo-service {__version__}",
        "data_version": store.data_version(),
    }
    return CameraPlanResult(
        plan=plan,
        crs=crs,
        site_lonlat=np.column_stack([slon, slat]),
        site_counts=site_counts,
        current=current,
        fixed=fixed,
        fixed_xy=fixed_xy,
        current_allowed=allowed,
        radius_m=params.radius_m,
        fixed_covered=fixed_w,
        fixed_counts=fixed_counts,
        fixed_review=review,
        review_periods=labels,
        demand_xy=demand,
        demand_weights=weights,
        demand_lonlat=np.column_stack(transform(demand[:, 0], demand[:, 1], crs, WGS84)),
        incidents_lonlat=np.column_stack([lon, lat]),
        incidents_category=categories,
        metadata=metadata,
    )


def plan_coverage_curve(
    result: CameraPlanResult,
    p_values: npt.ArrayLike,
    *,
    method: Literal["exact", "greedy"] = "exact",
    time_limit_s: float = 30.0,
) -> CoverageCurve:
    """Covered demand of the plan's instance for several numbers of cameras.

    Same demand, candidates (current sites that may not stay excluded), fixed coverage and
    radius as the plan; see :func:`spatial.targeting.coverage.coverage_curve`.
    """
    plan = result.plan
    a = coverage_matrix(result.demand_xy, plan.candidate_xy, result.radius_m)
    keep = np.concatenate(
        [result.current_allowed, np.ones(len(plan.candidate_xy) - plan.n_current, dtype=bool)]
    )
    a = (a @ sp.diags(keep.astype(np.float64))).tocsr()
    fixed = coverage_matrix(result.demand_xy, result.fixed_xy, result.radius_m)
    already = np.asarray(fixed.sum(axis=1)).ravel() > 0
    return coverage_curve(
        a,
        result.demand_weights,
        p_values,
        method=method,
        already_covered=already,
        time_limit_s=time_limit_s,
    )


def _weight_near(
    sites: npt.NDArray[np.float64],
    points: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    radius_m: float,
) -> npt.NDArray[np.float64]:
    near = coverage_matrix(points, sites, radius_m)
    return np.asarray(near.T @ weights, dtype=np.float64).ravel()


def _mix(counts: dict[str, int]) -> str:
    parts = [incidents_text(n, c) for c, n in counts.items() if n]
    return ", ".join(parts) if parts else "geen incidenten"


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {
        "type": "Point",
        "coordinates": [round(float(lon), COORD_DECIMALS), round(float(lat), COORD_DECIMALS)],
    }


def camera_plan_geojson(result: CameraPlanResult) -> dict[str, Any]:
    """Return the plan as an RFC 7946 FeatureCollection with ``metadata``.

    Features: ``kind`` ``proposed`` (the planned sites, in order of marginal gain, with the
    gain and a Dutch reason), ``fixed`` (with ``review`` and the counts per period) and
    ``current`` (with ``advice`` keep/move/withdraw and the reason).
    """
    plan, r = result.plan, result.plan.mclp
    meta = result.metadata
    radius = nl(meta["parameters"]["radius_m"])
    ids = list(result.current["camera_id"].astype(str)) if len(result.current) else []
    features: list[dict[str, Any]] = []
    n_sel = int(r.selected.size)
    for k in range(n_sel):
        counts = {c: int(v[k]) for c, v in result.site_counts.items()}
        here = int(r.selected[k])
        current_id = ids[here] if here < plan.n_current else None
        gain = float(r.marginal_gain[k])
        reason = (
            f"Plek {k + 1} van {n_sel}: dekt {nl(gain, 1)} gewogen incidenten ({_mix(counts)}) "
            f"binnen {radius} m die geen vaste camera en geen eerder gekozen plek dekt"
            + (f"; hier hangt nu {current_id}." if current_id else ".")
        )
        features.append(
            {
                "type": "Feature",
                "id": f"P{k + 1:02d}",
                "geometry": _point(*result.site_lonlat[k]),
                "properties": {
                    "kind": "proposed",
                    "site": f"P{k + 1:02d}",
                    "order": k + 1,
                    "marginal_gain": round(gain, 3),
                    # per kind: meldingen are never added to police registrations
                    **kind_totals(counts, result.metadata.get("category_kinds", {})),
                    **{f"incidents_{c}": n for c, n in counts.items()},
                    "current_camera": current_id,
                    "reason": reason,
                },
            }
        )
    fixed = result.fixed
    for j in range(len(fixed)):  # ~100 cameras
        row = fixed.iloc[j]
        counts_j = result.fixed_counts[:, j].tolist()
        flagged = bool(result.fixed_review[j])
        features.append(
            {
                "type": "Feature",
                "id": str(row["camera_id"]),
                "geometry": _point(row.geometry.x, row.geometry.y),
                "properties": {
                    "kind": "fixed",
                    "camera_id": str(row["camera_id"]),
                    "name": row.get("name"),
                    "covered_demand": round(float(result.fixed_covered[j]), 3),
                    "counts_per_period": counts_j,
                    "review": flagged,
                    "reason": (
                        f"Ter beoordeling: het aantal incidenten binnen {radius} m daalde "
                        f"{len(counts_j)} perioden van 12 maanden op rij "
                        f"({' → '.join(str(c) for c in counts_j)})."
                        if flagged
                        else None
                    ),
                },
            }
        )
    current = result.current
    for j in range(len(current)):  # ~20 cameras
        row = current.iloc[j]
        dist = plan.distance_m[j]
        features.append(
            {
                "type": "Feature",
                "id": str(row["camera_id"]),
                "geometry": _point(row.geometry.x, row.geometry.y),
                "properties": {
                    "kind": "current",
                    "camera_id": str(row["camera_id"]),
                    "name": row.get("name"),
                    "advice": str(plan.advice[j]),
                    "keep_reason": str(plan.keep_reason[j]) or None,
                    "target_site": f"P{plan.target[j] + 1:02d}" if plan.target[j] >= 0 else None,
                    "distance_m": round(float(dist)) if np.isfinite(dist) else None,
                    "covered_here": round(float(plan.covered_here[j]), 3),
                    "stay_loss": None
                    if not np.isfinite(plan.stay_loss[j])
                    else round(float(plan.stay_loss[j]), 3),
                    "reason": advice_text(result, j),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features, "metadata": meta}


def solution_quality(status: str, gap: float, time_limit_s: float) -> str:
    r"""Return the Dutch one-line verdict on how good the plan is, for the page and the CLI.

    Only a plan proven optimal (gap exactly 0: the proven upper bound equals its coverage,
    whichever way the search stopped) is called optimal.
    Otherwise the text names why the search stopped and what the proven gap
    :math:`g = (U - z) / U` (``U`` the proven upper bound, ``z`` the coverage found) means:
    :math:`z / z^* \ge z / U = 1 - g` for the best possible coverage :math:`z^* \le U`, so the
    plan covers at least :math:`100 (1 - g)` % of what the best plan covers. A planner never
    reads "optimaal" for a plan that is not proven to be.

    Parameters
    ----------
    status
        :class:`spatial.targeting.coverage.MCLPResult` status.
    gap
        Proven relative optimality gap (0..1).
    time_limit_s
        The solver's time limit, named when it was hit.

    Returns
    -------
    str
        ``"bewezen optimaal (...)"`` at gap 0, else why the search stopped and the share of
        the best possible coverage the plan is proven to reach.

    Examples
    --------
    >>> solution_quality("optimal", 0.0, 60.0)
    'bewezen optimaal (geen plan dekt meer)'
    >>> solution_quality("time_limit", 0.0, 60.0)  # the bound met the plan as time ran out
    'bewezen optimaal (geen plan dekt meer)'
    >>> for part in solution_quality("time_limit", 0.0123, 60.0).split("; "):
    ...     print(part)
    beste plan binnen de tijdslimiet van 60 s
    dekt bewezen minstens 98,77 % van het best mogelijke
    """
    if gap == 0:
        return "bewezen optimaal (geen plan dekt meer)"
    # Rounded down, so the share printed is never more than what is proven.
    share = np.floor((1.0 - gap) * 10_000) / 100
    bound = f"dekt bewezen minstens {nl(share, 2)} % van het best mogelijke"
    if status == "time_limit":
        return f"beste plan binnen de tijdslimiet van {nl(time_limit_s)} s; {bound}"
    if status == "optimal":  # optimal within the solver's tolerance, not to the incident
        return f"beste plan binnen de rekentolerantie; {bound}"
    return f"benadering (snelle heuristiek, de exacte berekening is niet gelukt); {bound}"


def advice_text(result: CameraPlanResult, j: int) -> str:
    """Return the Dutch reason of the advice for current camera ``j``, in numbers.

    Every text names what the camera covers where it hangs; a keep or a move also names the
    planned site, the distance, the coverage at stake and the threshold that decided.
    """
    plan = result.plan
    here = nl(plan.covered_here[j], 1)
    t = int(plan.target[j])
    advice = str(plan.advice[j])
    reason = str(plan.keep_reason[j])
    site = f"P{t + 1:02d}"
    dist = nl(plan.distance_m[j]) if np.isfinite(plan.distance_m[j]) else "-"
    loss = nl(plan.stay_loss[j], 1) if np.isfinite(plan.stay_loss[j]) else "-"
    radius = nl(result.radius_m)
    if advice == "keep" and reason == "planned":
        return (
            f"Laten hangen: deze plek zit ook in het nieuwe plan ({site}); de camera dekt "
            f"hier {here} gewogen incidenten die geen vaste camera dekt."
        )
    if advice == "keep" and reason == "short_move":
        return (
            f"Laten hangen: het plan wijst plek {site} aan, maar die ligt maar {dist} m verderop, "
            f"minder dan de minimale verplaatsing van {nl(plan.min_move_m)} m (kijkstraal "
            f"{radius} m); de camera dekt hier {here} gewogen incidenten die geen vaste camera "
            f"dekt, op {site} zou het plan {loss} gewogen incidenten meer dekken."
        )
    if advice == "keep":
        return (
            f"Laten hangen: verplaatsen naar {site} ({dist} m verderop) zou maar {loss} gewogen "
            f"incidenten meer dekken, minder dan de drempel van {nl(plan.min_move_gain, 1)}; "
            f"hier dekt de camera {here} gewogen incidenten die geen vaste camera dekt."
        )
    if advice == "move":
        # Shorter than min_move_m only for a camera whose site may not be used.
        forced = (
            "; korter dan de minimale verplaatsing, omdat de huidige plek niet gebruikt mag "
            "worden (buiten de aangewezen cameragebieden)"
            if plan.distance_m[j] < plan.min_move_m
            else ""
        )
        return (
            f"Verplaatsen naar {site} ({dist} m verderop): hier dekt de camera {here} gewogen "
            f"incidenten die geen vaste camera dekt; daar dekt het plan {loss} gewogen "
            f"incidenten meer dan wanneer ze blijft hangen (drempels: {nl(plan.min_move_m)} m "
            f"en {nl(plan.min_move_gain, 1)} gewogen incidenten){forced}."
        )
    return (
        f"Intrekken: hier dekt de camera {here} gewogen incidenten die geen vaste camera dekt, "
        f"en van de {plan.mclp.selected.size} plekken in het plan is er geen meer vrij die "
        "nog iets toevoegt."
    )
