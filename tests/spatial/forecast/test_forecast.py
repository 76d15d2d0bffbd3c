"""Forecast methods: no look-ahead, history cap honoured, determinism, hand-checked values."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import nnls

from spatial.errors import InvalidParameterError
from spatial.forecast.methods import (
    METHODS,
    EventSet,
    StudyCells,
    _nnls_gram,
    gistar_counts,
    kde_at_cells,
    make_cells,
    make_events,
    multiscale_rate,
    naive_counts,
    prospective_hotspot,
    random_scores,
)
from spatial.hotspots.gistar import gistar_z
from spatial.hotspots.kde import quartic_kernel

SIDE = 12
SPACING_M = 100.0
T0 = 800.0


def lattice() -> StudyCells:
    """A 12 x 12 square lattice of 100 m cells with queen neighbours."""
    ii, jj = np.meshgrid(np.arange(SIDE), np.arange(SIDE), indexing="ij")
    i, j = ii.ravel(), jj.ravel()
    di = np.abs(i[:, None] - i[None, :])
    dj = np.abs(j[:, None] - j[None, :])
    w = sp.csr_matrix(((di <= 1) & (dj <= 1) & ((di + dj) > 0)).astype(float))
    return make_cells(i * SPACING_M, j * SPACING_M, neighbours=w, crs="EPSG:32631")


def synthetic(rng: np.random.Generator, n: int = 900, t_max: float = 1200.0) -> EventSet:
    """Clustered incidents: half around three hotspots, half uniform, over t_max days."""
    centres = np.array([[200.0, 300.0], [800.0, 700.0], [500.0, 1000.0]])
    k = rng.integers(0, 3, n)
    clustered = rng.random(n) < 0.5
    x = np.where(clustered, centres[k, 0] + rng.normal(0, 80, n), rng.uniform(0, 1150, n))
    y = np.where(clustered, centres[k, 1] + rng.normal(0, 80, n), rng.uniform(0, 1150, n))
    x = np.clip(x, -50, SIDE * SPACING_M - 51)
    y = np.clip(y, -50, SIDE * SPACING_M - 51)
    cell = np.rint(x / SPACING_M).astype(int) * SIDE + np.rint(y / SPACING_M).astype(int)
    return make_events(cell, rng.uniform(0, t_max, n), x, y)


def subset(ev: EventSet, keep: np.ndarray) -> EventSet:
    assert ev.x is not None and ev.y is not None
    return make_events(ev.cell[keep], ev.t_days[keep], ev.x[keep], ev.y[keep])


def concat(a: EventSet, b: EventSet) -> EventSet:
    assert a.x is not None and a.y is not None and b.x is not None and b.y is not None
    return make_events(
        np.concatenate([a.cell, b.cell]),
        np.concatenate([a.t_days, b.t_days]),
        np.concatenate([a.x, b.x]),
        np.concatenate([a.y, b.y]),
    )


def test_registry_names_and_flags() -> None:
    for name in ("naive_90d", "naive_365d", "naive_730d", "kde_150m_365d", "kde_400m_730d"):
        assert METHODS[name].baseline
    for name in ("prospective", "gistar", "random"):
        assert METHODS[name].baseline
    assert not METHODS["msrate"].baseline
    assert all(m.name == key for key, m in METHODS.items())


@pytest.mark.parametrize("name", list(METHODS))
def test_no_data_at_or_after_the_origin_is_used(name: str, cells, events) -> None:
    """Replacing every incident at or after t0 (moving, dropping, adding) changes nothing."""
    method = METHODS[name]
    before = method.score(events, cells, T0)
    past = subset(events, events.t_days < T0)
    future = synthetic(np.random.default_rng(99), n=500)
    future = subset(future, future.t_days < 400)  # re-date them into [T0, T0 + 400)
    future = make_events(future.cell, future.t_days + T0, future.x, future.y)
    after = method.score(concat(past, future), cells, T0)
    np.testing.assert_array_equal(before, after)
    # An incident exactly at t0 is the future too.
    at_t0 = make_events([70], [T0], [700.0], [1000.0])
    np.testing.assert_array_equal(before, method.score(concat(past, at_t0), cells, T0))
    # ... while the scores do react to the past (the test could fail), except for random.
    if name != "random":
        early = subset(events, events.t_days < T0 - 20)
        assert not np.array_equal(before, method.score(early, cells, T0))


@pytest.mark.parametrize("name", list(METHODS))
def test_train_days_cap_is_honoured(name: str, cells, events) -> None:
    """With train_days = 200, incidents before t0 - 200 do not matter."""
    method = METHODS[name]
    capped = method.score(events, cells, T0, train_days=200.0)
    recent = subset(events, events.t_days >= T0 - 200.0)
    np.testing.assert_array_equal(capped, method.score(recent, cells, T0, train_days=200.0))
    if name not in ("random", "prospective", "naive_90d"):  # those never look back 200 days
        assert not np.array_equal(capped, method.score(events, cells, T0))


@pytest.mark.parametrize("name", list(METHODS))
def test_deterministic(name: str, cells, events) -> None:
    a = METHODS[name].score(events, cells, T0)
    b = METHODS[name].score(events, cells, T0)
    assert a.shape == (cells.n,) and np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)


def test_random_depends_on_seed_and_origin(cells, events) -> None:
    s1 = random_scores(1)(events, cells)
    assert np.array_equal(s1(T0), random_scores(1)(events, cells)(T0))
    assert not np.array_equal(s1(T0), random_scores(2)(events, cells)(T0))
    assert not np.array_equal(s1(T0), s1(T0 + 14))
    # Scoring order does not matter: the origin picks the stream.
    s2 = random_scores(1)(events, cells)
    s2(T0 + 14)
    np.testing.assert_array_equal(s1(T0), s2(T0))


def test_naive_counts_by_hand() -> None:
    ev = make_events([0, 1, 1, 2, 2], [1.0, 2.0, 3.0, 9.0, 10.0])
    cells = make_cells([0.0, 1.0, 2.0], [0.0, 0.0, 0.0])
    assert naive_counts(9.0)(ev, cells)(10.0).tolist() == [1.0, 2.0, 1.0]  # t in [1, 10)
    assert naive_counts(9.0)(ev, cells)(10.0, train_days=2.0).tolist() == [0.0, 0.0, 1.0]


def test_kde_equals_direct_summation(cells, events) -> None:
    got = kde_at_cells(250.0, 365.0)(events, cells)(T0)
    keep = (events.t_days >= T0 - 365.0) & (events.t_days < T0)
    assert events.x is not None and events.y is not None
    d = np.hypot(cells.x[:, None] - events.x[None, keep], cells.y[:, None] - events.y[None, keep])
    np.testing.assert_allclose(got, quartic_kernel(d, 250.0).sum(axis=1) * 1e6, rtol=1e-12)


def test_prospective_weights_by_hand() -> None:
    # Incidents 0, 49.9, 50 and 399 m from cell 0's centroid, 0.1, 6.9, 7 and 55.9 days before.
    ev = make_events([0, 0, 0, 0], [99.9, 93.1, 93.0, 44.1], [0.0, 49.9, 50.0, 399.0], [0.0] * 4)
    cells = make_cells([0.0, 2000.0], [0.0, 0.0])
    got = prospective_hotspot()(ev, cells)(100.0)
    # 1/(1+0)/(1+0) + 1/(1+0)/(1+0) + 1/(1+1)/(1+1) + 1/(1+7)/(1+7)
    assert got[0] == pytest.approx(1 + 1 + 0.25 + 1 / 64)
    assert got[1] == 0.0
    # 56 days = 8 whole weeks is outside the 8-week band; 400 m is outside the radius.
    late = make_events([0, 0], [44.0, 99.0], [0.0, 400.0], [0.0, 0.0])
    assert prospective_hotspot()(late, cells)(100.0)[0] == 0.0


def test_gistar_is_gi_star_of_the_counts(cells, events) -> None:
    got = gistar_counts(365.0)(events, cells)(T0)
    keep = (events.t_days >= T0 - 365.0) & (events.t_days < T0)
    y = np.bincount(events.cell[keep], minlength=cells.n).astype(float)
    np.testing.assert_allclose(got, gistar_z(y, cells.neighbours)[1])


def test_nnls_from_the_gram_matrix_equals_nnls_on_the_rows() -> None:
    rng = np.random.default_rng(5)
    x = rng.poisson(1.0, (400, 6)).astype(float)
    x[:, 5] = 0.0  # a dead feature makes the Gram matrix singular
    y = x @ np.array([0.5, 0.0, 1.0, 0.2, 0.0, 0.0]) + rng.normal(0, 0.5, 400)
    expected, _ = nnls(x, y)
    np.testing.assert_allclose(_nnls_gram(x.T @ x, x.T @ y), expected, atol=1e-8)


def test_msrate_finds_a_persistent_hotspot_and_beats_noise(cells) -> None:
    rng = np.random.default_rng(3)
    # Cell 30 has a steady rate of one incident a week; background cells are random.
    t_hot = np.arange(0.0, T0, 7.0)
    t_bg = rng.uniform(0, T0, 400)
    c_bg = rng.integers(0, cells.n, 400)
    ev = make_events(np.concatenate([np.full(t_hot.size, 30), c_bg]), np.concatenate([t_hot, t_bg]))
    s = multiscale_rate(14.0)(ev, cells)(T0)
    assert int(np.argmax(s)) == 30


def test_msrate_falls_back_without_training_history(cells) -> None:
    ev = make_events([5, 5, 7], [1.0, 2.0, 3.0])
    s = multiscale_rate(14.0)(ev, cells)(10.0)
    assert int(np.argmax(s)) == 5 and s[7] > 0


def test_validation() -> None:
    with pytest.raises(InvalidParameterError, match="negative"):
        make_events([-1], [0.0])
    with pytest.raises(InvalidParameterError, match="equally long"):
        make_events([0, 1], [0.0])
    with pytest.raises(InvalidParameterError, match="both x and y"):
        make_events([0], [0.0], x=[1.0])
    cells = make_cells([0.0, 1.0, 2.0], [0.0, 0.0, 0.0])
    with pytest.raises(InvalidParameterError, match="neighbour"):
        gistar_counts()(make_events([0], [0.0]), cells)
    with pytest.raises(InvalidParameterError, match="outside"):
        naive_counts(10.0)(make_events([3], [0.0]), cells)
    with pytest.raises(InvalidParameterError, match="train_days"):
        naive_counts(10.0)(make_events([0], [0.0]), cells)(5.0, train_days=0.0)
    with pytest.raises(InvalidParameterError, match="bandwidth_m"):
        kde_at_cells(-1.0, 10.0)
    with pytest.raises(InvalidParameterError, match="weeks"):
        prospective_hotspot(weeks=0)
