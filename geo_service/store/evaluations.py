"""The latest backtest per category, kept in a JSON file beside the database.

Read by the model card (:mod:`geo_service.analyses.modelcard`): a read-only store (``serve``
may hold the database) can still record it, and it leaves the schema alone. Each record
carries the data version it was computed on.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["evaluations_path", "latest_backtest", "read_backtests", "record_backtest"]


def evaluations_path(db: Path | str) -> Path:
    """Return the file that keeps the latest backtest per category of the store ``db``.

    Beside a store file; for a PostgreSQL-catalogued store (``postgres:...``) in its data
    folder (``$GEO_SERVICE_DATA_PATH``), which every machine of the store shares.

    Examples
    --------
    >>> evaluations_path("/data/hotspots.duckdb").name
    'hotspots.duckdb.backtest.json'

    Raises
    ------
    InvalidParameterError
        A PostgreSQL store without a data folder.
    """
    from geo_service.store.core import resolve_location

    loc = resolve_location(db)
    if loc.kind == "postgres":
        if loc.data_path is None:
            from spatial.errors import InvalidParameterError

            raise InvalidParameterError(
                "GEO_SERVICE_DATA_PATH is not set: a PostgreSQL store keeps its backtests in "
                "its data folder / stel GEO_SERVICE_DATA_PATH in"
            )
        return loc.data_path / "backtest.json"
    p = Path(db)
    return p.with_name(p.name + ".backtest.json")


def _record_key(category: str, municipality: str | None) -> str:
    return category if not municipality else f"{category}@{municipality}"


def record_backtest(db: Path | str, doc: Mapping[str, Any]) -> Path:
    """Keep ``doc`` as the latest backtest of its category (and municipality) beside ``db``.

    The file is replaced atomically (write a temporary file, then rename), so a reader never
    sees half a file. Two backtests finishing at the same moment may lose one record.

    Raises
    ------
    OSError
        When the folder is not writable.
    """
    path = evaluations_path(db)
    records = read_backtests(db)
    par = doc["metadata"]["parameters"]
    records[_record_key(par["category"], par["municipality"])] = dict(doc)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"version": 1, "backtests": records}, fh, ensure_ascii=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_backtests(db: Path | str) -> dict[str, Any]:
    """Return every recorded backtest beside ``db`` by key (empty when none or unreadable)."""
    path = evaluations_path(db)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    records = data.get("backtests") if isinstance(data, dict) else None
    return dict(records) if isinstance(records, dict) else {}


def latest_backtest(
    db: Path | str, category: str, municipality: str | None = None
) -> dict[str, Any] | None:
    """Return the latest recorded backtest of a category (and municipality), or None."""
    found = read_backtests(db).get(_record_key(category, municipality))
    return found if isinstance(found, dict) else None
