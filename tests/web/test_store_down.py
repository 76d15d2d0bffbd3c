"""The catalog server goes down while the service runs: 503 with Retry-After, then back.

A PostgreSQL server of this test's own (not the session's, which other tests use) holds the
catalog. With it stopped, the API answers 503 problem+json and a page the Dutch 503 page,
both with ``Retry-After`` and no connection string; ``/ready`` says 503 as well. Started
again, the same app answers 200 without a restart.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from geo_service.web import create_app
from tests.postgres import (
    PostgresServer,
    _as_owner,
    _binary,
    free_port,
    start_server,
    stop_server,
)
from tests.web_fixtures import web_settings


@pytest.fixture
def own_server() -> Iterator[PostgresServer]:
    server = start_server(free_port())
    try:
        yield server
    finally:
        stop_server(server)


def _pg_ctl(server: PostgresServer, *args: str) -> None:
    data = str(server.root / "data")
    options = f"-k {server.root / 'sock'} -p {server.port} -c listen_addresses=''"
    cmd = [_binary("pg_ctl"), "-D", data, "-o", options, "-l", str(server.root / "log"), "-w"]
    subprocess.run(_as_owner([*cmd, *args]), check=True, capture_output=True, timeout=120)


def test_catalog_down_is_503_and_comes_back(
    own_server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = tmp_path / "files"
    files.mkdir()
    monkeypatch.setenv("GEO_SERVICE_DATA_PATH", str(files))
    db = "postgres:" + own_server.conninfo(own_server.create_database())
    app = create_app(web_settings(db))  # type: ignore[arg-type]
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.get("/api/v1/areas").status_code == 200
        _pg_ctl(own_server, "-m", "fast", "stop")
        api = c.get("/api/v1/areas")
        page = c.get("/overzicht")
        ready = c.get("/ready")
        _pg_ctl(own_server, "start")
        back = c.get("/api/v1/areas")
    assert api.status_code == 503
    assert api.headers["content-type"].startswith("application/problem+json")
    assert api.headers["retry-after"] == "30"
    assert "niet bereikbaar" in api.json()["detail"]
    assert str(own_server.root) not in api.text  # no connection string
    assert page.status_code == 503 and page.headers["retry-after"] == "30"
    assert "Tijdelijk niet beschikbaar" in page.text and "halve minuut" in page.text
    assert str(own_server.root) not in page.text
    assert ready.status_code == 503
    assert back.status_code == 200
