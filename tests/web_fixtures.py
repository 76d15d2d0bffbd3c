"""Fixtures for the web tests: ONE demo database per session, apps and a live server.

Import the fixtures a test module needs from here (``from tests.web_fixtures
import ...``); they are not in a conftest so that they do not collide with the
store/ingestion engineers' fixtures.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from geo_service.config import Settings
from geo_service.demo.dataset import build_demo
from geo_service.store import Store
from geo_service.store.core import copy_store
from geo_service.web import create_app
from tests.clock import DemoClock


@dataclass(frozen=True)
class DemoDB:
    """The session's demo database and the API key secrets made for it."""

    path: Path
    analyst: str
    admin: str
    viewer: str
    revoked: str


#: Anonymous request budget of the test apps: tests send many anonymous requests from one
#: address; the limiter stays in the path (tests/web/test_faults.py tests it low).
TEST_BUDGET = 1_000_000


def web_settings(path: Path, **overrides: object) -> Settings:
    """Settings for tests: no basemap tiles (nothing leaves 127.0.0.1), few permutations."""
    values: dict[str, object] = {
        "db": path,
        "tile_url": "",
        "permutations": 99,
        "warm_up": False,
        "anonymous_budget_requests": TEST_BUDGET,
        "anonymous_budget_burst": TEST_BUDGET,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> DemoDB:
    """Build the demo data set once per session, with one key per role and a revoked key."""
    path = tmp_path_factory.mktemp("web") / "demo.duckdb"
    with Store.open(path) as store:
        build_demo(store, progress=False)
        secrets = {
            role: store.create_key(role, f"test {role}")[1]
            for role in ("viewer", "analyst", "admin")
        }
        key_id, revoked = store.create_key("admin", "revoked")
        store.revoke_key(key_id)
    return DemoDB(path=path, revoked=revoked, **secrets)


@pytest.fixture(scope="session")
def demo_clock(demo_db: DemoDB) -> DemoClock:
    """The session demo's clock and data window, read from the store (see ``clock.py``)."""
    return DemoClock.of(demo_db.path)


@pytest.fixture
def demo_copy(demo_db: DemoDB, tmp_path: Path) -> DemoDB:
    """A private copy of the demo database for tests that write."""
    path = tmp_path / "demo.duckdb"
    copy_store(demo_db.path, path)
    return DemoDB(
        path=path,
        analyst=demo_db.analyst,
        admin=demo_db.admin,
        viewer=demo_db.viewer,
        revoked=demo_db.revoked,
    )


@pytest.fixture(scope="module")
def client(demo_db: DemoDB) -> Iterator[TestClient]:
    """A TestClient on the shared demo database (read-only use)."""
    with TestClient(create_app(web_settings(demo_db.path))) as c:
        yield c


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    """A real uvicorn server on loopback."""

    url: str


@pytest.fixture(scope="module")
def live_server(demo_db: DemoDB, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Run the app in a uvicorn subprocess on a free loopback port, on a copy of the demo DB.

    A subprocess, not a thread: GDAL (pyogrio) holds the GIL while it reads, which would
    starve an in-process server. A copy, because DuckDB lets one process write a file.
    """
    path = tmp_path_factory.mktemp("live") / "demo.duckdb"
    copy_store(demo_db.path, path)
    port = free_port()
    env = {
        **os.environ,
        "GEO_SERVICE_DB": str(path),
        "GEO_SERVICE_TILE_URL": "",
        "GEO_SERVICE_PERMUTATIONS": "99",
        "GEO_SERVICE_ANONYMOUS_BUDGET_REQUESTS": str(TEST_BUDGET),
        "GEO_SERVICE_ANONYMOUS_BUDGET_BURST": str(TEST_BUDGET),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "geo_service.web.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {proc.returncode}")
            try:
                if httpx.get(f"{url}/ogc", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start within 60 s")
            time.sleep(0.1)
        yield LiveServer(url=url)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


#: Debian's Chromium (the Makefile installs it); Playwright drives it and never downloads one.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium for the module's tests (a ``playwright.sync_api.Browser``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def commit_elsewhere(path: Path, sql: str) -> None:
    """Run ``sql`` and bump the data version in one commit of a second process on ``path``.

    What another worker or an ingest does while a response is being computed.
    """
    script = (
        "import sys\n"
        "from geo_service.store import Store\n"
        "with Store.open(sys.argv[1]) as store:\n"
        "    def block():\n"
        "        store.con.execute(sys.argv[2])\n"
        "        store.bump_data_version()\n"
        "    store.write(block)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(path), sql],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert out.returncode == 0, out.stderr
