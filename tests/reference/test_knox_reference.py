"""Knox test against independent references: a hand-counted case, brute force, pointpats."""

from __future__ import annotations

import itertools
import json
import math
import warnings
from pathlib import Path

import geopandas as gpd
import libpysal
import numpy as np
import pytest

from spatial.spacetime.knox import knox_test

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def hand() -> dict:
    return json.loads((DATA / "knox_hand_example.json").read_text())


def test_hand_table_is_consistent(hand: dict) -> None:
    """The written working (distances, gaps, bands) agrees with the coordinates it came from."""
    x, y, t = (np.asarray(hand[k], float) for k in ("x", "y", "t"))
    d_edges, t_edges = hand["distance_edges_m"], hand["time_edges_days"]
    assert len(hand["pairs"]) == math.comb(len(x), 2)
    table = np.zeros((2, 2), int)
    for i, j, d, gap, db, tb in hand["pairs"]:
        assert math.hypot(x[i] - x[j], y[i] - y[j]) == pytest.approx(d, abs=0.005)
        assert abs(t[i] - t[j]) == gap
        in_d = [a for a in range(2) if d_edges[a] <= d < d_edges[a + 1]]
        in_t = [b for b in range(2) if t_edges[b] <= gap < t_edges[b + 1]]
        assert db == (in_d[0] if in_d else -1) and tb == (in_t[0] if in_t else -1)
        if db >= 0 and tb >= 0:
            table[db, tb] += 1
    assert table.tolist() == hand["observed"]


def test_hand_counted_example(hand: dict) -> None:
    r = knox_test(
        hand["x"],
        hand["y"],
        hand["t"],
        hand["distance_edges_m"],
        hand["time_edges_days"],
        permutations=0,
    )
    assert r.observed.tolist() == hand["observed"]
    assert r.pairs_considered == hand["pairs_considered"]
    np.testing.assert_allclose(r.expected_analytic, hand["expected_analytic"], rtol=1e-12)


def test_hand_example_exhaustive_permutations(hand: dict) -> None:
    """All 7! time permutations, counted by brute force: their mean is Knox's expectation, and
    the Monte-Carlo mean of knox_test converges to it."""
    x, y, t = (np.asarray(hand[k], float) for k in ("x", "y", "t"))
    d_edges = np.asarray(hand["distance_edges_m"], float)
    t_edges = np.asarray(hand["time_edges_days"], float)
    i, j = np.triu_indices(len(x), 1)
    db = np.searchsorted(d_edges, np.hypot(x[i] - x[j], y[i] - y[j]), side="right") - 1
    total = np.zeros((2, 2))
    perms = list(itertools.permutations(range(len(x))))
    for perm in perms:
        tp = t[list(perm)]
        tb = np.searchsorted(t_edges, np.abs(tp[i] - tp[j]), side="right") - 1
        ok = (db >= 0) & (db < 2) & (tb >= 0) & (tb < 2)
        np.add.at(total, (db[ok], tb[ok]), 1)
    exact = total / len(perms)
    np.testing.assert_allclose(exact, hand["expected_analytic"], rtol=1e-12)

    r = knox_test(x, y, t, d_edges, t_edges, permutations=5000, rng=np.random.default_rng(2024))
    np.testing.assert_allclose(r.expected, exact, atol=0.08)


def _brute_force(x, y, t, d_edges, t_edges) -> np.ndarray:
    """O(n^2): every pair, no tree; one explicit half-open comparison per band."""
    i, j = np.triu_indices(x.size, 1)
    d = np.hypot(x[i] - x[j], y[i] - y[j])
    gap = np.abs(t[i] - t[j])
    counts = np.zeros((len(d_edges) - 1, len(t_edges) - 1), int)
    for a in range(counts.shape[0]):
        in_d = (d >= d_edges[a]) & (d < d_edges[a + 1])
        for b in range(counts.shape[1]):
            counts[a, b] = (in_d & (gap >= t_edges[b]) & (gap < t_edges[b + 1])).sum()
    return counts


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_observed_equals_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 600
    # Integer metres and days so that exact band boundaries occur.
    x = rng.integers(0, 1500, n).astype(float)
    y = rng.integers(0, 1500, n).astype(float)
    t = rng.integers(0, 120, n).astype(float)
    d_edges = np.array([0, 50, 100, 200, 400])
    t_edges = np.array([0, 7, 14, 21, 42])
    for times in (t, t + rng.uniform(0, 1, n)):  # integer path, float path
        r = knox_test(x, y, times, d_edges, t_edges, permutations=0)
        np.testing.assert_array_equal(r.observed, _brute_force(x, y, times, d_edges, t_edges))


@pytest.fixture(scope="module")
def burkitt() -> gpd.GeoDataFrame:
    return gpd.read_file(libpysal.examples.get_path("burkitt.shp"))


def test_burkitt_documented_knox_count(burkitt: gpd.GeoDataFrame) -> None:
    """pointpats' documented Knox example (``pointpats.spacetime.Knox`` docstring, pointpats 2.5):
    Burkitt's lymphoma cases (Williams et al. 1978, shipped with libpysal), delta = 20,
    tau = 5 (closed: d <= 20, |dt| <= 5) gives 13 space-time pairs and 13 + 3416 = 3429
    spatial pairs. Times are whole days, so |dt| <= 5 is the band [0, 5.5); d <= 20 is the
    band [0, nextafter(20))."""
    x = burkitt["X"].to_numpy(float)
    y = burkitt["Y"].to_numpy(float)
    t = burkitt["T"].to_numpy(float)
    closed_20 = np.nextafter(20.0, np.inf)
    r = knox_test(x, y, t, [0, closed_20], [0, 5.5, np.inf], permutations=0)
    assert r.observed[0, 0] == 13
    assert r.observed[0].sum() == 3429


@pytest.mark.parametrize(("delta", "tau"), [(10, 10), (20, 30), (40, 60)])
def test_matches_pointpats_knox(burkitt: gpd.GeoDataFrame, delta: float, tau: float) -> None:
    from pointpats.spacetime import Knox

    x = burkitt["X"].to_numpy(float)
    y = burkitt["Y"].to_numpy(float)
    t = burkitt["T"].to_numpy(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = Knox(np.column_stack([x, y]), t[:, None], delta=delta, tau=tau, permutations=0)
    r = knox_test(x, y, t, [0, np.nextafter(float(delta), np.inf)], [0, tau + 0.5], permutations=0)
    assert r.observed[0, 0] == ref.statistic_
    # pointpats' expected space-time count is Knox's NS * NT / C(n, 2), as ours.
    assert r.expected_analytic[0, 0] == pytest.approx(ref.expected[0, 0], rel=1e-12)
