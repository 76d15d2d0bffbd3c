"""The shared store: several processes (and connections) read and write one store at once.

New stores are DuckLake stores (SQLite catalog at ``--db``, Parquet files beside it); a
DuckDB file of before still opens single-file. Expected values are counted by hand from the
generated batches (ids are consecutive integers, so an overlap is a plain interval).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from geo_service.errors import StoreUnavailableError
from geo_service.store import Store
from geo_service.store.core import connect, copy_store, redact, resolve_location

_EMPTY_QUARANTINE = pd.DataFrame(columns=["row_number", "reason", "detail", "raw"])


def _incidents(first: int, n: int) -> pd.DataFrame:
    """``n`` incidents with ids ``I<first>`` .. ``I<first + n - 1>`` in Delft."""
    ids = np.arange(first, first + n)
    return pd.DataFrame(
        {
            "incident_id": [f"I{i}" for i in ids],
            "category": "woninginbraak",
            "subtype": None,
            "occurred_from": pd.Timestamp("2024-03-01 12:00") + pd.to_timedelta(ids, unit="h"),
            "occurred_to": pd.NaT,
            "reported_at": pd.NaT,
            "lon": 4.35 + (ids % 100) * 1e-4,
            "lat": 52.0 + (ids // 100) * 1e-4,
            "x": 84_000.0 + ids,
            "y": 447_000.0 + ids,
            "metric_crs": "EPSG:28992",
            "tz": "Europe/Amsterdam",
            "municipality": "GM0503",
            "wijk_code": None,
            "buurt_code": None,
        }
    )


def _write(store: Store, batch_id: str, incidents: pd.DataFrame) -> int:
    counts = store.write_batch(
        batch_id=batch_id,
        incidents=incidents,
        quarantine=_EMPTY_QUARANTINE,
        meta={
            "file_name": f"{batch_id}.csv",
            "sha256": batch_id,
            "rows_in": len(incidents),
            "started_at": datetime.now(UTC).replace(tzinfo=None),
        },
    )
    return counts.stored


def test_a_new_store_is_shared_and_an_old_duckdb_file_stays_single_file(tmp_path: Path) -> None:
    new = tmp_path / "new.duckdb"
    with Store.open(new) as store:
        assert store.location.kind == "sqlite" and store.location.shared
        _write(store, "b1", _incidents(0, 20))  # more rows than DuckLake inlines (10)
    assert new.read_bytes()[:16] == b"SQLite format 3\x00"
    assert list((tmp_path / "new.duckdb.files").rglob("*.parquet"))
    old = tmp_path / "old.duckdb"
    duckdb.connect(str(old)).close()
    with Store.open(old) as store:
        assert store.location.kind == "duckdb" and not store.location.shared
        _write(store, "b1", _incidents(0, 3))
        assert store.count_incidents() == 3


def test_a_second_connection_sees_a_commit_at_once(store_db: str) -> None:
    """Old: a second process could not open the file while the first held it."""
    db = store_db
    with Store.open(db) as reader, Store.open(db) as writer:
        before = reader.data_version()
        assert reader.count_incidents() == 0
        assert _write(writer, "b1", _incidents(0, 5)) == 5
        assert reader.data_version() != before
        assert reader.count_incidents() == 5
        cursor = reader.cursor()  # a request's cursor reads the lake too
        assert cursor.count_incidents() == 5


def test_concurrent_writers_lose_no_batch_and_store_no_id_twice(store_db: str) -> None:
    """Two connections (as two processes) write overlapping batches at the same moment.

    Batch A holds ids 0..599, batch B 300..899: 900 distinct ids; whichever commits second
    reruns on the first's result, so its 300 shared ids are its duplicates. Per batch
    ``stored + duplicates == rows`` (the ingest's accounting identity).
    """
    db = store_db
    Store.open(db).close()
    stores = [Store.open(db), Store.open(db)]
    frames = [_incidents(0, 600), _incidents(300, 600)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            _write(stores[i], f"b{i}", frames[i])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    for s in stores:
        s.close()
    with Store.open(db, read_only=True) as store:
        ids = store.con.execute("SELECT incident_id FROM incidents").fetchall()
        batches = store.batches().set_index("batch_id")
        assert len(ids) == 900 and len(set(ids)) == 900
        assert int(batches["stored"].sum()) == 900
        assert sorted(batches["duplicates"].tolist()) == [0, 300]
        assert (batches["stored"] + batches["duplicates"]).tolist() == [600, 600]
        assert store.data_version() == "2"


def test_an_ingest_from_another_process_while_a_store_is_open(
    tmp_path: Path, store_db: str
) -> None:
    """The CLI ingests into a store another process holds open (as `serve` does)."""
    db = store_db
    csv = tmp_path / "in.csv"
    csv.write_text(
        "incident_id,occurred_from,lon,lat,category\n"
        "A1,2024-05-01 10:00,4.357,52.011,woninginbraak\n"
        "A2,2024-05-02 11:00,4.358,52.012,woninginbraak\n",
        encoding="utf-8",
    )
    with Store.open(db) as held:
        _write(held, "own", _incidents(0, 20))  # the holder writes too, as the API does
        versions = [held.data_version()]
        for n, name in enumerate(("A", "B"), start=1):
            csv.write_text(csv.read_text(encoding="utf-8").replace("A", name), encoding="utf-8")
            out = subprocess.run(
                [sys.executable, "-m", "geo_service", "ingest", str(csv), "--db", db],
                capture_output=True,
                text=True,
                timeout=180,
                check=False,
            )
            assert out.returncode == 0, out.stderr
            assert held.count_incidents() == 20 + 2 * n
            versions.append(held.data_version())  # old: the snapshot probe stuck at the first
        assert len(set(versions)) == 3, versions


def test_copy_store_copies_catalog_and_files(tmp_path: Path) -> None:
    src, dst = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    with Store.open(src) as store:
        _write(store, "b1", _incidents(0, 4))
    copy_store(src, dst)
    with Store.open(dst) as copy:
        _write(copy, "b2", _incidents(4, 2))
        assert copy.count_incidents() == 6
    with Store.open(src, read_only=True) as store:
        assert store.count_incidents() == 4  # the copy writes its own files


def test_passwords_never_appear_in_locations_or_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    assert redact("host=db user=geo password=s3cr3t dbname=x") == (
        "host=db user=geo password=*** dbname=x"
    )
    assert redact("postgresql://geo:s3cr3t@db:5432/x") == "postgresql://geo:***@db:5432/x"
    monkeypatch.setenv("GEO_SERVICE_DATA_PATH", "/nonexistent/files")
    loc = resolve_location("postgres:host=127.0.0.1 port=1 user=geo password=s3cr3t dbname=x")
    assert loc.kind == "postgres" and "s3cr3t" not in loc.display()
    with pytest.raises(StoreUnavailableError) as info:
        connect("postgres:host=127.0.0.1 port=1 user=geo password=s3cr3t dbname=x")
    assert "s3cr3t" not in str(info.value)
    assert "niet bereikbaar" in str(info.value)


def test_migrate_a_single_file_store_keeps_every_row_and_the_old_file(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    duckdb.connect(str(db)).close()
    with Store.open(db) as old:
        _write(old, "b1", _incidents(0, 25))
        key_id, secret = old.create_key("analyst", "test")
        version, key_secret = old.data_version(), old.record_key_secret()
        cells = old.monthly_counts()
    out = subprocess.run(
        [sys.executable, "-m", "geo_service", "store", "migrate", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "omgezet naar de gedeelde opslag" in out.stdout
    assert (tmp_path / "old.duckdb.single-file").is_file()
    with Store.open(db) as new:
        assert new.location.kind == "sqlite"
        assert new.count_incidents() == 25
        assert new.data_version() == version
        assert new.record_key_secret() == key_secret  # the same cell keys as before
        pd.testing.assert_frame_equal(new.monthly_counts(), cells)
        assert new.lookup_key(secret) == (key_id, "analyst")
        assert new.con.execute(
            "SELECT count(*) FROM meta WHERE key = 'data_version'"
        ).fetchone() == (1,)
    again = subprocess.run(
        [sys.executable, "-m", "geo_service", "store", "migrate", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert again.returncode == 2 and "Traceback" not in again.stderr
