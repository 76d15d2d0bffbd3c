"""Veiligheidskaart statistics: yearly Poisson trend, the five-year camera rule, the WDQ.

References: statsmodels' GLM (an independent implementation of the Poisson log-linear model
with an offset, and of the Pearson-scaled standard errors), closed forms for two years,
constructed series for the camera rule and a hand-computed WDQ example with every step below.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial.errors import InvalidParameterError
from spatial.targeting.evaluation import (
    TOO_FEW,
    camera_rule,
    weighted_displacement,
    yearly_trend,
)

# ---------------------------------------------------------------------------- yearly trend


def _glm(y: np.ndarray, e: np.ndarray) -> tuple[float, float, float]:
    """statsmodels: slope, Poisson se and Pearson-scaled se of log mu = log e + a + b t."""
    t = np.arange(len(y)) - (len(y) - 1) / 2
    x = sm.add_constant(t)
    fam = sm.families.Poisson()
    fit = sm.GLM(y, x, family=fam, offset=np.log(e)).fit(tol=1e-13)
    scaled = sm.GLM(y, x, family=fam, offset=np.log(e)).fit(scale="X2", tol=1e-13)
    return float(fit.params[1]), float(fit.bse[1]), float(scaled.bse[1])


CASES = [
    # (counts per year, dwellings per year): overdispersed, underdispersed, growing exposure.
    ([120, 95, 130, 70, 60], [4000, 4000, 4000, 4000, 4000]),
    ([50, 48, 45, 44, 40], [2500, 2500, 2500, 2500, 2500]),
    ([30, 32, 35, 33, 36, 40], [1000, 1100, 1200, 1300, 1400, 1500]),
    ([3, 0, 2, 1, 0], [800, 800, 800, 800, 800]),
]


@pytest.mark.parametrize(("y", "e"), CASES)
def test_trend_matches_statsmodels_glm(y: list[int], e: list[float]) -> None:
    ya, ea = np.array(y, float), np.array(e, float)
    slope, se_pois, se_x2 = _glm(ya, ea)
    t = yearly_trend(ya[:, None], ea[:, None])
    assert t.slope[0] == pytest.approx(slope, abs=1e-9)
    # The dispersion is floored at 1: the se is the larger of the Poisson and the scaled one.
    assert t.se[0] == pytest.approx(max(se_pois, se_x2), rel=1e-7)
    assert t.rate_ratio[0] == pytest.approx(math.exp(slope), rel=1e-9)
    z = 1.959963984540054
    assert t.rr_low[0] == pytest.approx(math.exp(slope - z * t.se[0]), rel=1e-9)
    assert t.rr_high[0] == pytest.approx(math.exp(slope + z * t.se[0]), rel=1e-9)


def test_trend_vectorised_equals_one_by_one() -> None:
    y = np.array([c[0] for c in CASES[:2]], float).T
    e = np.array([c[1] for c in CASES[:2]], float).T
    both = yearly_trend(y, e)
    for j in range(2):
        one = yearly_trend(y[:, j], e[:, j])
        assert both.slope[j] == pytest.approx(one.slope[0], abs=1e-12)
        assert both.se[j] == pytest.approx(one.se[0], rel=1e-10)


def test_two_years_closed_form() -> None:
    # Two years: b = log(y2/E2) - log(y1/E1), Var(b) = 1/y1 + 1/y2 (hand-derived from the
    # Fisher information with t = -1/2, +1/2), no dispersion left to estimate.
    t = yearly_trend([[80], [60]], [[2000.0], [2400.0]])
    assert t.slope[0] == pytest.approx(math.log((60 / 2400) / (80 / 2000)))
    assert t.se[0] == pytest.approx(math.sqrt(1 / 80 + 1 / 60))
    assert t.dispersion[0] == 1.0


def test_constant_exposure_leaves_the_slope_of_the_counts() -> None:
    y = np.array([[40], [35], [33], [20]])
    assert yearly_trend(y, [500.0]).slope[0] == pytest.approx(yearly_trend(y).slope[0])


def test_trend_edge_cases() -> None:
    t = yearly_trend([[0, 5, 0], [0, 0, 0], [0, 0, 7]])
    assert math.isnan(t.slope[0]) and math.isnan(t.p_value[0])  # no incidents
    assert t.slope[1] == -math.inf and math.isnan(t.rr_low[1])  # all in the first year
    assert t.slope[2] == math.inf
    with pytest.raises(InvalidParameterError):
        yearly_trend([[1, 2]])
    with pytest.raises(InvalidParameterError):
        yearly_trend([[1], [2]], [0.0])
    with pytest.raises(InvalidParameterError):
        yearly_trend(np.array([[1.5], [2.0]]))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=3, max_size=8), st.floats(100, 1e5))
def test_trend_interval_covers_the_estimate_and_is_symmetric_in_logs(
    y: list[int], dwellings: float
) -> None:
    t = yearly_trend(np.array(y)[:, None], [dwellings])
    lo, mid, hi = math.log(t.rr_low[0]), t.slope[0], math.log(t.rr_high[0])
    assert lo < mid < hi
    assert mid - lo == pytest.approx(hi - mid, rel=1e-9)
    assert 0 <= t.p_value[0] <= 1 and t.dispersion[0] >= 1


# ---------------------------------------------------------------------------- camera rule


def test_five_falls_meet_the_rule() -> None:
    # Six years, each lower than the one before: five favourable changes.
    r = camera_rule([10.0, 9.0, 8.0, 7.5, 7.0, 6.0])
    assert r.favourable[:, 0].tolist() == [True] * 5
    assert int(r.run[0]) == 5 and bool(r.met[0]) and bool(r.decided[0])


def test_a_break_in_year_three_resets_the_count() -> None:
    # Year 3 rises (8 -> 8.5): the run starts again from year 4; four falls after it.
    rates = [9.0, 8.0, 8.5, 7.0, 6.0, 5.0, 4.0]
    r = camera_rule(rates)
    assert r.favourable[:, 0].tolist() == [True, False, True, True, True, True]
    assert int(r.run[0]) == 4 and not r.met[0] and r.decided[0]
    # One more falling year completes five after the break.
    r2 = camera_rule([*rates, 3.5])
    assert int(r2.run[0]) == 5 and bool(r2.met[0])
    # An unchanged year is no fall: it breaks the period too.
    r3 = camera_rule([9.0, 8.0, 8.0, 7.0, 6.0, 5.0, 4.0])
    assert int(r3.run[0]) == 4 and not r3.met[0]


def test_rule_undecided_when_the_data_are_shorter_than_the_period() -> None:
    # Four years, three falls: the run may have begun before the data -> undecided;
    # a break inside the data decides it (not met) whatever the length.
    r = camera_rule(np.array([[8.0, 8.0], [7.0, 9.0], [6.0, 7.0], [5.0, 6.0]]))
    assert r.run.tolist() == [3, 2]
    assert r.met.tolist() == [False, False]
    assert r.decided.tolist() == [False, True]


def test_rule_rejects_bad_input_and_nan_breaks() -> None:
    # An unknown rate (no dwellings) breaks both changes it is part of: 4 -> ? and ? -> 3.
    r = camera_rule([5.0, 4.0, float("nan"), 3.0, 2.0])
    assert r.favourable[:, 0].tolist() == [True, False, False, True]
    assert int(r.run[0]) == 1
    for bad in ([1.0], [1.0, -1.0], [1.0, math.inf]):
        with pytest.raises(InvalidParameterError):
            camera_rule(bad)
    with pytest.raises(InvalidParameterError):
        camera_rule([1.0, 2.0], years=0)


# ---------------------------------------------------------------------------- WDQ


def test_wdq_worked_example_small_counts_not_significant() -> None:
    # Constructed, hand-computed (every step):
    #   A_b = 100, A_a = 60, B_b = 80, B_a = 70, C_b = 1000, C_a = 800
    #   success = 60/800 - 100/1000 = 0.075 - 0.100 = -0.025
    #   buffer  = 70/800 -  80/1000 = 0.0875 - 0.080 = +0.0075
    #   WDQ = 0.0075 / -0.025 = -0.3  (displacement smaller than the direct effect)
    #   TNE = (100 * 800/1000 - 60) + (80 * 800/1000 - 70) = 20 + (-6) = 14
    #   RES = 100 * 800 / (60 * 1000) = 1.33333
    #   Var log RES = 1/100 + 1/60 + 1/1000 + 1/800 = 0.0289167, se = 0.170049
    #   95 %: exp(0.287682 -+ 1.959964 * 0.170049) = (0.95540, 1.86073): includes 1
    w = weighted_displacement(100, 60, 80, 70, 1000, 800)
    assert w.success_measure == pytest.approx(-0.025)
    assert w.buffer_measure == pytest.approx(0.0075)
    assert w.wdq == pytest.approx(-0.3)
    assert w.total_net_effect == pytest.approx(14.0)
    assert w.res == pytest.approx(4 / 3)
    assert w.res_low == pytest.approx(0.95540, abs=5e-5)
    assert w.res_high == pytest.approx(1.86073, abs=5e-5)
    assert w.enough and not w.significant
    assert w.verdict.startswith("geen aantoonbare daling")


def test_wdq_worked_example_ten_times_larger_is_significant() -> None:
    # The same proportions x 10: WDQ, success and buffer measures unchanged, TNE x 10,
    # Var log RES = 0.00289167, se = 0.0537742, 95 %: exp(0.287682 -+ 0.105395) =
    # (1.19996, 1.48158): above 1 -> significant; -1 <= WDQ < 0 -> displacement < effect.
    w = weighted_displacement(1000, 600, 800, 700, 10000, 8000)
    assert w.wdq == pytest.approx(-0.3)
    assert w.total_net_effect == pytest.approx(140.0)
    assert w.res_low == pytest.approx(1.19996, abs=5e-5)
    assert w.res_high == pytest.approx(1.48158, abs=5e-5)
    assert w.significant
    assert w.verdict == (
        "relatieve daling in het doelgebied; enige verplaatsing, kleiner dan het directe effect"
    )


def test_wdq_diffusion_and_too_few() -> None:
    # Buffer falls too: A 200 -> 100, B 100 -> 80, C 5000 -> 5000:
    # success = 0.02 - 0.04 = -0.02, buffer = 0.016 - 0.02 = -0.004, WDQ = 0.2 (diffusion).
    w = weighted_displacement(200, 100, 100, 80, 5000, 5000)
    assert w.wdq == pytest.approx(0.2)
    assert "uitstraling" in w.verdict and w.significant
    # Nine incidents before in the target area: the rule says nothing can be concluded.
    few = weighted_displacement(9, 1, 50, 50, 5000, 5000)
    assert few.verdict == TOO_FEW and not few.enough and not few.significant
    # Too few in the buffer: the target's fall is reported, displacement is not read.
    nobuf = weighted_displacement(200, 100, 4, 5, 5000, 5000)
    assert nobuf.significant and not nobuf.buffer_enough and "buffer" in nobuf.verdict
    with pytest.raises(InvalidParameterError):
        weighted_displacement(-1, 0, 0, 0, 1, 1)
