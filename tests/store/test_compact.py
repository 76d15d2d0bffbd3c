"""``Store.compact``: many small ingests merged into few files, no data changed, on each catalog.

The reference is the store itself before the compaction: the same incidents (ids and count),
the same data version, and a reader that opened the store before still reads its rows.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from geo_service.ingest import ingest_frame
from geo_service.store import Store

TODAY = date(2026, 11, 22)


def _small_ingests(store: Store, n: int) -> None:
    for i in range(n):
        df = pd.DataFrame(
            {
                "incident_id": [f"B{i}-{j}" for j in range(20)],
                "lon": ["4.30"] * 20,
                "lat": ["52.07"] * 20,
                "occurred_from": [f"2026-0{1 + i % 9}-05"] * 20,
                "category": ["woninginbraak"] * 20,
            }
        )
        ingest_frame(store, df, file_name=f"week-{i}.csv", today=TODAY)


def _ids(store: Store) -> list[str]:
    return [
        r[0] for r in store.con.execute("SELECT incident_id FROM incidents ORDER BY 1").fetchall()
    ]


def _parquet_files(store: Store) -> list[Path]:
    """The Parquet files in the store's data folder (SQLite: beside it; PostgreSQL: the env's)."""
    folder = store.location.data_path or Path(str(store.location.catalog) + ".files")
    return sorted(Path(folder).rglob("*.parquet"))


def test_compact_merges_files_and_changes_no_data(store_db: str) -> None:
    with Store.open(store_db) as store:
        _small_ingests(store, 12)
        ids, version = _ids(store), store.data_version()
        with Store.open(store_db) as reader:
            assert len(_ids(reader)) == 240  # a reader open across the compaction
            report = store.compact()
            assert len(_ids(reader)) == 240
        assert report.files_after < report.files_before
        assert report.files_before >= 12  # at least one file per ingest
        assert report.files_deleted == 0  # unlinked files are kept keep_days (7) days
        assert _ids(store) == ids and store.data_version() == version
        on_disk = _parquet_files(store)
        now = store.compact(keep_days=0)  # a second run: nothing to merge, the rest deleted
        assert now.files_after == now.files_before == report.files_after
        assert now.snapshots_expired > 0 and now.files_deleted > 0
        assert len(_parquet_files(store)) == len(on_disk) - now.files_deleted  # really gone
        assert _ids(store) == ids
        _small_ingests(store, 1)  # the store still takes new batches
        assert len(_ids(store)) == 240  # (the same ids: all duplicates)
        with pytest.raises(ValueError, match="keep_days"):
            store.compact(keep_days=-1)


def test_cli_store_compact(store_db: str) -> None:
    with Store.open(store_db) as store:
        _small_ingests(store, 4)
    out = subprocess.run(
        [sys.executable, "-m", "geo_service", "store", "compact", "--db", store_db],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["files_after"] < report["files_before"] and report["keep_days"] == 7
