r"""Accuracy of hotspot forecasts: hit rate, PAI, PEI and RRI over a selected forecast area.

A forecast ranks study cells; the forecast *area* is the top ``coverage`` share of cells
(:func:`top_share_cells`). With :math:`n` test-period incidents inside that area, :math:`N`
test-period incidents in the whole study area, :math:`a` the area selected and :math:`A`
the study area:

.. math::

    \text{hit rate} = \frac{n}{N}, \qquad
    \text{PAI} = \frac{n / N}{a / A}

(the Prediction Accuracy Index of Chainey, Tompson & Uhlig 2008: hit rate over area share;
1 is no better than chance, :math:`1/(a/A)` is the ceiling). Over several forecast origins
the *pooled* hit rate is :math:`\sum_o n_o / \sum_o N_o` (each incident counts once).

The Prediction Efficiency Index (Hunt 2016) divides :math:`n` by :math:`n^{*}`, the most
incidents any selection of the same number of cells could have captured:
:math:`\text{PEI} = n / n^{*} \in [0, 1]`.

The Recapture Rate Index (Levine 2008) compares the forecast area's share of incidents in
the test period (2) with its share in a reference period before the origin (1):

.. math::

    \text{RRI} = \frac{n_2 / n_1}{N_2 / N_1}

with :math:`n_1, n_2` the incidents inside the area and :math:`N_1, N_2` all incidents, in
periods 1 and 2. RRI > 1: the area captured a larger share of crime in the test period than
in the period it was (typically) drawn from; RRI < 1: the hotspots "cooled down" (regression
to the mean). It is undefined (NaN) when :math:`n_1 = 0` or :math:`N_2 = 0`. Note that
some software (e.g. R ``ptools::pai``) reports a different quantity under the same
abbreviation, predicted over observed counts; this module follows Levine.

References
----------
.. [1] Chainey, S., Tompson, L. and Uhlig, S. (2008). The utility of hotspot mapping for
       predicting spatial patterns of crime. Security Journal 21(1-2), 4-28.
.. [2] Levine, N. (2008). The "hottest" part of a hotspot: comments on "The utility of
       hotspot mapping for predicting spatial patterns of crime". Security Journal 21(4),
       295-302.
.. [3] Hunt, J. M. (2016). Do crime hot spots move? Exploring the effects of the modifiable
       areal unit problem and modifiable temporal unit problem on crime hot spot
       stability. PhD thesis, American University (Prediction Efficiency Index).
.. [4] Bowers, K. J., Johnson, S. D. and Pease, K. (2004). Prospective hot-spotting: the
       future of crime mapping? British Journal of Criminology 44(5), 641-658 (hit rate /
       "search efficiency" evaluation of prospective maps).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from spatial.errors import InvalidParameterError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def n_selected(n_cells: int, coverage: float) -> int:
    r"""Return the number of cells in a forecast area covering ``coverage`` of ``n_cells``.

    The smallest whole number of cells whose share is at least ``coverage``:
    :math:`k = \lceil \text{coverage} \cdot n \rceil` (a relative tolerance of
    :math:`10^{-9}` absorbs floating-point noise, so 3 % of 200 cells is 6, not 7).

    Raises
    ------
    InvalidParameterError
        If ``coverage`` is not in (0, 1] or ``n_cells`` < 1.

    Examples
    --------
    >>> n_selected(200, 0.03), n_selected(10, 0.25), n_selected(5, 1.0)
    (6, 3, 5)
    """
    if isinstance(n_cells, bool) or not isinstance(n_cells, int | np.integer) or n_cells < 1:
        raise InvalidParameterError(f"n_cells must be an integer >= 1, got {n_cells!r}")
    if not (isinstance(coverage, int | float | np.floating) and 0.0 < coverage <= 1.0):
        raise InvalidParameterError(f"coverage must be in (0, 1], got {coverage!r}")
    k = math.ceil(float(coverage) * int(n_cells) * (1.0 - 1e-9))
    return int(min(max(k, 1), int(n_cells)))


def top_share_cells(scores: npt.ArrayLike, coverage: float) -> IntArray:
    """Return the top ``coverage`` share of cells by score (the forecast area).

    Parameters
    ----------
    scores
        One finite score per cell; higher = more at risk.
    coverage
        Share of cells to select, in (0, 1]; the count is :func:`n_selected`.

    Returns
    -------
    numpy.ndarray
        Cell indices, highest score first.

    Raises
    ------
    InvalidParameterError
        If ``scores`` is not a non-empty 1-d finite array, or ``coverage`` is out of range.

    Notes
    -----
    Ties are broken deterministically by cell position: among equal scores the cell with
    the lower index is taken first (a stable sort on the negated scores). For an
    :class:`spatial.grid.h3grid.H3Grid` that is ascending H3 index, which is arbitrary with respect
    to risk but reproducible. A method that wants a meaningful tie-break (recency, a
    smoothed surface) has to put it into its scores.

    Examples
    --------
    >>> top_share_cells([0.1, 5.0, 2.0, 5.0, 0.0], 0.6).tolist()
    [1, 3, 2]
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1 or s.size == 0:
        raise InvalidParameterError(f"scores must be a non-empty 1-d array, got shape {s.shape}")
    if not np.isfinite(s).all():
        raise InvalidParameterError("scores hold NaN or infinite values")
    k = n_selected(s.size, coverage)
    return np.argsort(-s, kind="stable")[:k].astype(np.int64)


def hit_rate(hits: npt.ArrayLike, n_events: npt.ArrayLike) -> FloatArray:
    r"""Share of test-period incidents inside the forecast area, :math:`n / N` (NaN if N = 0).

    Examples
    --------
    >>> hit_rate([3, 0], [12, 0]).tolist()
    [0.25, nan]
    """
    n = np.asarray(hits, dtype=np.float64)
    total = np.asarray(n_events, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, n / np.where(total > 0, total, 1.0), np.nan)


def pooled_hit_rate(hits: npt.ArrayLike, n_events: npt.ArrayLike) -> float:
    r"""Hit rate pooled over origins, :math:`\sum_o n_o / \sum_o N_o` (NaN if no incidents).

    Examples
    --------
    >>> pooled_hit_rate([3, 1], [12, 4])
    0.25
    """
    total = float(np.sum(np.asarray(n_events, dtype=np.float64)))
    return float(np.sum(np.asarray(hits, dtype=np.float64)) / total) if total > 0 else math.nan


def pai(hits: npt.ArrayLike, n_events: npt.ArrayLike, area_share: npt.ArrayLike) -> FloatArray:
    r"""Prediction Accuracy Index :math:`(n/N)/(a/A)` (Chainey, Tompson & Uhlig 2008).

    Parameters
    ----------
    hits
        :math:`n`, incidents inside the forecast area.
    n_events
        :math:`N`, incidents in the study area.
    area_share
        :math:`a/A`, in (0, 1].

    Returns
    -------
    numpy.ndarray
        PAI; NaN where :math:`N = 0`.

    Examples
    --------
    12 incidents, 3 of them in a forecast area of 5 % of the study area:

    >>> pai([3], [12], [0.05]).round(6).tolist()
    [5.0]
    """
    share = np.asarray(area_share, dtype=np.float64)
    if ((share <= 0) | (share > 1) | ~np.isfinite(share)).any():
        raise InvalidParameterError(f"area_share must be in (0, 1], got {area_share!r}")
    return hit_rate(hits, n_events) / share


def rri(
    hits_test: npt.ArrayLike,
    n_test: npt.ArrayLike,
    hits_reference: npt.ArrayLike,
    n_reference: npt.ArrayLike,
) -> FloatArray:
    r"""Recapture Rate Index :math:`(n_2/n_1)/(N_2/N_1)` (Levine 2008).

    Parameters
    ----------
    hits_test, n_test
        :math:`n_2, N_2`: incidents inside the forecast area / in total, test period.
    hits_reference, n_reference
        :math:`n_1, N_1`: the same in the reference period before the origin.

    Returns
    -------
    numpy.ndarray
        RRI; NaN where :math:`n_1 = 0`, :math:`N_1 = 0` or :math:`N_2 = 0`.

    Examples
    --------
    The area held 40 of 200 reference incidents (20 %) and 6 of 24 test incidents (25 %):

    >>> rri([6], [24], [40], [200]).round(6).tolist()
    [1.25]
    """
    n2 = np.asarray(hits_test, dtype=np.float64)
    big_n2 = np.asarray(n_test, dtype=np.float64)
    n1 = np.asarray(hits_reference, dtype=np.float64)
    big_n1 = np.asarray(n_reference, dtype=np.float64)
    ok = (n1 > 0) & (big_n1 > 0) & (big_n2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (n2 / np.where(ok, n1, 1.0)) / (big_n2 / np.where(ok, big_n1, 1.0))
    return np.where(ok, value, np.nan)


@dataclass(frozen=True)
class ForecastEvaluation:
    """Accuracy of one forecast (one origin) at one coverage.

    Attributes
    ----------
    selected
        Indices of the cells in the forecast area, highest score first.
    area_share
        :math:`a/A` (area-weighted when cell areas were given).
    n_events
        :math:`N`, test-period incidents in the study area.
    hits
        :math:`n`, test-period incidents in the forecast area.
    best_hits
        :math:`n^*`, the most incidents any set of ``selected.size`` cells held.
    n_reference
        :math:`N_1`, reference-period incidents in the study area.
    hits_reference
        :math:`n_1`, reference-period incidents in the forecast area.
    hit_rate, pai, pei, rri
        The measures (NaN where undefined).
    """

    selected: IntArray
    area_share: float
    n_events: float
    hits: float
    best_hits: float
    n_reference: float
    hits_reference: float
    hit_rate: float
    pai: float
    pei: float
    rri: float


def evaluate_forecast(
    scores: npt.ArrayLike,
    test_counts: npt.ArrayLike,
    coverage: float,
    *,
    reference_counts: npt.ArrayLike | None = None,
    cell_area: npt.ArrayLike | None = None,
) -> ForecastEvaluation:
    """Score one forecast against test-period counts per cell.

    Parameters
    ----------
    scores
        Forecast score per cell (higher = more risk).
    test_counts
        Incidents per cell in the test period.
    coverage
        Share of cells forming the forecast area (see :func:`top_share_cells`).
    reference_counts
        Incidents per cell in the reference period (for RRI); RRI is NaN without them.
    cell_area
        Area per cell (any unit); default equal areas, so :math:`a/A` = share of cells.

    Returns
    -------
    ForecastEvaluation

    Raises
    ------
    InvalidParameterError
        On mismatched lengths, negative counts or areas.

    Examples
    --------
    >>> ev = evaluate_forecast([3, 2, 1, 0], [2, 0, 1, 1], 0.5, reference_counts=[5, 3, 1, 1])
    >>> ev.selected.tolist(), ev.hits, ev.hit_rate, ev.pai, ev.pei
    ([0, 1], 2.0, 0.5, 1.0, 0.6666666666666666)
    >>> round(ev.rri, 6)  # (2 / 8) / (4 / 10)
    0.625
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(test_counts, dtype=np.float64)
    if y.shape != s.shape:
        raise InvalidParameterError(
            f"test_counts must have one value per cell ({s.shape}), got {y.shape}"
        )
    if (y < 0).any() or not np.isfinite(y).all():
        raise InvalidParameterError("test_counts must be finite and non-negative")
    sel = top_share_cells(s, coverage)
    if cell_area is None:
        share = sel.size / s.size
    else:
        area = np.asarray(cell_area, dtype=np.float64)
        if area.shape != s.shape or (area <= 0).any() or not np.isfinite(area).all():
            raise InvalidParameterError("cell_area must be finite, positive, one per cell")
        share = float(area[sel].sum() / area.sum())
    n_events = float(y.sum())
    hits = float(y[sel].sum())
    best = float(np.sort(y)[::-1][: sel.size].sum())
    if reference_counts is None:
        n_ref, hits_ref = math.nan, math.nan
    else:
        r = np.asarray(reference_counts, dtype=np.float64)
        if r.shape != s.shape or (r < 0).any() or not np.isfinite(r).all():
            raise InvalidParameterError("reference_counts must be finite, non-negative, per cell")
        n_ref, hits_ref = float(r.sum()), float(r[sel].sum())
    return ForecastEvaluation(
        selected=sel,
        area_share=float(share),
        n_events=n_events,
        hits=hits,
        best_hits=best,
        n_reference=n_ref,
        hits_reference=hits_ref,
        hit_rate=float(hit_rate([hits], [n_events])[0]),
        pai=float(pai([hits], [n_events], [share])[0]),
        pei=hits / best if best > 0 else math.nan,
        rri=float(rri([hits], [n_events], [hits_ref], [n_ref])[0]),
    )
