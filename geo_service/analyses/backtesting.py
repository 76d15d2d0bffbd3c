"""Adapter: a rolling-origin backtest of the hotspot forecasts on the store's incidents.

Only validation, I/O, the time axis and projection happen here; the forecasts are in
:mod:`spatial.forecast.methods`, the backtest loop in :mod:`spatial.forecast.backtest` and the
measures in
:mod:`spatial.forecast.evaluation`.

* **Study cells.** The study area of :func:`geo_service.analyses.hotspots.study_area` (municipality
  polygon, else all imported areas, else the footprint of all stored incidents), unchanged:
  it never depends on the category or the period, so it is one fixed geography shared by
  every method and every origin. A footprint is made from all stored incidents, also those
  after an origin; that tells no method anything about *where* its category will occur
  (every cell that ever held any incident is in it, plus ~250 m), and no method sees the
  incidents themselves. Incidents outside the study cells are left out and counted.
* **Space.** Incidents and cell centroids are projected to the study area's metric CRS
  (RD New in the Netherlands, else the local UTM zone) at analysis time.
* **Time (day clock).** ``t`` is days since 1970-01-01 on the local wall clock of the
  store. Origins are local midnights: ``start``, ``start + h``, ... while the whole test
  period ``[t0, t0 + h)`` lies inside the test window (a tail shorter than ``h`` is not
  tested). Default test window: the 18 months up to the last incident of the category
  (starting no earlier than one horizon after the first, so every origin has history).
* **Time (month clock).** When every ``occurred_from`` of the category is the 1st of a month
  at 00:00 (data.police.uk and other monthly files), the data say only the month. Month
  ``m`` then starts at day ``30 m`` of a month clock, every incident is dated the first
  day of its month, the horizon must be whole months (30 clock days each) and origins are
  month starts; ``train_days`` counts clock days. This is the handling of
  ``benchmarks/backtest.py``; the metadata say so (``time_resolution: "month"``).
* **No leakage.** Every method scores the cells at an origin from incidents before that
  origin only (tested in ``tests/spatial``); ``train_days`` caps every method's history,
  ``msrate`` included.
* **Covariates.** ``covrate`` (:mod:`spatial.forecast.covrate`), the method under evaluation,
  also reads the store's OTHER categories (same municipality, same study cells, same clock,
  same cap) as denser proxies of exposure; ``BacktestParams.covariates`` picks them (default:
  every other stored category; ``()``: none). A category recorded per month, under the day
  clock, is dated at the first day of the NEXT month: its monthly count is known only when
  the month is over, so an origin inside that month never sees it.

The time axis and the origins are in :mod:`spatial.forecast.origins`; the latest backtest per
category is recorded beside the database by :mod:`geo_service.store.evaluations`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from geo_service import __version__
from geo_service.analyses.hotspots import study_area
from geo_service.errors import NotFoundError
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from spatial.errors import InvalidParameterError
from spatial.forecast.backtest import (
    BacktestResult,
    MethodBacktest,
    ProgressCallback,
    paired_bootstrap_ratio,
    rolling_origin_backtest,
)
from spatial.forecast.covrate import covariate_rate
from spatial.forecast.evaluation import n_selected
from spatial.forecast.methods import (
    METHODS,
    EventSet,
    ForecastMethod,
    make_cells,
    make_events,
    multiscale_rate,
    random_scores,
    self_exciting,
)
from spatial.forecast.origins import (
    DAYS_PER_MONTH_CLOCK,
    Origins,
    day_clock,
    day_origins,
    is_month_resolution,
    month_index,
    month_origins,
)
from spatial.grid.crs import WGS84, transform
from spatial.grid.h3grid import H3Grid, cells_of_points, check_resolution, neighbours

TimeResolution = Literal["day", "month"]

#: The method under evaluation (the best on Toronto, README "Forecasts and their accuracy");
#: every method in the registry marked ``baseline`` is a baseline.
OWN_METHOD: Final = "covrate"
#: The earlier own method, still compared with the best baseline (``comparison_msrate``).
RATE_METHOD: Final = "msrate"
#: The self-exciting (near-repeat) method, also compared with the best baseline.
DYNAMIC_METHOD: Final = "hawkes"
#: Bootstrap resamples of the interval of the ratio (paired over origins).
N_BOOT: Final = 2000
#: The goal set for it: a mean PAI at least 15 % above the best baseline's.
GOAL_RATIO: Final = 1.15
#: Default horizons per time resolution.
DEFAULT_HORIZON_DAYS: Final[dict[str, float]] = {"day": 14.0, "month": DAYS_PER_MONTH_CLOCK}
#: Reference period of the RRI (the year before each origin).
REFERENCE_DAYS: Final = 365.0
#: Longest horizon accepted (a year; the lag windows of msrate reach three).
MAX_HORIZON_DAYS: Final = 365.0

#: Said only when the whole bootstrap interval of the ratio lies above 1.
VERDICT_BETTER: Final = "beter dan de beste eenvoudige methode"
#: A ratio above 1 whose interval reaches 1 or below: no demonstrated gain (e.g. 1,044x).
VERDICT_NOT_SHOWN: Final = (
    "niet aantoonbaar beter dan de beste eenvoudige methode (het 95 %-interval omvat 1)"
)
VERDICT_NOT_BETTER: Final = "niet beter dan de beste eenvoudige methode"


def verdict(ratio: float, interval_above_one: bool | None) -> str:
    """Return the Dutch verdict on a ratio of mean PAIs: "beter" only when demonstrated.

    Examples
    --------
    >>> verdict(1.044, False) == VERDICT_NOT_SHOWN
    True
    >>> verdict(1.2, True) == VERDICT_BETTER, verdict(0.97, False) == VERDICT_NOT_BETTER
    (True, True)
    >>> verdict(1.2, None) == VERDICT_NOT_SHOWN  # no interval: nothing demonstrated
    True
    """
    if not (math.isfinite(ratio) and ratio > 1.0):
        return VERDICT_NOT_BETTER
    return VERDICT_BETTER if interval_above_one else VERDICT_NOT_SHOWN


def method_names() -> tuple[str, ...]:
    """Return the names of every forecast method, in registry order.

    Examples
    --------
    >>> names = method_names()
    >>> names[0], "msrate" in names, "random" in names
    ('naive_90d', True, True)
    """
    return tuple(METHODS)


@dataclass(frozen=True)
class BacktestParams:
    """Every parameter of a backtest; validated on construction.

    Attributes
    ----------
    incidents
        Category (required) and municipality; ``start``/``end`` are the **test window**
        (local days, inclusive; default the last 18 months of data). Training always uses
        all incidents before each origin (capped by ``train_days``).
    methods
        Method names (:func:`method_names`); None for all.
    horizon_days
        Length of each test period; None: 14 days, or one month (30) for month data.
    train_days
        History cap for every method (None: everything before the origin).
    coverage
        Share of study cells in each forecast area, in (0, 0.5].
    res
        H3 resolution of the study cells (8-11).
    seed
        Seed of the ``random`` baseline.
    covariates
        Other stored categories ``covrate`` reads as covariates; None: every other stored
        category; ``()``: none (``covrate`` then uses the category's own history only).
    max_cells
        Largest study grid this request may compute (None: no cap).

    Raises
    ------
    InvalidParameterError, InvalidResolutionError
    """

    incidents: IncidentFilter
    methods: tuple[str, ...] | None = None
    horizon_days: float | None = None
    train_days: float | None = None
    coverage: float = 0.03
    res: int = 10
    seed: int = 0
    covariates: tuple[str, ...] | None = None
    max_cells: int | None = 250_000

    def __post_init__(self) -> None:
        flt = self.incidents
        if not flt.category:
            raise InvalidParameterError("category is required / categorie is verplicht")
        for name in ("start", "end"):
            if isinstance(getattr(flt, name), datetime):
                raise InvalidParameterError(
                    f"the test window's {name} must be a day, got {getattr(flt, name)!r}"
                )
        if flt.bbox is not None:
            raise InvalidParameterError("a backtest runs on the study area, not on a bbox")
        if self.methods is not None:
            unknown = [m for m in self.methods if m not in METHODS]
            if unknown or not self.methods:
                raise InvalidParameterError(
                    f"unknown method(s) {unknown or list(self.methods)!r}; choose from "
                    f"{', '.join(METHODS)} / onbekende methode"
                )
            if len(set(self.methods)) != len(self.methods):
                raise InvalidParameterError(f"methods named twice: {list(self.methods)!r}")
        if self.horizon_days is not None:
            _check_number("horizon_days", self.horizon_days, 1.0, MAX_HORIZON_DAYS)
            if not float(self.horizon_days).is_integer():
                # Origins are local midnights: a horizon of whole days keeps them there.
                raise InvalidParameterError(
                    f"horizon_days must be whole days, got {self.horizon_days!r}"
                )
        if self.train_days is not None:
            _check_number("train_days", self.train_days, 1.0, 36_500.0)
        _check_number("coverage", self.coverage, 1e-6, 0.5)
        check_resolution(self.res)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InvalidParameterError(f"seed must be an integer >= 0, got {self.seed!r}")
        if self.covariates is not None:
            if flt.category in self.covariates:
                raise InvalidParameterError(
                    f"the category itself ({flt.category}) cannot be its own covariate / de "
                    "categorie zelf kan geen covariaat zijn"
                )
            if len(set(self.covariates)) != len(self.covariates):
                raise InvalidParameterError(f"covariates named twice: {list(self.covariates)!r}")


def _check_number(name: str, value: object, lo: float, hi: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not lo <= value <= hi
    ):
        raise InvalidParameterError(f"{name} must be a number from {lo:g} to {hi:g}, got {value!r}")


# --------------------------------------------------------------------------- the backtest


@dataclass(frozen=True)
class BacktestReport:
    """A backtest's result (per-method arrays) with the metadata that reproduces it."""

    result: BacktestResult
    origins: Origins
    metadata: dict[str, Any]


def _methods(
    params: BacktestParams,
    horizon_days: float,
    covariates: Mapping[str, EventSet] | None = None,
) -> dict[str, ForecastMethod]:
    """Return the chosen methods, each set up for this backtest.

    covrate, msrate and hawkes follow the horizon, covrate takes the covariates, random takes
    the seed.
    """
    names = params.methods or tuple(METHODS)
    out: dict[str, ForecastMethod] = {}
    for name in names:
        m = METHODS[name]
        if name == OWN_METHOD:
            m = ForecastMethod(
                m.name, m.baseline, m.description, covariate_rate(horizon_days, covariates)
            )
        elif name == RATE_METHOD:
            m = ForecastMethod(m.name, m.baseline, m.description, multiscale_rate(horizon_days))
        elif name == DYNAMIC_METHOD:
            m = ForecastMethod(m.name, m.baseline, m.description, self_exciting(horizon_days))
        elif name == "random":
            m = ForecastMethod(
                m.name, True, f"uniform random (seed {params.seed})", random_scores(params.seed)
            )
        out[name] = m
    return out


def _finite(value: float, digits: int = 4) -> float | None:
    return round(float(value), digits) if math.isfinite(value) else None


def comparison(result: BacktestResult, own: str = OWN_METHOD) -> dict[str, Any]:
    """Our method against the best baseline: the ratio of mean PAIs and a plain verdict.

    The best baseline is chosen afterwards, on the same test periods: that favours the
    baselines, so the ratio is a conservative figure for ``own``.

    Returns
    -------
    dict
        ``method, best_baseline, mean_pai, best_baseline_mean_pai, ratio, ratio_low,
        ratio_high, interval_above_one, goal_ratio, goal_met, verdict, origins_won,
        origins_tied, origins_compared``; ``ratio_low`` .. ``ratio_high`` is the paired
        bootstrap 95 % interval over origins
        (:func:`spatial.forecast.backtest.paired_bootstrap_ratio`, :data:`N_BOOT` resamples,
        seed 0, best baseline re-chosen per resample); ``verdict`` says "beter" only when
        that interval lies wholly above 1 (:func:`verdict`). ``ratio`` and ``verdict`` are None
        (with a ``note``) when ``own`` or every baseline is missing.
    """
    names = [m.name for m in result.methods]
    out: dict[str, Any] = {"method": own, "goal_ratio": GOAL_RATIO}
    baselines = [m for m in result.methods if m.baseline and math.isfinite(m.mean_pai)]
    if own not in names or not baselines:
        out.update(ratio=None, verdict=None, goal_met=None)
        out["note"] = (
            f"vergelijking vraagt {own} en minstens één basislijn / the comparison needs {own} "
            "and at least one baseline"
        )
        return out
    mine: MethodBacktest = result.method(own)
    best = result.best_baseline()
    ratio = mine.mean_pai / best.mean_pai if best.mean_pai > 0 else math.nan
    both = np.isfinite(mine.pai) & np.isfinite(best.pai)
    iv = paired_bootstrap_ratio(result, own, n_boot=N_BOOT) if both.any() else None
    out.update(
        ratio_low=_finite(iv.low) if iv else None,
        ratio_high=_finite(iv.high) if iv else None,
        interval_above_one=bool(iv.clear_win) if iv else None,
        best_baseline=best.name,
        mean_pai=_finite(mine.mean_pai),
        best_baseline_mean_pai=_finite(best.mean_pai),
        ratio=_finite(ratio),
        goal_met=bool(math.isfinite(ratio) and ratio >= GOAL_RATIO),
        verdict=verdict(ratio, bool(iv.clear_win) if iv else None),
        origins_won=int(np.sum(mine.pai[both] > best.pai[both])),
        origins_tied=int(np.sum(mine.pai[both] == best.pai[both])),
        origins_compared=int(both.sum()),
    )
    return out


def run_backtest(
    store: Store, params: BacktestParams, *, progress: ProgressCallback | None = None
) -> BacktestReport:
    """Run a rolling-origin backtest of the forecast methods on the store's incidents.

    Parameters
    ----------
    store
        The store.
    params
        What to test (see :class:`BacktestParams`).
    progress
        Called as ``progress(done, total)`` after each (method, origin) step.

    Returns
    -------
    BacktestReport

    Raises
    ------
    NotFoundError
        No incidents of the category (in the municipality).
    InvalidParameterError, EmptyStudyAreaError, TooManyCellsError
    """
    began = time.perf_counter()
    flt = params.incidents
    everything = IncidentFilter(category=flt.category, municipality=flt.municipality)
    pts = store.incident_points(everything)
    if pts.empty:
        raise NotFoundError(
            f"no incidents of category {flt.category!r}"
            + (f" in {flt.municipality}" if flt.municipality else "")
            + f"; stored categories: {', '.join(store.categories()) or 'none'} "
            "/ geen incidenten van deze categorie"
        )
    occurred = pts["occurred_from"]
    first_day = occurred.min().date()
    last_day = occurred.max().date()
    resolution: TimeResolution = "month" if is_month_resolution(occurred) else "day"
    horizon = float(params.horizon_days or DEFAULT_HORIZON_DAYS[resolution])
    start = flt.start if isinstance(flt.start, date) else None
    end = flt.end if isinstance(flt.end, date) else None
    if resolution == "month":
        months = month_index(occurred)
        origins = month_origins(int(months.min()), int(months.max()), horizon, start, end)
        t_days = DAYS_PER_MONTH_CLOCK * months.astype(np.float64)
        clock = (
            "maandklok: alle occurred_from vallen op de 1e van een maand om 00:00, de gegevens "
            f"zeggen alleen de maand; maand m begint op dag {DAYS_PER_MONTH_CLOCK:g}·m, elk "
            "incident krijgt de eerste dag van zijn maand, horizon en train_days in dagen van "
            f"{DAYS_PER_MONTH_CLOCK:g} per maand / month clock (month-resolution data)"
        )
    else:
        origins = day_origins(first_day, last_day, horizon, start, end)
        t_days = day_clock(occurred)
        clock = (
            "dagklok: dagen sinds 1970-01-01 op de lokale kloktijd van de opslag; startmomenten "
            "om 00:00 lokale tijd / day clock on local wall-clock time, origins at local midnight"
        )
    # Incidents after the last test period play no part; leave them out.
    stop = float(origins.t_days[-1] + horizon)
    used = t_days < stop
    pts, t_days = pts[used], t_days[used]

    area = study_area(store, everything, params.res, max_cells=params.max_cells)
    grid = area.grid
    lon, lat = pts["lon"].to_numpy(), pts["lat"].to_numpy()
    cell = grid.index_of(cells_of_points(lon, lat, grid.res))
    inside = cell >= 0
    x, y = transform(lon[inside], lat[inside], WGS84, area.metric_crs)
    events = make_events(cell[inside], t_days[inside], x, y)
    clon, clat = grid.centroids()
    cx, cy = transform(clon, clat, WGS84, area.metric_crs)
    cells = make_cells(cx, cy, neighbours(grid, 1), crs=area.metric_crs)

    wants_covariates = OWN_METHOD in (params.methods or tuple(METHODS))
    covariates, covariate_meta = (
        _covariate_events(store, params, grid, resolution, stop) if wants_covariates else ({}, [])
    )
    n_test = int(np.sum(events.t_days >= origins.t_days[0]))  # all are before `stop`
    if n_test == 0:
        raise InvalidParameterError(
            f"no incidents in the test window {origins.test_start} .. {origins.test_end}; the "
            f"data run from {first_day} to {last_day} / geen incidenten in de testperiode"
        )
    methods = _methods(params, horizon, covariates)
    result = rolling_origin_backtest(
        events,
        cells,
        methods,
        origins=origins.t_days,
        horizon_days=horizon,
        coverage=params.coverage,
        train_days=params.train_days,
        reference_days=REFERENCE_DAYS,
        progress=progress,
    )
    k = n_selected(grid.n, params.coverage)
    meta: dict[str, Any] = {
        "analysis": (
            "rolling-origin backtest van hotspotvoorspellingen / of hotspot forecasts "
            "(Tashman 2000; PAI Chainey et al. 2008; RRI Levine 2008)"
        ),
        "parameters": {
            "category": flt.category,
            "municipality": flt.municipality,
            "methods": list(methods),
            "horizon_days": horizon,
            "train_days": params.train_days,
            "coverage": params.coverage,
            "res": params.res,
            "seed": params.seed,
            "covariates": None if params.covariates is None else list(params.covariates),
            "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
        },
        "study_area": {
            "definition": area.note,
            "policy": (
                "geo_service.analyses.hotspots.study_area: gemeentepolygoon, anders alle ingelezen "
                "gebieden, anders de voetafdruk van alle opgeslagen incidenten (elke categorie, "
                "elke periode); één vaste geografie voor alle methoden en startmomenten / one "
                "fixed geography for every method and origin"
            ),
            "n_cells": grid.n,
            "cells_per_forecast_area": k,
            "area_share": round(k / grid.n, 6),
        },
        "h3_resolution": grid.res,
        "metric_crs": area.metric_crs,
        "time_resolution": resolution,
        "time_clock": clock,
        "origins": [d.isoformat() for d in origins.dates],
        "n_origins": len(origins.dates),
        "horizon_days": horizon,
        "coverage": params.coverage,
        "reference_days": REFERENCE_DAYS,
        "training": (
            "alle incidenten vóór elk startmoment / all incidents before each origin"
            if params.train_days is None
            else f"hoogstens {params.train_days:g} dagen vóór elk startmoment, voor elke "
            f"methode / at most {params.train_days:g} days before each origin, every method"
        ),
        "leakage_rule": (
            "elke methode ziet alleen incidenten vóór het startmoment / every method uses only "
            "incidents before the origin"
        ),
        "data_window": {
            "first_incident": first_day.isoformat(),
            "last_incident": last_day.isoformat(),
            "test_start": origins.test_start.isoformat(),
            "test_end": origins.test_end.isoformat(),
            "test_window_source": origins.source,
        },
        "n_incidents": int(events.n),
        "n_incidents_outside_grid": int((~inside).sum()),
        "n_test_incidents": n_test,
        "covariates": {
            "categories": covariate_meta,
            "rule": (
                "covrate leest de andere categorieën in de opslag (zelfde gemeente, cellen, klok "
                "en geschiedenisgrens) als maat voor blootstelling; alleen incidenten vóór het "
                "startmoment / covrate reads the store's other categories as exposure proxies, "
                "only incidents before the origin"
            ),
        },
        "comparison": comparison(result),
        "comparison_msrate": comparison(result, RATE_METHOD),
        "comparison_dynamic": comparison(result, DYNAMIC_METHOD),
        "time_convention": "lokale kloktijd van de plaats van het incident (tz per incident)",
        "software": f"geo-service {__version__}",
        "data_version": store.data_version(),
        "computed_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "seconds": round(time.perf_counter() - began, 2),
    }
    return BacktestReport(result=result, origins=origins, metadata=meta)


def _covariate_events(
    store: Store,
    params: BacktestParams,
    grid: H3Grid,
    resolution: TimeResolution,
    stop: float,
) -> tuple[dict[str, EventSet], list[dict[str, Any]]]:
    """Return the other categories as event sets on the study cells and the backtest's clock.

    Returns the event sets by category and one metadata row per category (kind, incidents
    used, dating). Incidents outside the study cells or after the last test period are left
    out, as for the category itself.

    Raises
    ------
    NotFoundError
        A named covariate that is not stored (``known`` lists the stored ones).
    """
    flt = params.incidents
    kinds = store.category_kinds()
    stored = [c for c in kinds if c != flt.category]
    if params.covariates is None:
        names = stored
    else:
        unknown = [c for c in params.covariates if c not in stored]
        if unknown:
            raise NotFoundError(
                f"unknown covariate categor{'y' if len(unknown) == 1 else 'ies'} "
                f"{', '.join(unknown)}; stored: {', '.join(stored) or 'none'} / onbekende "
                "covariaat",
                known=tuple(stored),
            )
        names = list(params.covariates)
    out: dict[str, EventSet] = {}
    meta: list[dict[str, Any]] = []
    for name in names:
        pts = store.incident_points(IncidentFilter(category=name, municipality=flt.municipality))
        if pts.empty:
            continue
        occurred = pts["occurred_from"]
        if resolution == "month":
            t = DAYS_PER_MONTH_CLOCK * month_index(occurred).astype(np.float64)
            dating = "maand (maandklok)"
        elif is_month_resolution(occurred):
            # Known only when the month is over: dated at the first day of the next month.
            after = (pd.DatetimeIndex(occurred).to_period("M") + 1).to_timestamp()
            t = day_clock(pd.Series(after))
            dating = "per maand, gedateerd op de eerste dag van de volgende maand"
        else:
            t = day_clock(occurred)
            dating = "tijdstip"
        lon, lat = pts["lon"].to_numpy(), pts["lat"].to_numpy()
        cell = grid.index_of(cells_of_points(lon, lat, grid.res))
        keep = (cell >= 0) & (t < stop)
        out[name] = make_events(cell[keep], t[keep])
        meta.append(
            {
                "category": name,
                "kind": kinds.get(name, "politie"),
                "n_incidents": int(keep.sum()),
                "dating": dating,
            }
        )
    return out, meta


def backtest_json(report: BacktestReport) -> dict[str, Any]:
    """Return ``{"metadata": ..., "methods": [...]}``; NaN (undefined) becomes null.

    One row per method: ``method, baseline, description, origins`` (origins with test
    incidents, those that count in the means), ``mean_pai, median_pai, hit_rate`` (pooled),
    ``rri, pei`` (means), ``seconds`` and ``pai_by_origin``.
    """
    rows = []
    for m in report.result.methods:
        rows.append(
            {
                "method": m.name,
                "baseline": m.baseline,
                "description": m.description,
                "origins": m.n_origins,
                "mean_pai": _finite(m.mean_pai),
                "median_pai": _finite(m.median_pai),
                "hit_rate": _finite(m.hit_rate),
                "rri": _finite(m.mean_rri),
                "pei": _finite(m.mean_pei),
                "seconds": round(m.seconds, 3),
                "pai_by_origin": [_finite(v) for v in m.pai],
            }
        )
    return {"metadata": report.metadata, "methods": rows}


def methods_frame(doc: Mapping[str, Any]) -> pd.DataFrame:
    """Return the method table of a backtest document (best mean PAI first)."""
    cols = ["method", "baseline", "origins", "mean_pai", "median_pai", "hit_rate", "rri", "pei"]
    frame = pd.DataFrame([{c: r[c] for c in cols} for r in doc["methods"]], columns=cols)
    return frame.sort_values("mean_pai", ascending=False, na_position="last").reset_index(drop=True)
