"""``geo-service watch``, ``backup`` and ``restore``, run as real processes on a real store."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import new_store_db

# Police-style column names (mapped with --columns); two rows valid, one without a date.
EXPORT = (
    "Registratienummer;Pleegdatum;X;Y\n"
    "P1;2024-03-01 10:00;4.30;52.07\n"
    "P2;2024-03-02 11:00;4.31;52.08\n"
    "P3;;4.31;52.08\n"
)
COLUMNS = "incident_id=Registratienummer,occurred_from=Pleegdatum,lon=X,lat=Y"


def run(*args: str, db: Path | str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "geo_service", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_watch_once_reports_each_file_and_a_second_drop_stores_nothing(tmp_path: Path) -> None:
    db, folder = tmp_path / "s.duckdb", tmp_path / "in"
    folder.mkdir()
    (folder / "maart.csv").write_text(EXPORT, encoding="utf-8")
    (folder / "stuk.csv").write_text("Registratienummer;X\n", encoding="utf-8")
    opts = ("--columns", COLUMNS, "--category", "woninginbraak", "--settle", "0.1")
    first = run("watch", str(folder), "--once", *opts, db=db)
    assert first.returncode == 0, first.stderr
    reports = {r["file"]: r for r in _lines(first.stdout)}  # one JSON line per file
    assert reports["maart.csv"]["status"] == "opgeslagen"
    # 3 rows: P1, P2 stored; P3 quarantined (missing_date).
    assert [reports["maart.csv"][k] for k in ("stored", "duplicates", "quarantined")] == [2, 0, 1]
    assert reports["stuk.csv"]["status"] == "quarantaine"
    assert (folder / "quarantaine" / "stuk.csv.reden.txt").is_file()
    (folder / "maart-opnieuw.csv").write_text(EXPORT, encoding="utf-8")
    second = run("watch", str(folder), "--once", *opts, db=db)
    assert second.returncode == 0, second.stderr
    [again] = _lines(second.stdout)
    assert again["status"] == "al eerder verwerkt" and again["stored"] == 0
    assert again["batch_id"] == reports["maart.csv"]["batch_id"]
    assert sorted(p.name for p in (folder / "verwerkt").iterdir()) == [
        "maart-opnieuw.csv",
        "maart.csv",
    ]


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_watch_polls_and_ends_cleanly_on_a_stop_signal(tmp_path: Path, stop: int) -> None:
    db, folder = tmp_path / "s.duckdb", tmp_path / "in"
    folder.mkdir()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "geo_service", "watch", str(folder), "--db", str(db)),
            *("--interval", "0.2", "--settle", "0.1", "--columns", COLUMNS),
            *("--category", "woninginbraak"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A suite started as a background job of a non-interactive shell inherits SIGINT as
        # ignored, and Python then installs no Ctrl-C handler in the child: give the watcher
        # the default disposition a terminal would.
        preexec_fn=_default_sigint,
    )
    try:
        time.sleep(1.0)
        (folder / "april.csv").write_text(EXPORT, encoding="utf-8")  # dropped while it runs
        deadline = time.monotonic() + 120
        while not (folder / "verwerkt" / "april.csv").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.1)
        proc.send_signal(stop)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Gestopt" in err
    [report] = _lines(out)
    assert report["file"] == "april.csv" and report["stored"] == 2


def test_backup_and_restore_speak_dutch_and_refuse_what_they_must(tmp_path: Path) -> None:
    db, folder = tmp_path / "s.duckdb", tmp_path / "in"
    folder.mkdir()
    (folder / "maart.csv").write_text(EXPORT, encoding="utf-8")
    opts = ("--columns", COLUMNS, "--category", "woninginbraak", "--settle", "0")
    assert run("watch", str(folder), "--once", *opts, db=db).returncode == 0

    made = run("backup", str(tmp_path / "bk"), db=db)
    assert made.returncode == 0, made.stderr
    assert "Backup gemaakt" in made.stdout and "incidents 2" in made.stdout
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tables"]["incidents"]["rows"] == 2

    restored = run("restore", str(tmp_path / "bk"), db=tmp_path / "r.duckdb")
    assert restored.returncode == 0, restored.stderr
    assert "Hersteld uit" in restored.stdout and "incidents 2" in restored.stdout
    assert f"gegevensversie {manifest['data_version']}" in restored.stdout

    refused = run("restore", str(tmp_path / "bk"), db=db)
    assert refused.returncode == 2
    assert "--force" in refused.stderr and "Traceback" not in refused.stderr
    assert run("restore", str(tmp_path / "bk"), "--force", db=db).returncode == 0

    (tmp_path / "bk" / "meta.parquet").write_bytes(b"niet de backup")
    tampered = run("restore", str(tmp_path / "bk"), db=tmp_path / "t.duckdb")
    assert tampered.returncode == 2
    assert "meta.parquet is gewijzigd" in tampered.stderr
    assert len(tampered.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "t.duckdb").exists()  # verified before a store was made

    missing = run("backup", str(tmp_path / "bk2"), db=tmp_path / "geen.duckdb")
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_backup_of_a_postgres_store_restores_into_a_file_store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Old: ``backup --db postgres:...`` said the database did not exist (no such file)."""
    db = new_store_db("postgres", request, tmp_path, monkeypatch)  # env reaches the processes
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "maart.csv").write_text(EXPORT, encoding="utf-8")
    opts = ("--columns", COLUMNS, "--category", "woninginbraak", "--settle", "0")
    assert run("watch", str(folder), "--once", *opts, db=db).returncode == 0
    made = run("backup", str(tmp_path / "bk"), db=db)
    assert made.returncode == 0, made.stderr
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["source_kind"] == "postgres"
    restored = run("restore", str(tmp_path / "bk"), db=tmp_path / "r.duckdb")
    assert restored.returncode == 0, restored.stderr
    assert "incidents 2" in restored.stdout
