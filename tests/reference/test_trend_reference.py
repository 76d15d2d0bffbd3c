"""Mann-Kendall against independent references: pymannkendall, scipy's tau-b, published examples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pymannkendall
import pytest
from scipy import stats

from spatial.spacetime.trend import mann_kendall

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def worked() -> dict:
    return json.loads((DATA / "mann_kendall_worked_examples.json").read_text())


def _random_series(seed: int) -> np.ndarray:
    """Rows of different character: many ties (small integers), continuous, trending, NaNs."""
    rng = np.random.default_rng(seed)
    n_bins = 24
    ties = rng.integers(0, 4, (60, n_bins)).astype(float)
    cont = rng.normal(size=(60, n_bins))
    trend = rng.poisson(np.linspace(1, 6, n_bins), (60, n_bins)).astype(float)
    x = np.vstack([ties, cont, trend])
    holes = rng.random(x.shape) < 0.05
    x[holes] = np.nan
    return x


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_pymannkendall_original_test(seed: int) -> None:
    x = _random_series(seed)
    ours = mann_kendall(x, alpha=0.05)
    for k, row in enumerate(x):
        ref = pymannkendall.original_test(row, alpha=0.05)
        assert ours.s[k] == ref.s
        assert ours.var_s[k] == pytest.approx(ref.var_s, rel=1e-12)
        assert ours.z[k] == pytest.approx(ref.z, rel=1e-12, abs=1e-15)
        assert ours.p[k] == pytest.approx(ref.p, rel=1e-9, abs=1e-15)
        assert ours.tau[k] == pytest.approx(ref.Tau, rel=1e-12)
        expected_trend = {"increasing": 1, "decreasing": -1, "no trend": 0}[ref.trend]
        assert ours.trend[k] == expected_trend


def test_tau_b_matches_scipy_kendalltau() -> None:
    x = _random_series(7)
    ours = mann_kendall(x)
    for k, row in enumerate(x):
        ok = np.isfinite(row)
        ref = stats.kendalltau(np.arange(row.size)[ok], row[ok]).statistic
        assert ours.tau_b[k] == pytest.approx(ref, rel=1e-12)


def test_little_holy_cross_worked_example(worked: dict) -> None:
    ex = worked["little_holy_cross"]
    x = np.asarray(ex["x"])
    # The published pair tally, recounted independently of mann_kendall.
    later = x[None, :] - x[:, None]
    upper = later[np.triu_indices(x.size, 1)]
    assert upper.size == ex["n_pairs"]
    assert ((upper > 0).sum(), (upper < 0).sum(), (upper == 0).sum()) == (
        ex["n_positive"],
        ex["n_negative"],
        ex["n_tied_pairs"],
    )
    r = mann_kendall(x)
    assert r.s[0] == ex["s"]
    assert r.var_s[0] == pytest.approx(ex["var_s"], rel=1e-12)
    assert round(float(r.z[0]), ex["z_decimals"]) == ex["z"]
    assert round(float(r.p[0]) / 2, ex["p_decimals"]) == ex["p_one_sided"]


def test_earthsoft_tie_groups(worked: dict) -> None:
    ex = worked["earthsoft_tie_groups"]
    x = np.asarray(ex["x"], float)
    n = x.size
    groups = np.asarray(ex["tie_group_sizes"], float)
    expected_var = (
        n * (n - 1) * (2 * n + 5) - (groups * (groups - 1) * (2 * groups + 5)).sum()
    ) / 18
    r = mann_kendall(x)
    assert r.var_s[0] == pytest.approx(expected_var, rel=1e-12)
    assert r.var_s[0] == pytest.approx((2250 - 240) / 18, rel=1e-12)
