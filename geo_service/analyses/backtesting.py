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

The latest backtest per category is kept in a JSON file beside the database
(:func:`evaluations_path`), read by the model card (:mod:`geo_service.analyses.modelcard`): a
read-only store (``serve`` may hold the database) can still record it, and it leaves the
schema alone. Each record carries the data version it was computed on.
"""

from __future__ import annotations

import calendar
import json
import math
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
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
    rolling_origin_backtest,
)
from spatial.forecast.evaluation import n_selected
from spatial.forecast.methods import (
    METHODS,
    ForecastMethod,
    make_cells,
    make_events,
    multiscale_rate,
    random_scores,
)
from spatial.grid.crs import WGS84, transform
from spatial.grid.h3grid import cells_of_points, check_resolution, neighbours

TimeResolution = Literal["day", "month"]

#: The method under evaluation; every other method in the registry is a baseline.
OWN_METHOD: Final = "msrate"
#: The goal set for it: a mean PAI at least 15 % above the best baseline's.
GOAL_RATIO: Final = 1.15
#: Days of one month on the month clock.
DAYS_PER_MONTH_CLOCK: Final = 30.0
#: Default test window: the last 18 months of data.
DEFAULT_TEST_MONTHS: Final = 18
#: Default horizons per time resolution.
DEFAULT_HORIZON_DAYS: Final[dict[str, float]] = {"day": 14.0, "month": DAYS_PER_MONTH_CLOCK}
#: Reference period of the RRI (the year before each origin).
REFERENCE_DAYS: Final = 365.0
#: Longest horizon accepted (a year; the lag windows of msrate reach three).
MAX_HORIZON_DAYS: Final = 365.0

VERDICT_BETTER: Final = "beter dan de beste eenvoudige methode"
VERDICT_NOT_BETTER: Final = "niet beter dan de beste eenvoudige methode"

_EPOCH: Final = np.datetime64("1970-01-01T00:00:00", "ns")
_ONE_DAY: Final = np.timedelta64(1, "D")


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


def _check_number(name: str, value: object, lo: float, hi: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not lo <= value <= hi
    ):
        raise InvalidParameterError(f"{name} must be a number from {lo:g} to {hi:g}, got {value!r}")


# --------------------------------------------------------------------------- the time axis


def is_month_resolution(occurred: pd.Series) -> bool:
    """Return whether every timestamp is the 1st of a month at 00:00 (data that give months).

    Examples
    --------
    >>> is_month_resolution(pd.Series(pd.to_datetime(["2018-10-01", "2018-11-01"])))
    True
    >>> is_month_resolution(pd.Series(pd.to_datetime(["2018-10-01 00:00", "2018-11-01 09:30"])))
    False
    """
    if occurred.empty:
        return False
    ts = pd.DatetimeIndex(occurred)
    return bool(((ts.day == 1) & (ts == ts.normalize())).all())


def day_clock(occurred: pd.Series) -> npt.NDArray[np.float64]:
    """Days since 1970-01-01 on the local wall clock (the store's timestamps as they are).

    Examples
    --------
    >>> day_clock(pd.Series(pd.to_datetime(["1970-01-02 12:00"]))).tolist()
    [1.5]
    """
    ns = occurred.to_numpy(dtype="datetime64[ns]")
    return np.asarray((ns - _EPOCH) / _ONE_DAY, dtype=np.float64)


def month_index(occurred: pd.Series) -> npt.NDArray[np.int64]:
    """Months since 1970-01 (January 1970 is 0).

    Examples
    --------
    >>> month_index(pd.Series(pd.to_datetime(["1970-01-31", "2018-10-01"]))).tolist()
    [0, 585]
    """
    ts = pd.DatetimeIndex(occurred)
    return np.asarray((ts.year - 1970) * 12 + ts.month - 1, dtype=np.int64)


def _month_start(m: int) -> date:
    return date(1970 + m // 12, m % 12 + 1, 1)


def _month_of(d: date) -> int:
    return (d.year - 1970) * 12 + d.month - 1


def _add_months(d: date, months: int) -> date:
    m = _month_of(d) + months
    first = _month_start(m)
    return first.replace(day=min(d.day, calendar.monthrange(first.year, first.month)[1]))


@dataclass(frozen=True)
class Origins:
    """The forecast origins of a backtest on one clock.

    Attributes
    ----------
    t_days
        Origin times on the clock (days since 1970-01-01, or month-clock days).
    dates
        The local day each origin starts (midnight; the 1st of a month on the month clock).
    test_start, test_end
        First and last local day that some test period covers.
    horizon_days
        Length of each test period on the clock.
    source
        Where the test window came from (requested, or the default rule).
    """

    t_days: npt.NDArray[np.float64]
    dates: tuple[date, ...]
    test_start: date
    test_end: date
    horizon_days: float
    source: str


def day_origins(
    first: date, last: date, horizon_days: float, start: date | None, end: date | None
) -> Origins:
    """Origins every ``horizon_days`` on the day clock whose test period lies in the window.

    Parameters
    ----------
    first, last
        First and last local day with an incident of the category.
    horizon_days
        Length of each test period.
    start, end
        Test window (inclusive local days); default the 18 months up to ``last``, starting
        no earlier than one horizon after ``first``.

    Raises
    ------
    InvalidParameterError
        When no whole test period fits.

    Examples
    --------
    >>> o = day_origins(date(2020, 1, 1), date(2021, 12, 31), 14.0, date(2021, 1, 1), None)
    >>> len(o.dates), str(o.dates[0]), str(o.dates[-1]), str(o.test_end)  # 30-31 Dec untested
    (26, '2021-01-01', '2021-12-17', '2021-12-30')
    """
    end_day = end if end is not None else last
    if start is not None:
        begin, source = start, "gevraagd / requested"
    else:
        stop = end_day + timedelta(days=1)
        earliest = first + timedelta(days=math.ceil(horizon_days))
        begin = max(_add_months(stop, -DEFAULT_TEST_MONTHS), earliest)
        source = (
            f"standaard: de laatste {DEFAULT_TEST_MONTHS} maanden met gegevens / default: the "
            f"last {DEFAULT_TEST_MONTHS} months of data"
        )
    t_begin = float((np.datetime64(begin, "D") - np.datetime64("1970-01-01", "D")).astype(int))
    t_stop = t_begin + float((end_day - begin).days + 1)
    n = math.floor((t_stop - t_begin) / horizon_days + 1e-9)
    if n < 1:
        raise InvalidParameterError(
            f"the test window {begin} .. {end_day} holds no whole horizon of {horizon_days:g} "
            "days / testperiode korter dan de horizon"
        )
    t0 = t_begin + horizon_days * np.arange(n, dtype=np.float64)
    dates = tuple(begin + timedelta(days=float(t - t_begin)) for t in t0)
    last_test = begin + timedelta(days=math.ceil(float(t0[-1] - t_begin + horizon_days)) - 1)
    return Origins(t0, dates, begin, last_test, horizon_days, source)


def month_origins(
    first_month: int, last_month: int, horizon_days: float, start: date | None, end: date | None
) -> Origins:
    """Origins at month starts on the month clock (month ``m`` starts at day ``30 m``).

    Parameters
    ----------
    first_month, last_month
        First and last month with an incident (months since 1970-01).
    horizon_days
        Whole months of 30 clock days.
    start, end
        Test window (local days); only whole months inside it are tested. Default: the 18
        months up to the last month of data, from the second month of data on.

    Raises
    ------
    InvalidParameterError
        A horizon that is not whole months, or no whole test period.

    Examples
    --------
    data.police.uk 2018-10 .. 2019-02: every month with a month of history is an origin.

    >>> o = month_origins(585, 589, 30.0, None, None)
    >>> [str(d) for d in o.dates], o.t_days.tolist()[0], str(o.test_end)
    (['2018-11-01', '2018-12-01', '2019-01-01', '2019-02-01'], 17580.0, '2019-02-28')
    """
    k = horizon_days / DAYS_PER_MONTH_CLOCK
    if abs(k - round(k)) > 1e-9 or round(k) < 1:
        raise InvalidParameterError(
            "these data give only the month of each incident: the horizon must be whole "
            f"months (--horizon-days 30, 60, ...), got {horizon_days:g} / gegevens per maand: "
            "kies een horizon van hele maanden"
        )
    step = round(k)
    if start is not None:
        m_lo = _month_of(start) + (0 if start.day == 1 else 1)
        source = "gevraagd / requested"
    else:
        m_lo = first_month + step
        source = (
            f"standaard: de laatste {DEFAULT_TEST_MONTHS} maanden met gegevens / default: the "
            f"last {DEFAULT_TEST_MONTHS} months of data"
        )
    if end is not None:
        month_end = calendar.monthrange(end.year, end.month)[1]
        m_hi = _month_of(end) - (0 if end.day == month_end else 1)
    else:
        m_hi = last_month
    if start is None:
        m_lo = max(m_lo, m_hi - DEFAULT_TEST_MONTHS + 1)
    n = (m_hi - m_lo + 1) // step
    if n < 1:
        raise InvalidParameterError(
            f"the test window holds no whole horizon of {step} month(s) / testperiode korter "
            "dan de horizon"
        )
    months = m_lo + step * np.arange(n, dtype=np.int64)
    dates = tuple(_month_start(int(m)) for m in months)
    last_m = int(months[-1]) + step - 1
    test_end = _month_start(last_m).replace(
        day=calendar.monthrange(1970 + last_m // 12, last_m % 12 + 1)[1]
    )
    t0 = DAYS_PER_MONTH_CLOCK * months.astype(np.float64)
    return Origins(t0, dates, dates[0], test_end, horizon_days, source)


# --------------------------------------------------------------------------- the backtest


@dataclass(frozen=True)
class BacktestReport:
    """A backtest's result (per-method arrays) with the metadata that reproduces it."""

    result: BacktestResult
    origins: Origins
    metadata: dict[str, Any]


def _methods(params: BacktestParams, horizon_days: float) -> dict[str, ForecastMethod]:
    """Return the chosen methods: msrate's lags follow the horizon, random takes the seed."""
    names = params.methods or tuple(METHODS)
    out: dict[str, ForecastMethod] = {}
    for name in names:
        m = METHODS[name]
        if name == OWN_METHOD:
            m = ForecastMethod(m.name, m.baseline, m.description, multiscale_rate(horizon_days))
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
        ``method, best_baseline, mean_pai, best_baseline_mean_pai, ratio, goal_ratio,
        goal_met, verdict, origins_won, origins_tied, origins_compared``; ``ratio`` and
        ``verdict`` are None (with a ``note``) when ``own`` or every baseline is missing.
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
    out.update(
        best_baseline=best.name,
        mean_pai=_finite(mine.mean_pai),
        best_baseline_mean_pai=_finite(best.mean_pai),
        ratio=_finite(ratio),
        goal_met=bool(math.isfinite(ratio) and ratio >= GOAL_RATIO),
        verdict=VERDICT_BETTER if math.isfinite(ratio) and ratio > 1.0 else VERDICT_NOT_BETTER,
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

    n_test = int(np.sum(events.t_days >= origins.t_days[0]))  # all are before `stop`
    if n_test == 0:
        raise InvalidParameterError(
            f"no incidents in the test window {origins.test_start} .. {origins.test_end}; the "
            f"data run from {first_day} to {last_day} / geen incidenten in de testperiode"
        )
    methods = _methods(params, horizon)
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
        "comparison": comparison(result),
        "time_convention": "lokale kloktijd van de plaats van het incident (tz per incident)",
        "software": f"geo-service {__version__}",
        "data_version": store.data_version(),
        "computed_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "seconds": round(time.perf_counter() - began, 2),
    }
    return BacktestReport(result=result, origins=origins, metadata=meta)


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


# --------------------------------------------------------------------------- the latest record


def evaluations_path(db: Path | str) -> Path:
    """Return the file beside the database that keeps the latest backtest per category.

    Examples
    --------
    >>> evaluations_path("/data/hotspots.duckdb").name
    'hotspots.duckdb.backtest.json'
    """
    p = Path(db)
    return p.with_name(p.name + ".backtest.json")


def _record_key(category: str, municipality: str | None) -> str:
    return category if not municipality else f"{category}@{municipality}"


def record_backtest(db: Path | str, doc: Mapping[str, Any]) -> Path:
    """Keep ``doc`` as the latest backtest of its category (and municipality) beside ``db``.

    The file is replaced atomically (write a temporary file, then rename), so a reader never
    sees half a file. Two backtests finishing at the same moment may lose one record.

    Raises
    ------
    OSError
        When the folder is not writable.
    """
    path = evaluations_path(db)
    records = read_backtests(db)
    par = doc["metadata"]["parameters"]
    records[_record_key(par["category"], par["municipality"])] = dict(doc)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"version": 1, "backtests": records}, fh, ensure_ascii=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_backtests(db: Path | str) -> dict[str, Any]:
    """Return every recorded backtest beside ``db`` by key (empty when none or unreadable)."""
    path = evaluations_path(db)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    records = data.get("backtests") if isinstance(data, dict) else None
    return dict(records) if isinstance(records, dict) else {}


def latest_backtest(
    db: Path | str, category: str, municipality: str | None = None
) -> dict[str, Any] | None:
    """Return the latest recorded backtest of a category (and municipality), or None."""
    found = read_backtests(db).get(_record_key(category, municipality))
    return found if isinstance(found, dict) else None
