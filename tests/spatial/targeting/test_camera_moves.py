"""Camera advice a coordinator follows: no move shorter than the view radius, reasons in numbers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial.errors import InvalidParameterError
from spatial.targeting.camera_plan import plan_flexible_cameras

RADIUS = 75.0


def test_the_old_sub_radius_move_is_now_a_keep() -> None:
    # Hand case: a camera at (0, 0) covers the incident there (1); the grid site (40, 0) covers
    # both (40 m and 70 m < 75 m): 2. The plan picks (40, 0) and staying costs 2 - 1 = 1
    # incident, at the default min_move_gain of 1 -- so the old rule moved the camera 40 m.
    demand, weights, grid = [[0, 0], [110, 0]], [1, 1], [[40, 0]]
    old = plan_flexible_cameras(demand, weights, grid, 1, RADIUS, current_xy=[[0, 0]], min_move_m=0)
    assert old.advice.tolist() == ["move"] and old.distance_m.tolist() == [40.0]
    assert old.stay_loss.tolist() == [1.0]
    new = plan_flexible_cameras(demand, weights, grid, 1, RADIUS, current_xy=[[0, 0]])
    assert new.advice.tolist() == ["keep"] and new.keep_reason.tolist() == ["short_move"]
    assert new.min_move_m == RADIUS and new.distance_m.tolist() == [40.0]
    # Following the advice covers what the camera covers where it hangs: 1 of 2.
    assert new.covered_with_advice == 1.0 and old.covered_with_advice == 2.0


def test_a_near_site_is_taken_by_the_camera_beside_it_and_far_ones_get_the_others() -> None:
    # Camera A at (0, 0) covers (30, 0) and (30, 60) (weight 10); planned site X = (30, 30),
    # 42.4 m away, also covers (30, 100): 15. Camera B hangs 3 km from everything; site Y =
    # (800, 25) covers the other cluster (6). A stays beside X (staying costs 5 incidents, but
    # the move is shorter than the view radius) and B goes to Y: every move >= the radius.
    demand = [[30, 0], [30, 60], [30, 100], [800, 0], [800, 50]]
    grid = [[30, 30], [800, 25]]
    plan = plan_flexible_cameras(
        demand, [5, 5, 5, 3, 3], grid, 2, RADIUS, current_xy=[[0, 0], [3000, 0]]
    )
    assert plan.advice.tolist() == ["keep", "move"]
    assert plan.keep_reason.tolist() == ["short_move", ""]
    assert plan.distance_m[0] == pytest.approx(np.hypot(30, 30))
    assert plan.stay_loss[0] == pytest.approx(5.0)
    assert plan.distance_m[1] == pytest.approx(np.hypot(2200, 25))
    assert plan.covered_with_advice == pytest.approx(16.0)


def test_camera_that_may_not_stay_is_moved_however_short() -> None:
    plan = plan_flexible_cameras(
        [[0, 0], [10, 0]], [1, 1], [[5, 1]], 1, 50, current_xy=[[5, 0]], current_allowed=[False]
    )
    assert plan.advice.tolist() == ["move"] and plan.distance_m.tolist() == [1.0]


def test_bad_thresholds() -> None:
    with pytest.raises(InvalidParameterError, match="min_move_m"):
        plan_flexible_cameras([[0, 0]], [1], [[5, 0]], 1, 50, current_xy=[[0, 0]], min_move_m=-1)
    with pytest.raises(InvalidParameterError, match="min_move_gain"):
        plan_flexible_cameras([[0, 0]], [1], [[5, 0]], 1, 50, min_move_gain=float("nan"))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(1, 6),
    st.integers(0, 6),
    st.sampled_from([None, 0.0, 40.0, 150.0]),
)
def test_no_move_is_shorter_than_the_threshold(
    seed: int, p: int, n_cur: int, min_move: float | None
) -> None:
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, 1000, (60, 2))
    weights = rng.integers(1, 4, 60).astype(float)
    grid = np.stack(np.meshgrid(np.arange(0, 1001, 50.0), np.arange(0, 1001, 50.0)), -1)
    current = rng.uniform(0, 1000, (n_cur, 2))
    plan = plan_flexible_cameras(
        demand, weights, grid.reshape(-1, 2), p, RADIUS, current_xy=current, min_move_m=min_move
    )
    threshold = RADIUS if min_move is None else min_move
    moved = plan.advice == "move"
    assert (plan.distance_m[moved] >= threshold).all()
    assert (plan.stay_loss[moved] >= plan.min_move_gain).all()
    kept = plan.advice == "keep"
    assert set(plan.keep_reason[kept].tolist()) <= {"planned", "short_move", "small_gain"}
    assert (plan.distance_m[plan.keep_reason == "short_move"] < threshold).all()
    # No planned site is given to two cameras.
    targets = plan.target[plan.target >= 0]
    assert np.unique(targets).size == targets.size
    assert ((plan.advice == "withdraw") == (plan.target < 0)).all()
