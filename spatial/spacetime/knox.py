r"""Knox test for space-time interaction (near repeat), by distance and time bands.

For incidents :math:`i = 1..n` at :math:`(x_i, y_i)` (metres, a metric CRS such as EPSG:28992)
and times :math:`t_i` (days), each unordered pair :math:`i < j` with distance
:math:`d_{ij} = \lVert (x_i, y_i) - (x_j, y_j) \rVert` and time gap
:math:`\Delta_{ij} = |t_i - t_j|` is counted in cell :math:`(a, b)` of the Knox table when
:math:`d_{ij} \in [D_a, D_{a+1})` and :math:`\Delta_{ij} \in [T_b, T_{b+1})` (half-open bands;
pairs outside every band are not counted):

.. math::

    O_{ab} = \#\{i < j : d_{ij} \in [D_a, D_{a+1}),\ \Delta_{ij} \in [T_b, T_{b+1})\}.

Under the null of no space-time interaction the times are exchangeable over the fixed
locations. The Monte-Carlo reference (Johnson et al. 2007, the Near Repeat Calculator) permutes
the times ``permutations`` times and recounts; ``expected`` is the mean of those counts, the
ratio is :math:`O_{ab}/E_{ab}` (Knox ratio; NaN where :math:`E_{ab} = 0`) and the one-sided
p-value is :math:`(1 + \#\{\text{sims} \ge O_{ab}\}) / (1 + \text{permutations})`.

Under that permutation null every spatial pair receives a uniformly random unordered pair of
times, so the exact expectation is Knox's (1964)

.. math::

    E^{*}_{ab} = N^{S}_{a} \, N^{T}_{b} / \binom{n}{2}

with :math:`N^S_a` the pairs in distance band :math:`a` and :math:`N^T_b` the pairs (over all
:math:`\binom{n}{2}`) in time band :math:`b`; it is reported as ``expected_analytic``
(computed from sorted times in :math:`O(n \log n)`).

Only pairs closer than the largest distance edge are ever formed (``scipy.spatial.cKDTree``);
a permutation re-derives just the time gaps of that fixed pair list and bins them with one
``bincount``.

References
----------
.. [1] Knox, E. G. (1964). The detection of space-time interactions. Journal of the Royal
       Statistical Society C (Applied Statistics) 13(1), 25-30.
.. [2] Johnson, S. D., Bernasco, W., Bowers, K. J., Elffers, H., Ratcliffe, J., Rengert, G.
       and Townsley, M. (2007). Space-time patterns of risk: a cross national assessment of
       residential burglary victimization. Journal of Quantitative Criminology 23, 201-219.
.. [3] Ratcliffe, J. H. (2009). Near Repeat Calculator (version 1.3). Temple University,
       Philadelphia, and the National Institute of Justice (Knox table, Monte-Carlo p).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from spatial.errors import InvalidParameterError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Integer time spans up to this many days use a gap -> band lookup table (16 MB at most).
_MAX_LUT_SPAN_DAYS = 1_000_000


@dataclass(frozen=True)
class KnoxResult:
    """Knox table by distance band (rows) and time band (columns).

    Attributes
    ----------
    distance_edges_m
        Distance band edges in metres; band ``a`` is ``[edges[a], edges[a+1])``.
    time_edges_days
        Time band edges in days; band ``b`` is ``[edges[b], edges[b+1])``.
    observed
        Pair counts, shape ``(n_distance_bands, n_time_bands)``.
    expected
        Mean count over the permutations (NaN when ``permutations == 0``).
    expected_analytic
        Exact expectation under the permutation null (Knox 1964), see the module notes.
    ratio
        ``observed / expected`` (Knox ratio); NaN where ``expected`` is 0 or NaN.
    p_value
        One-sided Monte-Carlo p-value ``(1 + #sims >= observed) / (1 + permutations)``
        (NaN when ``permutations == 0``).
    n
        Number of incidents.
    pairs_considered
        Pairs with a distance in ``[edges[0], edges[-1])`` (the fixed spatial pair list).
    permutations
        Number of permutations of the times.
    seed
        Seed of the generator that drew the permutations (re-run with ``rng=seed`` to
        reproduce).
    """

    distance_edges_m: FloatArray
    time_edges_days: FloatArray
    observed: IntArray
    expected: FloatArray
    expected_analytic: FloatArray
    ratio: FloatArray
    p_value: FloatArray
    n: int
    pairs_considered: int
    permutations: int
    seed: int


def _edges(name: str, edges: npt.ArrayLike, *, allow_inf: bool) -> FloatArray:
    e = np.asarray(edges, dtype=np.float64)
    if e.ndim != 1 or e.size < 2:
        raise InvalidParameterError(f"{name} needs at least 2 edges, got {edges!r}")
    finite_part = e[:-1] if allow_inf else e
    if np.isnan(e).any() or not np.isfinite(finite_part).all() or e[0] < 0:
        raise InvalidParameterError(f"{name} must be finite and >= 0, got {edges!r}")
    if not (np.diff(e) > 0).all():
        raise InvalidParameterError(f"{name} must be strictly increasing, got {edges!r}")
    return e


def _seed(rng: np.random.Generator | int | None) -> int:
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, 2**63 - 1))
    if rng is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
    if isinstance(rng, bool) or not isinstance(rng, int | np.integer) or rng < 0:
        raise InvalidParameterError(f"rng must be a Generator, a seed >= 0 or None, got {rng!r}")
    return int(rng)


def spatial_pairs(
    x: FloatArray, y: FloatArray, distance_edges_m: FloatArray
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], IntArray]:
    """Pairs ``i < j`` within the distance bands, with their band index (KD-tree).

    Returns
    -------
    i, j, band
        Pair indexes (sorted by ``i``, then ``j``) and distance band of every pair with
        ``edges[0] <= d < edges[-1]``.
    """
    pts = np.column_stack([x, y])
    tree = cKDTree(pts)
    pairs = tree.query_pairs(r=float(distance_edges_m[-1]), output_type="ndarray")
    if pairs.size == 0:
        empty = np.empty(0, dtype=np.int32)
        return empty, empty, np.empty(0, dtype=np.int64)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    i = pairs[:, 0].astype(np.int32)
    j = pairs[:, 1].astype(np.int32)
    d = np.hypot(x[i] - x[j], y[i] - y[j])
    band = np.searchsorted(distance_edges_m, d, side="right") - 1
    # query_pairs includes d == r; the bands are half-open.
    keep = (band >= 0) & (band < distance_edges_m.size - 1)
    return i[keep], j[keep], band[keep].astype(np.int64)


def _time_pairs_per_band(t: FloatArray, time_edges: FloatArray) -> FloatArray:
    """Count the pairs (of all n(n-1)/2) with |dt| in each time band, from sorted times."""
    ts = np.sort(t)
    idx = np.arange(ts.size)
    # below[e] = #pairs with gap < e = sum_i #{j > i : ts[j] < ts[i] + e}
    below = np.array(
        [
            float((np.searchsorted(ts, ts + e, side="left") - idx - 1).clip(min=0).sum())
            for e in time_edges
        ]
    )
    return np.diff(below)


def knox_test(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    t: npt.ArrayLike,
    distance_edges_m: npt.ArrayLike,
    time_edges_days: npt.ArrayLike,
    *,
    permutations: int = 99,
    rng: np.random.Generator | int | None = None,
) -> KnoxResult:
    r"""Knox table of incident pairs by distance and time band, with Monte-Carlo inference.

    Parameters
    ----------
    x, y
        Coordinates in metres (a metric CRS, e.g. EPSG:28992 RD New).
    t
        Times in days (float or int), e.g. days since the period start.
    distance_edges_m
        Increasing distance band edges, finite, >= 0, e.g. ``[0, 100, 200, 300, 400]``.
    time_edges_days
        Increasing time band edges, >= 0; the last may be ``inf``, e.g. ``[0, 7, 14, 21]``.
    permutations
        Number of random permutations of the times (0: observed counts only).
    rng
        Generator or seed for the permutations; the seed used is stored in the result.

    Returns
    -------
    KnoxResult

    Raises
    ------
    InvalidParameterError
        Mismatched or non-finite inputs, fewer than 2 incidents, bad edges, negative
        ``permutations``, a bad ``rng``.

    Notes
    -----
    Cost: one KD-tree query for the pairs closer than the largest distance edge
    (:math:`P` pairs), then :math:`O(P)` per permutation. Memory is :math:`O(P)`.

    Examples
    --------
    Three incidents: 0 and 1 are 50 m and 3 days apart, 0 and 2 are 100 m and 10 days apart
    (100 m falls in the second band: bands are half-open), 1 and 2 are 80.6 m and 7 days apart:

    >>> r = knox_test([0, 30, 100], [0, 40, 0], [0, 3, 10], [0, 100, 200], [0, 7, 14],
    ...               permutations=0)
    >>> r.observed.tolist()
    [[1, 1], [0, 1]]
    >>> r.expected_analytic.round(3).tolist()
    [[0.667, 1.333], [0.333, 0.667]]
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    ta = np.asarray(t, dtype=np.float64)
    if xa.ndim != 1 or xa.shape != ya.shape or xa.shape != ta.shape:
        raise InvalidParameterError(
            f"x, y and t must be 1-D of one length, got {xa.shape}, {ya.shape}, {ta.shape}"
        )
    if not (np.isfinite(xa).all() and np.isfinite(ya).all() and np.isfinite(ta).all()):
        raise InvalidParameterError("x, y or t hold NaN or infinite values")
    n = int(xa.size)
    if n < 2:
        raise InvalidParameterError(f"the Knox test needs at least 2 incidents, got {n}")
    d_edges = _edges("distance_edges_m", distance_edges_m, allow_inf=False)
    t_edges = _edges("time_edges_days", time_edges_days, allow_inf=True)
    if isinstance(permutations, bool) or not isinstance(permutations, int | np.integer):
        raise InvalidParameterError(f"permutations must be an integer, got {permutations!r}")
    if permutations < 0:
        raise InvalidParameterError(f"permutations must be >= 0, got {permutations!r}")
    seed = _seed(rng)

    n_d, n_t = d_edges.size - 1, t_edges.size - 1
    i, j, dband = spatial_pairs(xa, ya, d_edges)
    # Pairs come sorted by i, so the first endpoint's times are a cheap np.repeat; only the
    # second endpoint needs a random gather per permutation.
    first, per_first = np.unique(i, return_counts=True)
    # Column layout per distance band: 0 = gap below the first edge, 1..n_t = the time bands,
    # n_t + 1 = gap at or past the last edge; columns 0 and n_t + 1 are dropped at the end.
    ncol = n_t + 2
    base = dband.astype(np.intp) * ncol
    shifted = ta - ta.min()
    span = float(shifted.max())
    if span <= _MAX_LUT_SPAN_DAYS and bool((shifted == np.round(shifted)).all()):
        # Whole days (the usual case): the column of every possible signed gap, looked up.
        ti = shifted.astype(np.int32)
        offset = int(span)
        lut = np.searchsorted(
            t_edges, np.abs(np.arange(-offset, offset + 1, dtype=np.float64)), side="right"
        ).astype(np.intp)

        def columns(order: IntArray | None) -> npt.NDArray[np.intp]:
            tp = ti if order is None else ti[order]
            gap = np.repeat(tp[first], per_first)
            gap -= tp[j]
            gap += offset
            return lut[gap]

    else:

        def columns(order: IntArray | None) -> npt.NDArray[np.intp]:
            tp = ta if order is None else ta[order]
            gap = np.repeat(tp[first], per_first)
            gap -= tp[j]
            np.abs(gap, out=gap)
            return np.searchsorted(t_edges, gap, side="right")

    def table(order: IntArray | None) -> IntArray:
        counts = np.bincount(base + columns(order), minlength=n_d * ncol)
        return counts.reshape(n_d, ncol)[:, 1 : n_t + 1].ravel().astype(np.int64)

    n_cells = n_d * n_t
    observed = table(None)
    gen = np.random.default_rng(seed)
    at_least = np.zeros(n_cells, dtype=np.int64)
    total = np.zeros(n_cells, dtype=np.float64)
    for _ in range(int(permutations)):
        sim = table(gen.permutation(n))
        at_least += sim >= observed
        total += sim

    if permutations:
        expected = total / permutations
        p_value = ((1.0 + at_least) / (1.0 + permutations)).astype(np.float64)
    else:
        expected = np.full(n_cells, np.nan)
        p_value = np.full(n_cells, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, observed / np.where(expected > 0, expected, 1.0), np.nan)

    n_space = np.bincount(dband, minlength=n_d).astype(np.float64)
    n_time = _time_pairs_per_band(ta, t_edges)
    analytic = np.outer(n_space, n_time) / (n * (n - 1) / 2.0)
    shape = (n_d, n_t)
    return KnoxResult(
        distance_edges_m=d_edges,
        time_edges_days=t_edges,
        observed=observed.reshape(shape),
        expected=expected.reshape(shape),
        expected_analytic=analytic,
        ratio=ratio.reshape(shape),
        p_value=p_value.reshape(shape),
        n=n,
        pairs_considered=int(i.size),
        permutations=int(permutations),
        seed=seed,
    )
