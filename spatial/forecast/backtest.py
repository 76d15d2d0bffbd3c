r"""Rolling-origin backtest of hotspot forecasts.

Origins :math:`t_0 = \text{start} + j\,h` for :math:`j = 0, 1, \dots` while :math:`t_0 <`
``end`` (or an explicit list). At each origin every method scores every study cell from the
incidents before :math:`t_0` only (:mod:`spatial.forecast.methods`); the top ``coverage`` share of
cells is the forecast area; the incidents in :math:`[t_0, t_0 + h)` are the test and those
in :math:`[t_0 - r, t_0)` (``reference_days``) the reference period of the RRI
(:mod:`spatial.forecast.evaluation`). This is the evaluation design of rolling-origin forecast
studies (Tashman 2000): each forecast is made as it would have been on the day, so no
accuracy figure uses information from its own future.

Per method the result holds the per-origin arrays and the summaries: mean and median PAI
over origins with test incidents, the pooled hit rate :math:`\sum n / \sum N`, and the mean
RRI and PEI.

Speed: each method is prepared once (sorting, incident-cell pairs), then every origin is
array slicing on time-sorted incidents; the test and reference counts per origin are
computed once and shared by all methods.

References
----------
.. [1] Tashman, L. J. (2000). Out-of-sample tests of forecasting accuracy: an analysis and
       review. International Journal of Forecasting 16(4), 437-450.
.. [2] Chainey, S., Tompson, L. and Uhlig, S. (2008). The utility of hotspot mapping for
       predicting spatial patterns of crime. Security Journal 21(1-2), 4-28.
.. [3] Efron, B. and Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman &
       Hall (percentile intervals, ch. 13).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from spatial.errors import InvalidParameterError
from spatial.forecast.evaluation import evaluate_forecast, n_selected, pooled_hit_rate
from spatial.forecast.methods import EventSet, ForecastMethod, StudyCells, window_counts

FloatArray = npt.NDArray[np.float64]

#: ``progress(done, total)`` after each (method, origin) step.
ProgressCallback = Callable[[int, int], None]


def _nanmean(a: FloatArray) -> float:
    ok = np.isfinite(a)
    return float(a[ok].mean()) if ok.any() else math.nan


def _nanmedian(a: FloatArray) -> float:
    ok = np.isfinite(a)
    return float(np.median(a[ok])) if ok.any() else math.nan


@dataclass(frozen=True)
class MethodBacktest:
    """One method's backtest: per-origin arrays and their summaries.

    Attributes
    ----------
    name, baseline, description
        From the :class:`~spatial.forecast.methods.ForecastMethod`.
    origins
        Origin times (days).
    n_events
        Test-period incidents per origin (:math:`N`).
    hits
        Test-period incidents in the forecast area (:math:`n`).
    best_hits
        Most incidents any area of the same size held (:math:`n^*`).
    area_share
        :math:`a/A` per origin.
    pai, pei, rri
        Per origin (NaN where undefined, e.g. no test incidents).
    seconds
        Wall time of preparing and scoring this method.
    """

    name: str
    baseline: bool
    description: str
    origins: FloatArray
    n_events: FloatArray
    hits: FloatArray
    best_hits: FloatArray
    area_share: FloatArray
    pai: FloatArray
    pei: FloatArray
    rri: FloatArray
    seconds: float

    @property
    def n_origins(self) -> int:
        """Origins with at least one test incident (those that count in the means)."""
        return int(np.isfinite(self.pai).sum())

    @property
    def mean_pai(self) -> float:
        """Mean PAI over origins with test incidents."""
        return _nanmean(self.pai)

    @property
    def median_pai(self) -> float:
        """Median PAI over origins with test incidents."""
        return _nanmedian(self.pai)

    @property
    def hit_rate(self) -> float:
        r"""Pooled hit rate :math:`\sum_o n_o / \sum_o N_o`."""
        return pooled_hit_rate(self.hits, self.n_events)

    @property
    def mean_rri(self) -> float:
        """Mean RRI over origins where it is defined."""
        return _nanmean(self.rri)

    @property
    def mean_pei(self) -> float:
        """Mean PEI over origins where it is defined."""
        return _nanmean(self.pei)


@dataclass(frozen=True)
class BacktestResult:
    """All methods' backtests with the shared design.

    Attributes
    ----------
    methods
        One :class:`MethodBacktest` per method, in the order given.
    origins
        Origin times (days).
    horizon_days, coverage, reference_days
        The design.
    train_days
        History cap passed to every method (None = all data before each origin).
    n_cells
        Number of study cells; ``n_selected`` cells form each forecast area.
    n_selected
        Cells in each forecast area.
    """

    methods: tuple[MethodBacktest, ...]
    origins: FloatArray
    horizon_days: float
    coverage: float
    reference_days: float
    train_days: float | None
    n_cells: int
    n_selected: int

    def method(self, name: str) -> MethodBacktest:
        """Return the backtest of the method called ``name``.

        Raises
        ------
        KeyError
            If no method of that name was run.
        """
        for m in self.methods:
            if m.name == name:
                return m
        raise KeyError(f"no method {name!r} in this backtest")

    def best_baseline(self) -> MethodBacktest:
        """Return the baseline with the highest mean PAI (ties: first in order).

        Raises
        ------
        InvalidParameterError
            If no baseline was run.
        """
        base = [m for m in self.methods if m.baseline and math.isfinite(m.mean_pai)]
        if not base:
            raise InvalidParameterError("no baseline method with a defined mean PAI was run")
        return max(base, key=lambda m: m.mean_pai)

    def table(self) -> list[dict[str, object]]:
        """One row per method: name, baseline, origins, mean/median PAI, hit rate, RRI, PEI."""
        return [
            {
                "method": m.name,
                "baseline": m.baseline,
                "origins": m.n_origins,
                "mean_pai": m.mean_pai,
                "median_pai": m.median_pai,
                "hit_rate": m.hit_rate,
                "rri": m.mean_rri,
                "pei": m.mean_pei,
                "seconds": m.seconds,
            }
            for m in self.methods
        ]


def rolling_origins(start: float, end: float, horizon_days: float) -> FloatArray:
    """Origins ``start, start + h, ...`` strictly before ``end``.

    Examples
    --------
    >>> rolling_origins(0.0, 42.0, 14.0).tolist()
    [0.0, 14.0, 28.0]
    """
    if not (math.isfinite(start) and math.isfinite(end) and end > start):
        raise InvalidParameterError(f"need finite start < end, got {start!r}, {end!r}")
    if not (math.isfinite(horizon_days) and horizon_days > 0):
        raise InvalidParameterError(f"horizon_days must be > 0, got {horizon_days!r}")
    n = math.ceil((end - start) / horizon_days - 1e-9)
    return start + horizon_days * np.arange(max(n, 0), dtype=np.float64)


def rolling_origin_backtest(
    events: EventSet,
    cells: StudyCells,
    methods: Mapping[str, ForecastMethod] | Iterable[ForecastMethod],
    *,
    start: float | None = None,
    end: float | None = None,
    origins: npt.ArrayLike | None = None,
    horizon_days: float = 14.0,
    coverage: float = 0.03,
    train_days: float | None = None,
    reference_days: float = 365.0,
    cell_area: npt.ArrayLike | None = None,
    progress: ProgressCallback | None = None,
) -> BacktestResult:
    """Run every method at every origin and measure its forecast area on the next horizon.

    Parameters
    ----------
    events, cells
        Incidents and study cells (:func:`spatial.forecast.methods.make_events`, ``make_cells``).
    methods
        Methods to run (a mapping such as :data:`spatial.forecast.methods.METHODS`, or a sequence).
    start, end
        Origins every ``horizon_days`` from ``start`` while before ``end`` (days).
    origins
        Explicit origin times instead of ``start``/``end``.
    horizon_days
        Length of each test period.
    coverage
        Share of cells in each forecast area.
    train_days
        History cap passed to every method (None: all incidents before the origin).
    reference_days
        Length of the RRI reference period before each origin.
    cell_area
        Area per cell for :math:`a/A` (default: equal areas).
    progress
        Called as ``progress(done, total)`` after each (method, origin) step.

    Returns
    -------
    BacktestResult

    Raises
    ------
    InvalidParameterError
        On an empty or invalid design.

    Examples
    --------
    One cell is burgled every day; the naive count finds it at every origin:

    >>> from spatial.forecast.methods import make_cells, make_events, METHODS
    >>> ev = make_events(np.zeros(100, dtype=int), np.arange(100.0))
    >>> cells = make_cells(np.arange(10.0) * 100, np.zeros(10))
    >>> r = rolling_origin_backtest(ev, cells, [METHODS["naive_90d"]], start=50, end=90,
    ...                             horizon_days=10, coverage=0.1)
    >>> m = r.method("naive_90d")
    >>> m.n_origins, m.mean_pai, m.hit_rate
    (4, 10.0, 1.0)
    """
    return rolling_origin_backtests(
        events,
        cells,
        methods,
        coverages=(coverage,),
        start=start,
        end=end,
        origins=origins,
        horizon_days=horizon_days,
        train_days=train_days,
        reference_days=reference_days,
        cell_area=cell_area,
        progress=progress,
    )[0]


def rolling_origin_backtests(
    events: EventSet,
    cells: StudyCells,
    methods: Mapping[str, ForecastMethod] | Iterable[ForecastMethod],
    *,
    coverages: Sequence[float],
    start: float | None = None,
    end: float | None = None,
    origins: npt.ArrayLike | None = None,
    horizon_days: float = 14.0,
    train_days: float | None = None,
    reference_days: float = 365.0,
    cell_area: npt.ArrayLike | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[BacktestResult, ...]:
    """:func:`rolling_origin_backtest` at several coverages from one scoring per origin.

    Each method scores each origin once; every coverage's forecast area is the top share of
    the same scores, so the results equal separate runs (``seconds`` is the shared time).

    Returns
    -------
    tuple of BacktestResult
        One per coverage, in the order given.

    Examples
    --------
    >>> from spatial.forecast.methods import make_cells, make_events, METHODS
    >>> ev = make_events(np.zeros(100, dtype=int), np.arange(100.0))
    >>> cells = make_cells(np.arange(10.0) * 100, np.zeros(10))
    >>> a, b = rolling_origin_backtests(ev, cells, [METHODS["naive_90d"]], coverages=(0.1, 0.5),
    ...                                 start=50, end=90, horizon_days=10)
    >>> a.method("naive_90d").mean_pai, b.method("naive_90d").mean_pai
    (10.0, 2.0)
    """
    covs = [float(c) for c in coverages]
    if not covs:
        raise InvalidParameterError("give at least one coverage")
    if origins is not None:
        t0s = np.asarray(origins, dtype=np.float64).ravel()
        if t0s.size == 0 or not np.isfinite(t0s).all():
            raise InvalidParameterError("origins must be a non-empty array of finite times")
    elif start is not None and end is not None:
        t0s = rolling_origins(float(start), float(end), float(horizon_days))
    else:
        raise InvalidParameterError("give origins, or start and end")
    if not (math.isfinite(horizon_days) and horizon_days > 0):
        raise InvalidParameterError(f"horizon_days must be > 0, got {horizon_days!r}")
    if not (math.isfinite(reference_days) and reference_days > 0):
        raise InvalidParameterError(f"reference_days must be > 0, got {reference_days!r}")
    ks = [n_selected(cells.n, c) for c in covs]
    todo = list(methods.values()) if isinstance(methods, Mapping) else list(methods)
    if not todo:
        raise InvalidParameterError("no methods to run")
    names = [m.name for m in todo]
    if len(set(names)) != len(names):
        raise InvalidParameterError(f"method names must be unique, got {names!r}")

    test = [window_counts(events, cells.n, t, t + horizon_days) for t in t0s]
    ref = [window_counts(events, cells.n, t - reference_days, t) for t in t0s]
    total = len(todo) * t0s.size
    done = 0
    fields = ("n", "hits", "best", "share", "pai", "pei", "rri")
    out: list[list[MethodBacktest]] = [[] for _ in covs]
    for method in todo:
        began = time.perf_counter()
        scorer = method.prepare(events, cells)
        cols = [{f: [] for f in fields} for _ in covs]  # type: ignore[var-annotated]
        for j, t0 in enumerate(t0s):
            scores = scorer(float(t0), train_days)
            for c, cov in enumerate(covs):
                ev = evaluate_forecast(
                    scores, test[j], cov, reference_counts=ref[j], cell_area=cell_area
                )
                for f, v in zip(
                    fields,
                    (ev.n_events, ev.hits, ev.best_hits, ev.area_share, ev.pai, ev.pei, ev.rri),
                    strict=True,
                ):
                    cols[c][f].append(v)
            done += 1
            if progress is not None:
                progress(done, total)
        seconds = time.perf_counter() - began
        for c in range(len(covs)):
            out[c].append(
                MethodBacktest(
                    name=method.name,
                    baseline=method.baseline,
                    description=method.description,
                    origins=t0s.copy(),
                    n_events=np.asarray(cols[c]["n"]),
                    hits=np.asarray(cols[c]["hits"]),
                    best_hits=np.asarray(cols[c]["best"]),
                    area_share=np.asarray(cols[c]["share"]),
                    pai=np.asarray(cols[c]["pai"]),
                    pei=np.asarray(cols[c]["pei"]),
                    rri=np.asarray(cols[c]["rri"]),
                    seconds=seconds,
                )
            )
    return tuple(
        BacktestResult(
            methods=tuple(out[c]),
            origins=t0s,
            horizon_days=float(horizon_days),
            coverage=cov,
            reference_days=float(reference_days),
            train_days=train_days,
            n_cells=cells.n,
            n_selected=ks[c],
        )
        for c, cov in enumerate(covs)
    )


@dataclass(frozen=True)
class RatioInterval:
    r"""Paired bootstrap interval of a method's mean PAI over the best baseline's.

    Attributes
    ----------
    method
        The method under test.
    best_baseline
        The baseline with the highest mean PAI on all origins.
    ratio
        :math:`\bar P_m / \max_b \bar P_b` on all origins.
    low, high
        Percentile interval of the same ratio over bootstrap resamples of the origins.
    level
        Coverage of the interval (0.95).
    n_origins
        Origins resampled (those with test incidents).
    n_boot
        Bootstrap resamples.
    """

    method: str
    best_baseline: str
    ratio: float
    low: float
    high: float
    level: float
    n_origins: int
    n_boot: int

    @property
    def clear_win(self) -> bool:
        """True when the whole interval lies above 1."""
        return self.low > 1.0


def paired_bootstrap_ratio(
    result: BacktestResult,
    name: str,
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    rng: np.random.Generator | int | None = 0,
) -> RatioInterval:
    r"""Bootstrap the ratio of mean PAIs over origins, paired across methods.

    Each resample draws :math:`O` origins with replacement (the same draw for every method,
    so that the origins' common difficulty cancels) and computes

    .. math::

        R^* = \frac{\bar P^*_m}{\max_b \bar P^*_b}

    over the baselines :math:`b`: the best baseline is chosen again in every resample, which
    can only lower :math:`R^*` (conservative for the method). The interval is the
    :math:`(1 \pm \text{level})/2` percentiles of :math:`R^*` (Efron & Tibshirani 1993,
    ch. 13). Origins are treated as exchangeable; consecutive origins are correlated, so the
    interval is, if anything, too narrow for a small gain.

    Raises
    ------
    KeyError
        If ``name`` was not run.
    InvalidParameterError
        Without a baseline, or on invalid ``n_boot`` / ``level``.

    Examples
    --------
    A method exactly 10 % better at every origin: every resample gives 1.1.

    >>> r = _demo_result([2.0, 4.0, 6.0], [2.2, 4.4, 6.6])
    >>> iv = paired_bootstrap_ratio(r, "m", n_boot=200)
    >>> round(iv.ratio, 6), round(iv.low, 6), round(iv.high, 6), iv.clear_win
    (1.1, 1.1, 1.1, True)
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise InvalidParameterError(f"n_boot must be an integer >= 1, got {n_boot!r}")
    if not 0.0 < level < 1.0:
        raise InvalidParameterError(f"level must be in (0, 1), got {level!r}")
    mine = result.method(name)
    base = [m for m in result.methods if m.baseline]
    if not base:
        raise InvalidParameterError("no baseline method was run")
    p = np.vstack([mine.pai] + [m.pai for m in base])
    ok = np.isfinite(p).all(axis=0)
    p = p[:, ok]
    n = p.shape[1]
    if n == 0:
        raise InvalidParameterError("no origin with test incidents")
    means = p.mean(axis=1)
    best = int(np.argmax(means[1:]))
    draw = np.random.default_rng(rng).integers(0, n, size=(n_boot, n))
    boot = p[:, draw].mean(axis=2)  # methods x resamples
    ratios = boot[0] / boot[1:].max(axis=0)
    lo, hi = np.quantile(ratios, [(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    return RatioInterval(
        method=name,
        best_baseline=base[best].name,
        ratio=float(means[0] / means[1 + best]),
        low=float(lo),
        high=float(hi),
        level=float(level),
        n_origins=n,
        n_boot=n_boot,
    )


def _demo_result(baseline_pai: Sequence[float], method_pai: Sequence[float]) -> BacktestResult:
    """Build a result with one baseline ``b`` and one method ``m`` (examples and tests)."""
    o = np.arange(float(len(baseline_pai)))
    ones = np.ones_like(o)

    def mb(name: str, pai: Sequence[float], baseline: bool) -> MethodBacktest:
        v = np.asarray(pai, dtype=np.float64)
        return MethodBacktest(name, baseline, name, o, ones, ones, ones, ones, v, ones, ones, 0.0)

    return BacktestResult(
        (mb("b", baseline_pai, True), mb("m", method_pai, False)), o, 1.0, 0.1, 1.0, None, 10, 1
    )
