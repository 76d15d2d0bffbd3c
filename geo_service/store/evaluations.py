"""The latest backtest per category, kept in a JSON file beside the database.

Read by the model card (:mod:`geo_service.analyses.modelcard`): a read-only store (``serve``
may hold the database) can still record it, and it leaves the schema alone. Each record
carries the data version it was computed on.

Several processes may record at once (two analysts' backtests, a timer): each record is a
read-modify-write of the one file, so it runs under an exclusive ``flock`` on a lock file
beside it (``<file>.lock``). Without it, two writers that read the same old file would each
write back their own record only, and the first would be lost. POSIX advisory locks hold
between the processes of one machine and on local or NFSv4 folders.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
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
    sees half a file, and the read-modify-write runs under an exclusive lock (module notes),
    so two backtests finishing at the same moment both keep their records.

    Raises
    ------
    OSError
        When the folder is not writable.
    """
    path = evaluations_path(db)
    par = doc["metadata"]["parameters"]
    key = _record_key(par["category"], par["municipality"])
    path.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(path):
        records = read_backtests(db)
        records[key] = dict(doc)
        fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"version": 1, "backtests": records}, fh, ensure_ascii=False)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return path


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``<path>.lock`` (blocking) for the block."""
    with open(path.with_name(path.name + ".lock"), "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


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
