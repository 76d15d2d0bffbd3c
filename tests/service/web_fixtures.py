"""Fixtures for the web tests: ONE demo database per session, apps and a live server.

Import the fixtures a test module needs from here (``from tests.service.web_fixtures
import ...``); they are not in a conftest so that they do not collide with the
store/ingestion engineers' fixtures.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from geo_service.config import Settings
from geo_service.demo import build_demo
from geo_service.store import Store
from geo_service.web import create_app


@dataclass(frozen=True)
class DemoDB:
    """The session's demo database and the API key secrets made for it."""

    path: Path
    analyst: str
    admin: str
    viewer: str
    revoked: str


def web_settings(path: Path, **overrides: object) -> Settings:
    """Settings for tests: no basemap tiles (nothing leaves 127.0.0.1), few permutations."""
    values: dict[str, object] = {"db": path, "tile_url": "", "permutations": 99}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> DemoDB:
    """Build the demo data set once per session, with one key per role and a revoked key."""
    path = tmp_path_factory.mktemp("web") / "demo.duckdb"
    with Store.open(path) as store:
        build_demo(store, progress=False)
        secrets = {role: store.create_key(role, f"test {role}")[1] for role in
                   ("viewer", "analyst", "admin")}
        key_id, revoked = store.create_key("admin", "revoked")
        store.revoke_key(key_id)
    return DemoDB(path=path, revoked=revoked, **secrets)


@pytest.fixture
def demo_copy(demo_db: DemoDB, tmp_path: Path) -> DemoDB:
    """A private copy of the demo database for tests that write."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db.path, path)
    return DemoDB(path=path, analyst=demo_db.analyst, admin=demo_db.admin,
                  viewer=demo_db.viewer, revoked=demo_db.revoked)


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
def live_server(demo_db: DemoDB) -> Iterator[LiveServer]:
    """Run the app in uvicorn on a free loopback port (in a thread) for real clients."""
    port = free_port()
    config = uvicorn.Config(create_app(web_settings(demo_db.path)), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
