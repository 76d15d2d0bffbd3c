r"""Priority ranking of areas with rank intervals, and per-area trends over years.

**Score.** An area matters because many incidents happen there (absolute count: where effort
prevents most incidents) and because its dwellings run a high risk (EB-smoothed rate per 1,000
dwellings, :mod:`spatial.targeting.smoothing`). The priority score is their weighted geometric mean,
each relative to its mean over the areas:

.. math::

    S_i = \left(\frac{c_i}{\bar c}\right)^{\alpha / (\alpha + \beta)}
          \left(\frac{\rho_i}{\bar\rho}\right)^{\beta / (\alpha + \beta)}

(:math:`c` annual count, :math:`\rho` EB risk per 1,000 dwellings per year; default
:math:`\alpha = \beta = 1`). :math:`S = 1` is an average area on both; the order of the areas
does not depend on the normalisation, only on :math:`\alpha / \beta`. A geometric mean needs
both: an area with no incidents scores 0 whatever its risk.

**Rank intervals.** A rank from one year of counts is noisy. Treating each area's count as
Poisson with the observed mean (a parametric bootstrap), ``R`` replicate count vectors are
drawn; EB risk, score and rank are recomputed for each replicate, all replicates at once as
``(R, n)`` arrays, and the central ``level`` interval of an area's replicate ranks is its rank
interval (Goldstein & Spiegelhalter 1996; Marshall & Spiegelhalter 1998). Rank 1 is the
highest priority; ties take the best rank of the tied group (competition ranking). An area
with zero observed incidents always replicates zero, so its interval reflects the other areas
only.

**Trend.** For counts :math:`y_{t}` in years :math:`t = 1..T`, :func:`trend_per_area` reports
whether they fell every year, the mean year-on-year change
:math:`(y_T - y_1)/(T - 1)`, and a Poisson log-linear regression
:math:`\log \mu_t = a + b\,t` fitted by maximum likelihood (Newton-Raphson, vectorised over
areas): :math:`e^b` is the annual rate ratio, and the p-value of :math:`b = 0` comes from the
likelihood-ratio test, :math:`2(\ell(\hat a, \hat b) - \ell(\hat a_0, 0)) \sim \chi^2_1`
(the Wald test breaks down when the MLE of :math:`b` is infinite, e.g. 5, 0, 0).

References
----------
.. [1] Goldstein, H. and Spiegelhalter, D. J. (1996). League tables and their limitations:
       statistical issues in comparisons of institutional performance. JRSS A 159(3), 385-443.
.. [2] Marshall, E. C. and Spiegelhalter, D. J. (1998). Reliability of league tables of in
       vitro fertilisation clinics: retrospective analysis of live birth rates. BMJ 316,
       1701-1704 (Poisson bootstrap rank intervals).
.. [3] McCullagh, P. and Nelder, J. A. (1989). Generalized Linear Models, 2nd ed. Chapman &
       Hall (Poisson log-linear model, likelihood-ratio test).
.. [4] Marshall, R. J. (1991). Mapping disease and mortality rates using empirical Bayes
       estimators. Applied Statistics 40(2), 283-294.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import stats
from scipy.special import xlogy

from spatial.errors import InvalidParameterError
from spatial.targeting.smoothing import _eb, _validate

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Replicates are processed in chunks of about this many (replicate x area) values.
_CHUNK_VALUES: Final = 2_000_000
#: |b| beyond this is an infinite MLE (counts all in the first or last year).
_SLOPE_CAP: Final = 30.0


@dataclass(frozen=True)
class RankIntervals:
    """Priority scores and ranks with Poisson-bootstrap rank intervals (aligned with areas).

    Attributes
    ----------
    score
        Priority score :math:`S_i` from the observed counts.
    rank
        Observed rank, 1 = highest score.
    rank_lo, rank_hi
        Central ``level`` interval of the replicate ranks (``rank_lo`` the better end).
    rank_median
        Median replicate rank.
    p_top
        Share of replicates in which the area ranks in the top ``top_k``.
    annual_count
        Mean incidents per year.
    risk_per_1000
        EB-smoothed incidents per 1,000 dwellings per year.
    level, replicates, top_k, weights
        The settings used.
    """

    score: FloatArray
    rank: IntArray
    rank_lo: IntArray
    rank_hi: IntArray
    rank_median: FloatArray
    p_top: FloatArray
    annual_count: FloatArray
    risk_per_1000: FloatArray
    level: float
    replicates: int
    top_k: int
    weights: tuple[float, float]


@dataclass(frozen=True)
class TrendResult:
    r"""Per-area trend over years (arrays aligned with areas).

    Attributes
    ----------
    strictly_decreasing
        The count fell every year.
    mean_annual_change
        :math:`(y_T - y_1)/(T - 1)` incidents per year.
    slope
        Poisson log-linear slope :math:`\hat b` per year (``-inf``/``inf`` when all incidents
        fall in the first/last year; NaN without incidents).
    rate_ratio
        :math:`e^{\hat b}`: 0.8 means 20 % fewer incidents per year.
    p_value
        Likelihood-ratio p-value of :math:`b = 0` (NaN without incidents).
    """

    strictly_decreasing: BoolArray
    mean_annual_change: FloatArray
    slope: FloatArray
    rate_ratio: FloatArray
    p_value: FloatArray


def _check_weights(weights: tuple[float, float]) -> tuple[float, float]:
    try:
        a, b = (float(x) for x in weights)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"weights must be two numbers (count, risk), got {weights!r}"
        ) from None
    if not (np.isfinite(a) and np.isfinite(b)) or a < 0 or b < 0 or a + b <= 0:
        raise InvalidParameterError(
            f"weights must be non-negative and not both zero, got {weights!r}"
        )
    return a, b


def priority_score(
    counts: npt.ArrayLike, risk: npt.ArrayLike, weights: tuple[float, float] = (1.0, 1.0)
) -> FloatArray:
    r"""Weighted geometric mean of count and risk, each relative to its mean over the areas.

    :math:`S_i = (c_i/\bar c)^{\alpha/(\alpha+\beta)} (\rho_i/\bar\rho)^{\beta/(\alpha+\beta)}`,
    with the means over the last axis (so ``(R, n)`` replicate arrays score row by row).

    Parameters
    ----------
    counts
        Incidents per area (e.g. per year), shape ``(..., n)``, non-negative.
    risk
        Risk per area (e.g. EB incidents per 1,000 dwellings), same shape, non-negative.
    weights
        :math:`(\alpha, \beta)`: weight of the count and of the risk; ``(1, 0)`` ranks by count
        only, ``(0, 1)`` by risk only.

    Returns
    -------
    numpy.ndarray
        Scores, same shape; 0 where a weighted component is 0 (or all areas have 0).

    Raises
    ------
    InvalidParameterError
        Mismatched shapes, negative or non-finite values, invalid weights.

    Examples
    --------
    >>> priority_score([10, 40, 10], [2.0, 2.0, 8.0]).round(4).tolist()
    [0.5, 1.0, 1.0]
    >>> priority_score([10, 40, 10], [2.0, 2.0, 8.0], weights=(1, 0)).tolist()
    [0.5, 2.0, 0.5]
    """
    a, b = _check_weights(weights)
    c = np.asarray(counts, dtype=np.float64)
    r = np.asarray(risk, dtype=np.float64)
    if c.shape != r.shape or c.ndim < 1:
        raise InvalidParameterError(
            f"counts and risk must have one shape, got {c.shape}, {r.shape}"
        )
    if not (np.isfinite(c).all() and np.isfinite(r).all()) or (c < 0).any() or (r < 0).any():
        raise InvalidParameterError("counts and risk must be finite and non-negative")
    log_s = np.zeros(c.shape)
    for x, wx in ((c, a), (r, b)):  # two components, not a loop over areas
        if wx == 0:
            continue
        mean = x.mean(axis=-1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(mean > 0, x / mean, 0.0)
            log_s = log_s + wx / (a + b) * np.log(rel)
    return np.exp(log_s)


def _ranks(score: FloatArray) -> IntArray:
    """Competition ranks along the last axis, 1 = highest score."""
    return stats.rankdata(-score, method="min", axis=-1).astype(np.int64)


def rank_intervals(
    counts: npt.ArrayLike,
    dwellings: npt.ArrayLike,
    *,
    weights: tuple[float, float] = (1.0, 1.0),
    replicates: int = 1000,
    level: float = 0.90,
    top_k: int = 10,
    rng: np.random.Generator | int | None = None,
) -> RankIntervals:
    r"""Priority score, rank and Poisson-bootstrap rank interval per area.

    Parameters
    ----------
    counts
        Incidents per area, shape ``(n,)`` for one period or ``(years, n)``; counts are
        summed over years and reported per year.
    dwellings
        Dwellings per area, shape ``(n,)``, positive.
    weights
        :math:`(\alpha, \beta)` of :func:`priority_score` (count, risk).
    replicates
        Number of Poisson replicates ``R`` (>= 1).
    level
        Coverage of the rank interval, in (0, 1); 0.90 gives the 5th-95th percentile.
    top_k
        ``p_top`` is the share of replicates in which an area ranks ``<= top_k``.
    rng
        Random generator or seed.

    Returns
    -------
    RankIntervals

    Raises
    ------
    InvalidParameterError
        Invalid counts or dwellings (see :func:`spatial.targeting.smoothing.eb_rates`), weights,
        ``replicates``, ``level`` or ``top_k``.

    Notes
    -----
    Summed counts :math:`E_i` are resampled as :math:`E_i^* \sim \text{Poisson}(E_i)` (the
    sum of independent yearly Poisson counts); each replicate gets its own EB prior. Work is
    done in chunks of replicates so memory stays near ``2e6`` values whatever ``R`` is.

    Examples
    --------
    Two years, four areas: area 0 has the most burglaries, area 1 the highest risk:

    >>> counts = [[30, 9, 12, 4], [26, 12, 10, 6]]
    >>> r = rank_intervals(counts, [3000, 300, 900, 1000], replicates=500, rng=1)
    >>> r.annual_count.tolist(), r.risk_per_1000.round(1).tolist()
    ([28.0, 10.5, 11.0, 5.0], [9.4, 27.2, 12.0, 5.7])
    >>> r.rank.tolist(), r.rank_lo.tolist(), r.rank_hi.tolist()
    ([2, 1, 3, 4], [1, 1, 2, 4], [2, 3, 3, 4])
    """
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim == 1:
        c = c[None, :]
    if c.ndim != 2:
        raise InvalidParameterError(f"counts must be (n,) or (years, n), got shape {c.shape}")
    if not np.isfinite(c).all() or (c < 0).any() or (c != np.round(c)).any():
        raise InvalidParameterError("counts must be non-negative integers")
    years = c.shape[0]
    total = c.sum(axis=0)
    e, b = _validate(total, dwellings)
    wts = _check_weights(weights)
    if isinstance(replicates, bool) or not isinstance(replicates, int | np.integer):
        raise InvalidParameterError(f"replicates must be an integer >= 1, got {replicates!r}")
    if replicates < 1:
        raise InvalidParameterError(f"replicates must be an integer >= 1, got {replicates!r}")
    if not 0 < level < 1:
        raise InvalidParameterError(f"level must be in (0, 1), got {level!r}")
    if isinstance(top_k, bool) or not isinstance(top_k, int | np.integer) or top_k < 1:
        raise InvalidParameterError(f"top_k must be an integer >= 1, got {top_k!r}")
    gen = np.random.default_rng(rng)
    n = e.size
    exposure = b * years  # dwelling-years: EB rates come out per dwelling per year

    def score_of(events: FloatArray) -> FloatArray:
        risk = _eb(events, exposure)[0] * 1000.0
        return priority_score(events / years, risk, wts)

    score = score_of(e)
    chunk = max(1, _CHUNK_VALUES // n)
    ranks = np.concatenate(
        [
            _ranks(score_of(gen.poisson(e, size=(min(chunk, replicates - s), n)).astype(float)))
            for s in range(0, replicates, chunk)  # a few chunks, each vectorised over R x n
        ]
    )
    alpha = (1.0 - level) / 2.0
    return RankIntervals(
        score=score,
        rank=_ranks(score),
        rank_lo=np.quantile(ranks, alpha, axis=0, method="lower").astype(np.int64),
        rank_hi=np.quantile(ranks, 1.0 - alpha, axis=0, method="higher").astype(np.int64),
        rank_median=np.median(ranks, axis=0),
        p_top=(ranks <= top_k).mean(axis=0),
        annual_count=e / years,
        risk_per_1000=_eb(e, exposure)[0] * 1000.0,
        level=float(level),
        replicates=int(replicates),
        top_k=int(top_k),
        weights=wts,
    )


def poisson_slope_newton(
    y: FloatArray,
    t: FloatArray,
    a: FloatArray,
    log_offset: FloatArray | float,
    *,
    max_iter: int,
    tol: float,
) -> FloatArray:
    r"""Return the slopes :math:`b` of :math:`\log \mu_{ti} = o_{ti} + a_i + b_i t` (Poisson MLE).

    Newton steps on :math:`(a, b)`, vectorised over all areas (columns of ``y``), from
    ``a`` and :math:`b = 0`; a step is 0 where the information matrix is singular, and
    :math:`b` is clipped to :math:`\pm(` ``_SLOPE_CAP`` :math:`+ 1)` (an area whose counts all
    fall in one year has no finite MLE). The callers recompute the profile MLE of :math:`a`.

    Parameters
    ----------
    y
        ``(years, areas)`` counts.
    t
        ``(years, 1)`` centred year index.
    a
        Starting intercepts per area.
    log_offset
        :math:`o_{ti}`: log exposure, or 0.
    max_iter, tol
        At most this many steps; stop when every step is below ``tol``.
    """
    b = np.zeros(y.shape[1])
    for _ in range(max_iter):
        mu = np.exp(log_offset + a + b * t)
        r = y - mu
        u_a, u_b = r.sum(axis=0), (t * r).sum(axis=0)
        i_aa, i_ab, i_bb = mu.sum(axis=0), (t * mu).sum(axis=0), (t * t * mu).sum(axis=0)
        det = i_aa * i_bb - i_ab**2
        with np.errstate(divide="ignore", invalid="ignore"):
            da = np.where(det > 0, (i_bb * u_a - i_ab * u_b) / det, 0.0)
            db = np.where(det > 0, (i_aa * u_b - i_ab * u_a) / det, 0.0)
        a = a + da
        b = np.clip(b + db, -_SLOPE_CAP - 1.0, _SLOPE_CAP + 1.0)
        if (np.abs(db) < tol).all() and (np.abs(da) < tol).all():
            break
    return np.asarray(b, dtype=np.float64)


def trend_per_area(counts_by_year: npt.ArrayLike, *, max_iter: int = 100) -> TrendResult:
    r"""Year-on-year trend per area: falling every year, mean change, Poisson slope and p-value.

    Parameters
    ----------
    counts_by_year
        ``(T, n)`` counts, one row per consecutive year (T >= 2), non-negative integers.
    max_iter
        Newton-Raphson iterations (the fit is vectorised over areas).

    Returns
    -------
    TrendResult

    Raises
    ------
    InvalidParameterError
        Fewer than 2 years, negative or non-integer counts.

    Notes
    -----
    The model is :math:`y_t \sim \text{Poisson}(\exp(a + b\,(t - \bar t)))`, fitted per area;
    the log-likelihood is concave, and Newton's method from :math:`(\log \bar y, 0)` converges.
    When all incidents fall in the first (last) year the MLE of :math:`b` is
    :math:`-\infty` (:math:`+\infty`); the fit then runs to a slope beyond 30 per year (rate
    ratio below :math:`10^{-13}`), reported as infinite, and the likelihood-ratio statistic
    is its limit. Crime counts are often overdispersed relative to the Poisson, which makes
    these p-values too small; with 3-5 years there is too little data to estimate the
    dispersion, so read them as a screen, not a test.

    Examples
    --------
    >>> t = trend_per_area([[10, 5, 4], [20, 0, 4], [40, 0, 5]])
    >>> t.strictly_decreasing.tolist(), t.mean_annual_change.tolist()
    ([False, False, False], [15.0, -2.5, 0.5])
    >>> t.rate_ratio.round(4).tolist()  # doubling every year; 5, 0, 0 -> falls to nothing
    [2.0, 0.0, 1.1226]
    >>> round(float(t.p_value[1]), 6)  # LR statistic 2 * 5 * log(3)
    0.000918
    >>> trend_per_area([[9, 3], [6, 3], [2, 3]]).strictly_decreasing.tolist()
    [True, False]
    """
    y = np.asarray(counts_by_year, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2 or y.shape[0] < 2:
        raise InvalidParameterError(f"counts_by_year must be (years >= 2, n), got shape {y.shape}")
    if not np.isfinite(y).all() or (y < 0).any() or (y != np.round(y)).any():
        raise InvalidParameterError("counts_by_year must be non-negative integers")
    n_years = y.shape[0]
    t = (np.arange(n_years) - (n_years - 1) / 2.0)[:, None]
    total = y.sum(axis=0)
    any_events = total > 0
    a = np.log(np.where(any_events, total / n_years, 1.0))
    b = poisson_slope_newton(y, t, a, 0.0, max_iter=max_iter, tol=1e-10)
    # The profile MLE of a given b (exact at the optimum; also right where b hit the cap).
    with np.errstate(divide="ignore"):
        a = np.log(total) - np.log(np.exp(b * t).sum(axis=0))
    mu1 = np.exp(a + b * t)
    mu0 = np.broadcast_to(total / n_years, y.shape)
    loglik1 = (xlogy(y, mu1) - mu1).sum(axis=0)
    loglik0 = (xlogy(y, mu0) - mu0).sum(axis=0)
    lr = np.maximum(2.0 * (loglik1 - loglik0), 0.0)
    slope = np.where(np.abs(b) > _SLOPE_CAP, np.copysign(np.inf, b), b)
    slope = np.where(any_events, slope, np.nan)
    return TrendResult(
        strictly_decreasing=np.asarray((np.diff(y, axis=0) < 0).all(axis=0), dtype=bool),
        mean_annual_change=(y[-1] - y[0]) / (n_years - 1),
        slope=slope,
        rate_ratio=np.exp(slope),
        p_value=np.where(any_events, stats.chi2.sf(lr, 1), np.nan),
    )
