r"""Emerging Hot Spot Analysis (space-time Gi* + Mann-Kendall), as ArcGIS Pro does it.

The input is a space-time cube of counts :math:`x_{it}` for cells :math:`i = 1..C` and time
bins :math:`t = 1..T` (cells and bins without incidents included as zeros).

**Space-time Gi*.** The neighbourhood of bin :math:`(i, t)` is the spatial neighbourhood of
:math:`i` (k-ring, self included) in bin :math:`t` and in the ``time_window_bins`` = :math:`k`
previous bins, clipped at the start of the cube: :math:`m_t = \min(t - 1, k) + 1` time slices.
With spatial weights :math:`w_{ij}` (:math:`w_{ii} = 1`), the space-time weights are
:math:`w_{ij}` for every slice in the window, so :math:`W_{it} = m_t \sum_j w_{ij}` and
:math:`S_{1,it} = m_t \sum_j w_{ij}^2`. The z-score is Ord & Getis (1995, eq. 3) over all
:math:`N = C T` bins of the cube,

.. math::

    z_{it} = \frac{\sum_{s = t - m_t + 1}^{t} \sum_j w_{ij} x_{js} - \bar{x} W_{it}}
                  {S \sqrt{\left(N S_{1,it} - W_{it}^2\right) / (N - 1)}}, \qquad
    \bar{x} = \frac{1}{N}\sum_{j,s} x_{js}, \quad
    S = \sqrt{\frac{1}{N}\sum_{j,s} x_{js}^2 - \bar{x}^2}

i.e. the global mean and standard deviation are taken over the entire cube (ArcGIS's default
"entire cube" global window). This is :func:`spatial.hotspots.gistar.gistar_z` applied to the cube
flattened with the block space-time weights matrix; it is computed here with one sparse
product and ``time_window_bins`` shifted additions along time.

**Per-bin calls.** Two-sided normal p-values, Benjamini-Hochberg adjusted over all :math:`C T`
bins (``fdr=True``, ArcGIS applies an FDR correction). A bin is *hot* when its (adjusted)
p-value is below ``alpha`` and :math:`z > 0`, *cold* when below ``alpha`` and :math:`z < 0`.
The default ``alpha = 0.10`` counts ArcGIS's 90, 95 and 99 % confidence bins as significant.

**Trend.** The Mann-Kendall test (:mod:`spatial.spacetime.trend`) on each cell's z-series; a trend
is
significant when its two-sided p-value is below ``trend_alpha``.

**Patterns** (Esri, "How Emerging Hot Spot Analysis works"), for a cell with :math:`T` bins,
:math:`h` hot bins, "90 %" meaning :math:`h \ge 0.9\,T`:

==========================  ===================================================================
new                         final bin hot, no other bin hot
consecutive                 final run of >= 2 hot bins, no hot bin before it, :math:`h < 0.9T`
intensifying                :math:`h \ge 0.9T`, final bin hot, significant upward trend in z
persistent                  :math:`h \ge 0.9T`, final bin hot, no significant trend
diminishing                 :math:`h \ge 0.9T`, final bin hot, significant downward trend in z
sporadic                    final bin hot, :math:`h < 0.9T`, hot before with a gap (on-off),
                            never a significant cold spot
oscillating                 as sporadic, but a significant cold spot at some earlier bin
historical                  final bin not hot, :math:`h \ge 0.9T`
no pattern detected         none of the above (hot or cold)
==========================  ===================================================================

Cold spots mirror these (an *intensifying* cold spot has a significant **downward** trend in
z). Precedence where two descriptions fit, in the order of Esri's table: new, then
consecutive, before oscillating (a cell that was cold and is newly hot is a *new* hot spot);
and a pattern defined by the final bin (hot or cold) before a *historical* pattern of the
other sign (possible only when the final bin is cold after >= 90 % hot bins).

Dutch labels for reports are in :data:`PATROON` (``pattern -> patroon``).

References
----------
.. [1] Esri. How Emerging Hot Spot Analysis works. ArcGIS Pro tool reference, Space Time
       Pattern Mining toolbox (pattern definitions; Gi* per bin with FDR; Mann-Kendall).
.. [2] Ord, J. K. and Getis, A. (1995). Local spatial autocorrelation statistics:
       distributional issues and an application. Geographical Analysis 27(4), 286-306.
.. [3] Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate. JRSS B
       57(1), 289-300.
.. [4] Mann, H. B. (1945). Nonparametric tests against trend. Econometrica 13(3), 245-259.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy import stats

from spatial.errors import InvalidParameterError
from spatial.hotspots.gistar import benjamini_hochberg, with_self
from spatial.spacetime.trend import mann_kendall

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_KINDS: Final = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
    "oscillating",
    "historical",
)

#: Pattern names; ``pattern_code`` indexes this tuple. 0 = no pattern, 1-8 hot, 9-16 cold.
PATTERNS: Final[tuple[str, ...]] = (
    "no pattern detected",
    *(f"{k} hot spot" for k in _KINDS),
    *(f"{k} cold spot" for k in _KINDS),
)

_NL_KINDS: Final = (
    "nieuwe",
    "opeenvolgende",
    "toenemende",
    "aanhoudende",
    "afnemende",
    "sporadische",
    "oscillerende",
    "historische",
)

#: Dutch label per pattern name.
PATROON: Final[dict[str, str]] = {
    "no pattern detected": "geen patroon",
    **{f"{k} hot spot": f"{nl} hotspot" for k, nl in zip(_KINDS, _NL_KINDS, strict=True)},
    **{f"{k} cold spot": f"{nl} coldspot" for k, nl in zip(_KINDS, _NL_KINDS, strict=True)},
}

_NO_PATTERN: Final = 0
_HOT_OFFSET: Final = 1
_COLD_OFFSET: Final = 1 + len(_KINDS)


@dataclass(frozen=True)
class EmergingHotSpotResult:
    """Emerging Hot Spot Analysis per cell, plus the per-bin space-time Gi*.

    Attributes
    ----------
    pattern
        English pattern name per cell (one of :data:`PATTERNS`).
    patroon
        Dutch label per cell (:data:`PATROON`).
    pattern_code
        Index into :data:`PATTERNS` (int8).
    tau
        Mann-Kendall tau-a of the cell's z-series.
    trend_z, trend_p
        Mann-Kendall z-score and two-sided p-value of the cell's z-series.
    z_last
        Space-time Gi* z-score of the final bin.
    n_hot_bins, n_cold_bins
        Number of significant hot / cold bins per cell.
    z
        Space-time Gi* z-scores, shape ``(n_cells, n_bins)``.
    p_norm
        Two-sided normal p-values of ``z``.
    p_fdr
        Benjamini-Hochberg adjusted ``p_norm`` over all bins of the cube.
    bin_class
        +1 hot, -1 cold, 0 not significant, per bin (int8).
    time_window_bins
        Number of previous bins in the space-time neighbourhood.
    alpha
        Per-bin significance level.
    trend_alpha
        Significance level of the Mann-Kendall trend.
    fdr
        Whether ``bin_class`` used ``p_fdr`` (True) or ``p_norm``.
    """

    pattern: npt.NDArray[np.str_]
    patroon: npt.NDArray[np.str_]
    pattern_code: npt.NDArray[np.int8]
    tau: FloatArray
    trend_z: FloatArray
    trend_p: FloatArray
    z_last: FloatArray
    n_hot_bins: IntArray
    n_cold_bins: IntArray
    z: FloatArray
    p_norm: FloatArray
    p_fdr: FloatArray
    bin_class: npt.NDArray[np.int8]
    time_window_bins: int
    alpha: float
    trend_alpha: float
    fdr: bool


def _check_alpha(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, float | int) or not 0.0 < value < 1.0:
        raise InvalidParameterError(f"{name} must be in (0, 1), got {value!r}")
    return float(value)


def spacetime_gistar_z(
    counts: npt.ArrayLike, w: sp.spmatrix | sp.sparray, time_window_bins: int
) -> FloatArray:
    r"""Space-time Gi* z-score of every bin of a cube (Ord & Getis 1995; cube-global mean/std).

    Parameters
    ----------
    counts
        Shape ``(n_cells, n_bins)``; zeros included.
    w
        Spatial weights, ``(n_cells, n_cells)`` sparse (binary k-ring as from
        :func:`spatial.grid.h3grid.neighbours`). The diagonal is set to 1 (self is a neighbour, Gi*)
        whether or not it is given.
    time_window_bins
        Number of previous bins included in the neighbourhood (0: each bin on its own).

    Returns
    -------
    numpy.ndarray
        z-scores, shape ``(n_cells, n_bins)``; all 0 when every bin has the same count.

    Raises
    ------
    InvalidParameterError
        Bad shapes, non-finite counts, fewer than 3 bins in the cube, a window outside
        ``[0, n_bins)``.

    Examples
    --------
    Two cells that neighbour each other, three bins, window 0. By hand: :math:`N = 6`,
    :math:`\bar x = 2`, :math:`S = \sqrt{52/6 - 4}`, :math:`W = S_1 = 2`, so the last bin has
    :math:`z = (10 - 4) / (S \sqrt{(12 - 4)/5}) = 2.1958`:

    >>> import scipy.sparse as sp
    >>> w = sp.csr_matrix([[0.0, 1.0], [1.0, 0.0]])
    >>> z = spacetime_gistar_z([[0, 1, 5], [0, 1, 5]], w, 0)
    >>> z.round(4).tolist()
    [[-1.4639, -0.7319, 2.1958], [-1.4639, -0.7319, 2.1958]]
    """
    x = np.asarray(counts, dtype=np.float64)
    if x.ndim != 2:
        raise InvalidParameterError(f"counts must be 2-D (n_cells, n_bins), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise InvalidParameterError("counts hold NaN or infinite values")
    n_cells, n_bins = x.shape
    if n_cells * n_bins < 3:
        raise InvalidParameterError(f"the cube needs at least 3 bins in all, got {x.shape}")
    if (
        isinstance(time_window_bins, bool)
        or not isinstance(time_window_bins, int | np.integer)
        or not 0 <= time_window_bins < n_bins
    ):
        raise InvalidParameterError(
            f"time_window_bins must be an integer in [0, {n_bins}), got {time_window_bins!r}"
        )
    if w.shape != (n_cells, n_cells):
        raise InvalidParameterError(f"w must be {n_cells}x{n_cells}, got {w.shape}")
    ws = with_self(w)
    k = int(time_window_bins)

    n = float(n_cells * n_bins)
    mean = x.sum() / n
    s = np.sqrt(max((x**2).sum() / n - mean**2, 0.0))
    # Spatial lag per slice, then the sum over the window [t - k, t], one shifted add per lag
    # (not a difference of cumulative sums: equal windows must give bit-equal z, or float
    # noise would break the ties that the Mann-Kendall test sees).
    lag_s = np.asarray(ws @ x)
    lag = lag_s.copy()
    for back in range(1, k + 1):
        lag[:, back:] += lag_s[:, :-back]
    t = np.arange(n_bins)
    m = (np.minimum(t, k) + 1).astype(np.float64)  # time slices in each bin's window
    wi = np.asarray(ws.sum(axis=1)).ravel()
    s1 = np.asarray(ws.multiply(ws).sum(axis=1)).ravel()
    w_it = wi[:, None] * m[None, :]
    s1_it = s1[:, None] * m[None, :]
    den = s * np.sqrt(np.maximum(n * s1_it - w_it**2, 0.0) / (n - 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(den > 0, (lag - mean * w_it) / den, 0.0)
    return z


def _side(
    this: BoolArray, other: BoolArray, trend_same: BoolArray, trend_opposite: BoolArray
) -> tuple[list[BoolArray], BoolArray]:
    """Masks of the eight patterns of one sign (hot: this=hot, trend_same=upward trend)."""
    n_bins = this.shape[1]
    n_this = this.sum(axis=1)
    n_other = other.sum(axis=1)
    final = this[:, -1]
    ninety = n_this * 10 >= 9 * n_bins  # h >= 0.9 T in integers
    off = ~this
    # Length of the final uninterrupted run of `this` bins.
    last_off = np.where(off.any(axis=1), n_bins - 1 - np.argmax(off[:, ::-1], axis=1), -1)
    run = n_bins - 1 - last_off
    new = final & (n_this == 1)
    consecutive = final & (run >= 2) & (n_this == run) & ~ninety
    no_trend = ~trend_same & ~trend_opposite
    intensifying = final & ninety & trend_same
    persistent = final & ninety & no_trend
    diminishing = final & ninety & trend_opposite
    on_off = final & ~ninety & ~new & ~consecutive
    sporadic = on_off & (n_other == 0)
    oscillating = on_off & (n_other > 0)
    historical = ~final & ninety
    final_masks = [new, consecutive, intensifying, persistent, diminishing, sporadic, oscillating]
    return final_masks, historical


def classify_patterns(
    hot: npt.ArrayLike,
    cold: npt.ArrayLike,
    trend_z: npt.ArrayLike,
    trend_p: npt.ArrayLike,
    *,
    trend_alpha: float = 0.05,
) -> npt.NDArray[np.int8]:
    """Emerging hot spot pattern code per cell from per-bin calls and the trend of z.

    Parameters
    ----------
    hot, cold
        Boolean, shape ``(n_cells, n_bins)``: significant hot / cold spot per bin (time
        ascending). A bin cannot be both.
    trend_z, trend_p
        Mann-Kendall z-score and two-sided p-value of each cell's Gi* z-series.
    trend_alpha
        A trend is significant when ``trend_p < trend_alpha``.

    Returns
    -------
    numpy.ndarray
        int8 codes indexing :data:`PATTERNS`.

    Raises
    ------
    InvalidParameterError
        Mismatched shapes, a bin both hot and cold, ``trend_alpha`` outside (0, 1).

    Notes
    -----
    Rules and precedence as in the module docstring (Esri's definitions).

    Examples
    --------
    Ten bins. Cell 0 is hot only in the final bin; cell 1 is hot in every bin with a
    significant upward trend; cell 2 was hot in nine bins but not in the last:

    >>> import numpy as np
    >>> hot = np.zeros((3, 10), bool)
    >>> hot[0, -1] = True
    >>> hot[1] = True
    >>> hot[2, :9] = True
    >>> codes = classify_patterns(hot, np.zeros_like(hot), [0.0, 3.0, -1.0], [1.0, 0.001, 0.3])
    >>> [PATTERNS[c] for c in codes]
    ['new hot spot', 'intensifying hot spot', 'historical hot spot']
    """
    h = np.asarray(hot, dtype=bool)
    c = np.asarray(cold, dtype=bool)
    tz = np.asarray(trend_z, dtype=np.float64)
    tp = np.asarray(trend_p, dtype=np.float64)
    if h.ndim != 2 or h.shape != c.shape or h.shape[1] < 1:
        raise InvalidParameterError(
            f"hot and cold must be 2-D of one shape, got {h.shape} and {c.shape}"
        )
    if tz.shape != (h.shape[0],) or tp.shape != (h.shape[0],):
        raise InvalidParameterError(
            f"trend_z and trend_p need one value per cell ({h.shape[0]}), "
            f"got {tz.shape} and {tp.shape}"
        )
    if (h & c).any():
        raise InvalidParameterError("a bin is marked both hot and cold")
    alpha = _check_alpha("trend_alpha", trend_alpha)
    sig = tp < alpha
    up = sig & (tz > 0)
    down = sig & (tz < 0)

    hot_final, hot_hist = _side(h, c, up, down)
    cold_final, cold_hist = _side(c, h, down, up)
    code = np.full(h.shape[0], _NO_PATTERN, dtype=np.int8)
    # Lowest precedence first; later assignments win. Hot- and cold-final masks are disjoint.
    code[cold_hist] = _COLD_OFFSET + 7
    code[hot_hist] = _HOT_OFFSET + 7
    for offset, masks in ((_COLD_OFFSET, cold_final), (_HOT_OFFSET, hot_final)):
        # Within one sign, earlier patterns in Esri's table take precedence.
        for i in range(len(masks) - 1, -1, -1):
            code[masks[i]] = offset + i
    return code


def emerging_hotspots(
    counts: npt.ArrayLike,
    w: sp.spmatrix | sp.sparray,
    *,
    time_window_bins: int = 1,
    alpha: float = 0.10,
    trend_alpha: float = 0.05,
    fdr: bool = True,
) -> EmergingHotSpotResult:
    """Emerging Hot Spot Analysis of a space-time cube of counts (ArcGIS Pro's method).

    Parameters
    ----------
    counts
        Shape ``(n_cells, n_bins)``: incidents per study cell and time bin, time ascending;
        cells and bins without incidents included as zeros.
    w
        Sparse spatial weights ``(n_cells, n_cells)``, e.g. :func:`spatial.grid.h3grid.neighbours`
        (k-ring without the diagonal); the self weight is set to 1 here.
    time_window_bins
        Number of previous bins in each bin's neighbourhood (ArcGIS's neighbourhood time
        step); 0 analyses every bin on its own.
    alpha
        Per-bin significance level (default 0.10: ArcGIS's 90 % confidence bins count).
    trend_alpha
        Significance level of the Mann-Kendall trend of each cell's z-series.
    fdr
        Benjamini-Hochberg adjust the per-bin p-values over the whole cube (default, as
        ArcGIS); False uses the raw two-sided p-values.

    Returns
    -------
    EmergingHotSpotResult

    Raises
    ------
    InvalidParameterError
        Bad shapes or parameters; fewer than 3 time bins.

    Notes
    -----
    Formulas, rules and precedence: module docstring. ArcGIS analyses only locations with at
    least one incident unless a mask is given; here every cell of the cube is analysed (the
    study grid), so the cube-global mean and standard deviation include empty cells.

    Examples
    --------
    A 6 x 6 lattice, 12 monthly bins; the 2 x 2 block in one corner gets busier every month:

    >>> import numpy as np, libpysal
    >>> w = libpysal.weights.lat2W(6, 6, rook=False).sparse
    >>> counts = np.ones((36, 12))
    >>> counts[[0, 1, 6, 7]] += np.arange(12)
    >>> r = emerging_hotspots(counts, w, time_window_bins=1)
    >>> str(r.pattern[0]), str(r.patroon[0])
    ('consecutive hot spot', 'opeenvolgende hotspot')
    >>> str(r.pattern[35])
    'no pattern detected'
    """
    x = np.asarray(counts, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < 3:
        raise InvalidParameterError(
            f"counts must be (n_cells, n_bins) with at least 3 bins, got shape {x.shape}"
        )
    a = _check_alpha("alpha", alpha)
    ta = _check_alpha("trend_alpha", trend_alpha)
    z = spacetime_gistar_z(x, w, time_window_bins)
    p_norm = 2.0 * stats.norm.sf(np.abs(z))
    p_fdr = benjamini_hochberg(p_norm.ravel()).reshape(z.shape)
    sig = (p_fdr if fdr else p_norm) < a
    hot = sig & (z > 0)
    cold = sig & (z < 0)
    mk = mann_kendall(z, alpha=ta)
    code = classify_patterns(hot, cold, mk.z, mk.p, trend_alpha=ta)
    names = np.asarray(PATTERNS)
    dutch = np.asarray([PATROON[p] for p in PATTERNS])
    return EmergingHotSpotResult(
        pattern=names[code],
        patroon=dutch[code],
        pattern_code=code,
        tau=mk.tau,
        trend_z=mk.z,
        trend_p=mk.p,
        z_last=z[:, -1].copy(),
        n_hot_bins=hot.sum(axis=1).astype(np.int64),
        n_cold_bins=cold.sum(axis=1).astype(np.int64),
        z=z,
        p_norm=p_norm,
        p_fdr=p_fdr,
        bin_class=(hot.astype(np.int8) - cold.astype(np.int8)),
        time_window_bins=int(time_window_bins),
        alpha=a,
        trend_alpha=ta,
        fdr=bool(fdr),
    )
