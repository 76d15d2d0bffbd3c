"""Knox test: bands, both time paths, inference, reproducibility, properties (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial.errors import InvalidParameterError
from spatial.spacetime.knox import knox_test

D_EDGES = [0, 100, 200, 300]
T_EDGES = [0, 7, 14, 28]


def _city(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Uniform incidents on 3 x 3 km over a year, integer days."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 3000, n), rng.uniform(0, 3000, n), rng.integers(0, 365, n)


def test_half_open_bands() -> None:
    # Pairs at exactly 100 m / 7 days go to the second bands; 300 m and 28 days fall outside.
    x = [0, 100, 0, 0]
    y = [0, 0, 300, 0]
    t = [0, 7, 0, 28]
    r = knox_test(x, y, t, D_EDGES, T_EDGES, permutations=0)
    # (0,1): d 100, dt 7 -> [1,1]; (0,2): d 300 -> out; (0,3): d 0, dt 28 -> out;
    # (1,2): d 316 -> out; (1,3): d 100, dt 21 -> [1,2]; (2,3): d 300 -> out.
    expected = np.zeros((3, 3), int)
    expected[1, 1] = 1
    expected[1, 2] = 1
    np.testing.assert_array_equal(r.observed, expected)
    assert r.pairs_considered == 3  # pairs with d < 300: (0,1), (0,3), (1,3)


def test_integer_and_float_time_paths_agree() -> None:
    x, y, t = _city(800, 1)
    a = knox_test(x, y, t, D_EDGES, T_EDGES, permutations=20, rng=3)
    # Shifting by half a day keeps every gap but sends the times down the float path.
    b = knox_test(x, y, t + 0.5, D_EDGES, T_EDGES, permutations=20, rng=3)
    np.testing.assert_array_equal(a.observed, b.observed)
    np.testing.assert_array_equal(a.expected, b.expected)
    np.testing.assert_array_equal(a.p_value, b.p_value)


def test_reproducible_and_seed_recorded() -> None:
    x, y, t = _city(500, 2)
    a = knox_test(x, y, t, D_EDGES, T_EDGES, permutations=30, rng=11)
    b = knox_test(x, y, t, D_EDGES, T_EDGES, permutations=30, rng=11)
    assert a.seed == 11
    np.testing.assert_array_equal(a.expected, b.expected)
    g = knox_test(x, y, t, D_EDGES, T_EDGES, permutations=30, rng=np.random.default_rng(5))
    again = knox_test(x, y, t, D_EDGES, T_EDGES, permutations=30, rng=g.seed)
    np.testing.assert_array_equal(g.expected, again.expected)
    fresh = knox_test(x, y, t, D_EDGES, T_EDGES, permutations=30, rng=None)
    np.testing.assert_array_equal(
        knox_test(x, y, t, D_EDGES, T_EDGES, permutations=30, rng=fresh.seed).p_value,
        fresh.p_value,
    )


def test_null_data_is_unremarkable_and_expected_converges() -> None:
    x, y, t = _city(1500, 4)
    r = knox_test(x, y, t, D_EDGES, T_EDGES, permutations=199, rng=1)
    assert r.permutations == 199 and r.n == 1500
    assert ((r.p_value >= 1 / 200) & (r.p_value <= 1)).all()
    # Monte Carlo mean vs the exact permutation expectation: within 4 standard errors of a
    # Poisson-ish count (var ~ E) averaged over 199 draws.
    se = np.sqrt(r.expected_analytic / 199)
    assert (np.abs(r.expected - r.expected_analytic) < 4 * se + 1e-9).all()
    assert np.nanmax(np.abs(r.ratio - 1)) < 0.35


def test_near_repeats_are_detected() -> None:
    rng = np.random.default_rng(8)
    x, y, t = _city(1000, 6)
    # 150 repeat incidents within 50 m and 5 days of a random earlier incident.
    src = rng.integers(0, 1000, 150)
    xr = x[src] + rng.uniform(-35, 35, 150)
    yr = y[src] + rng.uniform(-35, 35, 150)
    tr = t[src] + rng.integers(0, 6, 150)
    r = knox_test(
        np.r_[x, xr], np.r_[y, yr], np.r_[t, tr], D_EDGES, T_EDGES, permutations=99, rng=2
    )
    assert r.ratio[0, 0] > 3
    assert r.p_value[0, 0] == pytest.approx(0.01)
    assert r.p_value[2, 2] > 0.01


def test_no_permutations_and_empty_bands() -> None:
    r = knox_test([0, 1000], [0, 0], [0, 1], D_EDGES, T_EDGES, permutations=0)
    assert r.observed.sum() == 0 and r.pairs_considered == 0
    assert np.isnan(r.expected).all() and np.isnan(r.p_value).all() and np.isnan(r.ratio).all()
    r = knox_test([0, 1000], [0, 0], [0, 1], D_EDGES, T_EDGES, permutations=9, rng=0)
    assert (r.expected == 0).all() and np.isnan(r.ratio).all()
    assert (r.p_value == 1.0).all()  # every simulation ties with the observed 0


def test_infinite_last_time_edge() -> None:
    x, y, t = _city(300, 9)
    r = knox_test(x, y, t, D_EDGES, [0, 30, np.inf], permutations=0)
    # With [0, inf) covered, each distance band's row sums to its pair count.
    full = knox_test(x, y, t, D_EDGES, [0, np.inf], permutations=0)
    np.testing.assert_array_equal(r.observed.sum(axis=1), full.observed[:, 0])
    assert full.observed.sum() == full.pairs_considered
    np.testing.assert_allclose(full.expected_analytic[:, 0], full.observed[:, 0])


coords = st.lists(
    st.tuples(st.integers(0, 400), st.integers(0, 400), st.integers(0, 60)), min_size=2, max_size=40
)


@settings(max_examples=60, deadline=None)
@given(pts=coords, dx=st.integers(-(10**5), 10**5), dt=st.integers(-1000, 1000))
def test_invariant_under_rigid_motion_and_time_shift(pts, dx, dt) -> None:
    a = np.array(pts, float)
    r = knox_test(a[:, 0], a[:, 1], a[:, 2], D_EDGES, T_EDGES, permutations=0)
    # Rotation by 90 degrees and integer translation are exact: every distance is unchanged.
    r2 = knox_test(-a[:, 1] + dx, a[:, 0] - dx, a[:, 2] + dt, D_EDGES, T_EDGES, permutations=0)
    np.testing.assert_array_equal(r.observed, r2.observed)
    np.testing.assert_allclose(r.expected_analytic, r2.expected_analytic)
    assert r.observed.sum() <= r.pairs_considered <= len(pts) * (len(pts) - 1) // 2


@settings(max_examples=30, deadline=None)
@given(pts=coords, seed=st.integers(0, 10**6))
def test_permuting_incident_order_changes_nothing_observed(pts, seed) -> None:
    a = np.array(pts, float)
    perm = np.random.default_rng(seed).permutation(len(pts))
    r = knox_test(a[:, 0], a[:, 1], a[:, 2], D_EDGES, T_EDGES, permutations=0)
    rp = knox_test(a[perm, 0], a[perm, 1], a[perm, 2], D_EDGES, T_EDGES, permutations=0)
    np.testing.assert_array_equal(r.observed, rp.observed)
    np.testing.assert_allclose(r.expected_analytic, rp.expected_analytic)


def test_invalid() -> None:
    ok = ([0.0, 1.0], [0.0, 1.0], [0.0, 1.0])
    with pytest.raises(InvalidParameterError):
        knox_test([0.0], [0.0], [0.0], D_EDGES, T_EDGES)
    with pytest.raises(InvalidParameterError):
        knox_test([0.0, 1.0], [0.0], [0.0, 1.0], D_EDGES, T_EDGES)
    with pytest.raises(InvalidParameterError):
        knox_test([0.0, np.nan], [0.0, 1.0], [0.0, 1.0], D_EDGES, T_EDGES)
    with pytest.raises(InvalidParameterError):
        knox_test(*ok, [0, 100, 100], T_EDGES)
    with pytest.raises(InvalidParameterError):
        knox_test(*ok, [0, np.inf], T_EDGES)
    with pytest.raises(InvalidParameterError):
        knox_test(*ok, [-1, 100], T_EDGES)
    with pytest.raises(InvalidParameterError):
        knox_test(*ok, [100], T_EDGES)
    with pytest.raises(InvalidParameterError):
        knox_test(*ok, D_EDGES, T_EDGES, permutations=-1)
    with pytest.raises(InvalidParameterError):
        knox_test(*ok, D_EDGES, T_EDGES, permutations=True)
    with pytest.raises(InvalidParameterError):
        knox_test(*ok, D_EDGES, T_EDGES, rng=-3)
