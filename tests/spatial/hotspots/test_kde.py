"""Quartic KDE: against direct summation, mass, edge loss, bandwidth rule, properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree

from spatial.errors import InvalidParameterError
from spatial.hotspots.kde import (
    kde_grid,
    mean_per_cell,
    quartic_kernel,
    silverman_spatial_bandwidth,
)

# The demo's clock decides what these tests see: `make test` runs them at three dates.
pytestmark = pytest.mark.clock


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
    """The demo's burglaries of its last twelve months (the demo ends last month)."""
    from geo_service.demo.dataset import generate_demo

    data = generate_demo(seed=1)
    inc = data.incidents
    since = pd.Timestamp(data.last_month) - pd.DateOffset(months=11)
    b = inc[(inc["category"] == "woninginbraak") & (inc["occurred_from"] >= since)]
    return b["x"].to_numpy(), b["y"].to_numpy()


def binning_bound(x, y, gx, gy, h: float, cell_m: float, exact: np.ndarray) -> np.ndarray:
    """The error bound of spatial/hotspots/kde.py's docstring, per node (per km2), computed here.

    kappa = c^2 * sum of K over the integer lattice (the sampled kernel's mass);
    N(g) = points within h + c*sqrt(2) of g; bound = 2 K(0) (c/h)^2 N / kappa + |1/kappa - 1| f.
    """
    r = int(np.ceil(h / cell_m))
    u = np.arange(-r, r + 1) * cell_m
    kappa = quartic_kernel(np.hypot(*np.meshgrid(u, u)), h).sum() * cell_m**2
    tree = cKDTree(np.column_stack([x, y]))
    near = tree.query_ball_point(
        np.column_stack([gx, gy]), h + cell_m * np.sqrt(2), return_length=True
    )
    k0 = 3.0 / (np.pi * h * h) * 1e6  # K(0) per km2
    fft_slack = 1e-9 * max(exact.max(), k0)
    return 2 * k0 * (cell_m / h) ** 2 * near / kappa + abs(1 / kappa - 1) * exact + fft_slack


def _check_bound(x, y, *, bandwidth, cell_m: float, nodes: int = 3000) -> tuple[float, float]:
    r = kde_grid(x, y, bandwidth_m=bandwidth, cell_m=cell_m)
    gx, gy = r.node_coordinates()
    sel = np.random.default_rng(0).choice(gx.size, min(nodes, gx.size), replace=False)
    exact = exact_density(x, y, gx[sel], gy[sel], r.bandwidth_m)
    got = r.density.ravel()[sel]
    bound = binning_bound(x, y, gx[sel], gy[sel], r.bandwidth_m, cell_m, exact)
    err = np.abs(got - exact)
    assert (err <= bound).all(), (
        f"error {err.max():.4g} above the bound at {np.argmax(err - bound)}"
    )
    return float(err.max() / exact.max()), float(bound.max() / exact.max())


@pytest.mark.parametrize("bandwidth", [None, 250.0])
def test_fft_within_the_proven_bound_on_demo_data(demo_burglaries, bandwidth) -> None:
    """Any month's demo (the demo ends last month): within the bound, and the bound is tight."""
    x, y = demo_burglaries
    err, bound = _check_bound(x, y, bandwidth=bandwidth, cell_m=25.0)
    # the bound says something: under 10 % of the peak at h ~ 10 cells (measured 5.6 % for
    # h = 250 m), and the error is well inside it (measured ~0.5 % of the peak)
    assert bound < 0.10
    assert err < bound


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
@pytest.mark.parametrize(
    ("bandwidth", "cell_m"), [(50.0, 25.0), (120.0, 25.0), (400.0, 25.0), (80.0, 10.0)]
)
def test_fft_within_the_proven_bound_on_clustered_points(seed, bandwidth, cell_m) -> None:
    """Clusters and scatter on several seeds, from two grid cells of bandwidth up to sixteen."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 3000, (6, 2))
    pts = np.vstack(
        [c + rng.normal(0, rng.uniform(20, 200), (rng.integers(20, 300), 2)) for c in centres]
        + [rng.uniform(0, 3000, (200, 2))]
    )
    _check_bound(pts[:, 0], pts[:, 1], bandwidth=bandwidth, cell_m=cell_m, nodes=2000)


def test_the_bound_check_bites_on_a_shifted_grid() -> None:
    """A half-cell shift (a first-order error) must break the second-order bound."""
    rng = np.random.default_rng(9)
    x, y = rng.normal(500, 60, 400), rng.normal(500, 60, 400)
    r = kde_grid(x, y, bandwidth_m=100.0, cell_m=10.0)
    gx, gy = r.node_coordinates()
    exact = exact_density(x + 5.0, y, gx, gy, 100.0)  # the points moved by half a cell
    bound = binning_bound(x, y, gx, gy, 100.0, 10.0, exact)
    assert (np.abs(r.density.ravel() - exact) > bound).any()


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
