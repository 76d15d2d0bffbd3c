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

**Restricted (stratified) null.** When the rate changes differently over time in different
parts of the city (burglary rising in one district, falling in another), nearby incidents share
their district's time profile, so they are closer in time than two random dates: the
unrestricted null above then flags "near repeat" at every short distance even where no
incident raises the risk of the next (the bias of the Knox test under uneven population or rate
shifts, Kulldorff and Hjalmars 1999). Given ``strata`` (one label per incident, e.g. a square of
the city), the times are permuted only *within* each stratum (restricted randomisation, Manly
2007 ch. 7; Edgington and Onghena 2007 on randomisation within blocks), so every simulated data
set keeps each stratum's own multiset of dates, and with it its trend and season. What is left
to detect is interaction finer than the stratum: a pair closer in time than the two strata's
date profiles predict. The exact expectation under this null is

.. math::

    E^{*}_{ab} = \sum_{(i,j) \in S_a} P_b(s_i, s_j), \qquad
    P_b(s, s) = \frac{N^{T}_{b}(s)}{\binom{n_s}{2}}, \qquad
    P_b(s, s') = \frac{N^{T}_{b}(s, s')}{n_s \, n_{s'}} \ (s \ne s'),

with :math:`S_a` the pairs in distance band :math:`a`, :math:`N^T_b(s)` the pairs of times
of stratum :math:`s` with a gap in band :math:`b` and :math:`N^T_b(s, s')` the cross pairs of
strata :math:`s` and :math:`s'` in that band; it is ``expected_analytic`` when ``strata`` are
given (one stratum gives back Knox's formula). The price is power: a near repeat whose whole
space-time reach lies inside one stratum's date profile is partly absorbed into it, so strata
should be larger than the largest distance band.

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
.. [4] Kulldorff, M. and Hjalmars, U. (1999). The Knox method and other tests for space-time
       interaction. Biometrics 55(2), 544-552.
.. [5] Manly, B. F. J. (2007). Randomization, Bootstrap and Monte Carlo Methods in Biology,
       3rd ed. Chapman & Hall/CRC (restricted randomisation).
.. [6] Edgington, E. S. and Onghena, P. (2007). Randomization Tests, 4th ed. Chapman &
       Hall/CRC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from spatial.errors import InvalidParameterError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

KnoxNull = Literal["unrestricted", "stratified"]

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
    null
        ``"unrestricted"`` (times permuted over all incidents) or ``"stratified"`` (times
        permuted within each stratum, see the module notes).
    n_strata
        Number of strata (1 for the unrestricted null).
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
    null: KnoxNull = "unrestricted"
    n_strata: int = 1


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


def _strata_codes(strata: npt.ArrayLike, n: int) -> tuple[IntArray, int]:
    """Integer codes ``0..k-1`` of the stratum labels (any hashable, sortable dtype)."""
    labels = np.asarray(strata)
    if labels.ndim != 1 or labels.size != n:
        raise InvalidParameterError(
            f"strata must be 1-D with one label per incident ({n}), got shape {labels.shape}"
        )
    if labels.dtype.kind == "f" and not np.isfinite(labels).all():
        raise InvalidParameterError("strata hold NaN or infinite labels")
    if labels.dtype.kind == "O" and any(v is None for v in labels.tolist()):
        raise InvalidParameterError("strata hold missing (None) labels")
    _, codes = np.unique(labels, return_inverse=True)
    codes = codes.astype(np.int64).ravel()
    return codes, int(codes.max()) + 1


def _below(ts_a: FloatArray, ts_b: FloatArray, edges: FloatArray) -> FloatArray:
    """Cross pairs ``(u, v)`` of ``ts_a`` x sorted ``ts_b`` with ``|t_u - t_v| < e``, per edge."""
    out = np.empty(edges.size, dtype=np.float64)
    for k, e in enumerate(edges):
        if e <= 0:
            out[k] = 0.0
            continue
        hi = np.searchsorted(ts_b, ts_a + e, side="left")
        lo = np.searchsorted(ts_b, ts_a - e, side="right")
        out[k] = float((hi - lo).sum())
    return out


def _stratified_expectation(
    t: FloatArray,
    codes: IntArray,
    n_strata: int,
    i: npt.NDArray[np.int32],
    j: npt.NDArray[np.int32],
    dband: IntArray,
    n_d: int,
    t_edges: FloatArray,
) -> FloatArray:
    """Exact expected Knox table when times are permuted within strata (module notes)."""
    n_t = t_edges.size - 1
    if i.size == 0:
        return np.zeros((n_d, n_t))
    order = np.lexsort((t, codes))
    sizes = np.bincount(codes, minlength=n_strata)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    ts = t[order]

    def times(s: int) -> FloatArray:
        return ts[starts[s] : starts[s + 1]]

    si, sj = codes[i], codes[j]
    lo, hi = np.minimum(si, sj), np.maximum(si, sj)
    keys, key_of = np.unique(lo * n_strata + hi, return_inverse=True)
    prob = np.empty((keys.size, n_t), dtype=np.float64)
    for k, key in enumerate(keys.tolist()):
        a, b = divmod(int(key), n_strata)
        if a == b:
            n_s = float(sizes[a])
            prob[k] = _time_pairs_per_band(times(a), t_edges) / (n_s * (n_s - 1) / 2.0)
        else:
            prob[k] = np.diff(_below(times(a), times(b), t_edges)) / float(sizes[a] * sizes[b])
    pairs_per = np.bincount(dband * keys.size + key_of.ravel(), minlength=n_d * keys.size).reshape(
        n_d, keys.size
    )
    expected: FloatArray = pairs_per.astype(np.float64) @ prob
    return expected


def _within_strata(gen: np.random.Generator, codes: IntArray, by_stratum: IntArray) -> IntArray:
    """Draw a random permutation that maps every incident to one of its own stratum."""
    shuffled = np.lexsort((gen.random(codes.size), codes))
    order = np.empty(codes.size, dtype=np.int64)
    order[by_stratum] = shuffled
    return order


def knox_test(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    t: npt.ArrayLike,
    distance_edges_m: npt.ArrayLike,
    time_edges_days: npt.ArrayLike,
    *,
    permutations: int = 99,
    rng: np.random.Generator | int | None = None,
    strata: npt.ArrayLike | None = None,
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
    strata
        One label per incident (e.g. the square of the city it lies in); when given, the
        times are permuted only within each stratum and ``expected_analytic`` is the exact
        expectation under that restricted null (module notes). None: the unrestricted null.

    Returns
    -------
    KnoxResult

    Raises
    ------
    InvalidParameterError
        Mismatched or non-finite inputs, fewer than 2 incidents, bad edges, negative
        ``permutations``, a bad ``rng``, ``strata`` not one label per incident.

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

    With incident 2 in a stratum of its own its date never moves, and incidents 0 and 1 only
    swap theirs, so the table cannot change: the expectation is the observed table.

    >>> s = knox_test([0, 30, 100], [0, 40, 0], [0, 3, 10], [0, 100, 200], [0, 7, 14],
    ...               permutations=0, strata=["a", "a", "b"])
    >>> s.expected_analytic.tolist(), s.null, s.n_strata
    ([[1.0, 1.0], [0.0, 1.0]], 'stratified', 2)
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
    if strata is None:
        codes, n_strata = np.zeros(n, dtype=np.int64), 1
    else:
        codes, n_strata = _strata_codes(strata, n)
    by_stratum = np.argsort(codes, kind="stable")

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
        order = gen.permutation(n) if strata is None else _within_strata(gen, codes, by_stratum)
        sim = table(order)
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

    if strata is None:
        n_space = np.bincount(dband, minlength=n_d).astype(np.float64)
        n_time = _time_pairs_per_band(ta, t_edges)
        analytic = np.outer(n_space, n_time) / (n * (n - 1) / 2.0)
    else:
        analytic = _stratified_expectation(ta, codes, n_strata, i, j, dband, n_d, t_edges)
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
        null="unrestricted" if strata is None else "stratified",
        n_strata=n_strata,
    )
