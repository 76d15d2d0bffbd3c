r"""Getis-Ord Gi* local hotspot statistic with conditional-permutation inference and FDR.

For cell :math:`i` with binary weights :math:`w_{ij}` (the k-ring, **self included**,
:math:`w_{ii} = 1`) and counts :math:`x_j`, :math:`j = 1..n`:

.. math::

    G_i^* = \frac{\sum_j w_{ij} x_j}{\sum_j x_j}, \qquad
    z_i = \frac{\sum_j w_{ij} x_j - \bar{x} W_i}
               {S \sqrt{\left(n S_{1i} - W_i^2\right) / (n - 1)}}

with :math:`\bar{x} = \sum_j x_j / n`, :math:`S = \sqrt{\sum_j x_j^2 / n - \bar{x}^2}`,
:math:`W_i = \sum_j w_{ij}` and :math:`S_{1i} = \sum_j w_{ij}^2` (Ord & Getis 1995, eq. 3;
Getis & Ord 1992). This equals ``esda.G_Local(y, w, transform="B", star=True).Zs``; esda's
default row-standardised transform gives other z-scores.

Pseudo p-values come from conditional randomisation (Anselin 1995): the value of cell
:math:`i` is held fixed and its :math:`|N_i|` neighbours are drawn without replacement from the
other :math:`n - 1` values, ``permutations`` times. With :math:`G`, :math:`E` and :math:`S` the
numbers of the :math:`P` draws greater than, equal to and smaller than the observed
:math:`G_i^*`, the default (``"two-sided-midrank"``) is the two-sided mid-rank p-value

.. math::

    p = \min\left(1,\ 2 \min\left(\frac{G + E/2 + 1}{P + 1},\
        \frac{S + E/2 + 1}{P + 1}\right)\right)

Ties count half on each side (the mid-rank), so a cell whose whole neighbourhood is empty —
every draw ties with it — gets :math:`p \approx 1`, not the smallest possible value; and the
p-value is two-sided like the normal ``p_norm`` it is shown beside. ``"folded"`` is esda's
(deprecated) ``alternative="directed"`` convention,
:math:`(\min(L, P - L) + 1) / (P + 1)` with :math:`L = G + E`, kept to reproduce esda: under it
those isolated cells all get :math:`1/(P+1)`, which reads as "strongest clustering".

Two cells with the same value and the same
number of neighbours have the same null distribution (the multiset of "other" values is the
same), so for count data the draws are shared by all cells of a (value, neighbour-count) group;
that makes 999 permutations on tens of thousands of cells cheap.

Cells are classed like ArcGIS's ``Gi_Bin``: +/-3, +/-2, +/-1 for hot/cold spots at 99, 95 and
90 % confidence (two-sided normal p of the z-score), 0 otherwise. The FDR-corrected class uses
Benjamini-Hochberg adjusted p-values (q-values) against the same levels.

References
----------
.. [1] Getis, A. and Ord, J. K. (1992). The analysis of spatial association by use of distance
       statistics. Geographical Analysis 24(3), 189-206.
.. [2] Ord, J. K. and Getis, A. (1995). Local spatial autocorrelation statistics: distributional
       issues and an application. Geographical Analysis 27(4), 286-306.
.. [3] Anselin, L. (1995). Local indicators of spatial association - LISA. Geographical
       Analysis 27(2), 93-115 (conditional randomisation).
.. [4] Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate. JRSS B
       57(1), 289-300.
.. [5] Esri. How Hot Spot Analysis (Getis-Ord Gi*) works. ArcGIS Pro documentation (Gi_Bin).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy import stats

from spatial.errors import InvalidParameterError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

PSimMethod = Literal["two-sided-midrank", "folded"]
P_SIM_METHODS: tuple[str, ...] = ("two-sided-midrank", "folded")

#: (class, two-sided p threshold) like ArcGIS Gi_Bin.
CONFIDENCE_LEVELS: tuple[tuple[int, float], ...] = ((3, 0.01), (2, 0.05), (1, 0.10))


@dataclass(frozen=True)
class GiStarResult:
    """Gi* per cell (arrays aligned with the input values).

    Attributes
    ----------
    g
        :math:`G_i^*`.
    z
        Analytic z-score (Ord & Getis 1995).
    p_norm
        Two-sided normal p-value of ``z``.
    p_sim
        Pseudo p-value from conditional permutations (NaN when ``permutations == 0``);
        two-sided mid-rank unless ``p_sim_method`` says otherwise.
    p_fdr
        Benjamini-Hochberg adjusted ``p_norm`` (q-values).
    hot_cold_class
        -3..+3 from ``p_norm`` (ArcGIS Gi_Bin).
    hot_cold_class_fdr
        -3..+3 from ``p_fdr``.
    permutations
        Number of permutations used.
    p_sim_method
        How ``p_sim`` was computed (see the module docstring).
    """

    g: FloatArray
    z: FloatArray
    p_norm: FloatArray
    p_sim: FloatArray
    p_fdr: FloatArray
    hot_cold_class: npt.NDArray[np.int8]
    hot_cold_class_fdr: npt.NDArray[np.int8]
    permutations: int
    p_sim_method: str = "two-sided-midrank"


def _validate(y: npt.ArrayLike, w: sp.spmatrix | sp.sparray) -> tuple[FloatArray, sp.csr_matrix]:
    x = np.asarray(y, dtype=np.float64)
    if x.ndim != 1:
        raise InvalidParameterError(f"y must be 1-d, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise InvalidParameterError("y holds NaN or infinite values")
    wm = sp.csr_matrix(w, dtype=np.float64)
    if wm.shape != (x.size, x.size):
        raise InvalidParameterError(f"w must be {x.size}x{x.size}, got {wm.shape}")
    if x.size < 3:
        raise InvalidParameterError(f"Gi* needs at least 3 cells, got {x.size}")
    return x, wm


def with_self(w: sp.spmatrix | sp.sparray) -> sp.csr_matrix:
    """Return binary weights with the diagonal set to 1 (Gi*: each cell is its own neighbour)."""
    wm = sp.csr_matrix(w, dtype=np.float64, copy=True)
    wm.setdiag(1.0)
    wm.eliminate_zeros()
    return wm


def gistar_z(y: npt.ArrayLike, w: sp.spmatrix | sp.sparray) -> tuple[FloatArray, FloatArray]:
    """Analytic Gi* statistic and z-score (Ord & Getis 1995, eq. 3); vectorised.

    Parameters
    ----------
    y
        Values per cell (counts).
    w
        Binary neighbour matrix WITHOUT the diagonal (as from
        :func:`spatial.grid.h3grid.neighbours`);
        the self weight :math:`w_{ii} = 1` is added here.

    Returns
    -------
    g, z
        :math:`G_i^*` and its z-score. Where all values are equal (S = 0) z is 0.

    Examples
    --------
    esda's documented example (``esda.getisord.G_Local`` docstring), six points and a
    15-unit distance band:

    >>> import scipy.sparse as sp
    >>> nbrs = {0: [1, 3], 1: [0, 3, 4], 2: [4], 3: [0, 1, 4], 4: [1, 2, 3, 5], 5: [4]}
    >>> rows = [i for i, js in nbrs.items() for _ in js]
    >>> cols = [j for js in nbrs.values() for j in js]
    >>> w = sp.csr_matrix(([1.0] * len(rows), (rows, cols)), shape=(6, 6))
    >>> g, z = gistar_z([2, 3, 3.2, 5, 8, 7], w)
    >>> [round(float(v), 6) for v in z]
    [-1.397276, -0.289178, 0.65065, -0.289178, 1.234521, 2.024243]
    """
    x, wm = _validate(y, w)
    ws = with_self(wm)
    n = x.size
    total = x.sum()
    mean = total / n
    s = np.sqrt(max((x**2).sum() / n - mean**2, 0.0))
    wi = np.asarray(ws.sum(axis=1)).ravel()
    s1 = np.asarray(ws.multiply(ws).sum(axis=1)).ravel()
    lag = ws @ x
    g = lag / total if total != 0 else np.zeros(n)
    den = s * np.sqrt(np.maximum(n * s1 - wi**2, 0.0) / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(den > 0, (lag - mean * wi) / den, 0.0)
    return g, z


def benjamini_hochberg(p: npt.ArrayLike) -> FloatArray:
    r"""Benjamini-Hochberg adjusted p-values (q-values).

    :math:`q_{(i)} = \min_{j \ge i} \min(1, m\,p_{(j)}/j)` for the sorted p-values.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.5]).round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.5]
    """
    pv = np.asarray(p, dtype=np.float64)
    m = pv.size
    if m == 0:
        return pv.copy()
    order = np.argsort(pv, kind="stable")
    ranked = pv[order] * m / np.arange(1, m + 1)
    q_sorted = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1.0)
    return q


def classify(z: npt.ArrayLike, p: npt.ArrayLike) -> npt.NDArray[np.int8]:
    """Hot/cold class -3..+3 like ArcGIS Gi_Bin from z-scores and two-sided p-values."""
    zz = np.asarray(z, dtype=np.float64)
    pp = np.asarray(p, dtype=np.float64)
    level = np.zeros(zz.size, dtype=np.int8)
    for cls, alpha in CONFIDENCE_LEVELS[::-1]:
        level[pp < alpha] = cls
    return (np.sign(zz).astype(np.int8) * level).astype(np.int8)


def _draw_without_replacement(
    rng: np.random.Generator, population: int, draws: int, size: int
) -> IntArray:
    """Draw ``draws`` rows of ``size`` distinct integers in ``[0, population)``.

    Vectorised rejection: rows with a repeat are redrawn.
    """
    if size > population:
        raise InvalidParameterError(f"cannot draw {size} of {population} without replacement")
    if size * 4 > population:
        # Dense case: a random permutation per row.
        return np.argsort(rng.random((draws, population)), axis=1)[:, :size].astype(np.int64)
    out = rng.integers(0, population, size=(draws, size))
    while True:
        srt = np.sort(out, axis=1)
        bad = (
            np.flatnonzero((srt[:, 1:] == srt[:, :-1]).any(axis=1))
            if size > 1
            else np.empty(0, int)
        )
        if bad.size == 0:
            return out.astype(np.int64)
        out[bad] = rng.integers(0, population, size=(bad.size, size))


def permutation_p(
    greater: npt.ArrayLike, smaller: npt.ArrayLike, permutations: int, method: str
) -> FloatArray:
    """Pseudo p-value from the numbers of draws greater / smaller than the observed value.

    Parameters
    ----------
    greater, smaller
        Per cell, the number of the ``permutations`` draws strictly greater / smaller than
        the observed statistic; the rest tie with it.
    permutations
        Number of draws :math:`P`.
    method
        ``"two-sided-midrank"`` or ``"folded"`` (esda's ``directed``); see the module docstring.

    Examples
    --------
    Every draw ties (an isolated cell): mid-rank gives 1, the folded convention its minimum.

    >>> permutation_p([0], [0], 99, "two-sided-midrank").tolist()
    [1.0]
    >>> permutation_p([0], [0], 99, "folded").tolist()
    [0.01]

    No draw as large as the observed value: both give the smallest p of their kind.

    >>> permutation_p([0], [99], 99, "two-sided-midrank").tolist()
    [0.02]
    >>> permutation_p([0], [99], 99, "folded").tolist()
    [0.01]
    """
    g = np.asarray(greater, dtype=np.float64)
    s = np.asarray(smaller, dtype=np.float64)
    big_p = float(permutations)
    if method == "folded":
        larger = big_p - s  # draws >= observed, as esda counts them
        folded = np.minimum(larger, big_p - larger)
        return (folded + 1.0) / (big_p + 1.0)
    if method == "two-sided-midrank":
        equal = big_p - g - s
        upper = (g + equal / 2.0 + 1.0) / (big_p + 1.0)
        lower = (s + equal / 2.0 + 1.0) / (big_p + 1.0)
        return np.minimum(1.0, 2.0 * np.minimum(upper, lower))
    raise InvalidParameterError(
        f"p_sim_method must be one of {', '.join(P_SIM_METHODS)}, got {method!r}"
    )


def gistar_permutation_p(
    y: npt.ArrayLike,
    w: sp.spmatrix | sp.sparray,
    permutations: int = 999,
    rng: np.random.Generator | int | None = None,
    strategy: Literal["auto", "grouped", "per_cell"] = "auto",
    method: PSimMethod = "two-sided-midrank",
) -> FloatArray:
    """Conditional-permutation pseudo p-values of Gi* (two-sided mid-rank by default).

    Parameters
    ----------
    y, w
        As in :func:`gistar_z` (``w`` without the diagonal).
    permutations
        Number of conditional permutations, >= 1.
    rng
        Random generator or seed.
    strategy
        ``"grouped"`` shares draws within (value, neighbour count) groups, ``"per_cell"`` draws
        per cell (chunked); ``"auto"`` groups when there are few distinct values (counts).
    method
        ``"two-sided-midrank"`` (default, tie-aware) or ``"folded"`` (esda's convention).

    Notes
    -----
    Cells sharing their value and neighbour count share a null distribution, so draws are made
    once per such group (vectorised); with continuous values every cell is its own group and
    the work is chunked.
    """
    x, wm = _validate(y, w)
    if isinstance(permutations, bool) or permutations < 1:
        raise InvalidParameterError(f"permutations must be >= 1, got {permutations!r}")
    if method not in P_SIM_METHODS:
        raise InvalidParameterError(
            f"p_sim_method must be one of {', '.join(P_SIM_METHODS)}, got {method!r}"
        )
    gen = np.random.default_rng(rng)
    n = x.size
    total = x.sum()
    card = np.diff(wm.indptr)  # neighbours, excluding self
    lag = wm @ x + x  # Gi* numerator (self included); the denominator is common
    sorted_x = np.sort(x)
    greater = np.zeros(n, dtype=np.int64)
    smaller = np.zeros(n, dtype=np.int64)
    max_card = int(card.max()) if n else 0
    if max_card == 0 or total == 0:
        return np.ones(n)
    # One shared draw of indexes into the n-1 "other" values (esda also shares its draws).
    base = _draw_without_replacement(gen, n - 1, permutations, max_card)
    values, value_idx = np.unique(x, return_inverse=True)
    groups = values.size * np.unique(card).size
    if strategy not in ("auto", "grouped", "per_cell"):
        raise InvalidParameterError(f"unknown strategy {strategy!r}")
    if strategy == "grouped" or (strategy == "auto" and groups <= max(64, n // 8)):
        # Position of one occurrence of each value in sorted_x: skipping it leaves "the others".
        first_pos = np.searchsorted(sorted_x, values)
        for m in np.unique(card):
            if m == 0:
                continue
            draw = base[:, :m]
            sel_m = card == m
            for v_i in np.unique(value_idx[sel_m]):
                pos = first_pos[v_i]
                sums = sorted_x[draw + (draw >= pos)].sum(axis=1)  # (permutations,)
                cells = np.flatnonzero(sel_m & (value_idx == v_i))
                null = np.sort(sums + values[v_i])
                # Draws above / below the observed numerator; a small tolerance absorbs float
                # noise, so equal sums count as ties.
                tol = 1e-9 * np.maximum(np.abs(lag[cells]), 1.0)
                greater[cells] = permutations - np.searchsorted(
                    null, lag[cells] + tol, side="right"
                )
                smaller[cells] = np.searchsorted(null, lag[cells] - tol, side="left")
    else:
        order = np.argsort(x, kind="stable")
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
        chunk = max(1, 4_000_000 // (permutations * max_card))
        for start in range(0, n, chunk):
            cells = np.arange(start, min(n, start + chunk))
            for m in np.unique(card[cells]):
                if m == 0:
                    continue
                cm = cells[card[cells] == m]
                d = base[None, :, :m]
                idx = d + (d >= rank[cm][:, None, None])
                sums = sorted_x[idx].sum(axis=2) + x[cm][:, None]
                tol = 1e-9 * np.maximum(np.abs(lag[cm]), 1.0)[:, None]
                greater[cm] = (sums > lag[cm][:, None] + tol).sum(axis=1)
                smaller[cm] = (sums < lag[cm][:, None] - tol).sum(axis=1)
    p = permutation_p(greater, smaller, permutations, method)
    p[card == 0] = 1.0
    return p


def gistar(
    y: npt.ArrayLike,
    w: sp.spmatrix | sp.sparray,
    *,
    permutations: int = 999,
    rng: np.random.Generator | int | None = None,
    p_sim_method: PSimMethod = "two-sided-midrank",
) -> GiStarResult:
    """Getis-Ord Gi* per cell: z, normal and permutation p-values, FDR, Gi_Bin classes.

    Parameters
    ----------
    y
        Values per cell (counts), including zero cells.
    w
        Binary neighbour matrix without the diagonal (k-ring of study cells).
    permutations
        Conditional permutations for ``p_sim`` (0 skips them).
    rng
        Random generator or seed for the permutations.
    p_sim_method
        ``"two-sided-midrank"`` (default) or ``"folded"`` (esda's convention).

    Returns
    -------
    GiStarResult

    Raises
    ------
    InvalidParameterError
        Mismatched shapes, non-finite values, fewer than 3 cells, negative permutations.
    """
    if isinstance(permutations, bool) or permutations < 0:
        raise InvalidParameterError(f"permutations must be >= 0, got {permutations!r}")
    g, z = gistar_z(y, w)
    p_norm = 2.0 * stats.norm.sf(np.abs(z))
    p_sim = (
        gistar_permutation_p(y, w, permutations, rng, method=p_sim_method)
        if permutations
        else np.full(z.size, np.nan)
    )
    p_fdr = benjamini_hochberg(p_norm)
    return GiStarResult(
        g=g,
        z=z,
        p_norm=p_norm,
        p_sim=p_sim,
        p_fdr=p_fdr,
        hot_cold_class=classify(z, p_norm),
        hot_cold_class_fdr=classify(z, p_fdr),
        permutations=int(permutations),
        p_sim_method=p_sim_method,
    )
