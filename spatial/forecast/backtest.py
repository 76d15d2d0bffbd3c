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
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
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
    k = n_selected(cells.n, coverage)
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
    out = []
    for method in todo:
        began = time.perf_counter()
        scorer = method.prepare(events, cells)
        cols: dict[str, list[float]] = {
            f: [] for f in ("n", "hits", "best", "share", "pai", "pei", "rri")
        }
        for j, t0 in enumerate(t0s):
            ev = evaluate_forecast(
                scorer(float(t0), train_days),
                test[j],
                coverage,
                reference_counts=ref[j],
                cell_area=cell_area,
            )
            for f, v in (
                ("n", ev.n_events),
                ("hits", ev.hits),
                ("best", ev.best_hits),
                ("share", ev.area_share),
                ("pai", ev.pai),
                ("pei", ev.pei),
                ("rri", ev.rri),
            ):
                cols[f].append(v)
            done += 1
            if progress is not None:
                progress(done, total)
        out.append(
            MethodBacktest(
                name=method.name,
                baseline=method.baseline,
                description=method.description,
                origins=t0s.copy(),
                n_events=np.asarray(cols["n"]),
                hits=np.asarray(cols["hits"]),
                best_hits=np.asarray(cols["best"]),
                area_share=np.asarray(cols["share"]),
                pai=np.asarray(cols["pai"]),
                pei=np.asarray(cols["pei"]),
                rri=np.asarray(cols["rri"]),
                seconds=time.perf_counter() - began,
            )
        )
    return BacktestResult(
        methods=tuple(out),
        origins=t0s,
        horizon_days=float(horizon_days),
        coverage=float(coverage),
        reference_days=float(reference_days),
        train_days=train_days,
        n_cells=cells.n,
        n_selected=k,
    )
