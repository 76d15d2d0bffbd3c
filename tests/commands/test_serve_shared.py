"""End to end: `geo-service serve` runs while other processes ingest and analyse the same store.

Old: with `serve` running, `geo-service ingest` and `geo-service priorities` on the same
``--db`` failed ("De database is in gebruik door een draaiende service"). Now the store is
shared (DuckLake): the CLI writes and reads while the service serves, and the served layer
shows the new incidents within 10 s, without a restart. The expected count is counted by
hand: the layer's total before the ingest plus the ingested rows (all in the study area,
at the position of an incident the layer already holds, in the layer's month).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from geo_service.filters import IncidentFilter
from geo_service.store import Store
from tests.clock import DemoClock, add_months
from tests.web_fixtures import DemoDB, demo_clock, demo_copy, demo_db, free_port

__all__ = ["demo_clock", "demo_copy", "demo_db"]  # fixtures used by name

pytestmark = pytest.mark.clock


def _cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "geo_service", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _serve(db: Path, *extra: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    env = {
        **os.environ,
        "GEO_SERVICE_TILE_URL": "",
        "GEO_SERVICE_PERMUTATIONS": "99",
        "GEO_SERVICE_WARM_UP": "false",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "geo_service",
            "serve",
            "--db",
            str(db),
            "--port",
            str(port),
            *extra,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read() if proc.stderr else ""
                raise RuntimeError(f"serve exited with {proc.returncode}: {err[-2000:]}")
            try:
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("serve did not become ready within 90 s")
            time.sleep(0.2)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def served(demo_copy: DemoDB) -> Iterator[tuple[str, DemoDB]]:
    for url, _ in _serve(demo_copy.path):
        yield url, demo_copy


def _total(url: str, key: str, month: str, end: str) -> int:
    r = httpx.get(
        f"{url}/api/v1/hotspots",
        params={"category": "woninginbraak", "res": 9, "start": month, "end": end},
        headers={"X-API-Key": key},
        timeout=120,
    )
    assert r.status_code == 200, r.text
    return sum(int(f["properties"]["count"]) for f in r.json()["features"])


def test_ingest_and_priorities_while_serving_show_within_10_s(
    served: tuple[str, DemoDB], demo_clock: DemoClock, tmp_path: Path
) -> None:
    url, db = served
    first = demo_clock.month(2)
    last = add_months(first, 1) - timedelta(days=1)
    month, end = first.isoformat(), last.isoformat()
    with Store.open(db.path, read_only=True) as store:
        where = store.incident_points(
            IncidentFilter(category="woninginbraak", start=first, end=last), limit=1
        )
    lon, lat = float(where["lon"].iloc[0]), float(where["lat"].iloc[0])
    before = _total(url, db.analyst, month, end)
    ready = httpx.get(f"{url}/ready", timeout=5).json()
    assert ready["status"] == "ready" and ready["store"] == "sqlite"

    csv = tmp_path / "eigen.csv"
    rows = [
        f"EIGEN-{i},{first.isoformat()} {10 + i}:00,{lon:.6f},{lat:.6f},woninginbraak"
        for i in range(7)
    ]
    csv.write_text(
        "incident_id,occurred_from,lon,lat,category\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    out = _cli(db.path, "ingest", str(csv))
    assert out.returncode == 0, out.stderr
    committed = time.monotonic()
    while True:
        now = _total(url, db.analyst, month, end)
        if now == before + 7:
            break
        assert time.monotonic() - committed < 10, f"still {now}, expected {before + 7}"
        time.sleep(0.5)
    assert httpx.get(f"{url}/ready", timeout=5).json()["data_version"] != ready["data_version"]

    pri = _cli(db.path, "priorities", "--category", "woninginbraak", "--replicates", "50")
    assert pri.returncode == 0, pri.stderr
    assert "in gebruik" not in pri.stderr


def test_serve_with_four_workers_answers_from_every_worker(demo_copy: DemoDB) -> None:
    """Four worker processes on one store: each opens its own connection and answers."""
    for url, proc in _serve(demo_copy.path, "--workers", "4"):
        assert httpx.get(f"{url}/health", timeout=5).json() == {"status": "ok"}
        # uvicorn starts each worker as a multiprocessing child (spawn_main)
        workers = [
            p
            for p in psutil.Process(proc.pid).children(recursive=True)
            if "spawn_main" in " ".join(p.cmdline())
        ]
        assert len(workers) >= 4, [p.cmdline() for p in psutil.Process(proc.pid).children()]
        versions = set()
        for _ in range(12):
            r = httpx.get(f"{url}/ready", timeout=30)
            assert r.status_code == 200
            versions.add(r.json()["data_version"])
        assert len(versions) == 1
        r = httpx.get(
            f"{url}/api/v1/hotspots",
            params={"category": "woninginbraak", "res": 8},
            headers={"X-API-Key": demo_copy.analyst},
            timeout=120,
        )
        assert r.status_code == 200 and r.json()["features"]
        # /metrics adds up every worker (multiprocess mode): whichever worker answers, the
        # counts are the requests made above (1 /health; 12 /ready plus the one 200 that
        # ended _serve's readiness wait), counted by hand. A
        # worker counting only its own requests would show fewer on most scrapes.
        for _ in range(8):
            scrape = httpx.get(f"{url}/metrics", timeout=10)
            assert scrape.status_code == 200, scrape.text
            counts = {
                (s.labels["route"], s.labels["status_class"]): s.value
                for family in text_string_to_metric_families(scrape.text)
                for s in family.samples
                if s.name == "geo_service_http_request_duration_seconds_count"
            }
            assert counts[("/health", "2xx")] == 1
            assert counts[("/ready", "2xx")] == 12 + 1
            assert counts[("/api/v1/hotspots", "2xx")] == 1
