"""Quartic KDE: against direct summation, mass, edge loss, bandwidth rule, properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial.errors import InvalidParameterError
from spatial.kde import kde_grid, mean_per_cell, quartic_kernel, silverman_spatial_bandwidth


def exact_density(x, y, gx, gy, h) -> np.ndarray:
    """Direct summation of the quartic kernel (per km2): the reference."""
    out = np.empty(gx.size)
    for start in range(0, gx.size, 500):
        sl = slice(start, start + 500)
        d = np.hypot(gx[sl, None] - x[None, :], gy[sl, None] - y[None, :])
        out[sl] = quartic_kernel(d, h).sum(axis=1) * 1e6
    return out


@pytest.fixture(scope="module")
def demo_burglaries():
    from geo_service.demo import generate_demo

    inc = generate_demo(seed=1).incidents
    b = inc[(inc["category"] == "woninginbraak") & (inc["occurred_from"].dt.year == 2025)]
    return b["x"].to_numpy(), b["y"].to_numpy()


@pytest.mark.parametrize("bandwidth", [None, 250.0])
def test_fft_matches_direct_summation_on_demo_data(demo_burglaries, bandwidth) -> None:
    x, y = demo_burglaries
    r = kde_grid(x, y, bandwidth_m=bandwidth, cell_m=25.0)
    gx, gy = r.node_coordinates()
    sel = np.random.default_rng(0).choice(gx.size, 4000, replace=False)
    exact = exact_density(x, y, gx[sel], gy[sel], r.bandwidth_m)
    got = r.density.ravel()[sel]
    peak = exact.max()
    # Error relative to the surface's maximum (what a map's colour scale shows): < 0.5 %.
    assert np.abs(got - exact).max() / peak < 0.005
    if bandwidth is None:
        # And relative to the local value wherever the density is at least 5 % of the peak.
        m = exact >= 0.05 * peak
        assert (np.abs(got[m] - exact[m]) / exact[m]).max() < 0.005


def test_mass_and_edge_loss() -> None:
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1000, 300)
    y = rng.uniform(0, 1000, 300)
    free = kde_grid(x, y, bandwidth_m=200, cell_m=10)
    assert free.edge_loss == pytest.approx(0.0, abs=1e-9)
    assert free.total == pytest.approx(300, rel=2e-3)
    clipped = kde_grid(x, y, bandwidth_m=200, cell_m=10, bounds=(0, 0, 1000, 1000))
    # Points near the border lose the part of their kernel outside: reported, not hidden.
    assert 10 < clipped.edge_loss < 100
    assert clipped.total + clipped.edge_loss == pytest.approx(300, rel=2e-3)


def test_single_point_peak_is_the_kernel_maximum() -> None:
    r = kde_grid([100.0], [100.0], bandwidth_m=100.0, cell_m=5.0)
    # K(0) = 3 / (pi h^2) per m2 -> per km2 (hand-computed: 95.49 per km2 for h = 100 m); the
    # sampled kernel is rescaled by its discrete mass (within 0.1 % of 1 at h = 20 cells).
    assert r.density.max() == pytest.approx(3 / (np.pi * 100.0**2) * 1e6, rel=1e-3)
    assert r.sample([100.0], [100.0])[0] == pytest.approx(95.4929658, rel=1e-3)
    assert r.total == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("h", [50.0, 60.0, 250.0])
def test_mass_is_n_at_any_bandwidth(h) -> None:
    # Regression: without dividing by the discrete kernel mass, 200 points on 25 m cells
    # integrated to 191 incidents at h = 25 m (and 1,194 at h = 10 m).
    rng = np.random.default_rng(7)
    x, y = rng.uniform(0, 2000, 200), rng.uniform(0, 2000, 200)
    r = kde_grid(x, y, bandwidth_m=h, cell_m=25.0)
    assert r.edge_loss == pytest.approx(0.0, abs=1e-9)
    assert r.total == pytest.approx(200.0, rel=1e-9)


def test_bandwidth_below_two_cells_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match="below 2 grid cells"):
        kde_grid([0.0, 10.0], [0.0, 5.0], bandwidth_m=10.0, cell_m=25.0)
    # A rule-of-thumb bandwidth below two cells (tight cluster) is raised to two cells, and says so.
    r = kde_grid([0.0, 3.0, 6.0, 2.0], [0.0, 4.0, 1.0, 5.0], cell_m=25.0)
    assert r.bandwidth_m == 50.0 and "raised" in r.bandwidth_rule


def test_silverman_spatial_rule_hand_computed() -> None:
    # Four corners of a 2x2 square: mean centre (1, 1), every distance sqrt(2), so
    # SD = sqrt(2), Dm = sqrt(2); h = 0.9 * min(SD, sqrt(1/ln 2) * Dm) * 4^-0.2.
    h = silverman_spatial_bandwidth([0, 2, 0, 2], [0, 0, 2, 2])
    assert h == pytest.approx(0.9 * np.sqrt(2) * 4**-0.2)


def test_weights_scale_the_density() -> None:
    x, y = np.array([0.0, 50.0]), np.array([0.0, 20.0])
    a = kde_grid(x, y, bandwidth_m=100, cell_m=10)
    b = kde_grid(x, y, bandwidth_m=100, cell_m=10, weights=[2.0, 2.0])
    np.testing.assert_allclose(b.density, 2 * a.density)


def test_invalid_input() -> None:
    with pytest.raises(InvalidParameterError):
        kde_grid([0.0], [np.nan], bandwidth_m=10)
    with pytest.raises(InvalidParameterError):
        kde_grid([0.0], [0.0], bandwidth_m=-1)
    with pytest.raises(InvalidParameterError):
        kde_grid([0.0], [0.0], bandwidth_m=10, weights=[-1.0])


def test_mean_per_cell() -> None:
    got = mean_per_cell([1.0, 3.0, 5.0, 7.0], [0, 0, 2, -1], 3)
    assert got[0] == 2.0 and np.isnan(got[1]) and got[2] == 5.0


coords = st.lists(st.tuples(st.floats(0, 2000), st.floats(0, 2000)), min_size=1, max_size=40)


@settings(max_examples=30, deadline=None)
@given(pts=coords, h=st.floats(20, 400))
def test_properties_nonnegative_and_mass_is_n(pts, h) -> None:
    x = np.array([p[0] for p in pts])
    y = np.array([p[1] for p in pts])
    r = kde_grid(x, y, bandwidth_m=h, cell_m=10.0)
    assert (r.density >= 0).all()
    assert r.edge_loss == pytest.approx(0.0, abs=1e-9 * len(pts))
    # The sampled kernel is normalised to mass 1 at every bandwidth from 2 cells up.
    assert r.total == pytest.approx(len(pts), rel=1e-9)
