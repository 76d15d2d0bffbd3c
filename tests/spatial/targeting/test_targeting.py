"""Pure targeting statistics: priorities, camera plan helpers, IHA areas, equity, monitor."""

from __future__ import annotations

import h3
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from spatial.errors import InvalidParameterError
from spatial.grid.crs import RD_NEW, WGS84, transform
from spatial.grid.h3grid import study_grid
from spatial.targeting.camera_plan import merge_identical, plan_flexible_cameras, recency_weights
from spatial.targeting.equity import equity_table
from spatial.targeting.iha import composite_z, disk_matrix, propose_iha_areas
from spatial.targeting.monitor import rates_against_target
from spatial.targeting.priorities import area_priorities, counts_by_year, points_in_areas


def _to_rd(coords: np.ndarray) -> np.ndarray:
    return np.column_stack(transform(coords[:, 0], coords[:, 1], WGS84, RD_NEW))


counts_st = st.lists(st.integers(0, 50), min_size=2, max_size=12)


def test_points_in_nested_areas_go_to_the_smaller() -> None:
    big, small = box(0, 0, 10, 10), box(2, 2, 3, 3)
    assert points_in_areas([2.5, 5.0, 11.0], [2.5, 5.0, 1.0], [big, small]).tolist() == [1, 0, -1]


@given(st.lists(st.tuples(st.integers(-1, 4), st.integers(-1, 3)), max_size=60))
def test_counts_by_year_keep_every_valid_incident(pairs: list[tuple[int, int]]) -> None:
    a = np.array([p[0] for p in pairs], dtype=int)
    t = np.array([p[1] for p in pairs], dtype=int)
    c = counts_by_year(a, t, n_areas=4, n_years=3)
    assert c.sum() == int(((a >= 0) & (a < 4) & (t >= 0) & (t < 3)).sum())


@settings(max_examples=40, deadline=None)
@given(counts_st, st.floats(0.1, 10))
def test_priority_order_is_invariant_to_dwelling_units(counts: list[int], scale: float) -> None:
    # Dwellings x c (another unit) scales every rate alike: the ranks stay the same.
    n = len(counts)
    c = np.array([counts, counts[::-1]])
    d = np.linspace(100, 5000, n)
    a = area_priorities(c, d, replicates=5, rng=0).ranking.rank
    b = area_priorities(c, d * scale, replicates=5, rng=0).ranking.rank
    assert a.tolist() == b.tolist()


@given(st.lists(st.floats(0, 3650), min_size=1, max_size=20), st.floats(30, 365))
def test_recency_weights_halve_per_half_life(age: list[float], h: float) -> None:
    w = recency_weights(age, h)
    assert ((w > 0) & (w <= 1)).all()
    np.testing.assert_allclose(recency_weights(np.asarray(age) + h, h), w / 2, rtol=1e-9)


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.floats(0, 5)), max_size=40))
def test_merging_identical_points_keeps_the_weight(rows: list[tuple[int, int, float]]) -> None:
    xy = np.array([[r[0], r[1]] for r in rows], dtype=float).reshape(-1, 2)
    w = np.array([r[2] for r in rows], dtype=float)
    u, s, inv = merge_identical(xy, w)
    assert s.sum() == pytest.approx(w.sum())
    assert len(u) == len({(r[0], r[1]) for r in rows})
    np.testing.assert_array_equal(u[inv], xy)


def test_camera_outside_the_allowed_area_is_moved() -> None:
    demand = [[0, 0], [10, 0]]
    plan = plan_flexible_cameras(
        demand, [1, 1], [[5, 1]], 1, 50, current_xy=[[5, 0]], current_allowed=[False]
    )
    assert plan.advice.tolist() == ["move"] and plan.selected_xy.tolist() == [[5.0, 1.0]]


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([0.0, 250.0, 600.0]))
def test_iha_areas_never_overlap_and_keep_their_distance(seed: int, gap: float) -> None:
    g = study_grid(box(4.26, 52.04, 4.36, 52.10), 10)
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.5, (2, g.n))
    p = propose_iha_areas(g, z, np.zeros_like(z), count=6, gap_m=gap)
    polys = shapely.transform(g.polygons(), _to_rd)
    for i in range(len(p.cells)):
        assert 0.2 <= p.area_km2[i] <= 1.5
        for j in range(i):
            assert not set(p.cells[i]) & set(p.cells[j])
            a = shapely.union_all(polys[p.cells[i]])
            b = shapely.union_all(polys[p.cells[j]])
            assert a.distance(b) >= gap
    assert (np.diff(p.score) <= 1e-9).all()


def test_composite_z_and_disks() -> None:
    with pytest.raises(InvalidParameterError):
        composite_z([[1.0]], [0.0])
    g = study_grid(box(4.28, 52.06, 4.34, 52.09), 10)
    c = g.index_of(np.array([int(h3.latlng_to_cell(52.07, 4.30, 10), 16)]))
    assert disk_matrix(g, c, 2).nnz == 19


@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 99), st.integers(0, 999)), min_size=1))
def test_equity_shares_sum_to_one(rows: list[tuple[int, int, int]]) -> None:
    e, c, b = (np.array(x, dtype=float) for x in zip(*rows, strict=True))
    t = equity_table(e, c, b)
    for share, total in ((t.effort_share, e), (t.incident_share, c), (t.dwelling_share, b)):
        assert share.sum() == pytest.approx(1.0 if total.sum() else 0.0)
    assert not (t.over & (t.effort_share <= t.incident_share)).any()


def test_monitor_without_population_gives_no_rate() -> None:
    m = rates_against_target([[5, 3], [4, 2]], [np.nan, 500], 1.0)
    assert np.isnan(m.rate[:, 0]).all() and not m.above[0]
    assert m.rate[-1, 1] == 4.0 and m.above[1]
