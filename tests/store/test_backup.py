"""Backup and restore: one consistent snapshot, a verified manifest, a faithful round trip.

Expected counts are what the tests wrote (batches of 20 generated incidents, ids consecutive),
so a backup is consistent exactly when its incidents number 20 per batch it holds and its
data version is the number of batches (each batch bumps it once, from 0).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from geo_service.ingest import import_areas
from geo_service.store import Store
from geo_service.store.backup import (
    LATER_TABLES,
    TABLES,
    BackupError,
    backup_store,
    restore_store,
    restored_counts,
    verify_backup,
)
from tests.store.test_shared import _incidents, _write

WRITER = """
import sys, time
from pathlib import Path
from geo_service.store import Store
from tests.store.test_shared import _incidents, _write
db, stop = sys.argv[1], Path(sys.argv[2])
with Store.open(db) as store:
    n = 0
    while not stop.exists():
        _write(store, f"w{n}", _incidents(20 * n, 20))
        n += 1
        print(n, flush=True)
"""


def _parquet_count(folder: Path, table: str, where: str = "") -> int:
    row = duckdb.sql(f"SELECT count(*) FROM '{folder / table}.parquet' {where}").fetchone()
    assert row is not None
    return int(row[0])


def _filled(store: Store) -> None:
    _write(store, "b1", _incidents(0, 20))
    _write(store, "b2", _incidents(20, 15))
    import_areas(
        store,
        gpd.GeoDataFrame({"code": ["GM0503"]}, geometry=[box(4.32, 51.96, 4.40, 52.04)], crs=4326),
        level="gemeente",
    )
    store.create_key("analyst", "backup-test")


def _area_m2(store: Store) -> float:
    row = store.con.execute(
        "SELECT sum(ST_Area(ST_Transform(geom, 'EPSG:4326', 'EPSG:28992', true))) FROM areas"
    ).fetchone()
    assert row is not None
    return float(row[0])


def test_restore_round_trip_equals_the_original(store: Store, tmp_path: Path) -> None:
    _filled(store)
    counts, version = restored_counts(store), store.data_version()
    status, area, secret = store.status(), _area_m2(store), store.record_key_secret()
    manifest = backup_store(store, tmp_path / "bk")
    # It holds the record-key secret: readable by its owner only.
    assert (tmp_path / "bk").stat().st_mode & 0o077 == 0
    assert all(f.stat().st_mode & 0o077 == 0 for f in (tmp_path / "bk").glob("*.parquet"))
    assert manifest.counts == counts
    assert counts["incidents"] == 35 and counts["areas"] == 1 and counts["api_keys"] == 1
    assert manifest.data_version == version
    with Store.open(tmp_path / "restored.duckdb") as copy:
        restore_store(copy, tmp_path / "bk")
        assert restored_counts(copy) == counts
        assert copy.data_version() == version
        pd.testing.assert_frame_equal(copy.status(), status)
        assert _area_m2(copy) == pytest.approx(area, rel=1e-12)
        assert copy.record_key_secret() == secret  # cell keys stay the same after a restore


def test_a_backup_made_before_a_later_table_restores_it_empty(store: Store, tmp_path: Path) -> None:
    # A backup of stop 25 (same schema version) has no category_kinds: it restores, with the
    # table empty (every category a police registration, as then); an older backup missing
    # another table is still refused.
    _filled(store)
    store.con.execute("INSERT INTO category_kinds VALUES ('x', 'melding', 'b0')")
    folder = tmp_path / "bk"
    backup_store(store, folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for table in LATER_TABLES:
        del manifest["tables"][table]
        (folder / f"{table}.parquet").unlink()
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with Store.open(tmp_path / "restored.duckdb") as copy:
        copy.con.execute("INSERT INTO category_kinds VALUES ('y', 'melding', 'old')")
        restore_store(copy, folder, force=True)
        assert copy.count_incidents() == 35
        assert restored_counts(copy)["category_kinds"] == 0
    del manifest["tables"]["areas"]
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(BackupError, match="mist tabel"):
        verify_backup(folder)


def test_a_tampered_file_is_refused_and_the_store_left_alone(store: Store, tmp_path: Path) -> None:
    _filled(store)
    folder = tmp_path / "bk"
    backup_store(store, folder)
    verify_backup(folder)  # untouched: passes
    data = bytearray((folder / "incidents.parquet").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "incidents.parquet").write_bytes(bytes(data))
    with Store.open(tmp_path / "target.duckdb") as target:
        with pytest.raises(BackupError, match=r"incidents\.parquet is gewijzigd"):
            restore_store(target, folder)
        assert target.count_incidents() == 0


def test_restore_refuses_a_store_with_data_unless_forced(store: Store, tmp_path: Path) -> None:
    _write(store, "b1", _incidents(0, 20))
    backup_store(store, tmp_path / "bk")  # data version 1
    _write(store, "b2", _incidents(20, 20))
    _write(store, "b3", _incidents(40, 20))  # data version 3
    with pytest.raises(BackupError, match=r"bevat al gegevens.*--force"):
        restore_store(store, tmp_path / "bk")
    assert store.count_incidents() == 60
    restore_store(store, tmp_path / "bk", force=True)
    assert store.count_incidents() == 20
    # Above both the backup's (1) and the replaced store's (3): no cache mistakes it.
    assert store.data_version() == "4"
    newer = tmp_path / "bk-newer"
    for n in range(4):  # versions 5 .. 8
        _write(store, f"c{n}", _incidents(100 + 20 * n, 20))
    backup_store(store, newer)  # version 8
    _write(store, "d", _incidents(500, 20))  # 9
    restore_store(store, tmp_path / "bk", force=True)  # 10: version 1 is long past
    assert store.data_version() == "10"
    restore_store(store, newer, force=True)  # 8 is past too (this store reached 10)
    assert (store.data_version(), store.count_incidents()) == ("11", 100)


def test_backup_refuses_a_folder_that_holds_files(store: Store, tmp_path: Path) -> None:
    (tmp_path / "bk").mkdir()
    (tmp_path / "bk" / "iets.txt").write_text("x", encoding="utf-8")
    with pytest.raises(BackupError, match="niet leeg"):
        backup_store(store, tmp_path / "bk")


def test_a_single_file_store_restores_into_a_shared_store(tmp_path: Path) -> None:
    old = tmp_path / "old.duckdb"
    duckdb.connect(str(old)).close()
    with Store.open(old) as store:
        assert store.location.kind == "duckdb"
        _write(store, "b1", _incidents(0, 12))
        backup_store(store, tmp_path / "bk")
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["source_kind"] == "duckdb"
    assert set(manifest["tables"]) == set(TABLES)
    with Store.open(tmp_path / "new.duckdb") as new:
        assert new.location.kind == "sqlite"
        restore_store(new, tmp_path / "bk")
        assert new.count_incidents() == 12


def test_backup_while_another_process_writes_is_one_consistent_state(
    store_db: str, tmp_path: Path
) -> None:
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, store_db, str(stop)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    try:
        assert writer.stdout is not None

        def committed_past(n: int) -> None:
            """Wait until the writer reports more than ``n`` committed batches."""
            while int(writer.stdout.readline() or 0) <= n:  # type: ignore[union-attr]
                assert writer.poll() is None

        committed_past(1)  # the writer is under way
        manifests = []
        with Store.open(store_db, read_only=True) as reader:
            for i in range(3):
                manifests.append(backup_store(reader, tmp_path / f"bk{i}"))
                committed_past(manifests[-1].counts["ingest_batches"])
    finally:
        stop.touch()
        writer.wait(timeout=120)
    assert writer.returncode == 0
    with Store.open(store_db, read_only=True) as final:
        total = final.count_incidents()
    for i, manifest in enumerate(manifests):
        folder = tmp_path / f"bk{i}"
        batches = manifest.counts["ingest_batches"]
        assert batches >= 2
        # Every table from the same snapshot: 20 incidents per batch, one version per batch.
        assert manifest.counts["incidents"] == 20 * batches
        assert manifest.data_version == str(batches)
        assert _parquet_count(folder, "incidents") == manifest.counts["incidents"]
        stored = duckdb.sql(f"SELECT sum(stored) FROM '{folder}/ingest_batches.parquet'")
        assert stored.fetchone() == (20 * batches,)
        with Store.open(tmp_path / f"restored{i}.duckdb") as copy:
            restore_store(copy, folder)
            assert restored_counts(copy) == manifest.counts
    # The writer went on during and after the backups.
    assert total > manifests[-1].counts["incidents"]
    assert len({m.data_version for m in manifests}) == 3
