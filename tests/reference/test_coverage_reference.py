"""MCLP against independent references: a hand-solved instance, brute force, and spopt's MCLP."""

from __future__ import annotations

import itertools
import json
import warnings
from pathlib import Path

import numpy as np
import pulp
import pytest
import scipy.sparse as sp
from scipy.spatial.distance import cdist
from spopt.locate import MCLP

import spatial.targeting.coverage as coverage
from spatial.targeting.coverage import coverage_matrix, greedy_mclp, mclp_from_matrix

DATA = Path(__file__).parent / "data"


def brute_force(a: np.ndarray, w: np.ndarray, p: int, already: np.ndarray | None = None) -> float:
    """Best newly covered weight over all subsets of exactly min(p, m) sites."""
    base = np.zeros(a.shape[0], bool) if already is None else already
    best = 0.0
    for sites in itertools.combinations(range(a.shape[1]), min(p, a.shape[1])):
        cov = a[:, list(sites)].any(axis=1) & ~base
        best = max(best, float(w[cov].sum()))
    return best


def spopt_objective(
    dist: np.ndarray, w: np.ndarray, radius: float, p: int, fixed: np.ndarray | None = None
) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MCLP.from_cost_matrix(
            dist, w, radius, p_facilities=p, predefined_facilities_arr=fixed
        ).solve(pulp.PULP_CBC_CMD(msg=False))
    return float(pulp.value(model.problem.objective))


def random_instance(
    seed: int, n: int, m: int, clustered: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if clustered:
        centres = rng.uniform(0, 2000, (5, 2))
        demand = centres[rng.integers(0, 5, n)] + rng.normal(0, 120, (n, 2))
    else:
        demand = rng.uniform(0, 1000, (n, 2))
    sites = rng.uniform(demand.min(axis=0), demand.max(axis=0), (m, 2))
    return demand, sites, rng.integers(1, 10, n).astype(float)


# --------------------------------------------------------------------------- hand-solved


@pytest.fixture(scope="module")
def hand() -> dict:
    return json.loads((DATA / "mclp_hand_solved.json").read_text())


def _hand_arrays(hand: dict) -> tuple[np.ndarray, np.ndarray, list[str]]:
    names = hand["site_order"]
    sites = np.array([hand["sites"][s] for s in names], float)
    demand = np.array([d["xy"] for d in hand["demand"]], float)
    return demand, sites, names


def test_hand_solved_coverage_matrix(hand: dict) -> None:
    demand, sites, names = _hand_arrays(hand)
    a = coverage_matrix(demand, sites, hand["radius_m"]).toarray().astype(bool)
    for row, d in zip(a, hand["demand"], strict=True):
        assert [names[j] for j in np.flatnonzero(row)] == d["covered_by"], d["id"]


@pytest.mark.parametrize("p", [1, 2, 3])
def test_hand_solved_optimum(hand: dict, p: int) -> None:
    demand, sites, names = _hand_arrays(hand)
    w = np.array([d["weight"] for d in hand["demand"]], float)
    r = mclp_from_matrix(coverage_matrix(demand, sites, hand["radius_m"]), w, p)
    exp = hand["expected"][f"p{p}"]
    assert r.covered_demand == exp["covered"]
    assert r.status == "optimal" and r.optimality_gap == 0.0
    assert r.total_demand == hand["total_demand"]
    if "sites" in exp:
        assert sorted(names[j] for j in r.selected) == exp["sites"]
    if "order" in exp:
        assert [names[j] for j in r.selected] == exp["order"]
        assert r.marginal_gain.tolist() == exp["marginal_gain"]
        assert r.greedy_covered_demand == exp["greedy"]


def test_hand_solved_with_a_fixed_camera(hand: dict) -> None:
    demand, sites, names = _hand_arrays(hand)
    w = np.array([d["weight"] for d in hand["demand"]], float)
    a = coverage_matrix(demand, sites, hand["radius_m"])
    already = a[:, names.index("D")].toarray().ravel() > 0
    r = mclp_from_matrix(a, w, 1, already_covered=already)
    exp = hand["expected"]["fixed_D_p1"]
    assert r.covered_demand == exp["covered_new"]
    assert r.already_covered_demand == exp["already_covered"]
    assert [names[j] for j in r.selected] == exp["sites"]
    assert r.coverage_fraction == pytest.approx((8 + 11) / 26)


# --------------------------------------------------------------------------- brute force


@pytest.mark.parametrize("seed", range(12))
def test_equals_brute_force_on_small_instances(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m, p = int(rng.integers(5, 30)), int(rng.integers(3, 13)), int(rng.integers(1, 5))
    a = rng.random((n, m)) < rng.uniform(0.1, 0.5)
    w = rng.integers(0, 6, n).astype(float)
    r = mclp_from_matrix(a, w, p)
    assert r.covered_demand == brute_force(a, w, p)
    assert r.status == "optimal"
    # The reported mask and gains describe the same solution.
    assert w[r.covered].sum() == r.covered_demand
    assert len(r.selected) <= p


@pytest.mark.parametrize("seed", range(6))
def test_already_covered_equals_brute_force(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n, m, p = 25, 10, 3
    a = rng.random((n, m)) < 0.25
    w = rng.integers(1, 6, n).astype(float)
    already = rng.random(n) < 0.3
    r = mclp_from_matrix(a, w, p, already_covered=already)
    assert r.covered_demand == brute_force(a, w, p, already)
    assert r.already_covered_demand == w[already].sum()
    assert r.covered[already].all()


# --------------------------------------------------------------------------- spopt


@pytest.mark.parametrize(
    ("seed", "n", "m", "p", "clustered"),
    [
        (0, 60, 20, 3, False),
        (1, 150, 40, 5, False),
        (2, 300, 60, 8, False),
        (3, 400, 120, 6, True),
        (4, 800, 200, 10, True),
    ],
)
def test_equals_spopt_mclp(seed: int, n: int, m: int, p: int, clustered: bool) -> None:
    demand, sites, w = random_instance(seed, n, m, clustered)
    radius = 150.0
    r = mclp_from_matrix(coverage_matrix(demand, sites, radius), w, p)
    assert r.status == "optimal"
    assert r.covered_demand == spopt_objective(cdist(demand, sites), w, radius, p)


@pytest.mark.parametrize("seed", range(3))
def test_fixed_cameras_equal_spopt_predefined_facilities(seed: int) -> None:
    """spopt forces predefined sites into a p-site solution; we pass their coverage as
    ``already_covered`` and place p - k new sites: the totals must agree."""
    demand, sites, w = random_instance(20 + seed, 300, 50, clustered=True)
    radius, p = 150.0, 6
    fixed = np.zeros(len(sites), int)
    fixed[[3, 17]] = 1
    a = coverage_matrix(demand, sites, radius)
    already = np.asarray(a[:, fixed.astype(bool)].sum(axis=1)).ravel() > 0
    r = mclp_from_matrix(a, w, p - 2, already_covered=already)
    total = r.covered_demand + r.already_covered_demand
    assert total == spopt_objective(cdist(demand, sites), w, radius, p, fixed)


def test_fixing_stage_equals_spopt(monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-site kernel cannot hold the optimum, so the final MILP over the sites that survive
    Lagrangian fixing must run; the result must still equal spopt's."""
    monkeypatch.setattr(coverage, "_KERNEL_MIN", 1)
    monkeypatch.setattr(coverage, "_KERNEL_PER_SITE", 0)
    calls: list[tuple[int, int]] = []
    solve = coverage._solve_milp

    def spy(red: coverage._Reduced, p: int, time_limit_s: float):  # type: ignore[no-untyped-def]
        calls.append(red.matrix.shape)
        return solve(red, p, time_limit_s)

    monkeypatch.setattr(coverage, "_solve_milp", spy)
    demand, sites, w = random_instance(4, 1500, 400, clustered=True)
    r = mclp_from_matrix(coverage_matrix(demand, sites, 100.0), w, 10)
    assert len(calls) == 2  # kernel, then the fixed-out instance
    assert calls[1][1] > calls[0][1]
    assert r.status == "optimal"
    assert r.covered_demand > r.greedy_covered_demand
    assert r.covered_demand == spopt_objective(cdist(demand, sites), w, 100.0, 10)


def test_greedy_is_not_optimal_on_a_known_instance() -> None:
    """Guards the reference tests against a solver that only ever returns greedy's answer."""
    a = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [0, 1, 0], [0, 0, 1]]))
    w = np.array([2, 2, 1.5, 1.5])
    assert greedy_mclp(a, w, 2).covered_demand == 5.5
    assert mclp_from_matrix(a, w, 2).covered_demand == brute_force(a.toarray() > 0, w, 2) == 7.0


# --------------------------------------------------------------------------- reduction


def _redundant_instance(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """A tiny random instance with redundancy planted: a column that is a subset of another,
    a duplicate column, duplicate rows and a zero-weight row, so the reduction must act."""
    rng = np.random.default_rng(300 + seed)
    n, m, p = int(rng.integers(6, 20)), int(rng.integers(4, 9)), int(rng.integers(1, 4))
    a = rng.random((n, m)) < 0.35
    sub = a[:, 0] & (rng.random(n) < 0.5)  # subset of column 0: dominated
    a = np.column_stack([a, sub, a[:, 1]])  # and a duplicate of column 1
    a = np.vstack([a, a[:3]])  # three duplicate rows
    w = rng.integers(0, 6, a.shape[0]).astype(float)
    w[0] = 0.0
    return a, w, p


@pytest.mark.parametrize("seed", range(15))
def test_reduction_keeps_the_brute_force_optimum(seed: int) -> None:
    """Dominated sites dropped and rows with the same covering set merged (weights summed):
    the best p-subset of the reduced instance covers exactly what the best p-subset of the
    original covers. Reference: brute force over all site subsets of both."""
    a, w, p = _redundant_instance(seed)
    red = coverage._reduce(sp.csr_matrix(a.astype(float)), w, np.zeros(a.shape[0], bool))
    assert red.matrix.shape[1] < a.shape[1]  # the planted dominated / duplicate columns went
    assert red.matrix.shape[0] < a.shape[0]  # the duplicate rows were merged
    assert red.weights.sum() <= w.sum()
    reduced = brute_force(red.matrix.toarray() > 0, red.weights, p)
    assert reduced == brute_force(a, w, p)
    # The kept columns are original indices: the same subset is as good on the original.
    assert mclp_from_matrix(a, w, p).covered_demand == reduced


def unreduced_milp(a: sp.csr_matrix, w: np.ndarray, p: int) -> float:
    """Church & ReVelle's MCLP exactly as written, no reduction: max w.y, y_i <= sum_j a_ij x_j,
    sum x <= p, x binary, 0 <= y <= 1 (scipy/HiGHS, written here independently of the module)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    n, m = a.shape
    rows = sp.hstack([-a, sp.identity(n)], format="csr")
    card = sp.csr_matrix(np.concatenate([np.ones(m), np.zeros(n)])[None, :])
    res = milp(
        -np.concatenate([np.zeros(m), w]),
        integrality=np.concatenate([np.ones(m), np.zeros(n)]),
        bounds=Bounds(0, 1),
        constraints=LinearConstraint(sp.vstack([rows, card]), -np.inf, [0.0] * n + [p]),
        options={"mip_rel_gap": 0.0},
    )
    assert res.status == 0
    return round(-res.fun, 6)


@pytest.mark.parametrize("seed", range(5))
def test_reduction_keeps_the_unreduced_milp_optimum(seed: int) -> None:
    """Larger than brute force allows (300 incidents x 60 sites, p = 6, clustered): the
    reduced solver's optimum equals the unreduced MILP's."""
    demand, sites, w = random_instance(400 + seed, 300, 60, clustered=True)
    a = coverage_matrix(demand, sites, 150.0)
    red = coverage._reduce(a, w, np.zeros(a.shape[0], bool))
    assert red.matrix.shape[0] < a.shape[0]
    r = mclp_from_matrix(a, w, 6)
    assert r.status == "optimal"
    assert r.covered_demand == unreduced_milp(a, w, 6)


# --------------------------------------------------------------------------- local search


@pytest.mark.parametrize("seed", [0, 2, 10, 18, 32, 56])
def test_iterated_search_escapes_the_swap_optimum(seed: int) -> None:
    """On these random instances (30 rows, 12 sites, p = 3; seeds found by scanning 0-70
    for a 1-swap optimum below brute force) the kicks of the iterated local search reach the
    brute-force optimum that 1-swap descent from greedy misses."""
    rng = np.random.default_rng(seed)
    a = rng.random((30, 12)) < 0.25
    w = rng.integers(1, 6, 30).astype(float)
    csr = coverage._as_coverage(a)
    none = np.zeros(30, bool)
    greedy, _ = coverage._greedy(csr, csr.tocsc(), w, 3, none)
    swapped = coverage._swap_search(csr, csr.tocsc(), w, none, greedy)
    opt = brute_force(a, w, 3)
    assert w[a[:, swapped].any(axis=1)].sum() < opt  # 1-swap is stuck below the optimum
    red = coverage._reduce(csr, w, none)
    found = coverage._iterated_swap_search(red, 3, swapped, time_limit_s=30.0)
    assert len(set(found.tolist())) == found.size <= 3
    assert w[a[:, found].any(axis=1)].sum() == opt
    # Seeded: the same instance gives the same sites.
    again = coverage._iterated_swap_search(red, 3, swapped, time_limit_s=30.0)
    assert sorted(again.tolist()) == sorted(found.tolist())
