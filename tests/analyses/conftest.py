"""The demo stores the analysis tests read: built once per session at a fixed month.

These tests compare against properties of one demo data set (planted hot spots, a fixed
window), so the month is fixed (``END``) rather than today's; the date-dependent behaviour
of the pages is tested with :class:`tests.clock.DemoClock`. Tests that write copy the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from geo_service.demo.dataset import build_demo
from geo_service.store import Store

#: The last month of the analysis tests' demo.
END = date(2026, 10, 1)


def _build(tmp_path_factory: pytest.TempPathFactory, seed: int | None) -> Path:
    path = tmp_path_factory.mktemp(f"demo-seed-{seed}") / "demo.duckdb"
    with Store.open(path) as s:
        if seed is None:
            build_demo(s, end_month=END, progress=False)
        else:
            build_demo(s, seed=seed, end_month=END, progress=False)
        path.with_suffix(".key").write_text(s.create_key("analyst", "test")[1])
    return path


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo (default seed) ending with ``END``; an analyst key beside it (``.key``)."""
    return _build(tmp_path_factory, None)


@pytest.fixture(scope="session")
def demo_db_seed5(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo with seed 5 ending with ``END`` (the space-time tests' data set)."""
    return _build(tmp_path_factory, 5)


@pytest.fixture
def demo_store(demo_db: Path) -> Iterator[Store]:
    """The demo (the module's ``demo_db``), read-only."""
    s = Store.open(demo_db, read_only=True)
    yield s
    s.close()
