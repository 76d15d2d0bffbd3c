r"""Policy monitor: incident rates per year against a target, and the trend towards it.

For counts :math:`y_{ti}` in years :math:`t` and a population :math:`b_i` (dwellings or
inhabitants) the rate is :math:`1000\, y_{ti} / b_i` per year. With a target :math:`\tau`
(same unit) the last year's rate is *above* or *at or below* it; with the Poisson trend's
annual rate ratio :math:`\rho` (:func:`spatial.targeting.ranking.trend_per_area`) an area above its
target that is falling reaches it, at this pace, after

.. math::

    n = \left\lceil \frac{\log(\tau / r_T)}{\log \rho} \right\rceil \text{ years}

(none when it is not falling, or has no incidents).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from spatial.errors import InvalidParameterError
from spatial.targeting.ranking import TrendResult, trend_per_area

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class MonitorResult:
    """Rates against a target (arrays aligned with the areas).

    Attributes
    ----------
    rate
        ``(T, n)`` incidents per 1,000 of the population per year (NaN without population).
    above
        Last year's rate is above the target.
    trend
        The Poisson trend over the years (None with one year).
    years_to_target
        Years until the target at the current pace (NaN: not above, not falling, or unknown).
    """

    rate: FloatArray
    above: npt.NDArray[np.bool_]
    trend: TrendResult | None
    years_to_target: FloatArray


def rates_against_target(
    counts_by_year: npt.ArrayLike, population: npt.ArrayLike, target_per_1000: float
) -> MonitorResult:
    """Rates per 1,000 per year, whether the last is above the target, and when it gets there.

    Parameters
    ----------
    counts_by_year
        ``(T, n)`` counts, oldest year first.
    population
        ``(n,)`` dwellings or inhabitants; NaN or 0 where unknown (rates NaN there).
    target_per_1000
        Target rate per 1,000 per year (>= 0).

    Raises
    ------
    InvalidParameterError
        Invalid shapes, negative counts or a negative target.

    Examples
    --------
    >>> m = rates_against_target([[30, 5], [24, 6], [20, 4]], [1000, 1000], 10.0)
    >>> m.rate[-1].tolist(), m.above.tolist(), m.years_to_target.tolist()
    ([20.0, 4.0], [True, False], [4.0, nan])
    """
    c = np.asarray(counts_by_year, dtype=np.float64)
    if c.ndim == 1:
        c = c[None, :]
    b = np.asarray(population, dtype=np.float64)
    if c.ndim != 2 or b.shape != (c.shape[1],):
        raise InvalidParameterError(f"counts (T, n) and population (n,), got {c.shape} {b.shape}")
    if (c < 0).any() or not np.isfinite(c).all():
        raise InvalidParameterError("counts must be finite and non-negative")
    if not np.isfinite(target_per_1000) or target_per_1000 < 0:
        raise InvalidParameterError(f"target must be >= 0, got {target_per_1000!r}")
    known = np.isfinite(b) & (b > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(known, c / np.where(known, b, 1.0) * 1000.0, np.nan)
    last = rate[-1]
    above = np.asarray(np.nan_to_num(last, nan=-np.inf) > target_per_1000, dtype=bool)
    trend = trend_per_area(c) if c.shape[0] >= 2 else None
    years = np.full(c.shape[1], np.nan)
    if trend is not None and target_per_1000 > 0:
        ratio = trend.rate_ratio
        falling = above & np.isfinite(ratio) & (ratio > 0) & (ratio < 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            n = np.ceil(np.log(target_per_1000 / last) / np.log(ratio))
        years = np.where(falling, n, np.nan)
    return MonitorResult(rate=rate, above=above, trend=trend, years_to_target=years)
