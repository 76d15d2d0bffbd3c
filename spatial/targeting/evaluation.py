r"""Evaluation for the Veiligheidskaart: yearly trend per area, the five-year camera rule, WDQ.

Three pure functions on counts (no store, no geometry):

* :func:`yearly_trend` -- the trend of yearly counts per area with dwellings as exposure: a
  Poisson log-linear model with a quasi-Poisson (Pearson) dispersion for its uncertainty.
* :func:`camera_rule` -- Den Haag's rule that fixed camera surveillance is reconsidered after
  an unbroken period of five years of favourable (falling) development.
* :func:`weighted_displacement` -- Bowers and Johnson's (2003) Weighted Displacement Quotient
  for a target area, its buffer and a control area before and after an action.

Why a Poisson trend and not Mann-Kendall on the rates
------------------------------------------------------
The Veiligheidskaart shows at most a handful of whole years per area. Mann-Kendall only uses
the order of the values: with five years the smallest two-sided p-value it can give is
:math:`2/5! \cdot 2 \approx 0.017` (a perfectly monotone series), whatever the size of the
fall, and it ignores how many incidents stand behind a rate (a rate of 2 per 1,000 from 10
incidents is as certain to it as one from 1,000). The Poisson model uses the counts
themselves, so a wijk with few incidents gets a wide interval and one with many a narrow one,
and its slope is a yearly rate ratio that reads directly ("8 % fewer per year"). Crime counts
are overdispersed, so the standard error is widened by the Pearson dispersion (quasi-Poisson,
McCullagh and Nelder 1989, sec. 6.2.3), never narrowed.

References
----------
.. [1] McCullagh, P. and Nelder, J. A. (1989). Generalized Linear Models, 2nd ed. Chapman and
       Hall, London (ch. 6, log-linear models; sec. 6.2.3 overdispersion).
.. [2] Bowers, K. J. and Johnson, S. D. (2003). Measuring the geographical displacement and
       diffusion of benefit effects of crime prevention activity. Journal of Quantitative
       Criminology 19(3), 275-301.
.. [3] Farrington, D. P., Gill, M., Waples, S. J. and Argomaniz, J. (2007). The effects of
       closed-circuit television on crime: meta-analysis of an English national quasi-
       multi-site evaluation. Journal of Experimental Criminology 3(1), 21-38 (the relative
       effect size and its variance).
.. [4] Gemeente Den Haag, Veiligheidsprogramma: the Veiligheidskaart and the rule that fixed
       camera surveillance is reconsidered after a positive trend for an unbroken period of
       five years.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import stats

from spatial.errors import InvalidParameterError
from spatial.targeting.ranking import poisson_slope_newton

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: A fitted slope beyond this (per year) means the MLE does not exist (all incidents in the
#: first or the last year): reported as -inf / +inf.
_SLOPE_CAP: Final = 30.0
#: Least counts for a WDQ conclusion (see :func:`weighted_displacement`).
MIN_TARGET_BEFORE: Final = 10
MIN_CONTROL: Final = 10
MIN_BUFFER: Final = 10


@dataclass(frozen=True)
class YearlyTrend:
    r"""Poisson log-linear trend per area (arrays of length ``n_areas``).

    Attributes
    ----------
    slope
        :math:`\hat b`, the change of the log rate per year (``-inf``/``inf`` when all
        incidents fall in the first/last year; NaN without incidents).
    se
        Standard error of :math:`\hat b`, widened by the dispersion
        (:math:`\sqrt{\hat\phi}` times the Poisson one).
    rate_ratio
        :math:`e^{\hat b}`: 0.92 means 8 % fewer incidents per dwelling per year.
    rr_low, rr_high
        Wald interval of the rate ratio at ``level``.
    p_value
        Two-sided Wald p-value of :math:`b = 0` (with the widened standard error).
    dispersion
        :math:`\hat\phi = \max(1, X^2/(T-2))`, :math:`X^2` Pearson's statistic (1 when
        :math:`T = 2`: no degrees of freedom left).
    n_years
        Number of years :math:`T`.
    level
        Confidence level of the interval.
    """

    slope: FloatArray
    se: FloatArray
    rate_ratio: FloatArray
    rr_low: FloatArray
    rr_high: FloatArray
    p_value: FloatArray
    dispersion: FloatArray
    n_years: int
    level: float


def _counts(counts: npt.ArrayLike, name: str) -> FloatArray:
    y = np.asarray(counts, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2:
        raise InvalidParameterError(f"{name} must be (years, areas), got shape {y.shape}")
    if not np.isfinite(y).all() or (y < 0).any() or (y != np.round(y)).any():
        raise InvalidParameterError(f"{name} must be non-negative integers")
    return y


def yearly_trend(
    counts: npt.ArrayLike,
    exposure: npt.ArrayLike | None = None,
    *,
    level: float = 0.95,
    max_iter: int = 100,
) -> YearlyTrend:
    r"""Trend of yearly counts per area, with dwellings as exposure.

    Parameters
    ----------
    counts
        ``(T, n)`` counts, one row per consecutive year (:math:`T \ge 2`).
    exposure
        Dwellings: ``(n,)`` (the same every year) or ``(T, n)``; positive. Default 1. For
        one series (``counts`` of shape ``(T,)``) a ``(T,)`` exposure is one per year.
    level
        Confidence level of the rate-ratio interval.
    max_iter
        Newton-Raphson iterations (vectorised over areas).

    Returns
    -------
    YearlyTrend

    Raises
    ------
    InvalidParameterError
        Fewer than 2 years, negative or non-integer counts, non-positive exposure, a level
        outside (0, 1).

    Notes
    -----
    The model per area is

    .. math::

        y_t \sim \text{Poisson}(\mu_t), \qquad
        \log \mu_t = \log E_t + a + b\,(t - \bar t),

    fitted by Newton-Raphson on the concave log-likelihood. With :math:`I` the Fisher
    information at the MLE, :math:`\operatorname{se}_P(\hat b) = \sqrt{(I^{-1})_{bb}}`. The
    Pearson statistic :math:`X^2 = \sum_t (y_t - \hat\mu_t)^2/\hat\mu_t` gives the dispersion
    :math:`\hat\phi = \max(1, X^2/(T - 2))` and :math:`\operatorname{se} = \sqrt{\hat\phi}\,
    \operatorname{se}_P`; the interval is :math:`\exp(\hat b \pm z_{(1+\text{level})/2}\,
    \operatorname{se})` and the p-value :math:`2(1 - \Phi(|\hat b|/\operatorname{se}))`.
    The floor at 1 keeps a series that happens to be less variable than Poisson from getting
    a narrower interval than the Poisson one. Where the MLE does not exist (all incidents in
    the first or the last year) the slope is infinite and the interval and p-value are NaN.
    With a constant exposure the slope equals the one of the counts alone.

    Examples
    --------
    >>> t = yearly_trend([[100], [50]], [1000.0])  # two years: b = log(50/100)
    >>> round(float(t.rate_ratio[0]), 4), round(float(t.se[0]), 4)  # se = sqrt(1/100 + 1/50)
    (0.5, 0.1732)
    """
    one_series = np.ndim(counts) == 1
    y = _counts(counts, "counts")
    n_years, n_areas = y.shape
    if n_years < 2:
        raise InvalidParameterError(f"counts must cover at least 2 years, got {n_years}")
    if not 0 < level < 1:
        raise InvalidParameterError(f"level must be in (0, 1), got {level!r}")
    if exposure is None:
        e = np.ones_like(y)
    else:
        e_in = np.asarray(exposure, dtype=np.float64)
        if one_series and e_in.ndim == 1:
            e_in = e_in[:, None]  # one series: one exposure per year
        try:
            e = np.broadcast_to(e_in, y.shape).copy()
        except ValueError:
            raise InvalidParameterError(
                f"exposure must be (areas,) or (years, areas), got shape {e_in.shape}"
            ) from None
    if not np.isfinite(e).all() or (e <= 0).any():
        raise InvalidParameterError("exposure (dwellings) must be positive and finite")
    log_e = np.log(e)
    t = (np.arange(n_years) - (n_years - 1) / 2.0)[:, None]
    total = y.sum(axis=0)
    any_events = total > 0
    a = np.log(np.where(any_events, total, 1.0) / e.sum(axis=0))
    b = poisson_slope_newton(y, t, a, log_e, max_iter=max_iter, tol=1e-12)
    with np.errstate(divide="ignore"):  # the profile MLE of a given b
        a = np.log(total) - np.log((e * np.exp(b * t)).sum(axis=0))
    mu = np.exp(log_e + a + b * t)
    i_aa, i_ab, i_bb = mu.sum(axis=0), (t * mu).sum(axis=0), (t * t * mu).sum(axis=0)
    det = i_aa * i_bb - i_ab**2
    finite = any_events & (np.abs(b) <= _SLOPE_CAP) & (det > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        se_p = np.sqrt(np.where(finite, i_aa / det, np.nan))
        pearson = np.where(finite, ((y - mu) ** 2 / mu).sum(axis=0), np.nan)
    phi = np.maximum(1.0, pearson / (n_years - 2)) if n_years > 2 else np.ones(n_areas)
    phi = np.where(finite, phi, np.nan)
    se = se_p * np.sqrt(phi)
    slope = np.where(np.abs(b) > _SLOPE_CAP, np.copysign(np.inf, b), b)
    slope = np.where(any_events, slope, np.nan)
    z = float(stats.norm.ppf((1 + level) / 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(finite, 2 * stats.norm.sf(np.abs(b) / se), np.nan)
    return YearlyTrend(
        slope=slope,
        se=se,
        rate_ratio=np.exp(slope),
        rr_low=np.where(finite, np.exp(b - z * se), np.nan),
        rr_high=np.where(finite, np.exp(b + z * se), np.nan),
        p_value=p,
        dispersion=phi,
        n_years=n_years,
        level=level,
    )


@dataclass(frozen=True)
class CameraRule:
    """The five-year camera rule per area (arrays of length ``n_areas``).

    Attributes
    ----------
    favourable
        ``(T - 1, n)``: year ``t + 1`` had a lower rate than year ``t``.
    run
        Number of consecutive favourable years ending in the last year.
    met
        ``run >= years``: camera surveillance is to be reconsidered.
    decided
        False where every available year-on-year change is favourable but there are fewer
        than ``years`` of them: the run may have begun before the data, so the rule can be
        neither met nor refused yet. True otherwise (met, or broken within the data).
    years
        The length of the unbroken period the rule asks for.
    """

    favourable: BoolArray
    run: IntArray
    met: BoolArray
    decided: BoolArray
    years: int


def camera_rule(rates: npt.ArrayLike, *, years: int = 5) -> CameraRule:
    r"""Whether each area had an unbroken period of ``years`` favourable years up to the last.

    Parameters
    ----------
    rates
        ``(T, n)`` incidents per 1,000 dwellings, one row per consecutive year, oldest first.
        NaN (no dwellings) is never favourable.
    years
        Length of the unbroken period (Den Haag: 5).

    Returns
    -------
    CameraRule

    Raises
    ------
    InvalidParameterError
        ``years < 1``, fewer than 2 years of rates, negative or infinite rates.

    Notes
    -----
    **Definition.** Year :math:`t` is *favourable* when its rate is strictly lower than the
    year before: :math:`r_t < r_{t-1}` (a fall is the "positive trend" of a safety measure;
    an unchanged rate is not a fall). The *run* in the last year :math:`T` is the largest
    :math:`k` with :math:`r_{T-k} > r_{T-k+1} > \dots > r_T`. The rule is **met** when
    :math:`k \ge` ``years``: each of the last five year-on-year changes is a fall, so it
    needs six years of rates (years :math:`T-5 \dots T`). One year that does not fall
    breaks the period and the count starts again from the next fall. The rule reads the
    rate per dwelling, so a growing wijk is not credited with a fall it did not have.

    Examples
    --------
    >>> r = camera_rule([[9.0], [8.0], [8.5], [7.0], [6.0], [5.0], [4.0]])
    >>> int(r.run[0]), bool(r.met[0]), bool(r.decided[0])  # the rise in year 3 reset it
    (4, False, True)
    """
    if isinstance(years, bool) or not isinstance(years, int | np.integer) or years < 1:
        raise InvalidParameterError(f"years must be a positive integer, got {years!r}")
    r = np.asarray(rates, dtype=np.float64)
    if r.ndim == 1:
        r = r[:, None]
    if r.ndim != 2 or r.shape[0] < 2:
        raise InvalidParameterError(f"rates must be (years >= 2, areas), got shape {r.shape}")
    if np.isinf(r).any() or (r < 0).any():
        raise InvalidParameterError("rates must be non-negative (NaN for unknown)")
    with np.errstate(invalid="ignore"):
        fav = np.asarray(r[1:] < r[:-1], dtype=bool)  # NaN compares False
    n_changes = fav.shape[0]
    # Run ending in the last year: the number of trailing True values per column.
    broken = ~fav[::-1]
    first_break = np.where(broken.any(axis=0), broken.argmax(axis=0), n_changes)
    run = first_break.astype(np.int64)
    met = run >= years
    decided = met | (run < n_changes)
    return CameraRule(favourable=fav, run=run, met=met, decided=decided, years=int(years))


@dataclass(frozen=True)
class WDQResult:
    r"""Weighted Displacement Quotient of one action (Bowers and Johnson 2003).

    Attributes
    ----------
    a_before, a_after, b_before, b_after, c_before, c_after
        Incidents in the target area (A), the buffer (B) and the control area (C), before
        and after.
    success_measure
        :math:`A_a/C_a - A_b/C_b`; negative: the target area improved relative to control.
    buffer_measure
        :math:`B_a/C_a - B_b/C_b`; positive: displacement to the buffer, negative: diffusion
        of benefit.
    wdq
        ``buffer_measure / success_measure``; NaN when the success measure is 0 or a
        control count is 0.
    total_net_effect
        :math:`(A_b C_a/C_b - A_a) + (B_b C_a/C_b - B_a)`: incidents prevented in target and
        buffer together, against what the control area's change predicts.
    res, res_low, res_high
        Relative effect size in the target area :math:`(A_b C_a)/(A_a C_b)` (above 1: the
        target improved) and its interval at ``level``.
    enough
        Whether the counts can carry a conclusion on the target area (see
        :func:`weighted_displacement`).
    buffer_enough
        Whether the buffer's counts can carry a conclusion on displacement.
    significant
        ``enough`` and the interval of ``res`` lies wholly above 1.
    verdict
        Dutch one-line conclusion; "relatieve daling": relative to the control area's change.
    level
        Confidence level.
    """

    a_before: int
    a_after: int
    b_before: int
    b_after: int
    c_before: int
    c_after: int
    success_measure: float
    buffer_measure: float
    wdq: float
    total_net_effect: float
    res: float
    res_low: float
    res_high: float
    enough: bool
    buffer_enough: bool
    significant: bool
    verdict: str
    level: float


#: Dutch wording of the conclusions.
TOO_FEW: Final = "te weinig incidenten om iets te zeggen"


def _verdict(wdq: float, *, enough: bool, significant: bool, buffer_enough: bool) -> str:
    if not enough:
        return TOO_FEW
    if not significant:
        return "geen aantoonbare daling in het doelgebied ten opzichte van het controlegebied"
    if not buffer_enough:
        return "relatieve daling in het doelgebied; te weinig incidenten in de buffer"
    if wdq > 1:
        return "relatieve daling in het doelgebied; uitstraling groter dan het directe effect"
    if wdq > 0:
        return "relatieve daling in het doelgebied; ook de buffer verbeterde (uitstraling)"
    if wdq == 0:
        return "relatieve daling in het doelgebied; geen verplaatsing of uitstraling"
    if wdq >= -1:
        return (
            "relatieve daling in het doelgebied; enige verplaatsing, kleiner dan het directe effect"
        )
    return "verplaatsing naar de buffer groter dan de relatieve daling in het doelgebied"


def weighted_displacement(
    a_before: int,
    a_after: int,
    b_before: int,
    b_after: int,
    c_before: int,
    c_after: int,
    *,
    level: float = 0.95,
) -> WDQResult:
    r"""Weighted Displacement Quotient of a target area A, buffer B and control area C.

    Parameters
    ----------
    a_before, a_after
        Incidents in the target area in the periods before and after (of equal length).
    b_before, b_after
        Incidents in the buffer around it (the ring where displacement would show).
    c_before, c_after
        Incidents in the control area (neither target nor buffer).
    level
        Confidence level of the relative effect size.

    Returns
    -------
    WDQResult

    Raises
    ------
    InvalidParameterError
        Negative or non-integer counts, a level outside (0, 1).

    Notes
    -----
    Bowers and Johnson (2003, eq. 1-3):

    .. math::

        \text{success} = \frac{A_a}{C_a} - \frac{A_b}{C_b}, \qquad
        \text{buffer} = \frac{B_a}{C_a} - \frac{B_b}{C_b}, \qquad
        \mathrm{WDQ} = \frac{\text{buffer}}{\text{success}}.

    Read only when the success measure is negative (the target improved): WDQ above 1
    means diffusion of benefit larger than the direct effect, in (0, 1] diffusion, 0 no
    change in the buffer, in [-1, 0) displacement smaller than the direct effect (a net
    gain), below -1 displacement larger than it. Their total net effect is
    :math:`(A_b C_a/C_b - A_a) + (B_b C_a/C_b - B_a)`.

    **When the counts say nothing** (the rule of this service, not the paper's): a
    conclusion on the target area needs at least 10 incidents there before
    (``MIN_TARGET_BEFORE``: a fall from fewer is noise) and at least 10 in the control area
    in each period (``MIN_CONTROL``); otherwise the verdict is "te weinig incidenten om iets
    te zeggen". With enough counts the fall must also be significant: the relative effect
    size :math:`\mathrm{RES} = A_b C_a / (A_a C_b)` with
    :math:`\operatorname{Var}(\log \mathrm{RES}) = 1/A_b + 1/A_a + 1/C_b + 1/C_a`
    (Farrington et al. 2007; 0.5 is added to a zero :math:`A_a`) must have its interval
    wholly above 1. Displacement is only read when the buffer holds at least 10 incidents
    over both periods (``MIN_BUFFER``).
    """
    vals = (a_before, a_after, b_before, b_after, c_before, c_after)
    for v in vals:
        if isinstance(v, bool) or not float(v).is_integer() or v < 0:
            raise InvalidParameterError(f"counts must be non-negative integers, got {vals!r}")
    if not 0 < level < 1:
        raise InvalidParameterError(f"level must be in (0, 1), got {level!r}")
    ab, aa, bb, ba, cb, ca = (int(v) for v in vals)
    nan = float("nan")
    if cb > 0 and ca > 0:
        success = aa / ca - ab / cb
        buffer = ba / ca - bb / cb
        wdq = buffer / success if success != 0 else nan
        ratio = ca / cb
        tne = (ab * ratio - aa) + (bb * ratio - ba)
    else:
        success = buffer = wdq = tne = nan
    enough = ab >= MIN_TARGET_BEFORE and cb >= MIN_CONTROL and ca >= MIN_CONTROL
    buffer_enough = bb + ba >= MIN_BUFFER
    if ab > 0 and cb > 0 and ca > 0:
        aa_c = aa if aa > 0 else 0.5
        log_res = np.log(ab * ca / (aa_c * cb))
        se = float(np.sqrt(1 / ab + 1 / aa_c + 1 / cb + 1 / ca))
        z = float(stats.norm.ppf((1 + level) / 2))
        res, low, high = (float(np.exp(log_res + k * z * se)) for k in (0, -1, 1))
    else:
        res = low = high = nan
    significant = bool(enough and np.isfinite(low) and low > 1)
    return WDQResult(
        a_before=ab,
        a_after=aa,
        b_before=bb,
        b_after=ba,
        c_before=cb,
        c_after=ca,
        success_measure=float(success),
        buffer_measure=float(buffer),
        wdq=float(wdq),
        total_net_effect=float(tne),
        res=res,
        res_low=low,
        res_high=high,
        enough=enough,
        buffer_enough=buffer_enough,
        significant=significant,
        verdict=_verdict(
            float(wdq), enough=enough, significant=significant, buffer_enough=buffer_enough
        ),
        level=level,
    )
