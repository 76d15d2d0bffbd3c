"""Empirical Bayes smoothing: shrinkage behaviour, properties (hypothesis), validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial.errors import InvalidParameterError
from spatial.targeting.smoothing import eb_rates, empirical_bayes

areas = st.lists(st.tuples(st.integers(0, 200), st.integers(1, 5000)), min_size=2, max_size=40)


def test_tiny_area_is_shrunk_and_not_the_highest() -> None:
    # 2 burglaries in 10 dwellings (raw 0.2, the highest by far) next to normal areas.
    e = np.array([2, 40, 80, 30, 45])
    b = np.array([10, 2000, 2000, 1000, 2000])
    r = empirical_bayes(e, b)
    assert np.argmax(r.raw_rate) == 0
    assert np.argmax(r.eb_rate) != 0
    # Moved from 0.2 to within a fraction of the distance of the mean.
    assert abs(r.eb_rate[0] - r.prior_mean) < 0.1 * abs(r.raw_rate[0] - r.prior_mean)
    assert r.shrinkage_weight[0] < 0.05
    # Large areas keep most of their own rate.
    assert (r.shrinkage_weight[1:] > 0.7).all()


@settings(max_examples=100, deadline=None)
@given(data=areas)
def test_eb_rate_lies_between_raw_rate_and_mean(data) -> None:
    e, b = (np.array(x, float) for x in zip(*data, strict=True))
    r = empirical_bayes(e, b)
    lo = np.minimum(r.raw_rate, r.prior_mean) - 1e-12
    hi = np.maximum(r.raw_rate, r.prior_mean) + 1e-12
    assert ((r.eb_rate >= lo) & (r.eb_rate <= hi)).all()
    assert ((r.shrinkage_weight >= 0) & (r.shrinkage_weight < 1)).all()
    # Larger population, less shrinkage (same prior for all areas).
    order = np.argsort(b, kind="stable")
    assert (np.diff(r.shrinkage_weight[order]) >= -1e-12).all()


@settings(max_examples=60, deadline=None)
@given(data=areas, k=st.integers(2, 50))
def test_prior_mean_is_overall_rate_and_scales_with_population_unit(data, k: int) -> None:
    e, b = (np.array(x, float) for x in zip(*data, strict=True))
    r = empirical_bayes(e, b)
    assert r.prior_mean == pytest.approx(e.sum() / b.sum())
    # Counting dwellings in another unit rescales every rate; the shrinkage is unit-free.
    rk = empirical_bayes(e, b * k)
    np.testing.assert_allclose(rk.eb_rate * k, r.eb_rate, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(rk.shrinkage_weight, r.shrinkage_weight, rtol=1e-9, atol=1e-12)


def test_no_extra_poisson_variation_gives_the_mean_everywhere() -> None:
    # Rates identical up to rounding: s2 estimate negative -> clamped to 0 -> all equal m.
    r = empirical_bayes([10, 11, 9, 10], [1000, 1000, 1000, 1000])
    assert r.prior_variance_unclamped < 0 and r.prior_variance == 0
    np.testing.assert_allclose(r.eb_rate, r.prior_mean)
    assert (r.shrinkage_weight == 0).all()


def test_no_events_at_all() -> None:
    r = empirical_bayes([0, 0, 0], [10, 20, 30])
    assert (r.eb_rate == 0).all() and r.prior_mean == 0


def test_vectorised_rows_equal_one_at_a_time() -> None:
    rng = np.random.default_rng(2)
    b = rng.integers(50, 3000, 30).astype(float)
    e = rng.poisson(b * 0.02, size=(7, 30)).astype(float)
    many = eb_rates(e, b)
    for i in range(7):
        np.testing.assert_allclose(many[i], empirical_bayes(e[i], b).eb_rate, rtol=1e-12)


@pytest.mark.parametrize(
    ("events", "population"),
    [
        ([1, 2], [10]),
        ([1], [10]),
        ([1, -2], [10, 10]),
        ([1, 2], [10, 0]),
        ([1, np.nan], [10, 10]),
        ([1, 2], [[10, 10]]),
    ],
)
def test_invalid(events, population) -> None:
    with pytest.raises(InvalidParameterError):
        empirical_bayes(events, population)


def test_empirical_bayes_wants_one_dimension() -> None:
    with pytest.raises(InvalidParameterError):
        empirical_bayes([[1, 2], [3, 4]], [10, 10])
