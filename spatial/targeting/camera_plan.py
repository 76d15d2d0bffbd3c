r"""Flexible camera plan: recency-weighted demand, MCLP placement, advice per current camera.

The pure core of ``geo-service cameras plan``; the optimisation itself is
:func:`spatial.targeting.coverage.mclp_from_matrix` (exact, with a proven gap).

**Demand.** Incident :math:`i` of age :math:`a_i` days (to the end of the window) weighs
:math:`w_i = 2^{-a_i / h}` for half-life :math:`h` (``h = 0``: every incident weighs 1), so an
incident from last week counts fully and one from half a year ago, with :math:`h = 90`, a
quarter. Incidents are merged only where their coordinates are identical (the weights add
up): merging nearby points would move demand and change what a camera covers.

**Placement.** Demand within ``radius_m`` of a fixed camera is already covered and leaves
the objective. The current flexible cameras' sites are added as candidates *before* the
others, so that where a grid point covers exactly what a current site covers, the reduction
keeps the current site (ties go to the lowest index): a camera is never moved for nothing.
They are also the warm start (a feasible plan when there are at most ``p``).

**Advice per current camera.** A coordinator does not re-hang a camera 30 m further along
the same street: such a move changes what the camera sees less than its own view does.
So, with ``min_move_m`` (default: the camera's view radius ``radius_m``):

1. *keep* (``keep_reason = "planned"``) when its site is in the plan;
2. *keep* (``"short_move"``) when a planned site that no current camera occupies lies closer
   than ``min_move_m``: the camera takes that site's place in the plan, where it already
   hangs. Cameras and such near sites are paired so that as many cameras as possible stay
   (Hungarian method on the distances, pairs at ``min_move_m`` or more priced out);
3. the cameras left are paired with the planned sites left so that the total distance is
   smallest (Hungarian method, Kuhn 1955): every such pair is at least ``min_move_m`` apart
   (a closer pair would have been matched in step 2), and the camera is *moved* there --
   unless staying costs the plan less than ``min_move_gain`` (the plan with the camera's
   site in place of its target covers at most that much less weighted demand): then *keep*
   (``"small_gain"``);
4. *withdraw* when no planned site is left for it (the plan needs fewer sites than there are
   cameras, because nothing else adds coverage).

A camera whose site may not be used (``current_allowed`` False, e.g. outside the designated
areas) skips step 2 and is never kept: it is moved, however short the move, or withdrawn.
``covered_with_advice`` is what the cameras cover when the advice is followed.

**Review of fixed cameras.** Incidents within ``radius_m`` of each fixed camera per year:
a camera whose count fell every year over the years given is flagged for review (the
reason it hangs there may be gone), read with the Poisson trend of
:func:`spatial.targeting.ranking.trend_per_area`.

References
----------
.. [1] Church, R. and ReVelle, C. (1974). The maximal covering location problem. Papers of
       the Regional Science Association 32(1), 101-118.
.. [2] Kuhn, H. W. (1955). The Hungarian method for the assignment problem. Naval Research
       Logistics Quarterly 2, 83-97 (``scipy.optimize.linear_sum_assignment``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment

from spatial.errors import InvalidParameterError
from spatial.targeting.coverage import MCLPResult, coverage_matrix, mclp_from_matrix
from spatial.targeting.ranking import TrendResult, trend_per_area

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Advice = Literal["keep", "move", "withdraw"]


def recency_weights(age_days: npt.ArrayLike, half_life_days: float) -> FloatArray:
    r"""Weight :math:`2^{-a/h}` per incident of age ``a`` days; all ones when ``h = 0``.

    Parameters
    ----------
    age_days
        Age of each incident in days at the end of the window (>= 0).
    half_life_days
        Half-life :math:`h` in days (>= 0; 0 = unweighted).

    Raises
    ------
    InvalidParameterError
        A negative half-life or age, or a non-finite value.

    Examples
    --------
    >>> recency_weights([0, 90, 180], 90).tolist()
    [1.0, 0.5, 0.25]
    >>> recency_weights([0, 400], 0).tolist()
    [1.0, 1.0]
    """
    a = np.asarray(age_days, dtype=np.float64)
    h = float(half_life_days)
    if not np.isfinite(h) or h < 0:
        raise InvalidParameterError(f"half_life_days must be >= 0, got {half_life_days!r}")
    if not np.isfinite(a).all() or (a < 0).any():
        raise InvalidParameterError("age_days must be finite and >= 0 (incidents after the end?)")
    if h == 0:
        return np.ones(a.shape)
    return np.exp2(-a / h)


def merge_identical(
    xy: npt.ArrayLike, weights: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Merge points with identical coordinates, summing their weights.

    Returns
    -------
    unique_xy
        ``(k, 2)`` distinct coordinates (sorted).
    weights
        Summed weight per distinct point.
    inverse
        For each input point, its row in ``unique_xy``.

    Examples
    --------
    >>> u, w, inv = merge_identical([[0, 0], [5, 5], [0, 0]], [1.0, 2.0, 0.5])
    >>> u.tolist(), w.tolist(), inv.tolist()
    ([[0.0, 0.0], [5.0, 5.0]], [1.5, 2.0], [0, 1, 0])
    """
    a = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (a.shape[0],):
        raise InvalidParameterError(f"weights must have shape ({a.shape[0]},), got {w.shape}")
    if a.shape[0] == 0:
        return a, w, np.zeros(0, dtype=np.int64)
    unique, inv = np.unique(a, axis=0, return_inverse=True)
    inverse: IntArray = inv.ravel().astype(np.int64)
    summed = np.bincount(inverse, weights=w, minlength=len(unique)).astype(np.float64)
    return unique.astype(np.float64), summed, inverse


def counts_near(
    sites_xy: npt.ArrayLike,
    points_xy: npt.ArrayLike,
    period_index: npt.ArrayLike,
    n_periods: int,
    radius_m: float,
) -> IntArray:
    """Points within ``radius_m`` of each site per period: ``(n_periods, n_sites)`` counts.

    Points with a period index outside ``[0, n_periods)`` are left out.

    Examples
    --------
    >>> counts_near([[0, 0]], [[0, 10], [0, 50], [3, 0]], [0, 0, 1], 2, 20).tolist()
    [[1], [1]]
    """
    pts = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
    t = np.asarray(period_index, dtype=np.int64)
    sites = np.asarray(sites_xy, dtype=np.float64).reshape(-1, 2)
    if t.shape != (pts.shape[0],):
        raise InvalidParameterError(f"period_index must have shape ({pts.shape[0]},)")
    ok = (t >= 0) & (t < n_periods)
    near = coverage_matrix(pts[ok], sites, radius_m)  # points x sites
    periods = sp.csr_matrix(
        (np.ones(int(ok.sum())), (np.arange(int(ok.sum())), t[ok])),
        shape=(int(ok.sum()), n_periods),
    )
    return np.asarray((periods.T @ near).toarray(), dtype=np.int64)


@dataclass(frozen=True)
class CameraPlan:
    """A flexible camera plan (indices into ``candidate_xy``; arrays per camera aligned).

    Attributes
    ----------
    mclp
        The MCLP solution (``selected`` in marginal-gain order, gains, gap, status).
    candidate_xy
        All candidate sites: the current cameras' sites first, then the others.
    n_current
        Number of current flexible cameras (the first rows of ``candidate_xy``).
    covered_by
        ``(n_demand,)`` index into ``mclp.selected`` of the first planned site covering
        each demand point, -1 where none does.
    advice
        Per current camera: ``"keep"``, ``"move"`` or ``"withdraw"``.
    target
        Per current camera: position in ``mclp.selected`` of its site in the plan (keep, move)
        or -1 (withdraw).
    distance_m
        Per current camera: distance to its target (0 for keep, NaN for withdraw).
    covered_here
        Per current camera: demand weight within reach of its current site that no fixed
        camera covers.
    stay_loss
        Per current camera: how much less the plan covers when the camera stays where it is
        instead of going to its target (0 for a site in the plan, NaN for withdraw).
    covered_with_advice
        Newly covered weight when the advice is followed (kept cameras where they are).
    keep_reason
        Per current camera: ``"planned"``, ``"short_move"`` or ``"small_gain"`` for a kept
        camera (module notes), ``""`` for a move or a withdrawal.
    min_move_m, min_move_gain
        The thresholds the advice used.
    """

    mclp: MCLPResult
    candidate_xy: FloatArray
    n_current: int
    covered_by: IntArray
    advice: npt.NDArray[np.str_]
    target: IntArray
    distance_m: FloatArray
    covered_here: FloatArray
    stay_loss: FloatArray
    covered_with_advice: float
    keep_reason: npt.NDArray[np.str_]
    min_move_m: float
    min_move_gain: float

    @property
    def selected_xy(self) -> FloatArray:
        """Coordinates of the planned sites, in marginal-gain order."""
        return self.candidate_xy[self.mclp.selected]


def plan_flexible_cameras(
    demand_xy: npt.ArrayLike,
    weights: npt.ArrayLike,
    candidate_xy: npt.ArrayLike,
    p: int,
    radius_m: float,
    *,
    fixed_xy: npt.ArrayLike | None = None,
    current_xy: npt.ArrayLike | None = None,
    time_limit_s: float = 30.0,
    min_move_gain: float = 1.0,
    current_allowed: npt.ArrayLike | None = None,
    min_move_m: float | None = None,
) -> CameraPlan:
    """Place ``p`` flexible cameras to cover most demand, and advise each current camera.

    Parameters
    ----------
    demand_xy
        ``(n, 2)`` demand points in a metric CRS (metres), e.g. :func:`merge_identical`'d
        incidents.
    weights
        ``(n,)`` demand weights (e.g. :func:`recency_weights` summed per point).
    candidate_xy
        ``(m, 2)`` candidate sites (same CRS), e.g.
    :func:`spatial.targeting.coverage.grid_candidates`.
    p
        Number of flexible cameras to place.
    radius_m
        A camera covers demand within this distance.
    fixed_xy
        Fixed cameras: their coverage counts as already covered.
    current_xy
        Current flexible cameras' sites (candidates too; advice is given for each).
    time_limit_s
        Solver time limit (the gap is proven either way).
    min_move_gain
        A camera is moved only when that covers at least this much more demand weight than
        leaving it where it is (0: always follow the plan).
    current_allowed
        Per current camera, whether its site may stay a site (default all): a camera outside
        the allowed area (e.g. outside the designated areas) is moved or withdrawn.
    min_move_m
        No camera (allowed to stay) is moved less than this many metres; None: ``radius_m``,
        the camera's own view radius.

    Returns
    -------
    CameraPlan

    Raises
    ------
    InvalidParameterError
        Invalid shapes, weights, ``p`` or radius (see :mod:`spatial.targeting.coverage`),
        a negative ``min_move_m`` or ``min_move_gain``.

    Examples
    --------
    Demand in two clusters; one current camera at the first, one far from everything:

    >>> demand = [[0, 0], [10, 0], [500, 0], [510, 0]]
    >>> grid = [[5, 0], [505, 0], [2000, 0]]
    >>> plan = plan_flexible_cameras(demand, [1, 1, 3, 3], grid, 2, 50,
    ...                              current_xy=[[0, 5], [3000, 0]])
    >>> plan.selected_xy.tolist(), plan.mclp.marginal_gain.tolist()
    ([[505.0, 0.0], [0.0, 5.0]], [6.0, 2.0])
    >>> plan.advice.tolist(), plan.target.tolist(), plan.stay_loss.tolist()
    (['keep', 'move'], [1, 0], [0.0, 6.0])

    A camera 40 m from a better planned site, with a view radius of 75 m, stays where it is
    (the plan would gain 1 incident; without the distance rule it would be moved 40 m):

    >>> demand, grid = [[0, 0], [110, 0]], [[40, 0]]
    >>> plan = plan_flexible_cameras(demand, [1, 1], grid, 1, 75, current_xy=[[0, 0]])
    >>> plan.advice.tolist(), plan.keep_reason.tolist(), plan.distance_m.tolist()
    (['keep'], ['short_move'], [40.0])
    >>> plan_flexible_cameras(demand, [1, 1], grid, 1, 75, current_xy=[[0, 0]],
    ...                       min_move_m=0).advice.tolist()
    ['move']
    """
    demand = np.asarray(demand_xy, dtype=np.float64).reshape(-1, 2)
    w = np.asarray(weights, dtype=np.float64)
    grid = np.asarray(candidate_xy, dtype=np.float64).reshape(-1, 2)
    current = (
        np.zeros((0, 2)) if current_xy is None else np.asarray(current_xy, float).reshape(-1, 2)
    )
    fixed = np.zeros((0, 2)) if fixed_xy is None else np.asarray(fixed_xy, float).reshape(-1, 2)
    sites = np.vstack([current, grid])
    n_cur = current.shape[0]
    allowed = (
        np.ones(n_cur, dtype=bool)
        if current_allowed is None
        else np.asarray(current_allowed, dtype=bool).reshape(-1)
    )
    if allowed.shape != (n_cur,):
        raise InvalidParameterError(f"current_allowed must have shape ({n_cur},)")
    min_move = float(radius_m) if min_move_m is None else float(min_move_m)
    if not np.isfinite(min_move) or min_move < 0:
        raise InvalidParameterError(f"min_move_m must be finite and >= 0, got {min_move_m!r}")
    if not np.isfinite(min_move_gain) or min_move_gain < 0:
        raise InvalidParameterError(f"min_move_gain must be >= 0, got {min_move_gain!r}")
    a_full = coverage_matrix(demand, sites, radius_m)
    a = a_full
    if not allowed.all():
        # A site that may not be used covers nothing: the solver never picks it.
        keep_col = np.concatenate([allowed, np.ones(grid.shape[0], dtype=bool)]).astype(float)
        a = (a_full @ sp.diags(keep_col)).tocsr()
        a.eliminate_zeros()
    already = np.asarray(coverage_matrix(demand, fixed, radius_m).sum(axis=1)).ravel() > 0
    ok_cur = np.flatnonzero(allowed).astype(np.int64)
    warm = ok_cur if 0 < ok_cur.size <= p else None
    result = mclp_from_matrix(
        a, w, p, time_limit_s=time_limit_s, already_covered=already, warm_start=warm
    )
    sel = result.selected
    # First planned site (in gain order) covering each demand point.
    rank_of = np.full(sites.shape[0], np.iinfo(np.int64).max, dtype=np.int64)
    rank_of[sel] = np.arange(sel.size)
    cov = a_full.tocsr()
    cand = np.where(cov.data > 0, rank_of[cov.indices], np.iinfo(np.int64).max)
    first = np.full(demand.shape[0], np.iinfo(np.int64).max, dtype=np.int64)
    rows = np.repeat(np.arange(demand.shape[0]), np.diff(cov.indptr))
    np.minimum.at(first, rows, cand)
    covered_by = np.where(first == np.iinfo(np.int64).max, -1, first)
    covered_by = np.where(already, -1, covered_by)
    # Advice: keep a camera whose site is planned; pair the others with the free sites.
    target = np.full(n_cur, -1, dtype=np.int64)
    kept = rank_of[:n_cur] < np.iinfo(np.int64).max
    target[kept] = rank_of[:n_cur][kept]
    free = np.flatnonzero(sel >= n_cur)
    movers = np.flatnonzero(~kept)
    short = np.zeros(n_cur, dtype=bool)
    # Step 2: allowed cameras with a free planned site closer than min_move stay put.
    near_movers = movers[allowed[movers]]
    if free.size and near_movers.size and min_move > 0:
        dist = _distances(current[near_movers], sites[sel[free]])
        is_near = dist < min_move
        if is_near.any():
            # Priced out: any far pair costs more than all near pairs together, so the
            # assignment first maximises the number of near pairs, then their closeness.
            penalty = float(dist[is_near].sum()) + 1.0
            r, c = linear_sum_assignment(np.where(is_near, dist, penalty))
            hit = is_near[r, c]
            target[near_movers[r[hit]]] = free[c[hit]]
            short[near_movers[r[hit]]] = True
            free = np.setdiff1d(free, free[c[hit]])
            movers = np.setdiff1d(movers, near_movers[r[hit]])
    # Step 3: the others to the remaining free sites, least total distance.
    if free.size and movers.size:
        dist = _distances(current[movers], sites[sel[free]])
        r, c = linear_sum_assignment(dist)
        target[movers[r]] = free[c]
    distance = np.full(n_cur, np.nan)
    has = target >= 0
    distance[has] = np.hypot(*(current[has] - sites[sel[target[has]]]).T)
    open_w = np.where(already, 0.0, w)
    covered_here = np.asarray(cov[:, :n_cur].T @ open_w, dtype=np.float64).ravel()
    csc = cov.tocsc()
    hits: FloatArray = np.asarray(csc[:, sel].sum(axis=1), dtype=np.float64).ravel()
    stay_loss = np.where(kept, 0.0, np.nan)
    for i in np.flatnonzero(~kept & has):  # one sparse swap per current camera (~20)
        swapped = hits - _column(csc, int(sel[target[i]])) + _column(csc, int(i))
        stay_loss[i] = float(open_w[hits > 0].sum() - open_w[swapped > 0].sum())
    small_gain = ~kept & ~short & has & allowed & (stay_loss < min_move_gain)
    stays = kept | short | small_gain
    advice = np.where(stays, "keep", np.where(has, "move", "withdraw"))
    keep_reason = np.where(
        kept, "planned", np.where(short, "short_move", np.where(small_gain, "small_gain", ""))
    )
    final = hits.copy()
    for i in np.flatnonzero(stays & ~kept):  # kept cameras replace their targets
        final = final - _column(csc, int(sel[target[i]])) + _column(csc, int(i))
    return CameraPlan(
        mclp=result,
        candidate_xy=sites,
        n_current=n_cur,
        covered_by=covered_by.astype(np.int64),
        advice=advice.astype(np.str_),
        target=target,
        distance_m=distance,
        covered_here=covered_here,
        stay_loss=stay_loss,
        covered_with_advice=float(open_w[final > 0].sum()),
        keep_reason=keep_reason.astype(np.str_),
        min_move_m=min_move,
        min_move_gain=float(min_move_gain),
    )


def _distances(a: FloatArray, b: FloatArray) -> FloatArray:
    """``(len(a), len(b))`` Euclidean distances."""
    out: FloatArray = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
    return out


def _column(csc: sp.csc_matrix, j: int) -> FloatArray:
    """Dense 0/1 column ``j`` of a coverage matrix."""
    out = np.zeros(csc.shape[0])
    out[csc.indices[csc.indptr[j] : csc.indptr[j + 1]]] = 1.0
    return out


def review_fixed(counts_by_year: npt.ArrayLike) -> tuple[BoolArray, TrendResult]:
    """Flag sites whose yearly count fell every year (oldest year first, ``(T, n)``).

    Sites with no incidents in the first year cannot improve and are not flagged.

    Examples
    --------
    >>> flag, trend = review_fixed([[9, 4, 0], [6, 5, 0], [4, 3, 0], [2, 1, 0], [1, 0, 0]])
    >>> flag.tolist(), trend.rate_ratio.round(2).tolist()[:1]
    ([True, False, False], [0.61])
    """
    c = np.asarray(counts_by_year, dtype=np.float64)
    trend = trend_per_area(c)
    return np.asarray(trend.strictly_decreasing & (c[0] > 0), dtype=bool), trend
