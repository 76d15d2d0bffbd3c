"""Gi* properties (hypothesis), BH, classes."""

from __future__ import annotations

import libpysal
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial.errors import InvalidParameterError
from spatial.hotspots.gistar import benjamini_hochberg, classify, gistar, gistar_z

W25 = libpysal.weights.lat2W(5, 5, rook=False).sparse.tocsr()
values = st.lists(st.integers(0, 20), min_size=25, max_size=25).filter(lambda v: len(set(v)) > 1)


@settings(max_examples=50, deadline=None)
@given(y=values, c=st.floats(0.01, 1000))
def test_z_invariant_under_scaling(y, c) -> None:
    _, z = gistar_z(np.array(y, float), W25)
    _, zc = gistar_z(np.array(y, float) * c, W25)
    np.testing.assert_allclose(zc, z, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(y=values, seed=st.integers(0, 1000))
def test_results_permute_with_cell_order(y, seed) -> None:
    perm = np.random.default_rng(seed).permutation(25)
    yy = np.array(y, float)
    w_perm = W25[perm][:, perm]
    _, z = gistar_z(yy, W25)
    _, zp = gistar_z(yy[perm], w_perm)
    np.testing.assert_allclose(zp, z[perm], atol=1e-12)


def test_hand_computed_three_cells() -> None:
    # Path 0-1-2, y = (1, 2, 3): n=3, mean 2, S^2 = 14/3 - 4 = 2/3.
    # Cell 0: W_0 = 2 (self + 1), lag = 1 + 2 = 3
    #   -> z = (3 - 2 * 2) / (S * sqrt((3 * 2 - 2**2) / 2)) = -1 / sqrt(2/3) = -1.224745
    w = sp.csr_matrix(np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], float))
    _, z = gistar_z([1, 2, 3], w)
    assert z[0] == pytest.approx(-1 / np.sqrt(2 / 3), rel=1e-12)
    assert z[2] == pytest.approx(1 / np.sqrt(2 / 3), rel=1e-12)
    assert z[1] == 0.0  # every cell in its neighbourhood: G = 1, no information


def test_constant_values_give_zero_z() -> None:
    _, z = gistar_z(np.ones(25), W25)
    assert (z == 0).all()


def test_bh_matches_hand_computation() -> None:
    # p sorted: 0.01, 0.03, 0.04, 0.5 (m=4): raw 0.04, 0.06, 0.0533, 0.5 -> step-up min.
    q = benjamini_hochberg([0.04, 0.01, 0.5, 0.03])
    np.testing.assert_allclose(q, [0.0533333, 0.04, 0.5, 0.0533333], rtol=1e-5)


def test_classes_like_gi_bin() -> None:
    z = np.array([3.0, 2.0, 1.7, 0.5, -1.7, -2.0, -3.0])
    p = np.array([0.005, 0.03, 0.08, 0.6, 0.08, 0.03, 0.005])
    assert classify(z, p).tolist() == [3, 2, 1, 0, -1, -2, -3]


def test_permutation_p_is_reproducible_and_bounded() -> None:
    y = np.random.default_rng(1).poisson(2, 25).astype(float)
    a = gistar(y, W25, permutations=99, rng=5)
    b = gistar(y, W25, permutations=99, rng=5)
    np.testing.assert_array_equal(a.p_sim, b.p_sim)
    # Two-sided: from 2/(P+1) (no draw as extreme) up to 1 (every draw ties).
    assert ((a.p_sim >= 2 / 100) & (a.p_sim <= 1.0)).all()


def test_invalid() -> None:
    with pytest.raises(InvalidParameterError):
        gistar_z([1.0, 2.0], sp.csr_matrix((2, 2)))
    with pytest.raises(InvalidParameterError):
        gistar_z([1.0, np.nan, 2.0], sp.csr_matrix((3, 3)))
    with pytest.raises(InvalidParameterError):
        gistar(np.ones(25), W25, permutations=-1)
