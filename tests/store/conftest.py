"""The store and ingest tests run on each catalog of the shared store: SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import new_store_db


@pytest.fixture(params=["sqlite", "postgres"])
def store_db(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The ``--db`` of a new, empty store, once per catalog (see ``new_store_db``)."""
    return new_store_db(request.param, request, tmp_path, monkeypatch)
