"""The watched folder: idempotent by file hash, quarantine folder, files still being written."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from geo_service.ingest.watch import (
    FolderWatcher,
    WatchOptions,
    file_sha256,
    stable_files,
)
from geo_service.store import Store
from spatial.errors import InvalidParameterError

# Three rows: two valid, one without a longitude (quarantined as missing_coordinates).
CSV = (
    "incident_id,occurred_from,lon,lat,category\n"
    "a1,2024-03-01 10:00,4.30,52.07,woninginbraak\n"
    "a2,2024-03-02 11:00,4.31,52.08,woninginbraak\n"
    "a3,2024-03-03 12:00,,52.08,woninginbraak\n"
)


def _count(store: Store, table: str) -> int:
    row = store.con.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def _no_sleep(_: float) -> None:
    return None


def test_the_same_file_twice_stores_nothing_new(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "week1.csv").write_text(CSV, encoding="utf-8")
    watcher = FolderWatcher(store, folder, WatchOptions(), settle_s=0)
    [first] = watcher.round(sleep=_no_sleep)
    assert first.status == "opgeslagen"
    # 3 rows in: a1 and a2 stored, a3 quarantined (empty lon); 2 + 0 + 1 + 0 = 3.
    assert (first.stored, first.duplicates, first.quarantined, first.skipped) == (2, 0, 1, 0)
    assert first.moved_to == "verwerkt/week1.csv"
    assert (folder / "verwerkt" / "week1.csv").read_text(encoding="utf-8") == CSV
    assert not (folder / "week1.csv").exists()
    batches, incidents = _count(store, "ingest_batches"), _count(store, "incidents")

    # The same bytes under another name, and again under the first name.
    (folder / "week1-kopie.csv").write_text(CSV, encoding="utf-8")
    (folder / "week1.csv").write_text(CSV, encoding="utf-8")
    again = watcher.round(sleep=_no_sleep)
    assert [r.status for r in again] == ["al eerder verwerkt", "al eerder verwerkt"]
    assert {r.batch_id for r in again} == {first.batch_id}
    assert {r.moved_to for r in again} == {"verwerkt/week1-kopie.csv", "verwerkt/week1.csv.1"}
    assert _count(store, "ingest_batches") == batches == 1
    assert _count(store, "incidents") == incidents == 2
    line = json.loads(again[0].to_json())
    assert line["file"] == "week1-kopie.csv"
    assert line["sha256"] == file_sha256(folder / "verwerkt" / "week1.csv")


def test_an_unreadable_file_goes_to_quarantine_with_a_dutch_reason(
    store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "kapot.csv").write_text("incident_id,occurred_from,lon,lat\n", encoding="utf-8")
    (folder / "goed.csv").write_text(CSV, encoding="utf-8")
    reports = {
        r.file: r
        for r in FolderWatcher(store, folder, WatchOptions(), settle_s=0).round(sleep=_no_sleep)
    }
    bad = reports["kapot.csv"]
    assert bad.status == "quarantaine"
    assert bad.moved_to == "quarantaine/kapot.csv"
    assert "geen rijen" in (bad.reason or "")
    reason = (folder / "quarantaine" / "kapot.csv.reden.txt").read_text(encoding="utf-8")
    assert "Niet ingelezen" in reason and "geen rijen" in reason
    assert reports["goed.csv"].status == "opgeslagen"
    assert _count(store, "ingest_batches") == 1  # the unreadable file left no batch


def test_a_file_still_being_written_is_left_for_the_next_round(tmp_path: Path) -> None:
    growing = tmp_path / "groeit.csv"
    growing.write_text(CSV[:40], encoding="utf-8")
    done = tmp_path / "klaar.csv"
    done.write_text(CSV, encoding="utf-8")
    (tmp_path / "leeg.csv").write_bytes(b"")  # a copy that has just begun
    (tmp_path / "notities.docx").write_text("geen export", encoding="utf-8")

    def writer_appends(_: float) -> None:  # the copy goes on between the two looks
        with growing.open("a", encoding="utf-8") as fh:
            fh.write(CSV[40:])

    assert stable_files(tmp_path, 0.0, writer_appends) == [done]
    assert sorted(p.name for p in stable_files(tmp_path, 0.0, _no_sleep)) == [
        "groeit.csv",
        "klaar.csv",
    ]


def test_keep_leaves_files_and_passes_them_by(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "week1.csv").write_text(CSV, encoding="utf-8")
    watcher = FolderWatcher(store, folder, WatchOptions(), keep=True, settle_s=0)
    [first] = watcher.round(sleep=_no_sleep)
    assert first.status == "opgeslagen" and first.moved_to is None
    assert (folder / "week1.csv").exists() and not (folder / "verwerkt").exists()
    assert watcher.round(sleep=_no_sleep) == []  # this process passed it already
    # A new process (a timer's next run) finds it by its hash: stored nothing.
    [later] = FolderWatcher(store, folder, WatchOptions(), keep=True, settle_s=0).round(
        sleep=_no_sleep
    )
    assert later.status == "al eerder verwerkt"
    assert _count(store, "incidents") == 2


def test_run_stops_when_the_event_is_set(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copyfile(Path(__file__), folder / "not-an-export.py")  # ignored: not an export
    (folder / "week1.csv").write_text(CSV, encoding="utf-8")
    stop = threading.Event()
    seen = []

    def emit(report: object) -> None:
        seen.append(report)
        stop.set()  # as SIGTERM's handler does

    watcher = FolderWatcher(store, folder, WatchOptions(), settle_s=0)
    thread = threading.Thread(target=watcher.run, args=(3600.0, stop, emit))
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()  # the hour's wait ended at once
    assert len(seen) == 1
    assert (folder / "not-an-export.py").exists()


@pytest.mark.parametrize(
    ("option", "message"),
    [({"tz": "Mars/Basis"}, "onbekende tijdzone"), ({"crs": "EPSG:3857"}, "alleen EPSG:4326")],
)
def test_a_wrong_option_stops_the_watcher_before_any_file_is_touched(
    store: Store, tmp_path: Path, option: dict[str, str], message: str
) -> None:
    """Old: every file of the folder went to quarantine for the operator's typo."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "week1.csv").write_text(CSV, encoding="utf-8")
    with pytest.raises(InvalidParameterError, match=message):
        FolderWatcher(store, folder, WatchOptions(**option), settle_s=0)  # type: ignore[arg-type]
    assert [p.name for p in folder.iterdir()] == ["week1.csv"]
