r"""Hotspot forecasts: score every study cell for the period after an origin time.

Every method sees only incidents with :math:`t < t_0` (and :math:`t \ge t_0 -` ``train_days``
when the history is capped) and returns one score per study cell; the forecast area is the
top share of cells by score (:mod:`spatial.forecast.evaluation`). A method is *prepared* once for a
data set (sorting, neighbour pairs, kernel weights over all incidents) and then scored at
many origins by array slicing; preparation never changes what a score may look at.

Baselines
---------
``naive_{w}d``
    Incidents per cell in the last :math:`w` = 90, 365, 730 and 1095 days. The 3-year count
    sees the same history as ``msrate``, so comparing the two isolates what the model adds
    to merely looking further back.
``naive_all``
    Incidents per cell over the whole record before the origin: the baseline that sees the
    same history as ``covrate``.
``kde_{h}m_{w}d``
    Quartic kernel density (:func:`spatial.hotspots.kde.quartic_kernel`, bandwidth :math:`h`) of the
    last :math:`w` days' incidents, evaluated at the cell centroids:
    :math:`\hat f(c) = \sum_i K_h(\lVert c - x_i \rVert)`.
``prospective``
    Prospective hotspotting (Bowers, Johnson & Pease 2004): each incident within
    :math:`d_{max}` = 400 m and 8 weeks of the origin adds

    .. math::

        w_i = \frac{1}{1 + \lfloor d_i / b \rfloor}\,\frac{1}{1 + \lfloor \Delta t_i / 7 \rfloor}

    with :math:`d_i` the distance from the cell centroid, :math:`b` = 50 m (the 50 m cells
    of the paper, whose distances were counted in cells) and :math:`\Delta t_i` the days
    before the origin (whole weeks). The paper's bandwidths (400 m, two months) come from
    the communicability of burglary risk found by the same authors. The floor-in-cells
    reading of the paper's distance follows the open_cp re-implementation
    (QuantCrimAtLeeds ``open_cp.prohotspot.ClassicWeight``).
``gistar``
    Getis-Ord Gi* z-score (:func:`spatial.hotspots.gistar.gistar_z`, k-ring weights of the study
    cells) of the counts over the last 365 days: the hotspot map an analyst would draw.
``random``
    Uniform random scores, reproducible from a seed and the origin.

Own methods: ``covrate``, ``msrate`` (multi-scale rate mixture), ``hawkes``
----------------------------------------------------------------------------
See :func:`multiscale_rate`. The expected count in the next horizon is a non-negative mixture
of the cell's incident rates over disjoint lag windows (the last horizon, the one before it,
a quarter, half a year, 1, 2 and 3 years back) and of its neighbourhood's rates, with
weights fitted each origin by non-negative least squares on the year of origins before it.

``covrate`` (:mod:`spatial.forecast.covrate`), the product's method since it passed the
long-run-rate oracle on Toronto, fits the same kind of mixture to longer labels on the whole
record, the neighbours and, optionally, other incident categories of the same cells;
``hawkes`` (:mod:`spatial.forecast.selfexciting`) is a self-exciting point process.

**Length.** The methods stay together because they are one table (:data:`METHODS`, at the
end) over the same prepared data (:class:`EventSet`, :class:`StudyCells`, neighbour pairs):
a method is a few lines of scoring, and most of the module is their formulas in the
docstrings. A new method goes here and into the table.

References
----------
.. [1] Bowers, K. J., Johnson, S. D. and Pease, K. (2004). Prospective hot-spotting: the
       future of crime mapping? British Journal of Criminology 44(5), 641-658.
       doi:10.1093/bjc/azh036
.. [2] Chainey, S., Tompson, L. and Uhlig, S. (2008). The utility of hotspot mapping for
       predicting spatial patterns of crime. Security Journal 21(1-2), 4-28.
.. [3] Ord, J. K. and Getis, A. (1995). Local spatial autocorrelation statistics.
       Geographical Analysis 27(4), 286-306.
.. [4] Lawson, C. L. and Hanson, R. J. (1974). Solving Least Squares Problems. Prentice-Hall
       (the NNLS algorithm, ``scipy.optimize.nnls``).
.. [5] Gorr, W., Olligschlaeger, A. and Thompson, Y. (2003). Short-term forecasting of crime.
       International Journal of Forecasting 19(4), 579-594 (lagged counts at several time
       scales as crime forecast predictors).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp

from spatial.errors import InvalidParameterError
from spatial.forecast.covrate import covariate_rate
from spatial.forecast.inputs import (
    DAYS_PER_WEEK,
    EventSet,
    FloatArray,
    ForecastMethod,
    IntArray,
    Prepare,
    Scorer,
    StudyCells,
    _check,
    _nnls_gram,
    _pairs,
    _positive,
    _second_ring,
    _start,
    _train_origins,
    make_cells,
    make_events,
    window_counts,
)
from spatial.forecast.selfexciting import self_exciting
from spatial.hotspots.gistar import gistar_z
from spatial.hotspots.kde import quartic_kernel

__all__ = [
    "DAYS_PER_WEEK",
    "LONG_EDGES_DAYS",
    "METHODS",
    "EventSet",
    "FloatArray",
    "ForecastMethod",
    "IntArray",
    "Prepare",
    "Scorer",
    "StudyCells",
    "covariate_rate",
    "gistar_counts",
    "kde_at_cells",
    "lag_edges",
    "make_cells",
    "make_events",
    "multiscale_rate",
    "naive_counts",
    "prospective_hotspot",
    "random_scores",
    "self_exciting",
    "window_counts",
]

# --------------------------------------------------------------------------- baselines


def naive_counts(window_days: float) -> Prepare:
    """Incidents per cell in the last ``window_days`` days (ties left to the selector).

    ``window_days = math.inf`` counts the whole record before the origin.

    Examples
    --------
    >>> ev = make_events([0, 1, 1, 2], [1.0, 2.0, 3.0, 9.0])
    >>> cells = make_cells([0.0, 1.0, 2.0], [0.0, 0.0, 0.0])
    >>> naive_counts(7.0)(ev, cells)(5.0).tolist()
    [1.0, 2.0, 0.0]
    >>> naive_counts(math.inf)(ev, cells)(10.0).tolist()
    [1.0, 2.0, 1.0]
    """
    w = math.inf if window_days == math.inf else _positive("window_days", window_days)

    def prepare(events: EventSet, cells: StudyCells) -> Scorer:
        _check(events, cells)

        def score(t0: float, train_days: float | None = None) -> FloatArray:
            return window_counts(events, cells.n, _start(t0, w, train_days), t0)

        return score

    return prepare


def kde_at_cells(bandwidth_m: float, window_days: float) -> Prepare:
    r"""Quartic KDE of the last ``window_days`` days' incidents at the cell centroids (per km²).

    :math:`\hat f(c) = 10^6 \sum_i K_h(\lVert c - x_i\rVert)` with the quartic kernel of
    :mod:`spatial.hotspots.kde`, summed exactly over incident-centroid pairs closer than :math:`h`
    (a k-d tree finds them once; each origin sums a slice of them).

    Examples
    --------
    >>> ev = make_events([0], [1.0], x=[0.0], y=[0.0])
    >>> cells = make_cells([0.0, 50.0, 200.0], [0.0, 0.0, 0.0])
    >>> s = kde_at_cells(100.0, 30.0)(ev, cells)(2.0)
    >>> [round(float(v), 4) for v in s]  # 3/(pi h^2) (1 - d^2/h^2)^2 per km2
    [95.493, 53.7148, 0.0]
    """
    h = _positive("bandwidth_m", bandwidth_m)
    w = _positive("window_days", window_days)

    def prepare(events: EventSet, cells: StudyCells) -> Scorer:
        _check(events, cells)
        pairs = _pairs(events, cells, h)
        k = quartic_kernel(pairs.dist, h) * 1e6

        def score(t0: float, train_days: float | None = None) -> FloatArray:
            p = pairs.window(events.window(_start(t0, w, train_days), t0))
            return np.bincount(pairs.cell[p], weights=k[p], minlength=cells.n).astype(np.float64)

        return score

    return prepare


def prospective_hotspot(radius_m: float = 400.0, band_m: float = 50.0, weeks: int = 8) -> Prepare:
    r"""Prospective hotspotting (Bowers, Johnson & Pease 2004), see the module docstring.

    Each incident with distance :math:`d < ` ``radius_m`` from a cell centroid and
    :math:`\lfloor \Delta t / 7 \rfloor <` ``weeks`` adds
    :math:`1/(1 + \lfloor d/b \rfloor) \cdot 1/(1 + \lfloor \Delta t/7 \rfloor)`.

    Examples
    --------
    An incident 120 m away (2 whole 50 m bands) 10 days ago (1 whole week):
    1/3 * 1/2.

    >>> ev = make_events([0], [0.0], x=[120.0], y=[0.0])
    >>> cells = make_cells([0.0, 600.0], [0.0, 0.0])
    >>> [round(float(v), 6) for v in prospective_hotspot()(ev, cells)(10.0)]
    [0.166667, 0.0]
    """
    r = _positive("radius_m", radius_m)
    b = _positive("band_m", band_m)
    if isinstance(weeks, bool) or not isinstance(weeks, int | np.integer) or weeks < 1:
        raise InvalidParameterError(f"weeks must be an integer >= 1, got {weeks!r}")
    span = weeks * DAYS_PER_WEEK

    def prepare(events: EventSet, cells: StudyCells) -> Scorer:
        _check(events, cells)
        pairs = _pairs(events, cells, r)
        w_space = 1.0 / (1.0 + np.floor(pairs.dist / b))
        event_of_pair = np.repeat(np.arange(events.n), np.diff(pairs.offsets))

        def score(t0: float, train_days: float | None = None) -> FloatArray:
            p = pairs.window(events.window(_start(t0, span, train_days), t0))
            age_weeks = np.floor((t0 - events.t_days[event_of_pair[p]]) / DAYS_PER_WEEK)
            # Exactly `weeks` whole weeks old is outside the band (the window's start is inclusive).
            wt = np.where(age_weeks < weeks, w_space[p] / (1.0 + age_weeks), 0.0)
            return np.bincount(pairs.cell[p], weights=wt, minlength=cells.n).astype(np.float64)

        return score

    return prepare


def gistar_counts(window_days: float = 365.0) -> Prepare:
    """Gi* z-score of the last ``window_days`` days' counts (k-ring of the study cells).

    All-zero counts give z = 0 everywhere.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> w = sp.diags([1.0, 1.0], [-1, 1], shape=(5, 5))  # a chain of 5 cells
    >>> ev = make_events([0, 1, 1, 4], [1.0, 2.0, 3.0, 4.0])
    >>> cells = make_cells(range(5), [0.0] * 5, neighbours=w)
    >>> z = gistar_counts(30.0)(ev, cells)(10.0)
    >>> int(np.argmax(z))
    0
    """
    w = _positive("window_days", window_days)

    def prepare(events: EventSet, cells: StudyCells) -> Scorer:
        _check(events, cells)
        if cells.neighbours is None:
            raise InvalidParameterError("gistar needs the study cells' neighbour matrix")
        nb = cells.neighbours

        def score(t0: float, train_days: float | None = None) -> FloatArray:
            y = window_counts(events, cells.n, _start(t0, w, train_days), t0)
            if cells.n < 3 or not (y > 0).any():
                return np.zeros(cells.n)
            return gistar_z(y, nb)[1]

        return score

    return prepare


def random_scores(rng: np.random.Generator | int | None = 0) -> Prepare:
    """Uniform random scores; the same seed and origin give the same scores.

    A seed is drawn once from ``rng``; each origin's scores come from
    ``SeedSequence([seed, bits of t0])``, so they do not depend on which other origins were
    scored, or in what order.

    Examples
    --------
    >>> ev = make_events([0], [0.0])
    >>> cells = make_cells([0.0, 1.0, 2.0], [0.0, 0.0, 0.0])
    >>> a = random_scores(7)(ev, cells)(5.0)
    >>> bool((a == random_scores(7)(ev, cells)(5.0)).all())
    True
    """
    seed = int(np.random.default_rng(rng).integers(0, 2**63 - 1))

    def prepare(events: EventSet, cells: StudyCells) -> Scorer:
        _check(events, cells)

        def score(t0: float, train_days: float | None = None) -> FloatArray:
            _start(t0, 1.0, train_days)
            bits = int(np.float64(t0).view(np.uint64))
            return np.random.default_rng(np.random.SeedSequence([seed, bits])).random(cells.n)

        return score

    return prepare


# --------------------------------------------------------------------------- own method

#: Lag-window edges beyond the two most recent horizons (days before the origin).
LONG_EDGES_DAYS: tuple[float, ...] = (91.0, 182.0, 365.0, 730.0, 1095.0)


def lag_edges(horizon_days: float) -> FloatArray:
    """Edges of the disjoint lag windows of :func:`multiscale_rate` (days before the origin).

    ``0, h, 2h`` followed by the edges of :data:`LONG_EDGES_DAYS` beyond ``2h``.

    Examples
    --------
    >>> lag_edges(14.0).tolist()
    [0.0, 14.0, 28.0, 91.0, 182.0, 365.0, 730.0, 1095.0]
    >>> lag_edges(60.0).tolist()
    [0.0, 60.0, 120.0, 182.0, 365.0, 730.0, 1095.0]
    """
    h = _positive("horizon_days", horizon_days)
    return np.asarray([0.0, h, 2 * h] + [e for e in LONG_EDGES_DAYS if e > 2 * h])


def multiscale_rate(horizon_days: float = 14.0, train_origins: int | None = None) -> Prepare:
    r"""Multi-scale rate mixture (``msrate``): the earlier own forecast method.

    Features of cell :math:`i` at origin :math:`t` (all from incidents before :math:`t`):

    * its incident rate (per year) in each disjoint lag window :math:`[t - e_{k+1}, t - e_k)`
      with the edges of :func:`lag_edges` (last horizon, the one before, to 91 days, half a
      year, 1, 2 and 3 years back): recent flare-ups and the long-run level, separately;
    * the mean rate of its neighbours (``cells.neighbours``) and of the next ring out over
      the whole 3 years, and of its neighbours over the last 91 days: the local level that
      shrinks a cell's own sparse count towards its surroundings.

    The score is the expected count in :math:`[t, t+h)`,

    .. math::

        \hat\lambda_i(t) = \sum_k \beta_k x_{ik}(t), \qquad \beta \ge 0,

    with :math:`\beta` the non-negative least-squares fit (Lawson & Hanson 1974) of the
    counts in :math:`[s, s+h)` on the features at :math:`s`, over the ``train_origins``
    earlier origins :math:`s = t - jh` (default one year of them, ``round(365 / h)``). Every
    label ends by :math:`t`, so the fit uses no incident at or after the origin; with
    ``train_days`` all windows are clipped at :math:`t -` ``train_days``. Cells without any
    incident in any feature are left out of the fit (they would add only zero rows). When
    the fit has nothing to learn from (too little history) the score is the 3-year count.

    Nothing is tuned to a city: the windows are a fixed rule in days and the weights are
    refitted at every origin from that city's own past. Variants tried on Toronto (13 or 52
    training origins, more ring windows, same-season-last-year lags, a 150 m KDE of the
    last 8 weeks for near repeats, a Poisson fit, gradient boosting) all scored within about
    1 % of this one, so the simplest was kept.

    Parameters
    ----------
    horizon_days
        Forecast horizon :math:`h` (the backtest's); the lag windows and the training
        origins are spaced by it.
    train_origins
        Number of earlier origins the weights are fitted on.

    Raises
    ------
    InvalidParameterError
        On invalid parameters, or (when prepared) study cells without a neighbour matrix.

    Examples
    --------
    A cell burgled every 3 days for a year outranks one burgled once, recently:

    >>> import scipy.sparse as sp
    >>> w = sp.diags([1.0, 1.0], [-1, 1], shape=(4, 4))
    >>> t = np.concatenate([np.arange(0.0, 400.0, 3.0), [395.0]])
    >>> c = np.concatenate([np.zeros(134, dtype=int), [3]])
    >>> ev = make_events(c, t)
    >>> cells = make_cells(np.arange(4.0), np.zeros(4), neighbours=w)
    >>> s = multiscale_rate(14.0)(ev, cells)(400.0)
    >>> int(np.argmax(s)), bool(s[0] > s[3])
    (0, True)
    """
    h = _positive("horizon_days", horizon_days)
    n_train = _train_origins(train_origins, h)
    edges = lag_edges(h)
    span = float(edges[-1])
    recent = 91.0

    def prepare(events: EventSet, cells: StudyCells) -> Scorer:
        _check(events, cells)
        if cells.neighbours is None:
            raise InvalidParameterError("msrate needs the study cells' neighbour matrix")
        ring1 = sp.csr_matrix((cells.neighbours != 0).astype(np.float64))
        ring2 = _second_ring(ring1)
        n1 = np.maximum(np.asarray(ring1.sum(axis=1)).ravel(), 1.0)
        n2 = np.maximum(np.asarray(ring2.sum(axis=1)).ravel(), 1.0)
        n = cells.n
        # Features and Gram blocks depend only on (origin, history floor): memoised so that
        # consecutive origins share their overlapping training origins.
        memo: dict[tuple[float, float], tuple[FloatArray, FloatArray]] = {}

        def features(s: float, floor: float) -> FloatArray:
            def rate(lo: float, hi: float) -> FloatArray:
                return window_counts(events, n, max(s - lo, floor), s - hi) * (365.0 / (lo - hi))

            cols = [rate(float(edges[k + 1]), float(edges[k])) for k in range(edges.size - 1)]
            long = rate(span, 0.0)
            near = rate(recent, 0.0)
            cols += [(ring1 @ long) / n1, (ring2 @ long) / n2, (ring1 @ near) / n1]
            return np.column_stack(cols)

        def block(s: float, floor: float) -> tuple[FloatArray, FloatArray]:
            key = (s, floor)
            if key not in memo:
                x = features(s, floor)
                y = window_counts(events, n, max(s, floor), s + h)
                xa = x[x.any(axis=1)]
                memo[key] = (xa.T @ xa, xa.T @ y[x.any(axis=1)])
            return memo[key]

        def score(t0: float, train_days: float | None = None) -> FloatArray:
            floor = _start(t0, math.inf, train_days)
            x = features(t0, floor)
            gram = np.zeros((x.shape[1], x.shape[1]))
            cross = np.zeros(x.shape[1])
            for j in range(1, n_train + 1):
                g, c = block(t0 - j * h, floor)
                gram += g
                cross += c
            beta = _nnls_gram(gram, cross)
            if not (beta > 0).any():
                # No training signal (too little history): rank by the 3-year count.
                beta = np.zeros(x.shape[1])
                beta[: edges.size - 1] = np.diff(edges) / 365.0
            return x @ beta

        return score

    return prepare


# --------------------------------------------------------------------------- registry


def _baselines() -> dict[str, ForecastMethod]:
    out: dict[str, ForecastMethod] = {}
    for days in (90, 365, 730, 1095):
        out[f"naive_{days}d"] = ForecastMethod(
            f"naive_{days}d", True, f"incidents per cell, last {days} days", naive_counts(days)
        )
    out["naive_all"] = ForecastMethod(
        "naive_all",
        True,
        "incidents per cell, whole record before the origin",
        naive_counts(math.inf),
    )
    for days in (365, 730):
        for h in (150, 250, 400):
            out[f"kde_{h}m_{days}d"] = ForecastMethod(
                f"kde_{h}m_{days}d",
                True,
                f"quartic KDE h={h} m at cell centroids, last {days} days",
                kde_at_cells(h, days),
            )
    out["prospective"] = ForecastMethod(
        "prospective",
        True,
        "prospective hotspotting, 400 m / 8 weeks (Bowers, Johnson & Pease 2004)",
        prospective_hotspot(),
    )
    out["gistar"] = ForecastMethod(
        "gistar", True, "Gi* z of counts, last 365 days, k-ring weights", gistar_counts(365.0)
    )
    out["random"] = ForecastMethod("random", True, "uniform random (seed 0)", random_scores(0))
    out["msrate"] = ForecastMethod(
        "msrate",
        False,
        "multi-scale rate mixture, NNLS weights fitted on the previous year of origins",
        multiscale_rate(14.0),
    )
    out["covrate"] = ForecastMethod(
        "covrate",
        False,
        "long-run rate regression: whole record, neighbours, other categories (NNLS)",
        covariate_rate(14.0),
    )
    out["hawkes"] = ForecastMethod(
        "hawkes",
        False,
        "self-exciting point process (background + near-repeat triggering), EM per origin",
        self_exciting(14.0),
    )
    return out


#: All methods by name; ``baseline`` tells the reference methods from the one under test.
METHODS: Mapping[str, ForecastMethod] = _baselines()
