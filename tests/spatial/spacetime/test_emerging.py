"""Emerging Hot Spot Analysis: every pattern, precedence, space-time Gi* vs references."""

from __future__ import annotations

import warnings

import esda
import libpysal
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial.errors import InvalidParameterError
from spatial.hotspots.gistar import gistar_z
from spatial.spacetime.emerging import (
    PATROON,
    PATTERNS,
    classify_patterns,
    emerging_hotspots,
    spacetime_gistar_z,
)

KINDS = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
    "oscillating",
    "historical",
)
T = 20  # bins; 90 % of 20 = 18 bins


def test_pattern_names_and_dutch_labels() -> None:
    expected = (
        ["no pattern detected"]
        + [f"{k} hot spot" for k in KINDS]
        + [f"{k} cold spot" for k in KINDS]
    )
    assert list(PATTERNS) == expected
    assert set(PATROON) == set(PATTERNS)
    assert len(set(PATROON.values())) == 17
    assert PATROON["new hot spot"] == "nieuwe hotspot"
    assert PATROON["intensifying cold spot"] == "toenemende coldspot"
    assert PATROON["no pattern detected"] == "geen patroon"


def _bins(*idx: int) -> np.ndarray:
    m = np.zeros(T, bool)
    m[list(idx)] = True
    return m


NONE = _bins()
ALL = np.ones(T, bool)
UP, DOWN, FLAT = (3.0, 0.001), (-3.0, 0.001), (0.2, 0.8)

# (this-side bins, other-side bins, trend for a HOT spot) -> kind. Cold cases mirror them with
# the trend sign flipped (an intensifying cold spot has a downward trend in z).
CASES = {
    "new": (_bins(T - 1), NONE, FLAT),
    "consecutive": (_bins(*range(16, T)), NONE, UP),
    "intensifying": (ALL, NONE, UP),
    "persistent": (_bins(*range(1, T)), NONE, FLAT),  # 19 of 20 = 95 %
    "diminishing": (ALL, NONE, DOWN),
    "sporadic": (_bins(3, 7, T - 1), NONE, FLAT),
    "oscillating": (_bins(7, T - 1), _bins(2), FLAT),
    "historical": (_bins(*range(18)), NONE, DOWN),  # 18 of 20 = 90 %, final not hot
}


def _classify_rows(rows: list[tuple[np.ndarray, np.ndarray, tuple[float, float]]]) -> list[str]:
    hot = np.array([r[0] for r in rows])
    cold = np.array([r[1] for r in rows])
    tz = np.array([r[2][0] for r in rows])
    tp = np.array([r[2][1] for r in rows])
    return [PATTERNS[c] for c in classify_patterns(hot, cold, tz, tp, trend_alpha=0.05)]


@pytest.mark.parametrize("kind", KINDS)
def test_each_hot_and_cold_pattern_from_hand_made_series(kind: str) -> None:
    this, other, (tz, tp) = CASES[kind]
    got = _classify_rows([(this, other, (tz, tp)), (other, this, (-tz, tp))])
    assert got == [f"{kind} hot spot", f"{kind} cold spot"]


def test_no_pattern_detected() -> None:
    got = _classify_rows(
        [
            (NONE, NONE, UP),  # never significant, even with a trend
            (_bins(4, 5, 6), NONE, FLAT),  # hot in the middle only, final bin not hot
            (_bins(*range(17)), NONE, FLAT),  # 85 % hot but final bin not hot: not historical
        ]
    )
    assert got == ["no pattern detected"] * 3


def test_thresholds_and_precedence() -> None:
    got = _classify_rows(
        [
            # 17 of 20 hot (< 90 %) ending hot with a gap: sporadic, not persistent.
            (_bins(*range(2, T)) & ~_bins(5), NONE, FLAT),
            # exactly 18 of 20 hot incl. the final bin: the 90 % rule holds (>=).
            (_bins(*range(2, T)), NONE, FLAT),
            # one final hot bin after being a cold spot: new (Esri's order) before oscillating.
            (_bins(T - 1), _bins(3), FLAT),
            # a final run of 3 hot bins after earlier cold bins: consecutive.
            (_bins(17, 18, 19), _bins(1, 2), FLAT),
            # a final run of 1 after an earlier hot bin: not consecutive (needs >= 2): sporadic.
            (_bins(10, T - 1), NONE, FLAT),
            # 90 % hot with a significant trend but the final bin not hot: historical.
            (_bins(*range(18)), NONE, UP),
        ]
    )
    assert got == [
        "sporadic hot spot",
        "persistent hot spot",
        "new hot spot",
        "consecutive hot spot",
        "sporadic hot spot",
        "historical hot spot",
    ]
    # A final cold bin after >= 90 % hot bins is described by the final bin (new cold spot),
    # not as a historical hot spot.
    got = _classify_rows([(_bins(*range(T - 1)), _bins(T - 1), FLAT)])
    assert got == ["new cold spot"]


def test_trend_alpha_decides_intensifying_vs_persistent() -> None:
    hot = np.ones((1, T), bool)
    cold = np.zeros((1, T), bool)
    codes = [
        PATTERNS[classify_patterns(hot, cold, [2.2], [0.03], trend_alpha=a)[0]]
        for a in (0.05, 0.01)
    ]
    assert codes == ["intensifying hot spot", "persistent hot spot"]


def _cube_with_every_pattern() -> tuple[np.ndarray, sp.csr_matrix, dict[str, int]]:
    """30 x 30 lattice, 20 bins, background 10 per bin; one 3 x 3 block per pattern whose
    counts follow the pattern (hot blocks 40, cold blocks 0). Returns the centre cell per name."""
    side, bg, hot, cold = 30, 10.0, 40.0, 0.0

    def series(kind: str, sign: int) -> np.ndarray:
        hi, lo = (hot, cold) if sign > 0 else (cold, hot)
        s = np.full(T, bg)
        if kind == "new":
            s[-1] = hi
        elif kind == "consecutive":
            s[16:] = hi
        elif kind == "intensifying":
            s[:] = np.linspace(30, 60, T) if sign > 0 else np.linspace(3, 0, T)
        elif kind == "persistent":
            s[:] = hi
        elif kind == "diminishing":
            s[:] = np.linspace(60, 30, T) if sign > 0 else np.linspace(0, 3, T)
        elif kind == "sporadic":
            s[[3, 9, 19]] = hi
        elif kind == "oscillating":
            s[[9, 19]] = hi
            s[2] = lo
        elif kind == "historical":
            s[:18] = hi
        return s

    counts = np.full((side * side, T), bg)
    slots = iter([(r, c) for r in range(2, side, 6) for c in range(2, side, 6)])
    centres = {}
    for sign, label in ((1, "hot"), (-1, "cold")):
        for kind in KINDS:
            r, c = next(slots)
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    counts[(r + dr) * side + (c + dc)] = series(kind, sign)
            centres[f"{kind} {label} spot"] = r * side + c
    r, c = next(slots)
    centres["no pattern detected"] = r * side + c
    w = libpysal.weights.lat2W(side, side, rook=False).sparse.tocsr()
    return counts, w, centres


def test_every_pattern_end_to_end_on_a_constructed_cube() -> None:
    counts, w, centres = _cube_with_every_pattern()
    r = emerging_hotspots(counts, w, time_window_bins=0)
    got = {name: str(r.pattern[cell]) for name, cell in centres.items()}
    assert got == {name: name for name in centres}
    assert len(got) == 17
    cell = centres["persistent hot spot"]
    assert r.n_hot_bins[cell] == T and r.n_cold_bins[cell] == 0
    assert r.patroon[cell] == "aanhoudende hotspot"
    assert r.z_last[cell] == r.z[cell, -1]
    assert r.bin_class.shape == counts.shape
    assert ((r.bin_class == 1) == ((r.p_fdr < 0.10) & (r.z > 0))).all()
    assert (r.tau[centres["intensifying hot spot"]] > 0.9) and (
        r.tau[centres["diminishing hot spot"]] < -0.9
    )


def _stacked_weights(w: sp.csr_matrix, n_bins: int, window: int) -> sp.csr_matrix:
    """Space-time weights on the cube flattened bin-major: block (t, s) = W + I for
    t - window <= s <= t."""
    ws = (w + sp.identity(w.shape[0])).tocsr()
    lags = sp.csr_matrix((n_bins, n_bins))
    for lag in range(window + 1):
        lags = lags + sp.eye(n_bins, k=-lag)
    return sp.kron(lags, ws, format="csr")


@pytest.mark.parametrize("window", [0, 1, 3])
def test_spacetime_z_equals_gistar_on_the_stacked_cube(window: int) -> None:
    rng = np.random.default_rng(window)
    w = libpysal.weights.lat2W(7, 7, rook=False).sparse.tocsr()
    counts = rng.poisson(2.0, (49, 8)).astype(float)
    counts[:5, 5:] += 6
    z = spacetime_gistar_z(counts, w, window)
    big = _stacked_weights(w, 8, window)
    big.setdiag(0)
    big.eliminate_zeros()
    _, z_ref = gistar_z(counts.T.ravel(), big)
    np.testing.assert_allclose(z, z_ref.reshape(8, 49).T, atol=1e-10)


def test_spacetime_z_equals_esda_g_local_on_the_stacked_cube() -> None:
    rng = np.random.default_rng(5)
    w = libpysal.weights.lat2W(5, 5, rook=False).sparse.tocsr()
    counts = rng.poisson(1.5, (25, 6)).astype(float)
    big = _stacked_weights(w, 6, 2)
    big.setdiag(0)
    big.eliminate_zeros()
    wl = libpysal.weights.WSP(big).to_W(silence_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(counts.T.ravel(), wl, transform="B", star=True, permutations=0)
    z = spacetime_gistar_z(counts, w, 2)
    np.testing.assert_allclose(z, ref.Zs.reshape(6, 25).T, atol=1e-9)


def test_diagonal_given_or_not_is_the_same() -> None:
    w = libpysal.weights.lat2W(4, 4, rook=False).sparse.tocsr()
    counts = np.random.default_rng(2).poisson(2.0, (16, 5)).astype(float)
    with_diag = (w + sp.identity(16)).tocsr()
    np.testing.assert_array_equal(
        spacetime_gistar_z(counts, w, 1), spacetime_gistar_z(counts, with_diag, 1)
    )


W16 = libpysal.weights.lat2W(4, 4, rook=False).sparse.tocsr()
cubes = st.lists(st.integers(0, 9), min_size=16 * 12, max_size=16 * 12).filter(
    lambda v: len(set(v)) > 1
)


@settings(max_examples=40, deadline=None)
@given(values=cubes, c=st.floats(0.01, 1000), k=st.integers(-8, 8), window=st.integers(0, 3))
def test_invariant_under_scaling_of_counts(values, c, k, window) -> None:
    counts = np.array(values, float).reshape(16, 12)
    a = emerging_hotspots(counts, W16, time_window_bins=window)
    b = emerging_hotspots(counts * c, W16, time_window_bins=window)
    np.testing.assert_allclose(b.z, a.z, atol=1e-9)
    # Scaling by a power of two is exact in floating point, so everything must be identical
    # (a general c can move a tie in z by one ulp, which the Mann-Kendall test would see).
    e = emerging_hotspots(counts * 2.0**k, W16, time_window_bins=window)
    np.testing.assert_array_equal(e.z, a.z)
    np.testing.assert_array_equal(e.pattern, a.pattern)


@settings(max_examples=30, deadline=None)
@given(values=cubes, seed=st.integers(0, 1000))
def test_results_permute_with_cell_order(values, seed) -> None:
    counts = np.array(values, float).reshape(16, 12)
    perm = np.random.default_rng(seed).permutation(16)
    a = emerging_hotspots(counts, W16)
    b = emerging_hotspots(counts[perm], W16[perm][:, perm])
    np.testing.assert_allclose(b.z, a.z[perm], atol=1e-12)
    np.testing.assert_array_equal(b.pattern_code, a.pattern_code[perm])


def test_constant_cube_has_no_pattern() -> None:
    r = emerging_hotspots(np.full((16, 12), 3.0), W16)
    assert (r.z == 0).all()
    assert (r.pattern == "no pattern detected").all()
    assert (r.patroon == "geen patroon").all()


def test_fdr_false_uses_raw_p_and_only_adds_significance() -> None:
    counts, w, _ = _cube_with_every_pattern()
    with_fdr = emerging_hotspots(counts, w, time_window_bins=1)
    raw = emerging_hotspots(counts, w, time_window_bins=1, fdr=False)
    assert ((raw.bin_class != 0) == (raw.p_norm < 0.10)).all()
    assert (np.abs(with_fdr.bin_class) <= np.abs(raw.bin_class)).all()
    assert with_fdr.fdr and not raw.fdr


def test_invalid() -> None:
    counts = np.ones((16, 12))
    with pytest.raises(InvalidParameterError):
        emerging_hotspots(counts, W16, time_window_bins=12)
    with pytest.raises(InvalidParameterError):
        emerging_hotspots(counts, W16, time_window_bins=-1)
    with pytest.raises(InvalidParameterError):
        emerging_hotspots(np.ones((16, 2)), W16)
    with pytest.raises(InvalidParameterError):
        emerging_hotspots(np.ones((15, 12)), W16)
    with pytest.raises(InvalidParameterError):
        emerging_hotspots(np.where(np.eye(16, 12) > 0, np.nan, 1.0), W16)
    with pytest.raises(InvalidParameterError):
        emerging_hotspots(counts, W16, alpha=0.0)
    with pytest.raises(InvalidParameterError):
        classify_patterns(np.ones((2, 3), bool), np.ones((2, 3), bool), [0, 0], [1, 1])
    with pytest.raises(InvalidParameterError):
        classify_patterns(np.ones((2, 3), bool), np.zeros((2, 3), bool), [0], [1])
