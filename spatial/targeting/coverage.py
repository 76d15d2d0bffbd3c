r"""Maximal Covering Location Problem (MCLP): where to put ``p`` cameras to cover most incidents.

Demand point :math:`i` (an incident, or a cell with weight :math:`w_i` incidents) is *covered*
when at least one selected candidate site :math:`j` lies within ``radius_m`` of it
(:math:`a_{ij} = 1`). Church & ReVelle (1974) choose at most ``p`` sites to maximise the
covered weight:

.. math::

    \max \sum_i w_i y_i \quad \text{s.t.} \quad
    y_i \le \sum_j a_{ij} x_j, \quad \sum_j x_j \le p, \quad
    x_j \in \{0, 1\}, \quad 0 \le y_i \le 1 .

:math:`y` may be continuous: for binary :math:`x` and :math:`w_i > 0` the optimum sets
:math:`y_i = \min(1, \sum_j a_{ij} x_j) \in \{0, 1\}`. ``<= p`` instead of spopt's ``= p``
gives the same optimum (a site never lowers coverage) and lets the solver stop when fewer
than ``p`` useful sites exist; sites that add nothing are not returned.

Demand already covered by fixed cameras (``already_covered``) counts as covered and is taken
out of the objective. Before the MILP the instance is reduced without changing its optimum:

1. demand with zero weight, already covered, or without any covering candidate is dropped;
2. candidates covering no remaining demand are dropped, and a candidate whose covered set
   is contained in another's (*dominated*; ties: the lowest index survives) is dropped — any
   solution using it is matched by one using its dominator;
3. demand rows with the same covering set are merged (weights summed);
4. a row covered by a single candidate :math:`j` needs no :math:`y`: :math:`y_i = x_j` at the
   optimum, so :math:`w_i` moves onto :math:`x_j`'s objective coefficient.

Steps 2-3 repeat until nothing changes. Greedy (vectorised incremental gains; a
:math:`1 - 1/e` approximation, Nemhauser, Wolsey & Fisher 1978), polished by 1-swap local
search (Teitz & Bart 1968) and then by iterated local search (random kicks of 2-5 sites,
greedy refill, 1-swap descent; Lourenço, Martin & Stützle 2003), gives a first incumbent. The
LP relaxation (HiGHS) supplies multipliers for a Lagrangian bound per site (Galvão & ReVelle
1996); a small *kernel* MILP over the most promising sites (Angelelli, Mansini & Speranza
2010) gives a strong incumbent, every site whose bound falls below it is fixed out, and the
MILP over what is left is solved to relative gap 0 with HiGHS (``scipy.optimize.milp``); see
:func:`mclp_from_matrix`. If the time limit stops it, the best solution found is returned with
its gap proven against the best valid bound (the solver's, the Lagrangian one, or
:math:`\min(\sum_i w_i,` the ``p`` largest site weights:math:`)`). With integral weights
(incident counts) every covered value is a whole number, so every bound is rounded down to one
before it is reported or compared with the best solution (objective integrality, Achterberg
2007): a bound less than one incident above the best solution proves it optimal.

**Length.** One solver in one module, on purpose: the reductions, the greedy and swap
incumbents, the Lagrangian bounds and the kernel MILP all work on the private reduced
instance (``_Reduced``) and are only correct together (a bound or a fixed-out site is valid
for the instance the reductions made). Split by step, those private pieces would become an
API between modules; the public entry points are few (:func:`coverage_matrix`,
:func:`grid_candidates`, :func:`greedy_mclp`, :func:`mclp_from_matrix`,
:func:`coverage_curve`, with their result types), and callers use only those.

References
----------
.. [1] Church, R. and ReVelle, C. (1974). The maximal covering location problem. Papers of
       the Regional Science Association 32(1), 101-118.
.. [2] Nemhauser, G. L., Wolsey, L. A. and Fisher, M. L. (1978). An analysis of
       approximations for maximizing submodular set functions - I. Mathematical Programming
       14(1), 265-294.
.. [3] Galvão, R. D. and ReVelle, C. (1996). A Lagrangean heuristic for the maximal covering
       location problem. European Journal of Operational Research 88(1), 114-123.
.. [4] Angelelli, E., Mansini, R. and Speranza, M. G. (2010). Kernel search: a general
       heuristic for the multi-dimensional knapsack problem. Computers & Operations Research
       37(11), 2017-2026.
.. [5] Teitz, M. B. and Bart, P. (1968). Heuristic methods for estimating the generalized
       vertex median of a weighted graph. Operations Research 16(5), 955-961.
.. [6] Huangfu, Q. and Hall, J. A. J. (2018). Parallelizing the dual revised simplex method.
       Mathematical Programming Computation 10(1), 119-142 (HiGHS).
.. [7] Feng, X. et al. (2022). spopt: a python package for solving spatial optimization
       problems in PySAL. Journal of Open Source Software 7(74), 3330 (``spopt.locate.MCLP``,
       the reference implementation in the tests).
.. [8] Lourenço, H. R., Martin, O. C. and Stützle, T. (2003). Iterated local search. In
       Glover, F. and Kochenberger, G. A. (eds.), Handbook of Metaheuristics, 320-353.
.. [9] Achterberg, T. (2007). Constraint Integer Programming. PhD thesis, Technische
       Universität Berlin (objective integrality).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import shapely
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from spatial.errors import InvalidParameterError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
SparseLike: TypeAlias = sp.spmatrix | sp.sparray

#: Status of an MCLP solution.
Status = Literal["optimal", "time_limit", "greedy", "solver_failed"]

#: Candidate-dominance check is skipped when sum_i (row nnz)^2 exceeds this (C^T C too big).
_DOMINANCE_BUDGET: Final = 50_000_000
#: Kernel size for the first, restricted MILP: the LP's support plus this many sites (at
#: least ``_KERNEL_MIN``) with the largest Lagrangian bounds.
_KERNEL_PER_SITE: Final = 10
_KERNEL_MIN: Final = 100
_KERNEL_TIME_SHARE: Final = 0.5
#: Iterated local search (:func:`_iterated_swap_search`): at most this many kicks, stopping
#: after ``_ILS_PATIENCE`` kicks in a row without a strict improvement or after
#: ``_ILS_TIME_SHARE`` of the time limit; each kick removes 2 to ``_ILS_MAX_KICK`` sites.
_ILS_KICKS: Final = 400
_ILS_PATIENCE: Final = 150
_ILS_TIME_SHARE: Final = 0.1
_ILS_MAX_KICK: Final = 5
#: Largest candidate grid :func:`grid_candidates` builds.
MAX_GRID_POINTS: Final = 5_000_000
#: Integral weights: a bound ``b`` is rounded down to ``floor(b + slack)`` with
#: ``slack = _ROUND_SLACK_ABS + _ROUND_SLACK_REL * sum(w)``, far above the error of the
#: solver's dual bound (feasibility tolerance 1e-7 per row) and below one incident.
_ROUND_SLACK_ABS: Final = 1e-3
_ROUND_SLACK_REL: Final = 1e-6
#: Integral weights are summed exactly in float64 only below this total.
_EXACT_INT_SUM: Final = 2.0**52


@dataclass(frozen=True)
class MCLPResult:
    r"""A camera placement and how much it covers.

    Attributes
    ----------
    selected
        Indices of the chosen candidates, in *marginal-gain order*: first the site that covers
        most, then the site that adds most to it, and so on.
    marginal_gain
        Weight each site in ``selected`` adds to the ones before it ("this site adds X
        incidents"); sums to ``covered_demand``.
    covered
        Per demand point: covered by a selected site or already covered.
    covered_demand
        The objective: weight newly covered by the selected sites.
    already_covered_demand
        Weight covered by fixed cameras (``already_covered``), not in the objective.
    total_demand
        Weight of all demand points.
    upper_bound
        Proven upper bound on ``covered_demand`` for any ``p`` sites.
    optimality_gap
        :math:`(\text{upper\_bound} - \text{covered\_demand}) / \text{upper\_bound}`; 0 when
        proven optimal.
    status
        ``"optimal"``, ``"time_limit"`` (best solution when the limit was hit),
        ``"greedy"`` (from :func:`greedy_mclp`) or ``"solver_failed"`` (greedy fallback).
    greedy_covered_demand
        Objective of the greedy heuristic (a lower bound).
    solve_seconds
        Wall-clock seconds, reduction and greedy included.
    p
        The maximum number of sites asked for.
    n_demand_reduced, n_candidates_reduced
        Size of the reduced MILP (merged demand rows, non-dominated candidates).
    """

    selected: IntArray
    marginal_gain: FloatArray
    covered: BoolArray
    covered_demand: float
    already_covered_demand: float
    total_demand: float
    upper_bound: float
    optimality_gap: float
    status: Status
    greedy_covered_demand: float
    solve_seconds: float
    p: int
    n_demand_reduced: int
    n_candidates_reduced: int

    @property
    def coverage_fraction(self) -> float:
        """Share of all demand covered, fixed cameras included (0 when there is no demand)."""
        if self.total_demand <= 0:
            return 0.0
        return (self.covered_demand + self.already_covered_demand) / self.total_demand


@dataclass(frozen=True)
class CoverageCurve:
    """Covered demand as a function of the number of sites.

    Attributes
    ----------
    p
        Numbers of sites.
    covered_demand
        Newly covered weight for each ``p``.
    optimality_gap
        Proven relative gap per ``p`` (0 where optimal; greedy: against the cheap bound).
    total_demand
        Weight of all demand points.
    method
        ``"exact"`` or ``"greedy"``.
    """

    p: IntArray
    covered_demand: FloatArray
    optimality_gap: FloatArray
    total_demand: float
    method: Literal["exact", "greedy"]


@dataclass(frozen=True)
class _Reduced:
    """An MCLP instance reduced without changing its optimum (see the module docstring)."""

    matrix: sp.csr_matrix  # merged demand rows x kept candidates, binary
    weights: FloatArray  # weight per merged row
    columns: IntArray  # original index of each kept candidate


# --------------------------------------------------------------------------- validation


def _check_p(p: int) -> int:
    if isinstance(p, bool) or not isinstance(p, int | np.integer) or p < 0:
        raise InvalidParameterError(f"p must be a non-negative integer, got {p!r}")
    return int(p)


def _as_coverage(coverage: SparseLike | npt.ArrayLike) -> sp.csr_matrix:
    """Binary canonical CSR (sorted indices, no duplicates, no explicit zeros)."""
    m = sp.csr_matrix(coverage, copy=True)
    if m.ndim != 2:
        raise InvalidParameterError(f"coverage must be 2-d, got shape {m.shape}")
    m.eliminate_zeros()
    m.sum_duplicates()
    m.sort_indices()
    m.data = np.ones(m.nnz, dtype=np.float64)
    return m


def _as_weights(weights: npt.ArrayLike, n: int) -> FloatArray:
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise InvalidParameterError(f"weights must have shape ({n},), got {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any():
        raise InvalidParameterError("weights must be finite and non-negative")
    return w


def _as_mask(already_covered: npt.ArrayLike | None, n: int) -> BoolArray:
    if already_covered is None:
        return np.zeros(n, dtype=bool)
    a = np.asarray(already_covered)
    if a.shape != (n,) or a.dtype != np.bool_:
        raise InvalidParameterError(
            f"already_covered must be a boolean array of shape ({n},), got {a.dtype} {a.shape}"
        )
    return a.copy()


# --------------------------------------------------------------------------- geometry


def coverage_matrix(
    demand_xy: npt.ArrayLike, candidate_xy: npt.ArrayLike, radius_m: float
) -> sp.csr_matrix:
    r"""Binary coverage matrix :math:`a_{ij} = [\lVert d_i - c_j \rVert \le r]` via k-d trees.

    Parameters
    ----------
    demand_xy
        ``(n, 2)`` demand coordinates in a metric CRS (EPSG:28992, metres).
    candidate_xy
        ``(m, 2)`` candidate site coordinates, same CRS.
    radius_m
        Coverage radius in metres (> 0); distance exactly ``radius_m`` counts as covered.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(n, m)`` float64 matrix of ones where covered.

    Raises
    ------
    InvalidParameterError
        Wrong shapes, non-finite coordinates or a non-positive radius.

    Examples
    --------
    >>> a = coverage_matrix([[0, 0], [100, 0]], [[0, 50], [100, 80]], radius_m=75)
    >>> a.toarray()
    array([[1., 0.],
           [0., 0.]])
    """
    d = _as_xy(demand_xy, "demand_xy")
    c = _as_xy(candidate_xy, "candidate_xy")
    r = float(radius_m)
    if not np.isfinite(r) or r <= 0:
        raise InvalidParameterError(f"radius_m must be positive and finite, got {radius_m!r}")
    shape = (d.shape[0], c.shape[0])
    if 0 in shape:
        return sp.csr_matrix(shape, dtype=np.float64)
    pairs = cKDTree(d).sparse_distance_matrix(cKDTree(c), r, output_type="ndarray")
    ones = np.ones(pairs.shape[0], dtype=np.float64)
    m = sp.csr_matrix((ones, (pairs["i"], pairs["j"])), shape=shape)
    m.sort_indices()
    return m


def _as_xy(xy: npt.ArrayLike, name: str) -> FloatArray:
    a = np.asarray(xy, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 2:
        raise InvalidParameterError(f"{name} must have shape (n, 2), got {a.shape}")
    if not np.isfinite(a).all():
        raise InvalidParameterError(f"{name} holds NaN or infinite coordinates")
    return a


def grid_candidates(area: BaseGeometry | npt.ArrayLike, spacing_m: float) -> FloatArray:
    """Regular square grid of candidate sites inside a polygon (metric CRS).

    Grid points lie on multiples of ``spacing_m`` (so grids of neighbouring areas line up);
    points on the boundary count as inside.

    Parameters
    ----------
    area
        A shapely (Multi)Polygon, or an ``(k, 2)`` exterior ring, in metres (EPSG:28992).
    spacing_m
        Distance between neighbouring grid points (> 0).

    Returns
    -------
    numpy.ndarray
        ``(m, 2)`` coordinates, ordered by y then x.

    Raises
    ------
    InvalidParameterError
        Non-positive spacing, an empty or non-areal geometry, or more than
        :data:`MAX_GRID_POINTS` grid points in the bounding box.

    Examples
    --------
    >>> import shapely
    >>> grid_candidates(shapely.box(0, 0, 100, 50), 50).tolist()
    [[0.0, 0.0], [50.0, 0.0], [100.0, 0.0], [0.0, 50.0], [50.0, 50.0], [100.0, 50.0]]
    >>> len(grid_candidates([[0, 0], [100, 0], [0, 100]], 50))  # triangle: 3 + 2 + 1
    6
    """
    s = float(spacing_m)
    if not np.isfinite(s) or s <= 0:
        raise InvalidParameterError(f"spacing_m must be positive and finite, got {spacing_m!r}")
    geom = area if isinstance(area, BaseGeometry) else shapely.Polygon(_as_xy(area, "area"))
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon") or geom.area <= 0:
        raise InvalidParameterError(f"area must be a non-empty polygon, got {geom.geom_type}")
    minx, miny, maxx, maxy = geom.bounds
    xs = np.arange(np.ceil(minx / s), np.floor(maxx / s) + 1) * s
    ys = np.arange(np.ceil(miny / s), np.floor(maxy / s) + 1) * s
    if xs.size * ys.size > MAX_GRID_POINTS:
        raise InvalidParameterError(
            f"a {spacing_m!r} m grid has {xs.size * ys.size:,} points in the bounding box "
            f"(limit {MAX_GRID_POINTS:,}); use a coarser spacing"
        )
    mx, my = np.meshgrid(xs, ys)
    gx, gy = mx.ravel(), my.ravel()
    shapely.prepare(geom)
    inside = shapely.intersects_xy(geom, gx, gy)
    return np.column_stack([gx[inside], gy[inside]])


# --------------------------------------------------------------------------- greedy


def _greedy(
    csr: sp.csr_matrix,
    csc: sp.csc_matrix,
    w: FloatArray,
    p: int,
    already: BoolArray,
    allowed: IntArray | None = None,
) -> tuple[IntArray, FloatArray]:
    """Greedy sites and their marginal gains; one sparse update per step, none per point."""
    remaining = np.where(already, 0.0, w)
    gain = csr.T @ remaining
    if allowed is not None:
        mask = np.full(gain.size, -np.inf)
        mask[allowed] = 0.0
        gain = gain + mask
    chosen: list[int] = []
    gains: list[float] = []
    for _ in range(p):  # p is the number of cameras: a handful of sparse updates
        j = int(np.argmax(gain)) if gain.size else -1
        if j < 0 or not gain[j] > 0:
            break
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        new = rows[remaining[rows] > 0]
        gains.append(float(remaining[new].sum()))
        chosen.append(j)
        gain -= csr[new].T @ remaining[new]
        remaining[new] = 0.0
        gain[j] = -np.inf
    return np.asarray(chosen, dtype=np.int64), np.asarray(gains, dtype=np.float64)


def _top_p_bound(csr: sp.csr_matrix, w: FloatArray, already: BoolArray, p: int) -> float:
    """Cheap valid upper bound: min(all coverable weight, sum of the p largest column weights)."""
    remaining = np.where(already, 0.0, w)
    col = csr.T @ remaining
    coverable = float(remaining[np.diff(csr.indptr) > 0].sum())
    top = float(np.sort(col)[::-1][:p].sum()) if p else 0.0
    return min(coverable, top)


def _swap_search(
    csr: sp.csr_matrix,
    csc: sp.csc_matrix,
    w: FloatArray,
    already: BoolArray,
    sites: IntArray,
    max_swaps: int = 200,
) -> IntArray:
    """Best-improvement 1-swap local search (Teitz & Bart 1968) from ``sites``.

    Swapping site :math:`s` out and :math:`j` in changes coverage by
    :math:`g_j - l_s + u_{sj}`: :math:`g_j` the uncovered weight :math:`j` covers, :math:`l_s`
    the weight only :math:`s` covers, :math:`u_{sj}` the part of that which :math:`j` covers
    too. All ``len(sites) x m`` swaps are scored at once with sparse products.
    """
    chosen = sites.copy()
    if chosen.size == 0:
        return chosen
    remaining = np.where(already, 0.0, w)
    for _ in range(max_swaps):  # each pass scores every swap at once; a few passes suffice
        count = np.asarray(csc[:, chosen].sum(axis=1)).ravel()
        gain = csr.T @ (remaining * (count == 0))
        unique = remaining * (count == 1)
        a_s = csc[:, chosen]
        loss = a_s.T @ unique
        shared = (a_s.T.multiply(unique[None, :]).tocsr() @ csr).toarray()
        delta = gain[None, :] - loss[:, None] + shared
        delta[:, chosen] = -np.inf
        s_out, j_in = np.unravel_index(int(np.argmax(delta)), delta.shape)
        if not delta[s_out, j_in] > 1e-9 * (1.0 + float(remaining.sum())):
            break
        chosen[s_out] = j_in
    return chosen


def _iterated_swap_search(
    red: _Reduced, p: int, start: IntArray, time_limit_s: float, seed: int = 0
) -> IntArray:
    """Improve ``start`` by iterated 1-swap search on the reduced instance (original indices).

    A 1-swap local optimum (:func:`_swap_search`) on a broad hotspot is usually a few
    percent below the optimum: moving one camera cannot open room for another. Each *kick*
    removes 2 to ``_ILS_MAX_KICK`` random sites, refills greedily without them (else greedy
    puts the same sites back) and descends by 1-swaps again; the result replaces the current
    solution when it covers at least as much (sideways moves walk plateaus of equal
    coverage). Lourenço, Martin & Stützle (2003) describe the scheme. The random generator
    is seeded, so for the same instance and enough time the result is deterministic; the
    value of any set of kept sites on the reduced instance equals its value on the original
    one (the reduction drops only rows no site can add and dominated sites).
    """
    a = red.matrix
    a_csc = a.tocsc()
    w = red.weights
    m = a.shape[1]
    pos = np.full(int(red.columns.max(initial=-1)) + 1, -1, dtype=np.int64)
    pos[red.columns] = np.arange(m)
    inside = start[(start < pos.size)]
    current = pos[inside][pos[inside] >= 0]
    none = np.zeros(a.shape[0], dtype=bool)

    def refill(kept: IntArray, tabu: IntArray) -> IntArray:
        covered = np.asarray(a_csc[:, kept].sum(axis=1)).ravel() > 0
        allowed = np.setdiff1d(np.arange(m), np.concatenate([kept, tabu]))
        extra, _ = _greedy(a, a_csc, w, p - kept.size, covered, allowed=allowed)
        return np.concatenate([kept, extra])

    def value(sites: IntArray) -> float:
        return float(w[np.asarray(a_csc[:, sites].sum(axis=1)).ravel() > 0].sum())

    current = _swap_search(a, a_csc, w, none, refill(current, current[:0]))
    best = value(current)
    rng = np.random.default_rng(seed)
    deadline = time.perf_counter() + time_limit_s
    stale = 0
    for _ in range(_ILS_KICKS):  # bounded: kicks, patience and a share of the time limit
        if stale >= _ILS_PATIENCE or time.perf_counter() > deadline or current.size < 2:
            break
        q = int(rng.integers(2, min(_ILS_MAX_KICK, current.size) + 1))
        drop = rng.choice(current.size, q, replace=False)
        trial = refill(np.delete(current, drop), current[drop])
        trial = _swap_search(a, a_csc, w, none, trial)
        v = value(trial)
        stale = 0 if v > best else stale + 1
        if v >= best:
            current, best = trial, v
    return red.columns[current]


def greedy_mclp(
    coverage: SparseLike | npt.ArrayLike,
    weights: npt.ArrayLike,
    p: int,
    *,
    already_covered: npt.ArrayLike | None = None,
) -> MCLPResult:
    r"""Greedy MCLP: repeatedly add the site that covers most not-yet-covered weight.

    Covered weight is a monotone submodular function of the site set, so greedy achieves at
    least :math:`1 - (1 - 1/p)^p \ge 1 - 1/e \approx 63\%` of the optimum (Nemhauser et al.
    1978); on clustered incident data it is usually within a few percent. Gains are updated
    incrementally: choosing site :math:`j` subtracts :math:`A_{N,\cdot}^T w_N` for the newly
    covered rows :math:`N` from every candidate's gain. Ties go to the lowest index. It stops
    early when no site adds anything.

    Parameters
    ----------
    coverage
        ``(n, m)`` binary coverage matrix (sparse or dense), e.g. from :func:`coverage_matrix`.
    weights
        ``(n,)`` non-negative demand weights.
    p
        Maximum number of sites.
    already_covered
        Optional ``(n,)`` boolean mask of demand covered by existing cameras.

    Returns
    -------
    MCLPResult
        With ``status="greedy"``; ``upper_bound`` is the cheap bound (all coverable weight, or
        the ``p`` largest single-site weights), so the gap is valid but loose.

    Raises
    ------
    InvalidParameterError
        Wrong shapes, negative or non-finite weights, negative ``p``.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 1]])
    >>> r = greedy_mclp(a, [5, 1, 1, 4], p=2)
    >>> r.selected.tolist(), r.marginal_gain.tolist(), r.covered_demand
    ([0, 2], [6.0, 5.0], 11.0)
    """
    t0 = time.perf_counter()
    csr = _as_coverage(coverage)
    n, _ = csr.shape
    w = _as_weights(weights, n)
    pp = _check_p(p)
    already = _as_mask(already_covered, n)
    sel, gains = _greedy(csr, csr.tocsc(), w, pp, already)
    obj = float(gains.sum())
    bound = max(_top_p_bound(csr, w, already, pp), obj)
    return _result(
        csr, w, already, sel, gains, bound, "greedy", obj, t0, pp, n, csr.shape[1], proven=False
    )


# --------------------------------------------------------------------------- reduction


def _row_keys(m: sp.csr_matrix) -> IntArray:
    """Group id per row such that rows with identical column sets share an id (exact)."""
    n = m.shape[0]
    nnz = np.diff(m.indptr)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # Two independent 64-bit random sums per row as a hash (fixed keys: deterministic) ...
    keys = (
        np.random.default_rng(0x4D434C50)
        .integers(0, np.iinfo(np.int64).max, size=(2, m.shape[1]), dtype=np.int64)
        .astype(np.uint64)
    )
    starts = m.indptr[:-1]
    h = np.stack([np.add.reduceat(k[m.indices], starts) for k in keys], axis=1)  # no empty rows
    table = np.column_stack([nnz.astype(np.uint64), h])
    _, first, inverse = np.unique(table, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    # ... then verify element by element, so a hash collision can never merge distinct rows.
    rep = first[inverse]
    row_of = np.repeat(np.arange(n), nnz)
    offset = np.arange(m.nnz) - np.repeat(starts, nnz)
    same = m.indices == m.indices[m.indptr[rep[row_of]] + offset]
    bad = np.unique(row_of[~same])
    group = inverse.astype(np.int64)
    group[bad] = group.max() + 1 + np.arange(bad.size)
    return group


def _dominated(m: sp.csr_matrix) -> BoolArray:
    """Columns whose covered set is contained in another column's (ties: lowest index kept)."""
    ncol = m.shape[1]
    nnz_row = np.diff(m.indptr)
    if float((nnz_row.astype(np.float64) ** 2).sum()) > _DOMINANCE_BUDGET:
        return np.zeros(ncol, dtype=bool)
    g = (m.T @ m).tocoo()  # g[j, k] = |rows(j) & rows(k)|
    size = np.asarray(m.sum(axis=0)).ravel()
    j, k, inter = g.row, g.col, g.data
    dom = (j != k) & (inter == size[j]) & ((size[k] > size[j]) | ((size[k] == size[j]) & (k < j)))
    out = np.zeros(ncol, dtype=bool)
    out[j[dom]] = True
    return out


def _reduce(csr: sp.csr_matrix, w: FloatArray, already: BoolArray) -> _Reduced:
    keep = (w > 0) & ~already & (np.diff(csr.indptr) > 0)
    m = csr[keep]
    rw = w[keep]
    cols = np.arange(csr.shape[1], dtype=np.int64)
    for _ in range(10):  # each pass only shrinks; 2-3 passes reach the fixed point
        shape_before = m.shape
        used = np.diff(m.tocsc().indptr) > 0
        m, cols = m[:, used], cols[used]
        keep_cols = ~_dominated(m)
        m, cols = m[:, keep_cols], cols[keep_cols]
        m.sort_indices()
        group = _row_keys(m)
        _, first, inverse = np.unique(group, return_index=True, return_inverse=True)
        rw = np.bincount(inverse.ravel(), weights=rw)
        m = m[first]
        if m.shape == shape_before:
            break
    m.sort_indices()
    return _Reduced(matrix=m, weights=rw, columns=cols)


# --------------------------------------------------------------------------- exact


@dataclass(frozen=True)
class _Model:
    """The reduced MCLP as matrices: singleton rows folded into the site coefficients."""

    site_weight: FloatArray  # weight of rows covered by that site alone
    multi: sp.csr_matrix  # rows covered by two or more sites
    multi_weight: FloatArray

    @classmethod
    def of(cls, red: _Reduced) -> _Model:
        m = red.matrix
        single = np.diff(m.indptr) == 1
        # A row covered by one site j only: y_i = x_j at the optimum, so w_i moves onto x_j.
        site_weight = np.bincount(
            m.indices[m.indptr[:-1][single]], weights=red.weights[single], minlength=m.shape[1]
        ).astype(np.float64)
        return cls(site_weight, m[~single], red.weights[~single])

    def arrays(self, p: int) -> tuple[FloatArray, sp.csr_matrix, FloatArray]:
        """Minimisation form: cost, A_ub with rows y_i - sum_j a_ij x_j <= 0, sum x <= p."""
        k, m_r = self.multi.shape
        c = -np.concatenate([self.site_weight, self.multi_weight])
        a = sp.vstack(
            [
                sp.hstack([-self.multi, sp.identity(k, format="csr")]),
                sp.hstack([sp.csr_matrix(np.ones((1, m_r))), sp.csr_matrix((1, k))]),
            ],
            format="csr",
        )
        return c, a, np.concatenate([np.zeros(k), [float(p)]])


def _solve_milp(
    red: _Reduced, p: int, time_limit_s: float
) -> tuple[IntArray | None, float, Status]:
    """Solve the reduced MILP; return (chosen original columns or None, dual bound, status)."""
    m_r = red.matrix.shape[1]
    if m_r <= p:
        return red.columns.copy(), float(red.weights.sum()), "optimal"
    model = _Model.of(red)
    c, a, ub = model.arrays(p)
    res = milp(
        c,
        integrality=np.concatenate([np.ones(m_r), np.zeros(a.shape[1] - m_r)]),
        bounds=Bounds(0.0, 1.0),
        constraints=LinearConstraint(a, -np.inf, ub),
        options={"time_limit": max(time_limit_s, 1e-3), "mip_rel_gap": 0.0, "presolve": True},
    )
    bound_raw = getattr(res, "mip_dual_bound", None)
    bound = -float(bound_raw) if bound_raw is not None and np.isfinite(bound_raw) else np.inf
    # scipy: 0 optimal, 1 time/iteration/node limit, 2-4 infeasible/unbounded/other.
    codes: dict[int, Status] = {0: "optimal", 1: "time_limit"}
    status = codes.get(res.status, "solver_failed")
    if res.x is None:
        return None, bound, "solver_failed" if status == "optimal" else status
    chosen = red.columns[np.flatnonzero(res.x[:m_r] > 0.5)]
    return chosen.astype(np.int64), bound, status


def _lp_duals(red: _Reduced, p: int, time_limit_s: float) -> tuple[FloatArray, FloatArray] | None:
    """LP relaxation of the reduced model: (x_j, multipliers pi_i of the multi rows)."""
    model = _Model.of(red)
    c, a, ub = model.arrays(p)
    res = linprog(
        c, A_ub=a, b_ub=ub, bounds=(0.0, 1.0), method="highs",
        options={"time_limit": max(time_limit_s, 1e-3)},
    )  # fmt: skip
    if res.status != 0:
        return None
    k = model.multi.shape[0]
    pi = np.clip(-res.ineqlin.marginals[:k], 0.0, model.multi_weight)
    return res.x[: red.matrix.shape[1]], pi


def _lagrangian(red: _Reduced, p: int, pi: FloatArray) -> tuple[float, FloatArray]:
    r"""Lagrangian bounds from multipliers :math:`\pi \ge 0` (valid for ANY such pi).

    Relaxing :math:`y_i \le \sum_j a_{ij} x_j` gives
    :math:`L(\pi) = \sum_i (w_i - \pi_i)^+ + \text{top}_p(v)` with
    :math:`v_j = s_j + \sum_i \pi_i a_{ij}` (:math:`s_j` the folded singleton weight): an upper
    bound on the optimum. Forcing site :math:`j` in gives
    :math:`B_j = \sum_i (w_i - \pi_i)^+ + v_j + \text{top}_{p-1}(v_{-j})`, a bound on every
    solution containing :math:`j`; a site with :math:`B_j` below a known solution's value is
    in no optimal solution (reduced-cost fixing, computed here rather than taken from the
    solver, so solver tolerances cannot make it invalid).
    """
    model = _Model.of(red)
    v = model.site_weight + model.multi.T @ pi
    base = float(np.maximum(model.multi_weight - pi, 0.0).sum())
    order = np.argsort(-v, kind="stable")
    top = np.concatenate([[0.0], np.cumsum(v[order])])
    t_p, t_p1 = top[min(p, v.size)], top[min(p - 1, v.size)]
    rank = np.empty(v.size, dtype=np.int64)
    rank[order] = np.arange(v.size)
    b_j = np.where(rank < p - 1, base + t_p, base + v + t_p1)
    return base + t_p, b_j


def _integral_bound(bound: float, weights: FloatArray) -> float:
    r"""Round a valid upper bound down when every solution value is an integer.

    With integral weights (incident counts) every objective value
    :math:`\sum_i w_i y_i` is an integer, so a valid bound :math:`b` proves the stronger
    bound :math:`\lfloor b + \varepsilon \rfloor` (objective integrality, Achterberg
    2007). :math:`\varepsilon` (``_ROUND_SLACK_ABS + _ROUND_SLACK_REL * sum(w)``)
    absorbs the solver's tolerances: a bound reported as 5,257.9996 for a true 5,258 must
    stay 5,258. Non-integral weights, infinite bounds or totals too large for exact float
    sums return ``bound`` unchanged.

    Parameters
    ----------
    bound
        A valid upper bound on the objective.
    weights
        Weights of the reduced demand rows (the objective sums a subset of them).

    Returns
    -------
    float
        :math:`\lfloor b + \varepsilon \rfloor` for integral weights, else ``bound``.

    References
    ----------
    Achterberg, T. (2007). Constraint Integer Programming. PhD thesis, TU Berlin.

    Examples
    --------
    >>> _integral_bound(5257.9996, np.array([3.0, 5255.0]))
    5258.0
    >>> _integral_bound(5257.6, np.array([3.0, 5255.0]))
    5257.0
    >>> _integral_bound(5257.6, np.array([3.5, 5255.0]))
    5257.6
    """
    total = float(weights.sum())
    if (
        not np.isfinite(bound)
        or total >= _EXACT_INT_SUM
        or not bool(np.all(weights == np.round(weights)))
    ):
        return bound
    return float(np.floor(bound + _ROUND_SLACK_ABS + _ROUND_SLACK_REL * total))


def _restrict(red: _Reduced, keep: BoolArray) -> _Reduced:
    """Restrict the reduced instance to the ``keep`` sites and reduce it again."""
    sub = red.matrix[:, keep]
    r2 = _reduce(sub, red.weights, np.zeros(sub.shape[0], dtype=bool))
    return _Reduced(r2.matrix, r2.weights, red.columns[keep][r2.columns])


def _result(
    csr: sp.csr_matrix,
    w: FloatArray,
    already: BoolArray,
    sel: IntArray,
    gains: FloatArray,
    bound: float,
    status: Status,
    greedy_obj: float,
    t0: float,
    p: int,
    n_red: int,
    m_red: int,
    *,
    proven: bool,
) -> MCLPResult:
    covered = already | (np.asarray(csr[:, sel].sum(axis=1)).ravel() > 0)
    obj = float(gains.sum())
    gap = 0.0 if proven or bound <= obj else (bound - obj) / bound
    return MCLPResult(
        selected=sel,
        marginal_gain=gains,
        covered=covered,
        covered_demand=obj,
        already_covered_demand=float(w[already].sum()),
        total_demand=float(w.sum()),
        upper_bound=obj if proven else float(bound),
        optimality_gap=float(gap),
        status=status,
        greedy_covered_demand=greedy_obj,
        solve_seconds=time.perf_counter() - t0,
        p=p,
        n_demand_reduced=n_red,
        n_candidates_reduced=m_red,
    )


def mclp_from_matrix(
    coverage: SparseLike | npt.ArrayLike,
    weights: npt.ArrayLike,
    p: int,
    *,
    time_limit_s: float = 60.0,
    already_covered: npt.ArrayLike | None = None,
    warm_start: npt.ArrayLike | None = None,
) -> MCLPResult:
    r"""Solve the MCLP exactly (HiGHS branch and bound on the reduced sparse MILP).

    Parameters
    ----------
    coverage
        ``(n, m)`` binary coverage matrix (sparse or dense), e.g. from :func:`coverage_matrix`.
    weights
        ``(n,)`` non-negative demand weights (incidents per point or cell).
    p
        Maximum number of new sites (``<= p``; the optimum equals that of ``= p`` when there
        are at least ``p`` candidates).
    time_limit_s
        Wall-clock limit for the LP and MILP stages together; on hitting it the best solution
        found (the solver's, greedy's or ``warm_start``) is returned with
        ``status="time_limit"`` and its proven gap.
    already_covered
        Optional ``(n,)`` boolean mask of demand covered by existing (fixed) cameras: counted
        as covered, left out of the objective.
    warm_start
        Optional indices of at most ``p`` candidates forming a known solution (e.g. last
        year's plan, or the optimum for ``p - 1``). Greedy's solution is always used; the
        better of the two is the incumbent that fixes sites out and the fallback result.

    Returns
    -------
    MCLPResult
        Sites in marginal-gain order, gains, coverage, bound, gap and timings.

    Raises
    ------
    InvalidParameterError
        Wrong shapes, negative or non-finite weights, negative ``p``, a non-positive time
        limit or a non-boolean mask.

    Notes
    -----
    See the module docstring for the formulation and the optimum-preserving reduction. Then:

    0. greedy, 1-swap descent and iterated local search (at most 10 % of the time limit) give
       the first incumbent; the better it is, the more sites step 3 fixes out (Den Haag seed
       0 of ``benchmarks/targeting.py``: 5,141 covered fixes none of 8,972 sites, 5,234 leaves
       1,523);
    1. the LP relaxation of the reduced model (HiGHS) gives multipliers :math:`\pi`, and from
       them the Lagrangian bound :math:`L(\pi)` and, per site, the bound :math:`B_j` on any
       solution containing it (valid for every :math:`\pi \ge 0`, computed here);
    2. a *kernel* MILP over the LP's support plus the ``max(100, 10 p)`` sites with the largest
       :math:`B_j` gives a strong incumbent :math:`z`;
    3. sites with :math:`B_j < z` are in no optimal solution and are fixed out; if the kernel
       already holds every remaining site its optimum is proven global, otherwise the MILP
       over the remaining sites is solved.

    Clustered incident data split into many independent clusters whose sites never share
    demand; the kernel holds the few that matter, which is what makes typical city-size
    instances (20,000 incidents, 48,000 candidate sites) solve in seconds. The hard case is
    one broad hotspot (hundreds of metres across) that takes most cameras: placing them is a
    packing problem with many near-equal solutions and an LP bound a few percent loose, and
    proving optimality can take minutes; the time limit then returns the best placement found
    with its proven gap. The solver runs with
    ``mip_rel_gap = 0`` (HiGHS' absolute gap tolerance is 1e-6, below one incident for integer
    weights), so ``"optimal"`` is optimal, not "within 0.01 %". The objective reported is
    recomputed from ``coverage``, not taken from the solver. With integral weights the bounds
    are rounded down to whole numbers first (module docstring), so a bound less than one
    incident above the best solution proves it optimal.

    Examples
    --------
    Site 0 covers most (4.0), so greedy takes it first and ends at 5.5; the optimum pairs the
    two other sites:

    >>> a = [[1, 1, 0], [1, 0, 1], [0, 1, 0], [0, 0, 1]]
    >>> w = [2, 2, 1.5, 1.5]
    >>> r = mclp_from_matrix(a, w, p=2)
    >>> r.selected.tolist(), r.marginal_gain.tolist(), r.covered_demand, r.status
    ([1, 2], [3.5, 3.5], 7.0, 'optimal')
    >>> r.greedy_covered_demand, r.optimality_gap
    (5.5, 0.0)
    """
    t0 = time.perf_counter()
    csr = _as_coverage(coverage)
    n, _ = csr.shape
    w = _as_weights(weights, n)
    pp = _check_p(p)
    already = _as_mask(already_covered, n)
    tl = float(time_limit_s)
    if not tl > 0:
        raise InvalidParameterError(f"time_limit_s must be positive, got {time_limit_s!r}")
    warm = None if warm_start is None else _as_sites(warm_start, csr.shape[1], pp)
    return _solve(csr, w, already, pp, tl, t0, _reduce(csr, w, already), warm)


def _as_sites(sites: npt.ArrayLike, m: int, p: int) -> IntArray:
    s = np.asarray(sites)
    if s.size == 0:
        return np.zeros(0, dtype=np.int64)
    if (
        s.ndim != 1
        or not np.issubdtype(s.dtype, np.integer)
        or s.size > p
        or np.unique(s).size != s.size
        or s.min() < 0
        or s.max() >= m
    ):
        raise InvalidParameterError(
            f"warm_start must hold at most p={p} distinct candidate indices in [0, {m}), "
            f"got {sites!r}"
        )
    return s.astype(np.int64)


def _solve(
    csr: sp.csr_matrix,
    w: FloatArray,
    already: BoolArray,
    p: int,
    time_limit_s: float,
    t0: float,
    red: _Reduced,
    warm_start: IntArray | None = None,
) -> MCLPResult:
    """Greedy, LP + Lagrangian bounds, kernel MILP, fixing, final MILP (module docstring)."""
    csc = csr.tocsc()
    deadline = time.perf_counter() + time_limit_s
    g_sel, g_gain = _greedy(csr, csc, w, p, already)
    greedy_obj = float(g_gain.sum())
    n_red, m_red = red.matrix.shape
    incumbents: list[IntArray] = [g_sel] if warm_start is None else [g_sel, warm_start]
    if m_red > p > 0:
        # Greedy is often one swap away from better: polish it before bounding with it.
        incumbents.append(_swap_search(csr, csc, w, already, g_sel))
        # ... and a 1-swap optimum is often not the best: kick it and descend again.
        incumbents.append(
            _iterated_swap_search(red, p, incumbents[-1], _ILS_TIME_SHARE * time_limit_s)
        )

    def value(sites: IntArray) -> float:
        return float(_greedy(csr, csc, w, p, already, allowed=sites)[1].sum())

    def finish(bound: float, status: Status) -> MCLPResult:
        # The best set found: the solver's unless greedy / the warm start is better (the
        # solver stopped early, or is optimal only within its 1e-6 absolute tolerance).
        best = max(incumbents, key=value)
        sel, gains = _greedy(csr, csc, w, p, already, allowed=best)
        bound = _integral_bound(min(bound, _top_p_bound(csr, w, already, p)), red.weights)
        if status != "optimal" and bound <= float(gains.sum()):
            status = "optimal"  # the (rounded) bound proves the best solution optimal
        return _result(
            csr, w, already, sel, gains, bound, status, greedy_obj, t0, p, n_red, m_red,
            proven=status == "optimal",
        )  # fmt: skip

    if m_red <= p or p == 0:
        # Every remaining candidate fits (or none may be placed).
        incumbents.append(red.columns if p else np.zeros(0, np.int64))
        return finish(np.inf, "optimal")
    lp = _lp_duals(red, p, deadline - time.perf_counter())
    if lp is None:
        chosen, bound, status = _solve_milp(red, p, deadline - time.perf_counter())
        incumbents += [] if chosen is None else [chosen]
        return finish(bound, status)
    x_lp, pi = lp
    upper, b_j = _lagrangian(red, p, pi)
    tol = 1e-9 * (float(red.weights.sum()) + 1.0)
    best = max(value(s) for s in incumbents)
    if _integral_bound(upper, red.weights) <= best + tol:
        return finish(upper, "optimal")  # the Lagrangian bound proves the incumbent optimal
    # Kernel: the sites the LP uses plus the most promising by B_j. Its optimum is a strong
    # incumbent; with it, every site whose B_j falls below it is fixed out.
    kernel = x_lp > 1e-6
    kernel[np.argsort(-b_j, kind="stable")[: max(_KERNEL_MIN, _KERNEL_PER_SITE * p)]] = True
    # At most half the remaining time: the fixed-out instance must get a chance too.
    k_chosen, _, k_status = _solve_milp(
        _restrict(red, kernel), p, _KERNEL_TIME_SHARE * (deadline - time.perf_counter())
    )
    if k_chosen is not None:
        incumbents.append(k_chosen)
        best = max(best, value(k_chosen))
    keep = b_j >= best - tol
    if k_status == "optimal" and not (keep & ~kernel).any():
        # Every optimal solution lies inside the kernel, so the kernel's optimum is global.
        return finish(best, "optimal")
    chosen, bound, status = _solve_milp(_restrict(red, keep), p, deadline - time.perf_counter())
    incumbents += [] if chosen is None else [chosen]
    # A solution using a fixed-out site is worth at most max B_j over those (< best).
    bound = max(bound, float(b_j[~keep].max(initial=-np.inf)))
    return finish(min(bound, upper), status)


def coverage_curve(
    coverage: SparseLike | npt.ArrayLike,
    weights: npt.ArrayLike,
    p_values: npt.ArrayLike,
    *,
    method: Literal["exact", "greedy"] = "exact",
    already_covered: npt.ArrayLike | None = None,
    time_limit_s: float = 60.0,
) -> CoverageCurve:
    """Covered demand for several numbers of sites, for a "coverage curve" plot.

    Parameters
    ----------
    coverage, weights, already_covered
        As in :func:`mclp_from_matrix`.
    p_values
        Numbers of sites (non-negative integers), e.g. ``range(1, 31)``.
    method
        ``"exact"`` solves the MCLP for every ``p`` (the instance is reduced once; optimal
        values are non-decreasing in ``p``); ``"greedy"`` runs greedy once up to ``max(p)``
        and reads off its prefix sums (nested solutions: the sites for ``p`` are the first
        ``p`` of the sites for ``p + 1``) — fast, a lower bound.
    time_limit_s
        Per-``p`` solver limit (``"exact"``).

    Returns
    -------
    CoverageCurve

    Raises
    ------
    InvalidParameterError
        Invalid inputs, or an unknown ``method``.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 1]])
    >>> c = coverage_curve(a, [5, 1, 1, 4], [0, 1, 2, 3])
    >>> c.covered_demand.tolist(), c.total_demand
    ([0.0, 6.0, 11.0, 11.0], 11.0)
    """
    csr = _as_coverage(coverage)
    n, _ = csr.shape
    w = _as_weights(weights, n)
    already = _as_mask(already_covered, n)
    ps = np.asarray(p_values)
    if ps.ndim != 1 or ps.size == 0 or not np.issubdtype(ps.dtype, np.integer) or (ps < 0).any():
        raise InvalidParameterError(
            f"p_values must be a non-empty 1-d sequence of integers >= 0, got {p_values!r}"
        )
    ps = ps.astype(np.int64)
    if method == "greedy":
        _, gains = _greedy(csr, csr.tocsc(), w, int(ps.max()), already)
        cum = np.concatenate([[0.0], np.cumsum(gains)])
        covered = cum[np.minimum(ps, gains.size)]
        bounds = np.array([max(_top_p_bound(csr, w, already, int(q)), 0.0) for q in ps])
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = np.where(bounds > covered, (bounds - covered) / bounds, 0.0)
        return CoverageCurve(ps, covered, gap, float(w.sum()), "greedy")
    if method != "exact":
        raise InvalidParameterError(f"method must be 'exact' or 'greedy', got {method!r}")
    red = _reduce(csr, w, already)
    # One solve per requested p (a plot needs tens); the best solution for the largest
    # smaller p is a feasible warm start.
    results: list[MCLPResult] = []
    for q in ps:
        prev = [r for r in results if r.p <= q]
        warm = max(prev, key=lambda r: r.covered_demand).selected if prev else None
        results.append(
            _solve(csr, w, already, int(q), time_limit_s, time.perf_counter(), red, warm)
        )
    return CoverageCurve(
        ps,
        np.array([r.covered_demand for r in results]),
        np.array([r.optimality_gap for r in results]),
        float(w.sum()),
        "exact",
    )
