r"""Self-exciting point process forecast (``hawkes``): a background rate plus near repeats.

Model: a multivariate Hawkes process on the study cells (Mohler et al. 2015, who use grid
cells without spread; Mohler et al. 2011 for the space-time form with spread to neighbours).
The intensity of cell :math:`c` (incidents per day) at time :math:`t` is

.. math::

    \lambda_c(t) = \mu_c + \sum_{j:\, t_j < t} \theta\,
        \frac{\pi_{k(c_j, c),\, b(t - t_j)}}{n_{c_j, k(c_j, c)}\, w_{b(t - t_j)}}

with :math:`\mu_c` the background rate of the cell and :math:`\theta` the mean number of
incidents each incident triggers (the branching ratio). The offspring are spread by a joint
histogram over space and time: a share :math:`\pi_{kb}` falls in ring :math:`k = 0, \dots, K`
around the incident's cell (ring 0 is the cell itself; :math:`k(a, b)` is the centroid
distance in units of the cell spacing, rounded), split evenly over the :math:`n_{a,k}` study
cells of that ring, and in lag bin :math:`b` (edges :data:`LAG_EDGES_DAYS`, width
:math:`w_b`), spread evenly over the bin. The histogram is the cell-level counterpart of the
nonparametric triggering kernel of Mohler et al. (2011): it can say "the same address again,
the same day" (ring 0, first bin) and "next door, within a month" (ring 1, later bins)
without assuming a shape, and need not be separable in space and time (near-repeat risk
decays jointly; Townsley et al. 2003). Working on cells, not on the incident points, matters
on police data whose points are snapped to intersections (Toronto): a point-level kernel
with a cell-level background reads the many incidents at one snap point as triggering at
distance 0. (A single exponential in time, tried first, fitted a mean lag of hours on
Toronto, set by same-day series; the histogram lets longer lags speak for themselves. On
Toronto's residential burglary they say little: about 3 % of incidents triggered, mostly in
the same cell within days, so this forecast is 1.01-1.03x the best baseline and below
``msrate``; see the README.)

Fit: EM (stochastic declustering; Veen & Schoenberg 2008, Mohler et al. 2011) on the
training window :math:`[s, t_0)` of length :math:`T` (from its first incident) with
:math:`N` incidents. The E-step gives each pair the probability that :math:`j` triggered
:math:`i`, and each incident the probability that it is background:

.. math::

    p_{ij} = \frac{\theta\, \pi_{k_{ij} b_{ij}} / (n_{c_j, k_{ij}} w_{b_{ij}})}
                  {\lambda_{c_i}(t_i)},
    \qquad p_{ii} = \frac{\mu_{c_i}}{\lambda_{c_i}(t_i)};

the M-step maximises the expected complete-data log-likelihood in closed form,

.. math::

    \theta = \min\Big(\frac{\sum p_{ij}}{N}, 0.95\Big), \quad
    \pi_{kb} = \frac{\sum_{k_{ij} = k,\, b_{ij} = b} p_{ij}}{\sum p_{ij}}, \quad
    \mu = \frac{S B}{T}, \; B_c = \sum_{i:\, c_i = c} p_{ii},

with :math:`S = (1 - s) I + s \bar W` (:math:`\bar W` the row-normalised neighbour matrix,
``smooth`` :math:`= s`): the declustered background counts shrunk towards their neighbours, as
Mohler et al. (2011) smooth the background events with a kernel. With :math:`s = 0` (and
:math:`\theta` below its cap of 0.95, which keeps the process stationary) this is EM for the
maximum of

.. math::

    \ell = \sum_i \log \lambda_{c_i}(t_i) - T \sum_c \mu_c - \theta N,

whose compensator counts every incident's full offspring mass (the usual approximation that
ignores the offspring due after :math:`t_0`; near the edge of the study area the rings hold
fewer cells and the mass of the missing ones is dropped as well). Pairs are formed only
within :math:`K` rings and the last lag edge (built once with a k-d tree); the histogram has
no mass beyond them.

Forecast: the score of cell :math:`c` is its expected count in :math:`[t_0, t_0 + h)`,

.. math::

    \hat N_c = \mu_c h + \sum_{j:\, t_j < t_0} \frac{\theta}{n_{c_j, k(c_j, c)}}
        \sum_b \pi_{k(c_j, c), b}\, \frac{\lvert [a_j, a_j + h) \cap \text{bin}_b \rvert}{w_b},
        \qquad a_j = t_0 - t_j.

Every number comes from incidents before :math:`t_0` (and not before :math:`t_0 -`
``train_days`` when the history is capped). The hyperparameters (:math:`K`, the lag bins,
the history, :math:`s`, the iterations) are fixed here once for every city; the rest is
fitted by EM on each training window alone.

References
----------
.. [1] Mohler, G. O., Short, M. B., Brantingham, P. J., Schoenberg, F. P. and Tita, G. E.
       (2011). Self-exciting point process modeling of crime. Journal of the American
       Statistical Association 106(493), 100-108. doi:10.1198/jasa.2011.ap09546
.. [2] Mohler, G. O., Short, M. B., Malinowski, S., Johnson, M., Tita, G. E., Bertozzi, A. L.
       and Brantingham, P. J. (2015). Randomized controlled field trials of predictive
       policing. Journal of the American Statistical Association 110(512), 1399-1411.
       doi:10.1080/01621459.2015.1077710
.. [3] Veen, A. and Schoenberg, F. P. (2008). Estimation of space-time branching process
       models in seismology using an EM-type algorithm. Journal of the American Statistical
       Association 103(482), 614-624.
.. [4] Townsley, M., Homel, R. and Chaseling, J. (2003). Infectious burglaries: a test of the
       near repeat hypothesis. British Journal of Criminology 43(3), 615-633.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.spatial import cKDTree

from spatial.errors import InvalidParameterError
from spatial.forecast.inputs import (
    EventSet,
    Prepare,
    Scorer,
    StudyCells,
    _check,
    _positive,
    _start,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Hyperparameters, fixed once for every city (not tuned to any data set).
N_RINGS = 3
#: Edges of the lag bins (days): same day, week, fortnight, month, two, three, six months.
LAG_EDGES_DAYS: tuple[float, ...] = (0.0, 1.0, 7.0, 14.0, 28.0, 56.0, 91.0, 182.0)
HISTORY_DAYS = 1095.0
#: Background smoothing s, chosen once on Toronto's 2018 origins (validation, before the test
#: window 2019-01 .. 2020-06): 0, 0.25, 0.5, 0.75 gave mean PAI 10.63, 10.91, 10.73, 9.83.
SMOOTH = 0.25
N_ITER = 50


@dataclass(frozen=True)
class CellRings:
    """Which study cells lie in which ring around each cell.

    Attributes
    ----------
    spacing_m
        Cell spacing :math:`a`: the median distance between neighbouring centroids.
    ring
        ``ring[k]``: sparse 0/1 matrix, entry ``(a, b)`` = 1 when :math:`k(a, b) = k`.
    size
        ``size[a, k]`` = :math:`n_{a,k}`, the study cells in ring :math:`k` around ``a``.
    """

    spacing_m: float
    ring: tuple[sp.csr_matrix, ...]
    size: FloatArray

    @property
    def n_rings(self) -> int:
        """:math:`K`, the outermost ring."""
        return len(self.ring) - 1

    def of(self, a: IntArray, b: IntArray, xs: FloatArray, ys: FloatArray) -> IntArray:
        """Ring index :math:`k(a, b)` of cell pairs from the centroids ``xs, ys``."""
        d = np.hypot(xs[a] - xs[b], ys[a] - ys[b])
        return np.rint(d / self.spacing_m).astype(np.int64)


def cell_rings(cells: StudyCells, n_rings: int = N_RINGS) -> CellRings:
    """Build the rings of every study cell up to ``n_rings`` (k-d tree on the centroids).

    Examples
    --------
    A row of five cells 100 m apart: cell 2 has itself, 2 cells at 1 spacing, 2 at 2.

    >>> from spatial.forecast.inputs import make_cells
    >>> r = cell_rings(make_cells(np.arange(5.0) * 100, np.zeros(5)), 2)
    >>> r.spacing_m, r.size[2].tolist(), r.size[0].tolist()
    (100.0, [1.0, 2.0, 2.0], [1.0, 1.0, 1.0])
    """
    if isinstance(n_rings, bool) or not isinstance(n_rings, int) or n_rings < 0:
        raise InvalidParameterError(f"n_rings must be an integer >= 0, got {n_rings!r}")
    xy = np.column_stack([cells.x, cells.y])
    tree = cKDTree(xy)
    if cells.n > 1:
        d, _ = tree.query(xy, k=2)
        spacing = float(np.median(d[:, 1]))
    else:
        spacing = 1.0
    spacing = spacing if spacing > 0 else 1.0
    found = tree.sparse_distance_matrix(tree, (n_rings + 0.5) * spacing, output_type="ndarray")
    a = found["i"].astype(np.int64)
    b = found["j"].astype(np.int64)
    k = np.rint(found["v"] / spacing).astype(np.int64)
    # sparse_distance_matrix leaves out zero distances: add the cells themselves.
    a = np.concatenate([np.arange(cells.n), a[k > 0]])
    b = np.concatenate([np.arange(cells.n), b[k > 0]])
    k = np.concatenate([np.zeros(cells.n, np.int64), k[k > 0]])
    keep = k <= n_rings
    a, b, k = a[keep], b[keep], k[keep]
    rings = tuple(
        sp.csr_matrix(
            (np.ones(int((k == r).sum())), (a[k == r], b[k == r])), shape=(cells.n, cells.n)
        )
        for r in range(n_rings + 1)
    )
    size = np.column_stack([np.asarray(m.sum(axis=1)).ravel() for m in rings])
    return CellRings(spacing, rings, size)


@dataclass(frozen=True)
class EventPairs:
    r"""Ordered incident pairs (``earlier`` before ``later``), sorted by ``later``.

    Attributes
    ----------
    later, earlier
        Incident positions.
    lag
        :math:`\Delta = t_i - t_j > 0` (days).
    ring
        :math:`k(c_j, c_i)`.
    """

    later: IntArray
    earlier: IntArray
    lag: FloatArray
    ring: IntArray


def event_pairs(
    cell: IntArray, t: FloatArray, cells: StudyCells, rings: CellRings, max_lag_days: float
) -> EventPairs:
    """All pairs with :math:`0 < t_i - t_j <` ``max_lag_days`` within :math:`K` rings.

    Incidents must be sorted by time; equal times never pair (nothing triggers at the same
    moment). Vectorised: a k-d tree over the incidents' cell centroids, no loop over pairs.

    Examples
    --------
    >>> from spatial.forecast.inputs import make_cells
    >>> cells = make_cells(np.arange(5.0) * 100, np.zeros(5))
    >>> p = event_pairs(np.array([0, 1, 4]), np.array([0.0, 1.0, 5.0]), cells,
    ...                 cell_rings(cells, 2), 30.0)
    >>> p.later.tolist(), p.earlier.tolist(), p.lag.tolist(), p.ring.tolist()
    ([1], [0], [1.0], [1])
    """
    e = np.empty(0, np.int64)
    if t.size < 2:
        return EventPairs(e, e, np.empty(0), e)
    cx, cy = cells.x[cell], cells.y[cell]
    reach = (rings.n_rings + 0.5) * rings.spacing_m
    # Incidents of one cell share its centroid: ring distances are between cells.
    found = cKDTree(np.column_stack([cx, cy])).query_pairs(reach, output_type="ndarray")
    a = found[:, 0].astype(np.int64)
    b = found[:, 1].astype(np.int64)
    later = np.maximum(a, b)
    earlier = np.minimum(a, b)
    lag = t[later] - t[earlier]
    ring = rings.of(cell[earlier], cell[later], cells.x, cells.y)
    keep = (lag > 0) & (lag < max_lag_days) & (ring <= rings.n_rings)
    order = np.lexsort((earlier[keep], later[keep]))
    return EventPairs(later[keep][order], earlier[keep][order], lag[keep][order], ring[keep][order])


@dataclass(frozen=True)
class SelfExcitingFit:
    r"""Fitted parameters of the self-exciting model on one training window.

    Attributes
    ----------
    mu
        Background incidents per day in each study cell, :math:`\mu_c`.
    theta
        Mean number of incidents triggered by one incident, :math:`\theta`.
    kernel
        :math:`\pi_{kb}`, shape (K + 1, bins): the share of the offspring in ring :math:`k`
        and lag bin :math:`b` (sums to 1).
    lag_edges
        Edges of the lag bins (days).
    n_events
        Incidents in the training window.
    window_days
        Length :math:`T` of the training window.
    log_likelihood
        :math:`\ell` at the returned parameters (NaN without incidents).
    """

    mu: FloatArray
    theta: float
    kernel: FloatArray
    lag_edges: FloatArray
    n_events: int
    window_days: float
    log_likelihood: float

    def ring_share(self) -> FloatArray:
        r""":math:`\sum_b \pi_{kb}`: the share of the offspring in each ring."""
        return np.asarray(self.kernel.sum(axis=1), dtype=np.float64)

    def mean_lag_days(self) -> float:
        """Mean lag of the offspring (days; each bin at its midpoint)."""
        mid = (self.lag_edges[1:] + self.lag_edges[:-1]) / 2.0
        return float(self.kernel.sum(axis=0) @ mid)


def _bins(lag: FloatArray, edges: FloatArray) -> IntArray:
    return (np.searchsorted(edges, lag, side="right") - 1).astype(np.int64)


def _smoother(cells: StudyCells, smooth: float) -> sp.csr_matrix:
    eye = sp.identity(cells.n, format="csr", dtype=np.float64)
    if smooth == 0.0 or cells.neighbours is None:
        return eye
    ring = sp.csr_matrix((cells.neighbours != 0).astype(np.float64))
    deg = np.asarray(ring.sum(axis=1)).ravel()
    mean = sp.diags(np.where(deg > 0, 1.0 / np.maximum(deg, 1.0), 0.0)) @ ring
    # Cells without neighbours keep their own count.
    return sp.csr_matrix(sp.diags(np.where(deg > 0, 1.0 - smooth, 1.0)) + smooth * mean)


def _trigger(
    theta: float, kernel: FloatArray, pairs: EventPairs, size: FloatArray, edges: FloatArray
) -> FloatArray:
    b = _bins(pairs.lag, edges)
    width = np.diff(edges)
    return theta * kernel[pairs.ring, b] / (size * width[b])


def log_likelihood(
    cell: IntArray,
    pairs: EventPairs,
    pair_size: FloatArray,
    fit: SelfExcitingFit,
) -> float:
    r""":math:`\ell = \sum_i \log \lambda_{c_i}(t_i) - T \sum_c \mu_c - \theta N`.

    ``pair_size`` holds :math:`n_{c_j, k_{ij}}` of every pair.
    """
    n = int(cell.size)
    g = _trigger(fit.theta, fit.kernel, pairs, pair_size, fit.lag_edges)
    lam = fit.mu[cell] + np.bincount(pairs.later, weights=g, minlength=n)
    if not (lam > 0).all():
        return -math.inf
    return float(np.log(lam).sum() - fit.window_days * fit.mu.sum() - fit.theta * n)


def fit_self_exciting(
    cell: IntArray,
    pairs: EventPairs,
    rings: CellRings,
    *,
    window_days: float,
    smoother: sp.csr_matrix | None = None,
    lag_edges: tuple[float, ...] = LAG_EDGES_DAYS,
    n_iter: int = N_ITER,
) -> SelfExcitingFit:
    """Fit the model by EM on one training window (see the module docstring).

    Parameters
    ----------
    cell
        Study cell of each incident of the window, in time order.
    pairs
        Their ordered pairs (:func:`event_pairs`, positions into ``cell``; lags below the
        last edge).
    rings
        The study cells' rings (:func:`cell_rings`).
    window_days
        Length :math:`T` of the training window.
    smoother
        :math:`S` (default the identity: plain EM towards the maximum likelihood).
    lag_edges
        Edges of the lag bins, ascending from 0.
    n_iter
        EM iterations, always from the same start, so a fit depends on its data only.

    Returns
    -------
    SelfExcitingFit
    """
    edges = np.asarray(lag_edges, dtype=np.float64)
    n_cells = rings.size.shape[0]
    n = int(cell.size)
    span = float(window_days)
    shape = (rings.n_rings + 1, edges.size - 1)
    # Start: a tenth of the incidents triggered, spread evenly over the histogram.
    theta = 0.1
    kernel = np.full(shape, 1.0 / (shape[0] * shape[1]))
    if n == 0:
        return SelfExcitingFit(np.zeros(n_cells), 0.0, kernel, edges, 0, span, math.nan)
    smooth_mat = smoother if smoother is not None else sp.identity(n_cells, format="csr")
    pair_size = rings.size[cell[pairs.earlier], pairs.ring]
    flat = pairs.ring * shape[1] + _bins(pairs.lag, edges)
    counts = np.bincount(cell, minlength=n_cells).astype(np.float64)
    mu = np.asarray(smooth_mat @ (counts * (1.0 - theta))) / span
    for _ in range(n_iter):
        g = _trigger(theta, kernel, pairs, pair_size, edges)
        lam = mu[cell] + np.bincount(pairs.later, weights=g, minlength=n)
        p = g / lam[pairs.later]
        pb = mu[cell] / lam
        total = float(p.sum())
        theta = min(total / n, 0.95)
        if total > 0:
            kernel = (np.bincount(flat, weights=p, minlength=kernel.size) / total).reshape(shape)
        mu = np.asarray(smooth_mat @ np.bincount(cell, weights=pb, minlength=n_cells)) / span
    fit = SelfExcitingFit(mu, theta, kernel, edges, n, span, math.nan)
    ll = log_likelihood(cell, pairs, pair_size, fit)
    return SelfExcitingFit(mu, theta, kernel, edges, n, span, ll)


def conditional_intensity(
    fit: SelfExcitingFit, c: int, t: float, events: EventSet, cells: StudyCells, rings: CellRings
) -> float:
    r""":math:`\lambda_c(t)`, incidents per day in cell ``c``, from all incidents before ``t``.

    A direct sum over the incidents (for checks; the fit and the forecast are vectorised).

    Examples
    --------
    One incident in cell 1 ten days before ``t``: cell 0 is in its ring 1 (2 cells), and the
    lag falls in the bin [7, 14) of width 7.

    >>> from spatial.forecast.inputs import make_cells, make_events
    >>> cells = make_cells(np.arange(3.0) * 100, np.zeros(3))
    >>> r = cell_rings(cells, 1)
    >>> kernel = np.array([[0.3, 0.1, 0.2], [0.2, 0.1, 0.1]])  # rings x bins [0,1,7,14)
    >>> fit = SelfExcitingFit(np.full(3, 0.01), 0.5, kernel, np.array([0.0, 1, 7, 14]), 1,
    ...                       10.0, 0.0)
    >>> lam = conditional_intensity(fit, 0, 10.0, make_events([1], [0.0]), cells, r)
    >>> bool(abs(lam - (0.01 + 0.5 * 0.1 / (2 * 7))) < 1e-15)
    True
    """
    before = events.t_days < t
    src = events.cell[before]
    k = rings.of(src, np.full(src.size, c), cells.x, cells.y)
    lag = t - events.t_days[before]
    b = _bins(lag, fit.lag_edges)
    ok = (k <= rings.n_rings) & (b >= 0) & (b < fit.lag_edges.size - 1)
    kk, bb = k[ok], b[ok]
    width = np.diff(fit.lag_edges)
    g = fit.theta * fit.kernel[kk, bb] / (rings.size[src[ok], kk] * width[bb])
    return float(fit.mu[c] + g.sum())


def self_exciting(
    horizon_days: float = 14.0,
    *,
    n_rings: int = N_RINGS,
    lag_edges: tuple[float, ...] = LAG_EDGES_DAYS,
    history_days: float = HISTORY_DAYS,
    smooth: float = SMOOTH,
    n_iter: int = N_ITER,
) -> Prepare:
    r"""Build the ``hawkes`` forecast: EM fit before each origin, expected counts after it.

    Parameters
    ----------
    horizon_days
        Forecast horizon :math:`h` (the backtest's): the score is the expected count in
        :math:`[t_0, t_0 + h)`.
    n_rings
        :math:`K`, the outermost ring the triggering reaches (3: ~400 m on 125 m cells).
    lag_edges
        Edges of the lag bins (:data:`LAG_EDGES_DAYS`; the last is the longest lag).
    history_days
        Training window before each origin (3 years, as ``msrate`` and ``naive_1095d``).
    smooth
        Weight :math:`s` of the neighbours' mean in the background (:data:`SMOOTH`; 0 is
        plain EM).
    n_iter
        EM iterations per origin.

    Raises
    ------
    InvalidParameterError
        On invalid parameters.

    Examples
    --------
    Three burglaries in a row in cell 0 in the last days outrank cell 4, burgled as often
    but spread over two years:

    >>> from spatial.forecast.inputs import make_cells, make_events
    >>> cells = make_cells(np.arange(6.0) * 100, np.zeros(6))
    >>> ev = make_events([4, 4, 4, 0, 0, 0], [100.0, 400.0, 700.0, 795.0, 796.0, 797.0])
    >>> s = self_exciting(14.0)(ev, cells)(798.0)
    >>> int(np.argmax(s)), bool(s[0] > s[4])
    (0, True)
    """
    h = _positive("horizon_days", horizon_days)
    edges = np.asarray(lag_edges, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or edges[0] != 0.0 or not (np.diff(edges) > 0).all():
        raise InvalidParameterError(f"lag_edges must ascend from 0, got {lag_edges!r}")
    lag_max = float(edges[-1])
    hist = _positive("history_days", history_days)
    if not (isinstance(smooth, int | float) and 0.0 <= smooth <= 1.0):
        raise InvalidParameterError(f"smooth must be in [0, 1], got {smooth!r}")
    if isinstance(n_iter, bool) or not isinstance(n_iter, int) or n_iter < 1:
        raise InvalidParameterError(f"n_iter must be an integer >= 1, got {n_iter!r}")
    if isinstance(n_rings, bool) or not isinstance(n_rings, int) or n_rings < 0:
        raise InvalidParameterError(f"n_rings must be an integer >= 0, got {n_rings!r}")
    width = np.diff(edges)

    def prepare(events: EventSet, cells: StudyCells) -> Scorer:
        _check(events, cells)
        rings = cell_rings(cells, n_rings)
        pairs = event_pairs(events.cell, events.t_days, cells, rings, lag_max)
        smoother = _smoother(cells, float(smooth))
        # spread[k] maps a per-cell source mass to the cells of ring k: row a / n_{a,k}.
        spread = tuple(
            sp.csr_matrix(sp.diags(1.0 / np.maximum(rings.size[:, k], 1.0)) @ rings.ring[k])
            for k in range(n_rings + 1)
        )

        def score(t0: float, train_days: float | None = None) -> FloatArray:
            floor = _start(t0, hist, train_days)
            s = events.window(floor, t0)
            lo, hi = s.start, s.stop
            if hi <= lo:
                return np.zeros(cells.n)
            inside = (pairs.earlier >= lo) & (pairs.later < hi)
            fit = fit_self_exciting(
                events.cell[s],
                EventPairs(
                    pairs.later[inside] - lo,
                    pairs.earlier[inside] - lo,
                    pairs.lag[inside],
                    pairs.ring[inside],
                ),
                rings,
                # The record may start after the floor: the window starts at its first incident.
                window_days=t0 - float(events.t_days[lo]),
                smoother=smoother,
                lag_edges=tuple(edges),
                n_iter=n_iter,
            )
            out = fit.mu * h
            recent = events.window(max(floor, t0 - lag_max), t0)
            if recent.stop > recent.start and fit.theta > 0:
                age = (t0 - events.t_days[recent])[:, None]
                # Time of [age, age + h) inside each bin, over the bin's width.
                overlap = np.clip(
                    np.minimum(age + h, edges[1:]) - np.maximum(age, edges[:-1]), 0.0, None
                )
                per_ring = fit.theta * (overlap / width) @ fit.kernel.T  # incidents x rings
                for k in range(n_rings + 1):
                    src = np.bincount(
                        events.cell[recent], weights=per_ring[:, k], minlength=cells.n
                    )
                    out = out + spread[k].T @ src
            return np.asarray(out, dtype=np.float64)

        return score

    return prepare
