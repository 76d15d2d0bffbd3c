"""Hotspot engine timings, with ratios against reference implementations in the same process.

1. Analytic Gi* on a national-size grid (~850,000 H3 cells, res 9 over the Netherlands'
   bounding box). Target: < 1 s on 2 cores.
2. Gi* with 999 conditional permutations on ~20,000 cells vs esda.G_Local (after its numba
   warm-up). Target: >= 10x faster than esda.
3. Quartic KDE of 1,000,000 points on a 25 m grid over a city (25 x 25 km) vs KDEpy's FFTKDE
   (binned, biweight kernel) on the same points and grid. Target: < 1 s.

Medians of ``--repeat`` runs.  ``.venv/bin/python benchmarks/hotspots.py``
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
from spatial.hotspots.gistar import gistar_permutation_p, gistar_z
from spatial.hotspots.kde import kde_grid


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rng = np.random.default_rng(0)

    # 1. National-size analytic Gi*.
    t0 = time.perf_counter()
    grid = study_grid(shapely.box(3.36, 50.75, 7.23, 53.47), 9)
    t_grid = time.perf_counter() - t0
    t0 = time.perf_counter()
    w = neighbours(grid, 1)
    t_w = time.perf_counter() - t0
    y = rng.poisson(0.3, grid.n).astype(float)
    t_gi = median_time(lambda: gistar_z(y, w), args.repeat)
    print(f"[1] national grid: {grid.n:,} cells (polyfill {t_grid:.2f} s, k=1 weights {t_w:.2f} s)")
    print(
        f"    analytic Gi* median {t_gi:.3f} s   target < 1 s: {'MET' if t_gi < 1 else 'NOT MET'}"
    )

    # 2. 999 permutations on ~20,000 cells vs esda.
    import esda
    import libpysal

    city = study_grid(shapely.box(4.18, 51.99, 4.44, 52.135), 10)
    wc = neighbours(city, 1)
    yc = rng.poisson(0.8, city.n).astype(float)
    wl = libpysal.weights.WSP(wc).to_W(silence_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        esda.G_Local(yc, wl, transform="B", star=True, permutations=99, seed=1)  # numba warm-up
        t_esda = median_time(
            lambda: esda.G_Local(yc, wl, transform="B", star=True, permutations=999, seed=1),
            max(1, args.repeat // 2),
        )
    t_ours = median_time(lambda: gistar_permutation_p(yc, wc, 999, rng=1), args.repeat)
    t_cell = median_time(
        lambda: gistar_permutation_p(yc, wc, 999, rng=1, strategy="per_cell"),
        max(1, args.repeat // 2),
    )
    print(
        f"[2] Gi* + 999 permutations on {city.n:,} cells: ours {t_ours:.3f} s "
        f"(per-cell strategy {t_cell:.2f} s), esda G_Local {t_esda:.2f} s"
    )
    print(
        f"    speed-up vs esda: {t_esda / t_ours:.0f}x (per-cell: {t_esda / t_cell:.1f}x)   "
        f"target >= 10x: {'MET' if t_esda / t_ours >= 10 else 'NOT MET'}"
    )

    # 3. KDE of 1,000,000 points on a 25 m grid over 25 x 25 km.
    n = 1_000_000
    centres = rng.uniform([70_000, 445_000], [95_000, 470_000], size=(40, 2))
    pick = rng.integers(0, 40, n)
    x = np.clip(centres[pick, 0] + rng.normal(0, 800, n), 70_000, 95_000)
    yk = np.clip(centres[pick, 1] + rng.normal(0, 800, n), 445_000, 470_000)
    bounds = (70_000.0, 445_000.0, 95_000.0, 470_000.0)
    t_kde = median_time(
        lambda: kde_grid(x, yk, bandwidth_m=250, cell_m=25, bounds=bounds), args.repeat
    )
    from KDEpy import FFTKDE

    data = np.column_stack([x, yk])
    grid_pts = 1001  # 25 km / 25 m + 1 nodes per axis, as ours (KDEpy picks its own extent)

    def kdepy() -> None:
        FFTKDE(kernel="biweight", bw=250 / np.sqrt(7), norm=2).fit(data).evaluate(grid_pts)

    t_kdepy = median_time(kdepy, max(1, args.repeat // 2))
    print(
        f"[3] KDE of {n:,} points on a 25 m grid ({grid_pts}x{grid_pts}): ours {t_kde:.3f} s, "
        f"KDEpy FFTKDE {t_kdepy:.3f} s, ratio KDEpy/ours {t_kdepy / t_kde:.1f}x   "
        f"target < 1 s: {'MET' if t_kde < 1 else 'NOT MET'}"
    )


if __name__ == "__main__":
    main()
