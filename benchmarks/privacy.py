"""Usefulness and cost of the viewer disclosure control (cell key method), on the demo store.

For every complete calendar year (the 12-month periods of the viewer lattice), both categories
and resolutions 9 and 10: the share of cells with at least k incidents whose viewer Gi* class
(computed from the published counts, after the viewer filter) equals the analyst's class
(exact counts), and the time of the viewer layer against the analyst layer computed in the
same process (median of --repeat runs; the ratio is what to read on a shared machine).

    .venv/bin/python benchmarks/privacy.py [--db demo.duckdb] [--permutations 99] [--repeat 3]

Without --db a demo store is built in a temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from geo_service.analyses.hotspots import HotspotParams, compute_hotspots
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.web.policy import ViewerPolicy
from geo_service.web.privacy import viewer_gistar_table


def agreement(
    store: Store, category: str, res: int, year: int, permutations: int, policy: ViewerPolicy
) -> tuple[float, int, float, float]:
    """(agreement, cells with >= k, analyst seconds, viewer seconds) for one year."""
    flt = IncidentFilter(category, "GM0518", date(year, 1, 1), date(year, 12, 31))
    t0 = time.perf_counter()
    exact = compute_hotspots(
        store, HotspotParams(incidents=flt, res=res, permutations=permutations)
    )
    t1 = time.perf_counter()
    published = compute_hotspots(
        store,
        HotspotParams(
            incidents=flt, res=res, permutations=permutations, disclosure=policy.cell_key
        ),
    )
    shown = viewer_gistar_table(published.table(), policy)
    t2 = time.perf_counter()
    analyst = dict(zip(exact.grid.hex_ids(), exact.properties["gi_class_fdr"], strict=True))
    count = dict(zip(exact.grid.hex_ids(), exact.properties["count"], strict=True))
    cells = [c for c, n in count.items() if n >= policy.min_count]
    viewer = dict(zip(shown.ids, shown.properties["gi_class_fdr"], strict=True))
    same = np.mean([int(viewer[c]) == int(analyst[c]) for c in cells]) if cells else np.nan
    return float(same), len(cells), t1 - t0, t2 - t1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path)
    ap.add_argument("--permutations", type=int, default=99)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tmp = None
    if args.db is None:
        from geo_service.demo.dataset import build_demo

        tmp = tempfile.TemporaryDirectory()
        args.db = Path(tmp.name) / "demo.duckdb"
        with Store.open(args.db) as store:
            build_demo(store, progress=False)
    policy = ViewerPolicy()
    with Store.open(args.db, read_only=True) as store:
        first, last = store.data_window()
        assert first is not None and last is not None
        years = range(first.year + (first.month > 1), last.year + (last.month == 12))
        print(f"store {args.db}: data {first} .. {last}; complete years {list(years)}")
        print("category       res  year  cells>=k  agreement  analyst_s  viewer_s  ratio")
        worst = 1.0
        for category in ("woninginbraak", "jeugdoverlast"):
            for res in (9, 10):
                for year in years:
                    runs = [
                        agreement(store, category, res, year, args.permutations, policy)
                        for _ in range(args.repeat)
                    ]
                    same, n = runs[0][0], runs[0][1]
                    ta = statistics.median(r[2] for r in runs)
                    tv = statistics.median(r[3] for r in runs)
                    worst = min(worst, same)
                    print(
                        f"{category:14s} {res:3d}  {year}  {n:8d}  {same:9.1%}  "
                        f"{ta:9.3f}  {tv:8.3f}  {tv / ta:5.2f}"
                    )
        print(f"worst agreement: {worst:.1%} (goal >= 95 %)")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
