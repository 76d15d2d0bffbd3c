"""Space-time analysis timings, with ratios against reference implementations in the same process.

1. Knox test, 10,000 incidents (a 15 x 15 km city: 6,000 uniform + 4,000 in 20 clusters,
   integer days over two years), 10 distance bands of 100 m x 9 time bands of 7 days,
   99 permutations. Target: < 5 s on 2 cores.
   References at a smaller n on the same kind of data (so they finish): pointpats' ``Knox``
   (one band, Python loop per permutation) and a brute-force all-pairs numpy count (every
   one of the n(n-1)/2 pairs, banded per permutation); ours runs on the same subsample.
2. Emerging Hot Spot Analysis, 24 monthly bins on ~20,000 H3 res-10 cells (Den Haag's
   bounding box). Target: < 5 s on 2 cores.
   Reference: the plain loop one would write with the existing pieces: per bin
   ``spatial.hotspots.gistar.gistar_z`` on the window's counts, per cell
   ``pymannkendall.original_test``
   on the z-series and a per-cell classification in Python. (Its per-bin Gi* uses per-slice
   mean/std, not the cube's: the same amount of work, not the same numbers.)

Medians of ``--repeat`` runs.  ``.venv/bin/python benchmarks/spacetime.py``
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable

import numpy as np
import shapely

from spatial.grid.h3grid import neighbours, study_grid
from spatial.hotspots.gistar import gistar_z
from spatial.spacetime.emerging import emerging_hotspots
from spatial.spacetime.knox import knox_test
from spatial.spacetime.trend import mann_kendall


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def city(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n_uniform = int(0.6 * n)
    n_cluster = n - n_uniform
    centres = rng.uniform(1_000, 14_000, size=(20, 2))
    pick = rng.integers(0, 20, n_cluster)
    x = np.r_[rng.uniform(0, 15_000, n_uniform), centres[pick, 0] + rng.normal(0, 300, n_cluster)]
    y = np.r_[rng.uniform(0, 15_000, n_uniform), centres[pick, 1] + rng.normal(0, 300, n_cluster)]
    t = rng.integers(0, 730, n).astype(float)
    return x, y, t


def brute_force_knox(x, y, t, d_edges, t_edges, permutations, rng) -> np.ndarray:
    """Every pair (no tree): distance band once, then time band per permutation."""
    i, j = np.triu_indices(x.size, 1)
    db = np.searchsorted(d_edges, np.hypot(x[i] - x[j], y[i] - y[j]), side="right") - 1
    n_t = len(t_edges) - 1

    def table(tp: np.ndarray) -> np.ndarray:
        tb = np.searchsorted(t_edges, np.abs(tp[i] - tp[j]), side="right") - 1
        ok = (db >= 0) & (db < len(d_edges) - 1) & (tb >= 0) & (tb < n_t)
        return np.bincount(db[ok] * n_t + tb[ok], minlength=(len(d_edges) - 1) * n_t)

    obs = table(t)
    for _ in range(permutations):
        table(t[rng.permutation(x.size)])
    return obs


def plain_ehsa(counts: np.ndarray, w, window: int) -> list[str]:
    import pymannkendall

    n_cells, n_bins = counts.shape
    z = np.empty_like(counts)
    for b in range(n_bins):
        y = counts[:, max(0, b - window) : b + 1].sum(axis=1)
        z[:, b] = gistar_z(y, w)[1]
    out = []
    for c in range(n_cells):
        mk = pymannkendall.original_test(z[c])
        hot = z[c] > 1.645
        n_hot = int(hot.sum())
        if hot[-1] and n_hot == 1:
            out.append("new hot spot")
        elif n_hot >= 0.9 * n_bins and hot[-1]:
            out.append(
                "intensifying hot spot" if mk.trend == "increasing" else "persistent hot spot"
            )
        else:
            out.append("no pattern detected")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)

    # 1. Knox.
    d_edges = np.arange(0, 1001, 100.0)
    t_edges = np.arange(0, 64, 7.0)
    x, y, t = city(10_000, rng)
    res = knox_test(x, y, t, d_edges, t_edges, permutations=99, rng=1)
    t_knox = median_time(
        lambda: knox_test(x, y, t, d_edges, t_edges, permutations=99, rng=1), args.repeat
    )
    print(
        f"[1] Knox, {res.n:,} incidents, {res.pairs_considered:,} pairs within 1 km, "
        f"{d_edges.size - 1}x{t_edges.size - 1} bands, 99 permutations: median {t_knox:.2f} s"
        f"   target < 5 s: {'MET' if t_knox < 5 else 'NOT MET'}"
    )

    from pointpats.spacetime import Knox

    n_pp = 2_000
    xs, ys, ts = city(n_pp, np.random.default_rng(1))
    delta, tau = 300.0, 14.0

    def pointpats_knox() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Knox(np.column_stack([xs, ys]), ts[:, None], delta=delta, tau=tau, permutations=99)

    t_pp = median_time(pointpats_knox, 1)
    one_band = ([0, np.nextafter(delta, np.inf)], [0, tau + 0.5])
    t_ours_pp = median_time(
        lambda: knox_test(xs, ys, ts, *one_band, permutations=99, rng=1), args.repeat
    )
    print(
        f"    vs pointpats Knox (1 band, 99 permutations, n = {n_pp:,}): pointpats {t_pp:.2f} s, "
        f"ours {t_ours_pp:.3f} s, ratio {t_pp / t_ours_pp:.0f}x"
    )

    n_bf = 3_000
    xb, yb, tb = city(n_bf, np.random.default_rng(2))
    t_bf = median_time(
        lambda: brute_force_knox(xb, yb, tb, d_edges, t_edges, 99, np.random.default_rng(1)), 1
    )
    t_ours_bf = median_time(
        lambda: knox_test(xb, yb, tb, d_edges, t_edges, permutations=99, rng=1), args.repeat
    )
    same = np.array_equal(
        brute_force_knox(xb, yb, tb, d_edges, t_edges, 0, rng).reshape(10, 9),
        knox_test(xb, yb, tb, d_edges, t_edges, permutations=0).observed,
    )
    print(
        f"    vs brute-force all-pairs numpy (same bands, 99 permutations, n = {n_bf:,}): "
        f"brute force {t_bf:.2f} s, ours {t_ours_bf:.3f} s, ratio {t_bf / t_ours_bf:.0f}x "
        f"(observed tables equal: {same})"
    )

    # 2. Emerging Hot Spot Analysis.
    grid = study_grid(shapely.box(4.18, 51.99, 4.44, 52.135), 10)
    w = neighbours(grid, 1)
    n_bins = 24
    lam = rng.gamma(0.5, 1.0, grid.n)[:, None] * np.linspace(0.8, 1.2, n_bins)[None, :]
    counts = rng.poisson(lam).astype(float)
    r = emerging_hotspots(counts, w, time_window_bins=1)
    t_ehsa = median_time(lambda: emerging_hotspots(counts, w, time_window_bins=1), args.repeat)
    patterns, freq = np.unique(r.pattern, return_counts=True)
    print(
        f"[2] EHSA, {grid.n:,} cells x {n_bins} bins (window 1 bin): median {t_ehsa:.3f} s"
        f"   target < 5 s: {'MET' if t_ehsa < 5 else 'NOT MET'}"
    )
    print("    patterns: " + ", ".join(f"{p} {c}" for p, c in zip(patterns, freq, strict=True)))
    t_plain = median_time(lambda: plain_ehsa(counts, w, 1), 1)
    print(
        f"    vs plain loop (per-bin gistar_z + per-cell pymannkendall + Python classification): "
        f"{t_plain:.2f} s, ratio {t_plain / t_ehsa:.0f}x"
    )
    import pymannkendall

    sample = r.z[:500]
    ref_z = np.array([pymannkendall.original_test(row).z for row in sample])
    print(
        "    check: our vectorised Mann-Kendall vs pymannkendall on 500 z-series, "
        f"max |dz| = {np.abs(mann_kendall(sample).z - ref_z).max():.1e}"
    )


if __name__ == "__main__":
    main()
