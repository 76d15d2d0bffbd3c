r"""Empirical Bayes smoothing of area rates (Marshall 1991, global method of moments).

A raw rate :math:`r_i = e_i / b_i` (burglaries per dwelling) is unreliable for an area with few
dwellings: 2 burglaries in 10 dwellings is a rate of 0.2, ten times the city's, on the strength
of two events. Empirical Bayes shrinks each rate towards the overall mean by an amount that
grows as the area's population shrinks:

.. math::

    m = \frac{\sum_i e_i}{\sum_i b_i}, \qquad
    s^2 = \max\!\left(0,\ \frac{\sum_i b_i (r_i - m)^2}{\sum_i b_i} - \frac{m}{\bar b}\right),
    \qquad \bar b = \frac{1}{n}\sum_i b_i,

.. math::

    w_i = \frac{s^2}{s^2 + m / b_i}, \qquad \hat\theta_i = w_i r_i + (1 - w_i)\, m .

:math:`m` and :math:`s^2` are method-of-moments estimates of the mean and variance of the
prior (gamma) distribution of the true rates (Marshall 1991, eqs. 5-6); :math:`m / b_i` is the
Poisson sampling variance of :math:`r_i`. When the between-area variance estimate is negative
(the raw rates vary no more than Poisson noise explains) it is set to 0, as Marshall advises
and GeoDa does, and every area gets the mean. PySAL's ``esda.smoothing.Empirical_Bayes``
computes the same formula without the clamp; the two agree whenever :math:`s^2 > 0`.

References
----------
.. [1] Marshall, R. J. (1991). Mapping disease and mortality rates using empirical Bayes
       estimators. Journal of the Royal Statistical Society, Series C (Applied Statistics)
       40(2), 283-294.
.. [2] Anselin, L., Lozano, N. and Koschinsky, J. (2006). Rate transformations and smoothing.
       Spatial Analysis Laboratory, University of Illinois (GeoDa's EB rate smoother).
.. [3] PySAL esda, ``esda.smoothing.Empirical_Bayes``
       (https://github.com/pysal/esda/blob/main/esda/smoothing.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from spatial.errors import InvalidParameterError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class EBResult:
    r"""Raw and Empirical Bayes rates per area (arrays aligned with the input).

    Attributes
    ----------
    raw_rate
        :math:`e_i / b_i`.
    eb_rate
        The smoothed rate :math:`\hat\theta_i`.
    shrinkage_weight
        :math:`w_i` in [0, 1): the weight of the area's own rate (0 = fully shrunk to the mean).
    prior_mean
        :math:`m`.
    prior_variance
        :math:`s^2` after clamping at 0.
    prior_variance_unclamped
        The method-of-moments estimate before clamping (negative: no extra-Poisson variation).
    """

    raw_rate: FloatArray
    eb_rate: FloatArray
    shrinkage_weight: FloatArray
    prior_mean: float
    prior_variance: float
    prior_variance_unclamped: float


def _validate(events: npt.ArrayLike, population: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    e = np.asarray(events, dtype=np.float64)
    b = np.asarray(population, dtype=np.float64)
    if e.ndim < 1 or e.shape[-1] < 2:
        raise InvalidParameterError(f"events must hold at least 2 areas, got shape {e.shape}")
    if b.ndim != 1 or b.shape[0] != e.shape[-1]:
        raise InvalidParameterError(
            f"population must be 1-d with one value per area ({e.shape[-1]}), got {b.shape}"
        )
    if not (np.isfinite(e).all() and np.isfinite(b).all()):
        raise InvalidParameterError("events and population must be finite")
    if (e < 0).any():
        raise InvalidParameterError("events must be non-negative")
    if (b <= 0).any():
        raise InvalidParameterError(
            f"population must be positive in every area (drop areas without dwellings), "
            f"got minimum {b.min()!r}"
        )
    return e, b


def eb_rates(events: npt.ArrayLike, population: npt.ArrayLike) -> FloatArray:
    r"""Global Empirical Bayes rates, vectorised over leading axes of ``events``.

    Each row ``events[..., :]`` is smoothed on its own (its own :math:`m` and :math:`s^2`), so
    an ``(R, n)`` array of resampled counts is smoothed in one call.

    Parameters
    ----------
    events
        Counts :math:`e_i`, shape ``(..., n)``, non-negative.
    population
        Population at risk :math:`b_i` (dwellings), shape ``(n,)``, positive.

    Returns
    -------
    numpy.ndarray
        :math:`\hat\theta`, same shape as ``events`` (events per unit of population).

    Raises
    ------
    InvalidParameterError
        Fewer than 2 areas, mismatched shapes, negative or non-finite values, a population
        that is not positive.

    Examples
    --------
    >>> eb_rates([[2, 40, 60], [0, 0, 0]], [10, 2000, 2000]).round(5).tolist()
    [[0.03089, 0.02073, 0.02939], [0.0, 0.0, 0.0]]
    """
    e, b = _validate(events, population)
    return _eb(e, b)[0]


def _eb(e: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Vectorised core: (eb_rate, weight, m, s2_unclamped) with m and s2 over the last axis."""
    b_sum = b.sum()
    m = e.sum(axis=-1, keepdims=True) / b_sum
    r = e / b
    s2_raw = (b * (r - m) ** 2).sum(axis=-1, keepdims=True) / b_sum - m / b.mean()
    s2 = np.maximum(s2_raw, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # s2 = 0 (including m = 0: no events at all) means "no evidence of variation": w = 0.
        wgt = np.where(s2 > 0, s2 / (s2 + m / b), 0.0)
    return wgt * r + (1.0 - wgt) * m, wgt, m, s2_raw


def empirical_bayes(events: npt.ArrayLike, population: npt.ArrayLike) -> EBResult:
    r"""Raw and global Empirical Bayes rates with the prior's moments (Marshall 1991).

    Parameters
    ----------
    events
        Counts per area :math:`e_i` (e.g. burglaries), shape ``(n,)``.
    population
        Population at risk per area :math:`b_i` (e.g. dwellings), shape ``(n,)``, positive.

    Returns
    -------
    EBResult

    Raises
    ------
    InvalidParameterError
        As :func:`eb_rates`; ``events`` must be 1-d here.

    Notes
    -----
    Rates are per unit of ``population``; multiply by 1,000 for "per 1,000 dwellings". For
    several years pass the summed counts and ``dwellings * years`` to get annual rates.

    Examples
    --------
    A 10-dwelling area with 2 burglaries next to two areas of 2,000 dwellings:

    >>> r = empirical_bayes([2, 40, 60], [10, 2000, 2000])
    >>> r.raw_rate.tolist()
    [0.2, 0.02, 0.03]
    >>> r.eb_rate.round(4).tolist()  # the small area's 0.2 is pulled to near the mean
    [0.0309, 0.0207, 0.0294]
    >>> round(r.prior_mean, 6), round(float(r.shrinkage_weight[0]), 4)
    (0.025436, 0.0313)
    """
    e, b = _validate(events, population)
    if e.ndim != 1:
        raise InvalidParameterError(f"events must be 1-d, got shape {e.shape}")
    eb, wgt, m, s2_raw = _eb(e, b)
    return EBResult(
        raw_rate=e / b,
        eb_rate=eb,
        shrinkage_weight=wgt,
        prior_mean=float(m[0]),
        prior_variance=float(max(s2_raw[0], 0.0)),
        prior_variance_unclamped=float(s2_raw[0]),
    )
