"""Faults found by a probe of the running service; each test failed on the code before."""

from __future__ import annotations

import gzip
import io
import logging
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from geo_service.errors import InputTooLargeError
from geo_service.ingest import ReadLimits, read_incident_table
from geo_service.store import Store
from geo_service.web import create_app
from tests.web_fixtures import DemoDB, demo_copy, demo_db, web_settings

__all__ = ["demo_copy", "demo_db"]


def _client(db: DemoDB, **overrides: object) -> TestClient:
    return TestClient(create_app(web_settings(db.path, permutations=0, **overrides)))


def _is_problem(r: httpx.Response, status: int) -> None:
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/problem+json")


# --------------------------------------------------------------------------- paging bounds


def test_offset_and_limit_are_bounded_on_every_paged_route(demo_db: DemoDB) -> None:
    """Old code: /api/v1/incidents?offset=2**63 reached DuckDB as INT128 -> 500."""
    analyst = {"X-API-Key": demo_db.analyst}
    routes = ("/api/v1/incidents", "/ogc/collections/incidents/items")
    with _client(demo_db) as c:
        for path in routes:
            for params in (
                {"offset": str(2**63)},
                {"offset": "10000001"},
                {"offset": "-1"},
                {"limit": "0"},
                {"limit": "100001"},
                {"limit": str(2**63)},
            ):
                r = c.get(path, params=params, headers=analyst)
                _is_problem(r, 400)
                assert "offset" in r.json()["detail"] or "limit" in r.json()["detail"]
            # The largest allowed offset is an empty page, not an error.
            last = c.get(path, params={"offset": "10000000", "limit": "5"}, headers=analyst)
            assert last.status_code == 200, last.text[:300]
            assert last.json()["features"] == []
        # OGC: a limit above the server's maximum is lowered, not refused (OGC 17-069r4 7.15.3).
        big = c.get("/ogc/collections/wijken/items", params={"limit": "50000"})
        assert big.status_code == 200
        assert big.json()["numberReturned"] <= c.app.state.settings.max_features  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- HEAD


def test_head_is_answered_wherever_get_is(demo_db: DemoDB) -> None:
    """Old code: HEAD /kaart (and every API/OGC route) was 405; only /static answered it."""
    analyst = {"X-API-Key": demo_db.analyst}
    sample: list[tuple[str, dict[str, str]]] = [
        ("/kaart", {}),
        ("/overzicht?municipality=GM0518", {}),
        ("/licence", {}),
        ("/api/v1/areas?level=wijk", {}),
        ("/api/v1/hotspots?category=woninginbraak&municipality=GM0518&res=9", {}),
        ("/api/v1/incidents?limit=3", analyst),
        ("/api/v1/incidents?limit=3", {}),  # 401 for anonymous callers, as GET
        ("/api/v1/incidents?offset=-1", analyst),  # 400, as GET
        ("/ogc", {}),
        ("/ogc/collections", {}),
        ("/ogc/collections/wijken/items?limit=2", {}),
        ("/ogc/collections/nope", {}),  # 404, as GET
        ("/static/css/pages.css", {}),
    ]
    with _client(demo_db) as c:
        for url, headers in sample:
            get = c.get(url, headers=headers)
            head = c.head(url, headers=headers)
            assert head.status_code == get.status_code != 405, (url, head.status_code)
            assert head.content == b"", url
            for name in ("content-type", "content-length", "etag", "cache-control"):
                assert head.headers.get(name) == get.headers.get(name), (url, name)
        # A route without GET still refuses HEAD.
        app = c.app

        def post_only() -> dict[str, str]:
            return {}

        app.add_api_route("/api/v1/post-only", post_only, methods=["POST"])  # type: ignore[attr-defined]
        assert c.post("/api/v1/post-only").status_code == 200
        refused = c.head("/api/v1/post-only")
        assert refused.status_code == 405
        assert refused.headers["allow"] == "POST"
        assert refused.content == b""


# --------------------------------------------------------------------------- upload bombs

ROW = b"2026-01-05,4.30,52.07,woninginbraak\n"


def _bomb(rows: int) -> bytes:
    """A .csv.gz of ``rows`` identical rows: ~1 kB per 25,000 rows compressed."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb") as gz:
        gz.write(b"occurred_from,lon,lat,category\n")
        for _ in range(rows // 10_000):
            gz.write(ROW * 10_000)
    return buf.getvalue()


def _store_counts(path: Path) -> tuple[int, int, int]:
    with Store.open(path) as store:
        return store.count_incidents(), len(store.quarantine_frame()), len(store.batches())


@pytest.mark.parametrize(
    ("caps", "english", "dutch"),
    [
        ({"max_upload_rows": 50_000}, "more than 50,000 rows", "meer dan 50,000 rijen"),
        ({"max_upload_decompressed_bytes": 1_000_000}, "expands to more than", "uitgepakt"),
    ],
)
def test_gzip_bomb_upload_is_413_and_stores_nothing(
    demo_copy: DemoDB, caps: dict[str, int], english: str, dutch: str
) -> None:
    """Old code: a 255 kB .csv.gz of 5,000,000 rows took the service from 0.4 to 5 GB."""
    bomb = _bomb(200_000)  # 7 MB decompressed
    assert len(bomb) < 100_000  # far below the upload limit
    before = _store_counts(demo_copy.path)
    with _client(demo_copy, max_upload_bytes=2_000_000, **caps) as c:
        r = c.post(
            "/api/v1/incidents",
            files={"file": ("bom.csv.gz", io.BytesIO(bomb), "application/gzip")},
            headers={"X-API-Key": demo_copy.admin},
        )
    _is_problem(r, 413)
    detail = r.json()["detail"]
    assert english in detail and dutch in detail, detail
    assert "geo-upload" not in detail and "upload.csv" not in detail  # no temporary name
    assert _store_counts(demo_copy.path) == before  # no incidents, quarantine or batch


def test_gzip_is_read_in_chunks_so_the_cap_acts_before_memory_grows(tmp_path: Path) -> None:
    """The cap is checked per decompressed chunk: 64 MB of rows never reach memory."""
    path = tmp_path / "bomb.csv.gz"
    path.write_bytes(_bomb(64_000_000 // len(ROW)))
    tracemalloc.start()
    try:
        with pytest.raises(InputTooLargeError, match="uitgepakt"):
            read_incident_table(path, ReadLimits(max_bytes=4_000_000))
        with pytest.raises(InputTooLargeError, match="rijen"):
            read_incident_table(path, ReadLimits(max_rows=100_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16_000_000, peak
    # Under the caps the same reader reads the file as before.
    small = tmp_path / "small.csv.gz"
    small.write_bytes(_bomb(20_000))
    table = read_incident_table(small, ReadLimits(max_bytes=1_000_000, max_rows=20_000))
    assert table.rows_in == 20_000
    with pytest.raises(InputTooLargeError):
        read_incident_table(small, ReadLimits(max_rows=19_999))


def test_parquet_rows_are_checked_from_its_metadata(tmp_path: Path) -> None:
    path = tmp_path / "many.parquet"
    frame = pd.DataFrame({"occurred_from": ["2026-01-05"] * 50_000, "lon": 4.3, "lat": 52.07})
    frame.to_parquet(path)
    assert path.stat().st_size < 50_000  # dictionary / run-length encoded
    with pytest.raises(InputTooLargeError, match="meer dan 49,999 rijen"):
        read_incident_table(path, ReadLimits(max_rows=49_999))
    assert read_incident_table(path, ReadLimits(max_rows=50_000)).rows_in == 50_000


# --------------------------------------------------------------------------- re-uploads


def test_reuploading_a_file_does_not_grow_the_quarantine(demo_copy: DemoDB) -> None:
    """Old code: each re-upload stored 0 new incidents but its rejected rows once more."""
    csv = (
        b"incident_id,lon,lat,occurred_from,category\n"
        b"x1,4.30,52.07,2026-01-05,woninginbraak\n"
        b"x2,,,2026-01-05,woninginbraak\n"
        b"x3,4.30,52.07,2026-01-05,woninginbraak,extra\n"
    )
    admin = {"X-API-Key": demo_copy.admin}
    with _client(demo_copy) as c:
        reports = [
            c.post(
                "/api/v1/incidents",
                files={"file": ("zelfde.csv", io.BytesIO(csv), "text/csv")},
                headers=admin,
            ).json()
            for _ in range(3)
        ]
        store: Store = c.app.state.store  # type: ignore[attr-defined]
        quarantined = store.quarantine_frame()
    assert [(r["stored"], r["quarantined"], r["quarantine_known"]) for r in reports] == [
        (1, 2, 0),
        (0, 2, 2),
        (0, 2, 2),
    ]
    for r in reports:
        assert r["rows_in"] == r["stored"] + r["duplicates"] + r["quarantined"] + r["skipped"]
    raw = quarantined["raw"].str.contains(r'"incident_id":"x2"|x3,4\.30,52\.07,2026')
    assert int(raw.sum()) == 2


# --------------------------------------------------------------------------- stale uploads


def _folder(root: Path, name: str, age_s: float) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "upload.csv.gz").write_bytes(b"x" * 1000)
    past = time.time() - age_s
    for p in (folder / "upload.csv.gz", folder):
        os.utime(p, (past, past))
    return folder


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_upload_folders_are_removed_when_the_app_starts(
    demo_db: DemoDB, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Old code: `kill -9` of serve during an upload left its /tmp/geo-upload-* folder for good."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = _dead_pid()
    killed = _folder(tmp_path, f"geo-upload-{dead}-abc", age_s=7200)
    unnamed = _folder(tmp_path, "geo-upload-k3j2h1", age_s=7200)  # before folders had a pid
    recent = _folder(tmp_path, f"geo-upload-{dead}-new", age_s=60)  # may be a slow upload
    other = _folder(tmp_path, "geo-other-abc", age_s=7200)
    with _client(demo_db) as c:
        assert c.get("/ogc").status_code == 200
    assert not killed.exists() and not unnamed.exists()
    assert recent.exists() and other.exists()


def test_upload_folders_of_live_servers_are_kept(tmp_path: Path) -> None:
    from geo_service.web.uploads import clean_stale_upload_dirs, upload_dir

    with upload_dir() as mine:  # this process's own upload, in the default temp dir
        assert f"geo-upload-{os.getpid()}-" in mine
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.1)
        held = _folder(tmp_path, f"geo-upload-{server.pid}-held", age_s=0)
        # The same id, but the folder is older than the process: a restarted server that got
        # the id of the one killed (as in a container) does not hold it.
        reused = _folder(tmp_path, f"geo-upload-{server.pid}-reused", age_s=7200)
        removed = clean_stale_upload_dirs(tmp_path, max_age_s=0)
        assert removed == [reused]
        assert held.exists()
    finally:
        server.kill()
        server.wait()
    assert clean_stale_upload_dirs(tmp_path, max_age_s=0) == [held]


# --------------------------------------------------------------------------- request budget


def test_request_budget_is_a_token_bucket_per_client() -> None:
    from geo_service.web.ratelimit import RequestBudget, client_key

    now = [0.0]
    budget = RequestBudget(requests=6, window_s=60, burst=3, max_clients=2, clock=lambda: now[0])
    assert [budget.take("a") for _ in range(4)] == [0.0, 0.0, 0.0, pytest.approx(10.0)]
    assert budget.take("b") == 0.0  # another client has its own bucket
    now[0] = 5.0
    assert budget.take("a") == pytest.approx(5.0)  # refused requests spend nothing
    now[0] = 10.0
    assert budget.take("a") == 0.0  # one request back after 60 s / 6
    assert budget.take("a") == pytest.approx(10.0)
    now[0] = 1000.0
    assert [budget.take("a") for _ in range(4)][-1] > 0  # refills to the burst, no further
    budget.take("c")
    assert len(budget) == 2  # bounded: the least recently seen client is forgotten
    # One IPv6 host holds a /64: its addresses share a bucket.
    same = {client_key({"client": (f"2001:db8:0:1::{i:x}", 1)}) for i in range(1, 50)}
    assert same == {"2001:db8:0:1::/64"}
    with pytest.raises(ValueError, match="budget needs"):
        RequestBudget(requests=0, window_s=60, burst=3)


def test_anonymous_callers_past_their_budget_get_429(
    demo_db: DemoDB, caplog: pytest.LogCaptureFixture
) -> None:
    """Defence in depth against query sequences: anonymous callers have a request budget."""
    budget = {
        "anonymous_budget_requests": 2,
        "anonymous_budget_window_s": 600,
        "anonymous_budget_burst": 3,
    }
    viewer = {"X-API-Key": demo_db.viewer}
    with _client(demo_db, **budget) as c, caplog.at_level(logging.WARNING):
        assert [c.get("/ogc").status_code for _ in range(3)] == [200, 200, 200]
        refused = c.get("/ogc/collections", params={"f": "json"})
        _is_problem(refused, 429)
        retry = int(refused.headers["retry-after"])
        assert 290 <= retry <= 300  # one request per 300 s
        assert "Te veel verzoeken" in refused.json()["detail"]
        assert "API-sleutel" in refused.json()["detail"]
        head = c.head("/kaart")
        assert head.status_code == 429 and head.content == b""
        # Keyed callers are not limited; page assets are not counted.
        assert all(c.get("/ogc", headers=viewer).status_code == 200 for _ in range(5))
        assert c.get("/static/css/pages.css").status_code == 200
    logged = [r.getMessage() for r in caplog.records if r.name == "geo_service.web.ratelimit"]
    assert len(logged) == 2
    assert "/ogc/collections" in logged[0] and "testclient" in logged[0]
    with _client(demo_db, anonymous_budget_requests=0, anonymous_budget_burst=1) as c:
        assert all(c.get("/ogc").status_code == 200 for _ in range(5))  # 0 = no budget
