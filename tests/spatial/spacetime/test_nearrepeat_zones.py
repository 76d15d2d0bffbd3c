"""Near-repeat extent, alert-zone merging and areal dwelling estimates (spacetime/nearrepeat)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from spatial.errors import InvalidParameterError
from spatial.spacetime.knox import KnoxResult, knox_test
from spatial.spacetime.nearrepeat import (
    DEFAULT_DAYS,
    DEFAULT_RADIUS_M,
    areal_estimate,
    merge_alert_zones,
    near_repeat_extent,
)

D = np.array([0.0, 100, 200, 300, 400])
T = np.array([0.0, 7, 14, 21])


def _knox(ratio: np.ndarray, p: np.ndarray, *, n: int = 500, observed: int = 40) -> KnoxResult:
    obs = np.full(ratio.shape, observed)
    return KnoxResult(D, T, obs, ratio, ratio, ratio, p, n, 1000, 99, 0)


def test_extent_reads_both_axes_from_the_origin() -> None:
    ratio = np.full((4, 3), 1.5)
    p = np.full((4, 3), 0.5)
    p[[0, 1, 2], 0] = 0.01  # 0-300 m at 0-7 days
    p[0, 1] = 0.02  # 0-100 m at 7-14 days
    p[3, 2] = 0.01  # far corner: not contiguous with the origin, ignored
    e = near_repeat_extent(_knox(ratio, p))
    assert (e.radius_m, e.days, e.source) == (300.0, 14, "knox")
    assert e.region[:3, 0].all() and e.region[0, 1] and not e.region[3, 2]


def test_extent_needs_ratio_above_one() -> None:
    ratio = np.full((4, 3), 0.7)  # significant avoidance is not a near repeat
    p = np.full((4, 3), 0.01)
    e = near_repeat_extent(_knox(ratio, p))
    assert e.source == "default" and "niet significant" in e.reason


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [({"n": 20}, "te weinig incidenten"), ({"observed": 2}, "te weinig paren")],
)
def test_extent_falls_back_on_thin_data(kwargs: dict[str, int], fragment: str) -> None:
    e = near_repeat_extent(_knox(np.full((4, 3), 3.0), np.full((4, 3), 0.01), **kwargs))
    assert (e.radius_m, e.days, e.source) == (DEFAULT_RADIUS_M, DEFAULT_DAYS, "default")
    assert fragment in e.reason


def test_extent_from_a_real_knox_run() -> None:
    # Planted chains: followers 0-80 m and 1-5 days after their origin; the rest uniform.
    rng = np.random.default_rng(4)
    n = 600
    x, y, t = rng.uniform(0, 5000, n), rng.uniform(0, 5000, n), rng.integers(0, 365, n)
    o = rng.integers(0, n, 200)
    ang = rng.uniform(0, 2 * np.pi, 200)
    r = rng.uniform(0, 80, 200)
    x = np.r_[x, x[o] + r * np.cos(ang)]
    y = np.r_[y, y[o] + r * np.sin(ang)]
    t = np.r_[t, t[o] + rng.integers(1, 6, 200)]
    k = knox_test(x, y, t, D, T, permutations=99, rng=1)
    e = near_repeat_extent(k)
    assert e.source == "knox" and e.radius_m == 100.0 and e.days == 7


def test_zones_merge_in_space_and_time() -> None:
    # 0-1: 150 m and 3 days apart (merge); 1-2: 150 m but 20 days apart (no); 3 far away.
    z = merge_alert_zones(
        [0, 150, 300, 5000], [0, 0, 0, 0], [10, 13, 33, 12], radius_m=100, days=14
    )
    assert z.n == 3
    assert z.zone_of.tolist() == [0, 0, 2, 1]
    assert [m.tolist() for m in z.members] == [[0, 1], [3], [2]]
    assert z.start_day.tolist() == [10, 12, 33]
    assert z.end_day.tolist() == [13 + 13, 12 + 13, 33 + 13]
    assert z.geometry[0].geom_type == "Polygon"
    assert z.geometry[0].area == pytest.approx(
        shapely.union_all(shapely.buffer(shapely.points([0, 150], [0, 0]), 100, quad_segs=16)).area
    )


def test_zones_chain_transitively() -> None:
    # Each burglary overlaps the next one (180 m, 5 days) but not the one after: one zone.
    x = np.arange(6) * 180.0
    z = merge_alert_zones(x, np.zeros(6), np.arange(6) * 5, radius_m=100, days=14)
    assert z.n == 1 and z.n_incidents.tolist() == [6]
    assert z.end_day.tolist() == [25 + 13]


def test_zones_reject_bad_input() -> None:
    with pytest.raises(InvalidParameterError):
        merge_alert_zones([0.0], [0.0], [1], radius_m=0, days=14)
    with pytest.raises(InvalidParameterError):
        merge_alert_zones([0.0], [0.0], [1], radius_m=100, days=0)
    with pytest.raises(InvalidParameterError):
        merge_alert_zones([0.0], [0.0], [1.5], radius_m=100, days=14)
    assert merge_alert_zones([], [], np.array([], int), radius_m=100, days=14).n == 0


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=1, max_value=60),
    st.integers(min_value=0, max_value=10_000),
    st.floats(min_value=20, max_value=400),
    st.integers(min_value=1, max_value=30),
)
def test_zones_partition_and_separate(n: int, seed: int, radius: float, days: int) -> None:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, 2000, n), rng.uniform(0, 2000, n)
    d = rng.integers(0, 90, n)
    z = merge_alert_zones(x, y, d, radius_m=radius, days=days)
    # Every incident in exactly one zone.
    assert int(z.n_incidents.sum()) == n
    assert sorted(np.concatenate(z.members).tolist()) == list(range(n))
    # Two incidents of different zones never overlap in both space and period.
    i, j = np.triu_indices(n, 1)
    apart = z.zone_of[i] != z.zone_of[j]
    both = (np.hypot(x[i] - x[j], y[i] - y[j]) < 2 * radius) & (np.abs(d[i] - d[j]) < days)
    assert not (apart & both).any()
    # Each circle lies inside its zone's polygon (up to the polygon approximation).
    circles = shapely.buffer(shapely.points(x, y), radius * 0.99)
    assert shapely.covers(z.geometry[z.zone_of], circles).all()


def test_areal_estimate_conserves_totals() -> None:
    areas = np.array([box(0, 0, 10, 10), box(10, 0, 20, 10), box(0, 10, 20, 20)])
    values = np.array([100.0, 40.0, np.nan])
    est, cov = areal_estimate(np.array([box(-5, -5, 25, 8)]), areas, values)
    # 80 % of each known area lies in the zone; the unknown one contributes nothing.
    assert est.tolist() == pytest.approx([0.8 * 140.0])
    assert cov.tolist() == pytest.approx([160.0 / (30 * 13)])
    est, cov = areal_estimate(np.array([box(0, 12, 5, 15)]), areas, values)
    assert np.isnan(est[0]) and cov[0] == 0.0
    with pytest.raises(InvalidParameterError):
        areal_estimate(np.array([box(0, 0, 1, 1)]), areas, [1.0])


# --------------------------------------------------------------------------- bounded zones


def _dense_strip(n: int, seed: int, length: float = 3000.0) -> tuple[np.ndarray, ...]:
    """``n`` burglaries on a 200 m wide strip within one week: one long chain."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0, length, n), rng.uniform(0, 200, n), rng.integers(0, 7, n)


@pytest.mark.parametrize("max_r", [250.0, 400.0, 700.0])
def test_dense_chain_is_split_into_bounded_zones_covering_the_chain(max_r: float) -> None:
    x, y, d = _dense_strip(300, 1)
    chained = merge_alert_zones(x, y, d, radius_m=200, days=14)
    assert chained.n == 1  # the chain nobody can leaflet: ~3.4 x 0.6 km
    assert shapely.minimum_bounding_radius(chained.geometry[0]) > 1500
    z = merge_alert_zones(x, y, d, radius_m=200, days=14, max_zone_radius_m=max_r)
    assert z.n >= 3 and z.n_chains == 1 and z.max_zone_radius_m == max_r
    # Each zone fits in a disc of max_r (the polygon circles lie inside the true circles).
    assert (shapely.minimum_bounding_radius(z.geometry) <= max_r + 1e-6).all()
    # Together they cover exactly what the chain covered.
    union = shapely.union_all(z.geometry)
    assert shapely.symmetric_difference(union, chained.geometry[0]).area < 1e-6 * union.area
    assert sorted(np.concatenate(z.members).tolist()) == list(range(x.size))
    assert z.start_day.min() == chained.start_day[0] and z.end_day.max() == chained.end_day[0]


def test_bound_leaves_zones_that_already_fit_alone() -> None:
    # Two burglaries 150 m apart (one zone of radius 175 m): a 400 m bound changes nothing.
    a = merge_alert_zones([0, 150], [0, 0], [1, 2], radius_m=100, days=14)
    b = merge_alert_zones([0, 150], [0, 0], [1, 2], radius_m=100, days=14, max_zone_radius_m=400)
    assert b.n == a.n == 1 and b.geometry[0].equals(a.geometry[0])


def test_bound_equal_to_radius_keeps_one_zone_per_place() -> None:
    # R = r: a zone may hold only circles around one point; burglaries at one address share it.
    z = merge_alert_zones(
        [0, 0, 150], [0, 0, 0], [1, 3, 2], radius_m=100, days=14, max_zone_radius_m=100
    )
    assert z.n == 2 and sorted(z.n_incidents.tolist()) == [1, 2]


def test_very_long_chain_goes_through_the_square_cut() -> None:
    # > 4000 burglaries in one chain: cut by squares of 8R before the linkage.
    x, y, d = _dense_strip(4500, 2, length=8000.0)
    z = merge_alert_zones(x, y, d, radius_m=200, days=14, max_zone_radius_m=400)
    assert z.n_chains == 1 and z.n > 10
    assert (shapely.minimum_bounding_radius(z.geometry) <= 400 + 1e-6).all()
    assert int(z.n_incidents.sum()) == 4500


def test_bound_below_radius_is_rejected() -> None:
    with pytest.raises(InvalidParameterError, match="max_zone_radius_m"):
        merge_alert_zones([0.0], [0.0], [1], radius_m=200, days=14, max_zone_radius_m=150)


@settings(max_examples=30, deadline=None)
@given(
    st.integers(min_value=1, max_value=80),
    st.integers(min_value=0, max_value=10_000),
    st.floats(min_value=20, max_value=300),
    st.floats(min_value=1.0, max_value=4.0),
)
def test_bounded_zones_fit_and_cover(n: int, seed: int, radius: float, factor: float) -> None:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, 1500, n), rng.uniform(0, 1500, n)
    d = rng.integers(0, 30, n)
    max_r = radius * factor
    free = merge_alert_zones(x, y, d, radius_m=radius, days=14)
    z = merge_alert_zones(x, y, d, radius_m=radius, days=14, max_zone_radius_m=max_r)
    assert (shapely.minimum_bounding_radius(z.geometry) <= max_r * (1 + 1e-9) + 1e-6).all()
    # A split zone stays inside its chain: its incidents all share one unbounded zone.
    for members in z.members:
        assert np.unique(free.zone_of[members]).size == 1
    assert z.n >= free.n
