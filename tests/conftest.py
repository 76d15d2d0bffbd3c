"""Shared fixtures: the real reference data beside the project and a fresh store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from geo_service.store import Store

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


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty store in a real DuckDB file under ``tmp_path``."""
    s = Store.open(tmp_path / "test.duckdb")
    try:
        yield s
    finally:
        s.close()
