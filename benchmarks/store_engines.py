"""Plain DuckDB file vs DuckLake (SQLite catalog, Parquet files) for the store, in one run.

Measures, on the same generated incidents (``--rows``, Delft-sized area, 5 years, two
categories) written through the store's own ``write_batch``:

1. the hot paths, median of ``--repeat`` calls each: ``data_version`` (every request reads
   it), ``monthly_counts`` and ``incident_points`` of one category and year, and a Gi*
   hotspot layer (``compute_hotspots``, res 9, 99 permutations; the study-grid memo is
   cleared before each call so the store's reads count);
2. the writer: one ``write_batch`` of ``--batch`` new rows (median of 3);
3. concurrency: reader latency of ``monthly_counts`` from this process while a second
   process commits batches of ``--batch`` rows into the same store, next to the idle
   latency. A plain DuckDB file cannot be opened by the second process at all while this
   one holds it (one writing process per file); the script shows the refusal.

Prints medians and DuckLake/DuckDB ratios.  ``.venv/bin/python benchmarks/store_engines.py``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from geo_service.analyses.hotspots import HotspotParams, compute_hotspots
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.store.core import Memo

WRITER = """
import sys, time
sys.path.insert(0, sys.argv[4])
from benchmarks.store_engines import frame, write
from geo_service.store import Store
store = Store.open(sys.argv[1])
start, n, rounds = int(sys.argv[2]), int(sys.argv[3]), 3
print("ready", flush=True)
for r in range(rounds):
    write(store, frame(n, start + r * n), f"w{r}")
print("done", flush=True)
"""


def frame(rows: int, start: int = 0, seed: int = 1) -> pd.DataFrame:
    """Return ``rows`` generated incidents (ids from ``start``) in the store's columns."""
    rng = np.random.default_rng(seed + start)
    occurred = pd.Timestamp("2021-01-01") + pd.to_timedelta(
        rng.integers(0, 5 * 365 * 24 * 60, rows), unit="min"
    )
    lon = rng.uniform(4.32, 4.40, rows)
    lat = rng.uniform(51.98, 52.03, rows)
    return pd.DataFrame(
        {
            "incident_id": np.char.add("B", np.arange(start, start + rows).astype(str)),
            "category": rng.choice(["woninginbraak", "jeugdoverlast"], rows),
            "subtype": None,
            "occurred_from": occurred,
            "occurred_to": pd.NaT,
            "reported_at": pd.NaT,
            "lon": lon,
            "lat": lat,
            "x": 84_000 + (lon - 4.36) * 68_000,
            "y": 447_000 + (lat - 52.0) * 111_000,
            "metric_crs": "EPSG:28992",
            "tz": "Europe/Amsterdam",
            "municipality": "GM0503",
            "wijk_code": None,
            "buurt_code": None,
        }
    )


def write(store: Store, incidents: pd.DataFrame, batch_id: str) -> None:
    """Write one batch through the store's own ingest write."""
    store.write_batch(
        batch_id=batch_id,
        incidents=incidents,
        quarantine=pd.DataFrame(columns=["row_number", "reason", "detail", "raw"]),
        meta={
            "file_name": f"{batch_id}.csv",
            "sha256": batch_id,
            "rows_in": len(incidents),
            "started_at": datetime.now(UTC).replace(tzinfo=None),
        },
    )


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def hot_paths(store: Store, repeat: int) -> dict[str, float]:
    flt = IncidentFilter(category="woninginbraak", start=date(2023, 1, 1), end=date(2023, 12, 31))
    params = HotspotParams(
        incidents=IncidentFilter(category="woninginbraak"), res=9, permutations=99
    )

    def gistar() -> None:
        store.memo = Memo()  # the study grid is memoised per data version: count the reads
        compute_hotspots(store, params)

    return {
        "data_version": median_time(store.data_version, repeat * 10),
        "monthly_counts": median_time(lambda: store.monthly_counts(flt), repeat),
        "incident_points": median_time(lambda: store.incident_points(flt), repeat),
        "gistar_layer": median_time(gistar, repeat),
    }


def reader_while_writing(db: Path, store: Store, start: int, batch: int) -> dict[str, float]:
    flt = IncidentFilter(category="woninginbraak")
    idle = [median_time(lambda: store.monthly_counts(flt), 1) for _ in range(15)]
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), str(start), str(batch), str(Path.cwd())],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline().strip()
    if first != "ready":
        proc.wait(timeout=60)
        message = (proc.stderr.read() if proc.stderr else "").strip().splitlines()
        return {"refused": 1.0, "message": message[-1][:90] if message else "?"}  # type: ignore[dict-item]
    busy = []
    versions = {store.data_version()}
    rows_before = store.count_incidents()
    while proc.poll() is None:
        t0 = time.perf_counter()
        store.monthly_counts(flt)
        busy.append(time.perf_counter() - t0)
        versions.add(store.data_version())
    proc.wait(timeout=600)
    versions.add(store.data_version())
    if proc.returncode != 0 or store.count_incidents() != rows_before + 3 * batch:
        err = proc.stderr.read() if proc.stderr else ""
        raise RuntimeError(f"the writer failed ({proc.returncode}): {err[-1500:]}")
    return {
        "idle_median": statistics.median(idle),
        "busy_median": statistics.median(busy),
        "busy_p95": float(np.quantile(busy, 0.95)),
        "busy_max": max(busy),
        "reads": float(len(busy)),
        "versions_seen": float(len(versions)),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--batch", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for engine in ("duckdb-file", "ducklake-sqlite"):
            db = Path(tmp) / f"{engine}.duckdb"
            if engine == "duckdb-file":
                duckdb.connect(str(db)).close()  # a DuckDB file: the single-file store
            store = Store.open(db)
            t0 = time.perf_counter()
            write(store, frame(args.rows), "initial")
            t_load = time.perf_counter() - t0
            hot = hot_paths(store, args.repeat)
            next_id = args.rows
            writes = []
            for r in range(3):
                batch = frame(args.batch, next_id)
                next_id += args.batch
                t0 = time.perf_counter()
                write(store, batch, f"b{r}")
                writes.append(time.perf_counter() - t0)
            conc = reader_while_writing(db, store, next_id, args.batch)
            store.close()
            results[engine] = {"load": t_load, **hot, "write_batch": statistics.median(writes)}
            results[engine]["concurrency"] = conc
            print(f"== {engine}: {args.rows:,} rows loaded in {t_load:.2f} s", flush=True)
    base, lake = results["duckdb-file"], results["ducklake-sqlite"]
    print(f"\nMedians (s); ratio = DuckLake+SQLite / DuckDB file; {args.repeat} repeats")
    for key in ("data_version", "monthly_counts", "incident_points", "gistar_layer"):
        b, lk = float(base[key]), float(lake[key])  # type: ignore[arg-type]
        print(
            f"  {key:<16} duckdb {b * 1e3:9.2f} ms   ducklake {lk * 1e3:9.2f} ms   x{lk / b:5.2f}"
        )
    b, lk = float(base["write_batch"]), float(lake["write_batch"])  # type: ignore[arg-type]
    print(
        f"  write_batch {args.batch:,} rows  duckdb {b:.2f} s   ducklake {lk:.2f} s"
        f"   x{lk / b:5.2f}"
    )
    print(f"\nReader (monthly_counts) while another process commits 3 x {args.batch:,} rows:")
    for engine, res in results.items():
        c = res["concurrency"]
        assert isinstance(c, dict)
        if "refused" in c:
            print(f"  {engine:<16} second process refused: {c['message']}")
        else:
            print(
                f"  {engine:<16} idle {c['idle_median'] * 1e3:.1f} ms, during writes median "
                f"{c['busy_median'] * 1e3:.1f} ms, p95 {c['busy_p95'] * 1e3:.1f} ms, "
                f"max {c['busy_max'] * 1e3:.1f} ms over {int(c['reads'])} reads, "
                f"{int(c['versions_seen'])} data versions seen"
            )


if __name__ == "__main__":
    main()
