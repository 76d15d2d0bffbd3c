"""Adapter: burglary priorities per area for the Driehoek (``geo-service priorities``).

Only validation, I/O and the Dutch wording happen here; the statistics are in
:mod:`spatial.targeting.priorities` (EB risk, trend, rank intervals) and
:mod:`geo_service.analyses.hotspots`
(Gi* per H3 cell, reused as is).

* **Window.** The last ``years`` *full* calendar years on or before ``as_of`` (default: the
  day of the last stored incident of the category, so a result does not change with the
  wall clock). Counts are per local calendar year (the store keeps local wall-clock time).
* **Areas.** The stored areas of ``level`` (``wijk``, ``buurt``, ``verzorgingsgebied``, ...),
  of one municipality or all. Incidents are assigned to areas by point-in-polygon at analysis
  time (WGS84, a point on a border belongs to the first area), so areas imported after the
  incidents, and levels ingestion does not know, work too.
* **Dwellings.** The stored count. An area without one gets an areal-weighting estimate from
  the finest other level that has dwellings (``dwellings_estimated: true``, and
  ``metadata.dwellings`` says from which level); an area still without dwellings is left out
  and listed in ``metadata.excluded``.
* **Hot spot share.** :func:`geo_service.analyses.hotspots.compute_hotspots` on the area's
  municipality (same category and window, analytic Gi* with FDR): the share of the area's
  H3 cells (by centroid) with ``gi_class_fdr > 0``.
* **Rank.** :func:`spatial.targeting.priorities.area_priorities`: weighted geometric mean of the
  annual
  count and the EB risk (``weights = (count, risk)``; ``(1, 1)`` orders by count x risk, the
  Driehoek's rule) with a Poisson-bootstrap rank interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geo_service import __version__
from geo_service.analyses.hotspots import HotspotParams, compute_hotspots
from geo_service.analyses.targeting import (
    covered_years,
    equity_metadata,
    full_years,
    incidents_text,
    nl,
    per_wijk,
)
from geo_service.errors import NotFoundError
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from spatial.errors import InvalidParameterError, SpatialError
from spatial.grid.crs import WGS84, metric_crs_for, transform
from spatial.privacy.disclosure import CellKeyPerturbation, cell_keys
from spatial.spacetime.nearrepeat import areal_estimate
from spatial.targeting.priorities import (
    PriorityTable,
    area_priorities,
    counts_by_year,
    points_in_areas,
    share_per_area,
)

#: Area levels priorities can be computed for.
LEVELS: Final = ("buurt", "wijk", "verzorgingsgebied", "stadsdeel", "gemeente")
#: Levels that may lend their dwellings to areas without a count, finest first.
DWELLING_SOURCES: Final = ("buurt", "wijk", "verzorgingsgebied", "stadsdeel", "gemeente")
#: An EB shrinkage weight below this says "few dwellings: risk pulled to the mean".
SHRUNK: Final = 0.5
#: The equity check looks at how the top this many areas (at most a third) spread over wijken.
TOP_K: Final = 10


#: The category of the Driehoek's priorities when a request names none.
DEFAULT_CATEGORY: Final = "woninginbraak"


@dataclass(frozen=True)
class PriorityParams:
    """Every parameter of a priority list; validated on construction.

    Attributes
    ----------
    incidents
        Category (required) and optionally municipality; the period comes from ``years``
        and ``as_of``, so ``start``/``end`` must be empty.
    level
        Area level (:data:`LEVELS`).
    years
        Number of full calendar years (1-20; the trend needs 2).
    as_of
        Reference day (default: the last stored incident of the category).
    weights
        ``(count, risk)`` weights of the score (:func:`spatial.targeting.ranking.priority_score`).
    replicates, interval, seed
        Poisson bootstrap of the rank interval.
    res
        H3 resolution of the hot spot share.
    hotspot_share
        Compute the hot spot share (costs one Gi* per municipality).

    Raises
    ------
    InvalidParameterError
    """

    incidents: IncidentFilter
    level: str = "wijk"
    years: int = 3
    as_of: date | None = None
    weights: tuple[float, float] = (1.0, 1.0)
    replicates: int = 1000
    interval: float = 0.90
    seed: int = 0
    res: int = 10
    hotspot_share: bool = True
    #: Publish for viewers: counts per area and year by the cell key method, every rate, rank
    #: and interval from those published counts; None = exact (analysts).
    disclosure: CellKeyPerturbation | None = None

    def __post_init__(self) -> None:
        if not self.incidents.category:
            raise InvalidParameterError("category is required / categorie is verplicht")
        if self.incidents.start is not None or self.incidents.end is not None:
            raise InvalidParameterError(
                "priorities take --years and --as-of, not start/end / gebruik --years en --as-of"
            )
        if self.level not in LEVELS:
            raise InvalidParameterError(
                f"level must be one of {', '.join(LEVELS)}, got {self.level!r}"
            )
        full_years(date(2000, 1, 1), self.years)  # validates years
        if isinstance(self.replicates, bool) or not 1 <= self.replicates <= 100_000:
            raise InvalidParameterError(
                f"replicates must be from 1 to 100000, got {self.replicates!r}"
            )
        if not 0 < self.interval < 1:
            raise InvalidParameterError(f"interval must be in (0, 1), got {self.interval!r}")
        HotspotParams(incidents=self.incidents, res=self.res)  # validates the resolution


@dataclass(frozen=True)
class PriorityResult:
    """A priority list: areas (aligned arrays), the statistics, the Dutch explanations."""

    codes: list[str]
    names: list[str]
    municipalities: list[str | None]
    geometries: npt.NDArray[np.object_]
    years: list[int]
    dwellings_estimated: npt.NDArray[np.bool_]
    table: PriorityTable
    explanations: list[str]
    category: str
    metadata: dict[str, Any] = field(default_factory=dict)
    #: Published for viewers: ``(T, n)`` withheld year counts and ``n`` withheld totals, and
    #: the published totals (None: exact figures).
    withheld_years: npt.NDArray[np.bool_] | None = None
    withheld_total: npt.NDArray[np.bool_] | None = None
    published_total: npt.NDArray[np.int64] | None = None

    @property
    def order(self) -> npt.NDArray[np.int64]:
        """Area indices from rank 1 down."""
        return self.table.order


def _as_of(store: Store, params: PriorityParams) -> date:
    if params.as_of is not None:
        return params.as_of
    last = store.data_window(params.incidents)[1]
    if last is None:
        raise NotFoundError(
            f"no incidents of category {params.incidents.category!r} stored "
            f"/ geen incidenten van de soort {params.incidents.category!r}"
        )
    return last


def _dwellings(
    store: Store, areas: pd.DataFrame, level: str, municipality: str | None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], dict[str, Any]]:
    """Return stored dwellings, gaps filled by areal weighting from another level."""
    values = pd.to_numeric(areas["dwellings"], errors="coerce").to_numpy(dtype=np.float64)
    estimated = areas["dwellings_estimated"].fillna(False).to_numpy(dtype=bool)
    note: dict[str, Any] = {"level": level, "estimated_from": None}
    missing = ~np.isfinite(values)
    if not missing.any():
        return values, estimated, note
    geoms = areas.geometry.to_numpy()
    lon, lat = shapely.get_coordinates(shapely.centroid(geoms[missing])).T
    crs = metric_crs_for(lon, lat)

    def project(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        x, y = transform(coords[:, 0], coords[:, 1], WGS84, crs)
        return np.column_stack([x, y])

    for source in DWELLING_SOURCES:
        if source == level:
            continue
        src = store.areas_frame(level=source, municipality=municipality)
        known = pd.to_numeric(src["dwellings"], errors="coerce").to_numpy(dtype=np.float64)
        if not np.isfinite(known).any():
            continue
        est, coverage = areal_estimate(
            shapely.transform(shapely.make_valid(geoms[missing]), project),
            shapely.transform(shapely.make_valid(src.geometry.to_numpy()), project),
            known,
        )
        values = values.copy()
        values[missing] = np.where(coverage > 0, est, np.nan)
        estimated = estimated | missing
        note = {
            "level": level,
            "estimated_from": source,
            "n_estimated": int(missing.sum()),
            "method": "oppervlakteweging: som over gebieden van woningen x aandeel van het "
            "gebied dat erin ligt / areal weighting",
        }
        break
    return values, estimated, note


def _hotspot_share(
    store: Store,
    params: PriorityParams,
    areas: pd.DataFrame,
    start: date,
    end: date,
) -> tuple[npt.NDArray[np.float64], dict[str, Any]]:
    """Share of each area's cells that are significant Gi* hot spots, per municipality.

    Viewers (``params.disclosure``): the hot spots of the published counts, as their map.
    """
    share = np.full(len(areas), np.nan)
    notes: dict[str, Any] = {}
    munis = areas["municipality"].to_numpy(dtype=object)
    for muni in pd.unique(munis):  # a handful of municipalities, one Gi* each
        rows = np.flatnonzero(pd.isna(munis) if pd.isna(muni) else munis == muni)
        flt = IncidentFilter(
            category=params.incidents.category,
            municipality=None if pd.isna(muni) else str(muni),
            start=start,
            end=end,
        )
        try:
            layer = compute_hotspots(
                store,
                HotspotParams(
                    incidents=flt,
                    res=params.res,
                    permutations=0,
                    max_cells=None,
                    disclosure=params.disclosure,
                ),
            )
        except (SpatialError, NotFoundError) as exc:
            notes[str(muni)] = f"geen hotspotaandeel: {exc}"
            continue
        lon, lat = layer.grid.centroids()
        idx = points_in_areas(lon, lat, areas.geometry.to_numpy()[rows])
        hot = np.asarray(layer.properties["gi_class_fdr"]) > 0
        share[rows] = share_per_area(idx, hot, len(rows))
        notes[str(muni)] = (
            f"Gi* (FDR 5 %) op H3-resolutie {params.res}, {layer.grid.n} zeshoeken "
            f"({layer.metadata.get('study_area')})"
        )
    return share, notes


def _equity(
    store: Store,
    params: PriorityParams,
    areas: pd.DataFrame,
    table: PriorityTable,
    pts: pd.DataFrame,
) -> dict[str, Any]:
    """Equity of the top areas over the wijken.

    The top ``min(TOP_K, n // 3)`` areas count as effort; an area that is not a wijk splits
    its unit over the wijken it overlaps in proportion to their dwellings inside it (the
    wijk's dwellings times the share of the wijk's surface in the area).
    """
    wijken = store.areas_frame(level="wijk", municipality=params.incidents.municipality)
    k = max(1, min(TOP_K, len(areas) // 3))
    top = (table.ranking.rank <= k).astype(np.float64)
    effort: npt.NDArray[np.float64] = np.zeros(len(wijken))
    if len(wijken) and params.level == "wijk":
        pos = {c: i for i, c in enumerate(areas["code"].astype(str))}
        effort = np.array([top[pos[c]] if c in pos else 0.0 for c in wijken["code"].astype(str)])
    elif len(wijken):
        w_geoms = wijken.geometry.to_numpy()
        lon, lat = shapely.get_coordinates(shapely.centroid(w_geoms)).T
        crs = metric_crs_for(lon, lat)

        def project(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            x, y = transform(coords[:, 0], coords[:, 1], WGS84, crs)
            return np.column_stack([x, y])

        w_rd = shapely.transform(shapely.make_valid(w_geoms), project)
        a_rd = shapely.transform(shapely.make_valid(areas.geometry.to_numpy()), project)
        a_idx, w_idx = shapely.STRtree(w_rd).query(a_rd, predicate="intersects")
        overlap = shapely.area(shapely.intersection(a_rd[a_idx], w_rd[w_idx]))
        dw = pd.to_numeric(wijken["dwellings"], errors="coerce").fillna(0).to_numpy(float)
        inside = overlap / np.maximum(shapely.area(w_rd[w_idx]), 1e-9) * dw[w_idx]
        per_area = np.bincount(a_idx, weights=inside, minlength=len(areas))
        with np.errstate(invalid="ignore", divide="ignore"):
            part = np.where(per_area[a_idx] > 0, inside / per_area[a_idx], 0.0)
        effort = np.bincount(w_idx, weights=top[a_idx] * part, minlength=len(wijken)).astype(
            np.float64
        )
    return equity_metadata(
        wijken,
        effort,
        per_wijk(wijken, pts["lon"].to_numpy(), pts["lat"].to_numpy()),
        (f"gebied in de top {k}", f"gebieden in de top {k}"),
    )


def compute_priorities(store: Store, params: PriorityParams) -> PriorityResult:
    """Compute the priority list of ``params.level`` areas from the store.

    Raises
    ------
    NotFoundError
        No areas of the level, or no incidents of the category.
    InvalidParameterError
        Fewer than two areas with dwellings.
    """
    flt = params.incidents
    category = str(flt.category)
    areas = store.areas_frame(level=params.level, municipality=flt.municipality)
    if areas.empty:
        raise NotFoundError(
            f"no areas of level {params.level!r} stored"
            + (f" for {flt.municipality}" if flt.municipality else "")
            + f" / geen gebieden van niveau {params.level!r}; importeer ze met "
            "`geo-service areas import`"
        )
    areas = areas.reset_index(drop=True)
    as_of = _as_of(store, params)
    wanted = full_years(as_of, params.years)
    years = covered_years(wanted, store.data_window(flt)[0])
    if not years:
        raise NotFoundError(
            "no full calendar year of data before as_of / geen heel kalenderjaar aan gegevens"
        )
    start, end = date(years[0], 1, 1), date(years[-1], 12, 31)
    dwellings, estimated, dwell_note = _dwellings(store, areas, params.level, flt.municipality)
    usable = np.isfinite(dwellings) & (dwellings > 0)
    excluded = [
        {"code": str(c), "name": str(n), "reason": "geen (geschat) aantal woningen"}
        for c, n in zip(areas["code"][~usable], areas["name"][~usable], strict=True)
    ]
    areas, dwellings, estimated = (
        areas[usable].reset_index(drop=True),
        dwellings[usable],
        estimated[usable],
    )
    if len(areas) < 2:
        raise InvalidParameterError(
            f"fewer than two {params.level} areas have dwellings; import them with "
            f"--dwellings-field / minder dan twee gebieden ({params.level}) met woningen"
        )
    ck = params.disclosure
    pts = store.incident_points(flt.replace(start=start, end=end), record_keys=ck is not None)
    geoms = areas.geometry.to_numpy()
    area_idx = points_in_areas(pts["lon"].to_numpy(), pts["lat"].to_numpy(), geoms)
    year_idx = pd.DatetimeIndex(pts["occurred_from"]).year.to_numpy() - years[0]
    counts = counts_by_year(area_idx, year_idx, len(areas), len(years))
    withheld_years = withheld_total = published_total = None
    if ck is not None:
        # Viewers: every count of an area (per year and in total) by the cell key method;
        # rates, ranks and intervals below come from these published counts (withheld = 0).
        rk = pts["record_key"].to_numpy(dtype=np.uint64)
        ok = area_idx >= 0
        year_keys = cell_keys(
            rk[ok], year_idx[ok] * len(areas) + area_idx[ok], len(years) * len(areas)
        ).reshape(len(years), len(areas))
        shown, withheld_years = ck.perturb(counts, year_keys)
        counts = np.where(withheld_years, 0, shown).astype(np.int64)
        # The total is the sum of the published years, not a perturbation of its own: windows
        # of different years then add nothing a viewer could average over.
        published_total = counts.sum(axis=0)
        withheld_total = published_total < ck.min_count
    share, share_notes = (
        _hotspot_share(store, params, areas, start, end)
        if params.hotspot_share
        else (np.full(len(areas), np.nan), {})
    )
    table = area_priorities(
        counts,
        dwellings,
        hotspot_share=share,
        weights=params.weights,
        replicates=params.replicates,
        level=params.interval,
        rng=params.seed,
    )
    equity = _equity(store, params, areas, table, pts)
    names = [
        str(n) if n is not None else str(c)
        for c, n in zip(areas["code"], areas["name"], strict=True)
    ]
    explanations = [explain(table, i, years, category, params.interval) for i in range(len(areas))]
    metadata = {
        "parameters": {
            "category": category,
            "level": params.level,
            "municipality": flt.municipality,
            "years": params.years,
            "as_of": as_of.isoformat(),
            "weights": {"count": params.weights[0], "risk": params.weights[1]},
            "replicates": params.replicates,
            "interval": params.interval,
            "seed": params.seed,
            "h3_resolution": params.res,
        },
        "window": {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "years": years,
            "left_out": [y for y in wanted if y not in years],
        },
        "time_convention": "lokale kloktijd van de plaats van het incident; hele kalenderjaren",
        "score": (
            "S = (c / gem. c)^(a/(a+b)) x (r / gem. r)^(b/(a+b)); c = incidenten per jaar, "
            "r = EB-risico per 1.000 woningen per jaar, a/b = gewicht aantal/risico; "
            "a = b ordent op aantal x risico (Driehoek)"
        ),
        "rank_interval": (
            f"{round(params.interval * 100)}%-interval van de rang over {params.replicates} "
            "Poisson-replica's (Goldstein & Spiegelhalter 1996)"
        ),
        "risk_mean_per_1000": round(table.prior_mean_per_1000, 3),
        "n_incidents": len(pts),
        "n_incidents_outside_areas": int((area_idx < 0).sum()),
        "n_areas": len(areas),
        "excluded": excluded,
        "dwellings": dwell_note,
        "hotspots": share_notes,
        "equity": equity,
        "software": f"geo-service {__version__}",
        "data_version": store.data_version(),
    }
    return PriorityResult(
        codes=[str(c) for c in areas["code"]],
        names=names,
        municipalities=[None if pd.isna(m) else str(m) for m in areas["municipality"]],
        geometries=geoms,
        years=years,
        dwellings_estimated=estimated,
        table=table,
        explanations=explanations,
        category=category,
        metadata=metadata,
        withheld_years=withheld_years,
        withheld_total=withheld_total,
        published_total=published_total,
    )


def _trend_text(table: PriorityTable, i: int) -> str:
    if table.trend is None:
        return ""
    y = table.counts[:, i]
    if table.trend.strictly_decreasing[i]:
        return "elk jaar gedaald"
    if (np.diff(y) > 0).all():
        return "elk jaar gestegen"
    ratio = float(table.trend.rate_ratio[i])
    if not np.isfinite(ratio) or ratio <= 0:
        return "geen duidelijke trend"
    change = (ratio - 1) * 100
    if abs(change) < 0.5:
        return "niet elk jaar gedaald (gemiddeld ongeveer gelijk)"
    return f"niet elk jaar gedaald (gemiddeld {'+' if change > 0 else ''}{nl(change)}% per jaar)"


def explain(table: PriorityTable, i: int, years: list[int], category: str, interval: float) -> str:
    """One Dutch line that says why area ``i`` has its rank.

    Examples
    --------
    >>> from spatial.targeting.priorities import area_priorities
    >>> t = area_priorities([[30, 2, 1], [20, 0, 9]], [1000, 10, 900], replicates=50, rng=0)
    >>> explain(t, 1, [2024, 2025], "woninginbraak", 0.9)  # doctest: +NORMALIZE_WHITESPACE
    'Rang 3 (90%-interval 2-3): 2 woninginbraken in 2024-2025 (1,0 per jaar) bij 10 woningen;
    ruw 100,0 per 1.000 woningen per jaar, maar bij zo weinig woningen onbetrouwbaar:
    gecorrigeerd 26,9 (gemiddeld 16,2); elk jaar gedaald.'
    """
    r = table.ranking
    total = int(table.counts[:, i].sum())
    span = f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])
    parts = [
        f"Rang {r.rank[i]} ({round(interval * 100)}%-interval {r.rank_lo[i]}-{r.rank_hi[i]}): "
        f"{incidents_text(total, category)} in {span} "
        f"({nl(total / len(years), 1)} per jaar) bij {nl(table.dwellings[i])} woningen"
    ]
    raw, eb = table.risk_per_1000[i], table.risk_per_1000_eb[i]
    mean = table.prior_mean_per_1000
    if table.shrinkage_weight[i] < SHRUNK and raw > eb:
        parts.append(
            f"ruw {nl(raw, 1)} per 1.000 woningen per jaar, maar bij zo weinig woningen "
            f"onbetrouwbaar: gecorrigeerd {nl(eb, 1)} (gemiddeld {nl(mean, 1)})"
        )
    else:
        parts.append(
            f"{nl(eb, 1)} per 1.000 woningen per jaar (gecorrigeerd; ruw {nl(raw, 1)}, "
            f"gemiddeld {nl(mean, 1)})"
        )
    trend = _trend_text(table, i)
    if trend:
        parts.append(trend)
    share = table.hotspot_share[i]
    if np.isfinite(share) and share > 0:
        pct = "minder dan 1" if share < 0.005 else nl(share * 100)
        parts.append(f"{pct}% van de zeshoeken is een hotspot")
    return "; ".join(parts) + "."


__all__ = ["LEVELS", "PriorityParams", "PriorityResult", "compute_priorities", "explain"]
