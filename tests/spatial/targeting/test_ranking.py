"""Priority score, Poisson-bootstrap rank intervals and per-area trends."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

import spatial.targeting.ranking as ranking
from spatial.errors import InvalidParameterError
from spatial.targeting.ranking import priority_score, rank_intervals, trend_per_area
from spatial.targeting.smoothing import empirical_bayes

positive = st.lists(st.floats(0.1, 1000), min_size=2, max_size=30)


@settings(max_examples=60, deadline=None)
@given(c=positive, data=st.data())
def test_score_is_a_weighted_geometric_mean(c, data) -> None:
    counts = np.array(c)
    risk = np.array(data.draw(st.lists(st.floats(0.1, 100), min_size=len(c), max_size=len(c))))
    a, b = data.draw(st.floats(0.1, 5)), data.draw(st.floats(0.1, 5))
    s = priority_score(counts, risk, (a, b))
    expected = (counts / counts.mean()) ** (a / (a + b)) * (risk / risk.mean()) ** (b / (a + b))
    np.testing.assert_allclose(s, expected, rtol=1e-10)
    # Units do not matter: counts per year or per five years, risk per 1 or per 1,000.
    np.testing.assert_allclose(priority_score(counts * 5, risk * 1000, (a, b)), s, rtol=1e-10)


def test_score_weights_select_a_component() -> None:
    counts = np.array([50.0, 10.0, 5.0])
    risk = np.array([2.0, 30.0, 0.0])
    assert np.argmax(priority_score(counts, risk, (1, 0))) == 0
    assert np.argmax(priority_score(counts, risk, (0, 1))) == 1
    # Zero risk with positive weight scores 0, even with incidents.
    assert priority_score(counts, risk)[2] == 0.0
    assert priority_score(counts, risk, (1, 0))[2] > 0.0


@pytest.mark.parametrize("weights", [(0, 0), (-1, 1), (1, np.inf), (1,), "ab"])
def test_score_rejects_bad_weights(weights) -> None:
    with pytest.raises(InvalidParameterError):
        priority_score([1.0, 2.0], [1.0, 2.0], weights)


def _dataset(seed: int = 0, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    dwellings = rng.integers(30, 4000, n).astype(float)
    risk = rng.gamma(3, 0.006, n)
    counts = rng.poisson(risk * dwellings, size=(3, n))
    return counts, dwellings


def test_vectorised_replicates_equal_a_plain_loop() -> None:
    counts, dwellings = _dataset()
    reps = 300
    r = rank_intervals(counts, dwellings, replicates=reps, level=0.8, top_k=5, rng=42)
    # The same draws, scored one replicate at a time with the public functions.
    total = counts.sum(axis=0).astype(float)
    draws = np.random.default_rng(42).poisson(total, size=(reps, total.size)).astype(float)
    ranks = []
    for rep in draws:
        risk = empirical_bayes(rep, dwellings * 3).eb_rate * 1000
        score = priority_score(rep / 3, risk)
        ranks.append(stats.rankdata(-score, method="min"))
    ranks_arr = np.array(ranks)
    np.testing.assert_array_equal(r.rank_lo, np.quantile(ranks_arr, 0.1, axis=0, method="lower"))
    np.testing.assert_array_equal(r.rank_hi, np.quantile(ranks_arr, 0.9, axis=0, method="higher"))
    np.testing.assert_array_equal(r.p_top, (ranks_arr <= 5).mean(axis=0))
    obs_risk = empirical_bayes(total, dwellings * 3).eb_rate * 1000
    np.testing.assert_allclose(r.risk_per_1000, obs_risk, rtol=1e-12)
    np.testing.assert_array_equal(
        r.rank, stats.rankdata(-priority_score(total / 3, obs_risk), method="min")
    )


def test_chunking_does_not_change_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    counts, dwellings = _dataset(1)
    whole = rank_intervals(counts, dwellings, replicates=250, rng=7)
    monkeypatch.setattr(ranking, "_CHUNK_VALUES", 40 * 7)  # chunks of 7 replicates
    chunked = rank_intervals(counts, dwellings, replicates=250, rng=7)
    np.testing.assert_array_equal(whole.rank_lo, chunked.rank_lo)
    np.testing.assert_array_equal(whole.rank_hi, chunked.rank_hi)
    np.testing.assert_array_equal(whole.rank_median, chunked.rank_median)


def test_intervals_contain_rank_and_narrow_with_more_data() -> None:
    counts, dwellings = _dataset(2)
    r = rank_intervals(counts, dwellings, replicates=400, rng=3)
    assert ((r.rank_lo <= r.rank_median) & (r.rank_median <= r.rank_hi)).all()
    assert ((r.rank_lo >= 1) & (r.rank_hi <= counts.shape[1])).all()
    big = rank_intervals(counts * 100, dwellings * 100, replicates=400, rng=3)
    assert (big.rank_hi - big.rank_lo).mean() < 0.5 * (r.rank_hi - r.rank_lo).mean()


def test_a_dominant_area_is_certain_number_one() -> None:
    counts = np.array([400, 20, 25, 18, 30])
    dwellings = np.array([2000, 1500, 1800, 1200, 2500])
    r = rank_intervals(counts, dwellings, replicates=500, rng=0, top_k=1)
    assert r.rank[0] == 1 and r.rank_lo[0] == 1 and r.rank_hi[0] == 1
    assert r.p_top[0] == 1.0
    np.testing.assert_array_equal(r.annual_count, counts)


def test_rank_intervals_reproducible() -> None:
    counts, dwellings = _dataset(4)
    a = rank_intervals(counts, dwellings, replicates=100, rng=9)
    b = rank_intervals(counts, dwellings, replicates=100, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(a.rank_lo, b.rank_lo)
    np.testing.assert_array_equal(a.rank_hi, b.rank_hi)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"replicates": 0},
        {"replicates": 10.5},
        {"level": 1.0},
        {"level": 0},
        {"top_k": 0},
        {"counts": [[1.5, 2, 3]]},
        {"counts": [[-1, 2, 3]]},
        {"dwellings": [10, 0, 10]},
        {"dwellings": [10, 10]},
    ],
)
def test_rank_intervals_invalid(kwargs) -> None:
    args = {"counts": [[1, 2, 3]], "dwellings": [10, 20, 30]} | kwargs
    with pytest.raises(InvalidParameterError):
        rank_intervals(**args)


# --------------------------------------------------------------------------- trend


def _poisson_mle(y: np.ndarray) -> tuple[float, float]:
    """Independent fit: minimise the Poisson deviance with scipy (BFGS); slope and LR p."""
    t = np.arange(y.size) - (y.size - 1) / 2

    def nll(theta: np.ndarray) -> float:
        mu = np.exp(theta[0] + theta[1] * t)
        return float((mu - y * np.log(mu)).sum())

    res = optimize.minimize(nll, [np.log(y.mean()), 0.0], method="BFGS", options={"gtol": 1e-10})
    mu0 = y.mean()
    ll0 = float((y * np.log(mu0) - mu0).sum())
    lr = 2 * (-res.fun - ll0)
    return float(res.x[1]), float(stats.chi2.sf(max(lr, 0), 1))


@pytest.mark.parametrize("seed", range(5))
def test_trend_slope_and_p_value_equal_direct_maximum_likelihood(seed: int) -> None:
    rng = np.random.default_rng(seed)
    years, n = 5, 12
    mu = rng.gamma(5, 5, n) * np.exp(rng.normal(0, 0.2, n) * np.arange(years)[:, None])
    y = rng.poisson(mu) + 1  # at least one incident every year: a finite MLE
    t = trend_per_area(y)
    for i in range(n):
        slope, p = _poisson_mle(y[:, i].astype(float))
        assert t.slope[i] == pytest.approx(slope, abs=1e-6)
        assert t.p_value[i] == pytest.approx(p, rel=1e-5, abs=1e-10)


def test_trend_two_years_by_hand() -> None:
    # y = (10, 20): b = log 2 exactly; LR = 2 [10 log(10/15) + 20 log(20/15)].
    t = trend_per_area([[10], [20]])
    assert t.slope[0] == pytest.approx(np.log(2), abs=1e-12)
    assert t.rate_ratio[0] == pytest.approx(2.0)
    lr = 2 * (10 * np.log(10 / 15) + 20 * np.log(20 / 15))
    assert t.p_value[0] == pytest.approx(stats.chi2.sf(lr, 1), rel=1e-10)
    assert t.mean_annual_change[0] == 10.0


def test_trend_edge_cases() -> None:
    y = np.array([[9, 5, 0, 0, 3], [6, 0, 0, 0, 3], [2, 0, 0, 4, 3]])
    t = trend_per_area(y)
    assert t.strictly_decreasing.tolist() == [True, False, False, False, False]
    assert t.slope[1] == -np.inf and t.rate_ratio[1] == 0.0  # all incidents in year 1
    assert t.p_value[1] == pytest.approx(stats.chi2.sf(2 * 5 * np.log(3), 1), rel=1e-8)
    assert np.isnan(t.slope[2]) and np.isnan(t.p_value[2])  # no incidents
    assert t.slope[3] == np.inf
    assert t.slope[4] == 0 and t.p_value[4] == pytest.approx(1.0)
    assert t.mean_annual_change.tolist() == [-3.5, -2.5, 0.0, 2.0, 0.0]


@pytest.mark.parametrize("y", [[[1, 2]], [[1.5], [2]], [[-1], [2]], [[[1]], [[2]]]])
def test_trend_invalid(y) -> None:
    with pytest.raises(InvalidParameterError):
        trend_per_area(y)
