"""Mann-Kendall: hand-computed cases, NaN handling, properties (hypothesis), validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial.errors import InvalidParameterError
from spatial.spacetime.trend import mann_kendall

series = st.lists(st.integers(-5, 5), min_size=3, max_size=30)


def test_hand_computed_monotone() -> None:
    # n = 4, all 6 pairs increasing: S = 6, Var = 4*3*13/18 = 26/3, Z = 5/sqrt(26/3).
    r = mann_kendall([1.0, 2.0, 3.0, 4.0])
    assert r.s.tolist() == [6]
    assert r.var_s[0] == pytest.approx(26 / 3, rel=1e-12)
    assert r.z[0] == pytest.approx(5 / np.sqrt(26 / 3), rel=1e-12)
    assert r.tau[0] == 1.0
    assert r.tau_b[0] == pytest.approx(1.0)
    assert r.n.tolist() == [4]


def test_hand_computed_with_ties() -> None:
    # [1, 1, 2]: pair signs 0, +1, +1 -> S = 2; one tie group of 2:
    # Var = (3*2*11 - 2*1*9)/18 = 48/18; tau-a = 2/3; tau-b = 2/sqrt(3*(3-1)).
    r = mann_kendall([1.0, 1.0, 2.0])
    assert r.s[0] == 2
    assert r.var_s[0] == pytest.approx(48 / 18, rel=1e-12)
    assert r.z[0] == pytest.approx(1 / np.sqrt(48 / 18), rel=1e-12)
    assert r.tau[0] == pytest.approx(2 / 3)
    assert r.tau_b[0] == pytest.approx(2 / np.sqrt(6))


def test_trend_direction_uses_two_sided_alpha() -> None:
    x = np.vstack([np.arange(12.0), -np.arange(12.0), np.array([0, 1] * 6, float)])
    r = mann_kendall(x, alpha=0.05)
    assert r.trend.tolist() == [1, -1, 0]
    # Row 0: S = 66, Var = 12*11*29/18, Z = 65/sqrt(Var) = 4.457: above the alpha = 1e-5
    # critical value (4.417), below the alpha = 1e-7 one (5.33).
    assert mann_kendall(x[:1], alpha=1e-5).trend[0] == 1
    assert mann_kendall(x[:1], alpha=1e-7).trend[0] == 0


def test_nan_is_dropped_per_series() -> None:
    x = np.array([[3.0, np.nan, 1.0, 4.0, np.nan, 5.0, 9.0, 2.0]])
    r = mann_kendall(x)
    ref = mann_kendall(x[0][np.isfinite(x[0])])
    for field in ("s", "var_s", "z", "p", "tau", "tau_b", "n"):
        np.testing.assert_array_equal(getattr(r, field), getattr(ref, field))
    assert r.n[0] == 6


def test_degenerate_series() -> None:
    x = np.array([[2.0, 2.0, 2.0, 2.0], [np.nan, np.nan, np.nan, 1.0], [np.nan] * 4])
    r = mann_kendall(x)
    assert r.z.tolist() == [0.0, 0.0, 0.0]
    assert r.p.tolist() == [1.0, 1.0, 1.0]
    assert r.var_s.tolist() == [0.0, 0.0, 0.0]
    assert r.tau[0] == 0.0 and r.tau_b[0] == 0.0
    assert np.isnan(r.tau[1]) and np.isnan(r.tau[2])
    assert r.n.tolist() == [4, 1, 0]


@settings(max_examples=60, deadline=None)
@given(x=series)
def test_s_flips_sign_under_negation_and_reversal(x) -> None:
    a = np.array(x, float)
    r = mann_kendall(a)
    assert mann_kendall(-a).s[0] == -r.s[0]
    assert mann_kendall(a[::-1]).s[0] == -r.s[0]
    assert mann_kendall(-a).var_s[0] == pytest.approx(r.var_s[0])
    assert -1.0 <= r.tau[0] <= 1.0
    assert 0.0 <= r.p[0] <= 1.0


@settings(max_examples=60, deadline=None)
@given(x=series, scale=st.floats(0.01, 100), shift=st.floats(-100, 100))
def test_invariant_under_increasing_transforms(x, scale, shift) -> None:
    a = np.array(x, float)
    r = mann_kendall(a)
    for b in (a * scale + shift, np.exp(a / 5.0)):
        rb = mann_kendall(b)
        assert rb.s[0] == r.s[0]
        assert rb.var_s[0] == pytest.approx(r.var_s[0])
        assert rb.z[0] == pytest.approx(r.z[0])


@settings(max_examples=30, deadline=None)
@given(rows=st.lists(st.lists(st.integers(0, 3), min_size=8, max_size=8), min_size=1, max_size=12))
def test_batch_equals_row_by_row(rows) -> None:
    x = np.array(rows, float)
    batch = mann_kendall(x)
    for k, row in enumerate(x):
        one = mann_kendall(row)
        for field in ("s", "var_s", "z", "p", "tau", "tau_b", "trend", "n"):
            np.testing.assert_array_equal(getattr(batch, field)[k], getattr(one, field)[0])


def test_invalid() -> None:
    with pytest.raises(InvalidParameterError):
        mann_kendall([[1.0, np.inf, 2.0]])
    with pytest.raises(InvalidParameterError):
        mann_kendall(np.zeros((2, 2, 2)))
    with pytest.raises(InvalidParameterError):
        mann_kendall([[1.0], [2.0]])
    with pytest.raises(InvalidParameterError):
        mann_kendall([1.0, 2.0, 3.0], alpha=1.5)
