"""Ingest 1,000,000 generated rows and print rows/second.

Reference in the same process: DuckDB's own ``read_csv`` + ``INSERT`` of the same file into a
table of the same shape (no validation, no quarantine, no CRS work) — the floor of what
any ingestion into DuckDB costs. Target: at least 200,000 rows/s on a 2-core machine.

    .venv/bin/python benchmarks/ingest.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from geo_service.ingest import ingest_file
from geo_service.store import Store


def make_file(path: Path, rows: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    days = pd.Timestamp("2021-01-01") + pd.to_timedelta(
        rng.integers(0, 5 * 365 * 24 * 60, rows), unit="min"
    )
    df = pd.DataFrame(
        {
            "incident_id": np.char.add("B", np.arange(rows).astype(str)),
            "occurred_from": days.strftime("%Y-%m-%d %H:%M"),
            "x": np.round(rng.uniform(75_000, 85_000, rows), 1),
            "y": np.round(rng.uniform(450_000, 460_000, rows), 1),
            "category": rng.choice(["woninginbraak", "jeugdoverlast"], rows),
        }
    )
    # ~0.1 % bad rows so the quarantine path is exercised too.
    bad = rng.random(rows) < 0.001
    df.loc[bad, "x"] = np.nan
    df.to_csv(path, index=False)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--with-areas",
        action="store_true",
        help="load the demo wijk/buurt polygons first, so every point gets a point-in-polygon",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "incidents.csv"
        make_file(f, args.rows)
        ours, ref = [], []
        for i in range(args.repeat):
            with Store.open(Path(tmp) / f"ours{i}.duckdb") as store:
                if args.with_areas:
                    from geo_service.demo.dataset import load_areas
                    from geo_service.ingest import import_areas

                    for level, gdf in load_areas().items():
                        import_areas(store, gdf, level=level, municipality_field="municipality")
                t0 = time.perf_counter()
                report = ingest_file(store, f, crs="EPSG:28992", today=date(2026, 11, 22))
                ours.append(time.perf_counter() - t0)
                assert report.rows_in == report.stored + report.quarantined
            con = duckdb.connect(str(Path(tmp) / f"ref{i}.duckdb"))  # a plain DuckDB file
            t0 = time.perf_counter()
            con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, header = true)", [str(f)])
            ref.append(time.perf_counter() - t0)
            con.close()
    m_ours, m_ref = statistics.median(ours), statistics.median(ref)
    print(f"rows: {args.rows:,}  (stored {report.stored:,}, quarantined {report.quarantined:,})")
    print(f"geo-service ingest: median {m_ours:.2f} s  -> {args.rows / m_ours:,.0f} rows/s")
    print(f"DuckDB read_csv reference: median {m_ref:.2f} s -> {args.rows / m_ref:,.0f} rows/s")
    print(
        f"ratio ours/reference: {m_ours / m_ref:.1f}x   target >= 200,000 rows/s: "
        f"{'MET' if args.rows / m_ours >= 200_000 else 'NOT MET'}"
    )


if __name__ == "__main__":
    main()
