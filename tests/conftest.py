"""Shared fixtures: the real reference data beside the project and a fresh store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from geo_service.store import Store
from tests.postgres import PostgresServer, free_port, start_server, stop_server

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
TEST_OUTPUT = PROJECT_ROOT / "test-output"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``: real public data (NL polygons and counts, UK police points)."""
    if not SHARED_DATA.is_dir():
        raise FileNotFoundError(f"reference data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def test_output() -> Path:
    """Folder for artefacts a person may want to look at (screenshots, maps)."""
    TEST_OUTPUT.mkdir(exist_ok=True)
    return TEST_OUTPUT


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the session (see ``tests/postgres.py``)."""
    server = start_server(free_port())
    try:
        yield server
    finally:
        stop_server(server)


def new_store_db(
    catalog: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Return the ``--db`` of a new, empty shared store with a ``catalog`` catalog.

    ``sqlite``: a file under ``tmp_path`` (the embedded default); ``postgres``: a fresh
    database on the session's PostgreSQL server, data files under ``tmp_path`` (the
    environment's ``GEO_SERVICE_DATA_PATH``, which CLI subprocesses inherit).
    """
    if catalog == "sqlite":
        return str(tmp_path / "test.duckdb")
    server: PostgresServer = request.getfixturevalue("postgres_server")
    files = tmp_path / "files"
    files.mkdir()
    monkeypatch.setenv("GEO_SERVICE_DATA_PATH", str(files))
    return "postgres:" + server.conninfo(server.create_database())


@pytest.fixture
def store_db(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The ``--db`` of a new, empty store (SQLite catalog).

    tests/store and tests/ingest override it to run on each catalog (their conftest.py).
    """
    return new_store_db("sqlite", request, tmp_path, monkeypatch)


@pytest.fixture
def store(store_db: str) -> Iterator[Store]:
    """An empty shared store (see :func:`store_db`)."""
    s = Store.open(store_db)
    try:
        yield s
    finally:
        s.close()
