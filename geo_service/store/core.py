"""DuckDB connection and schema.

The spatial extension is loaded from the file that the pinned PyPI package
``duckdb-extension-spatial`` ships, so the store works without network access
(DuckDB would otherwise try to download it).
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Self

import duckdb

SCHEMA_VERSION = 3


def quarantine_key_sql(source: str, raw_json: str) -> str:
    """Return the SQL expression of a quarantine row's content key.

    A SHA-256 of the source file's hash, the reason, the row number and the raw row (its
    JSON text): re-ingesting a file gives every rejected row the key it had, so the row is
    not stored again; two identical rows of one file keep two keys (their row numbers).

    Parameters
    ----------
    source
        SQL for the source file's SHA-256 (``''`` for a frame ingested without one).
    raw_json
        SQL for the raw row as JSON text.
    """
    parts = f"{source}, reason, CAST(row_number AS VARCHAR), {raw_json}"
    return f"sha256(concat_ws(chr(31), {parts}))"


#: Columns added after schema version 1 (``ALTER TABLE ... ADD COLUMN IF NOT EXISTS``); each
#: statement is idempotent, so a store of any version opens.
MIGRATIONS: tuple[str, ...] = (
    # v2: the IANA zone of the wall-clock timestamps, per incident and per batch. Rows of v1
    # were read as Dutch local time.
    "ALTER TABLE incidents ADD COLUMN IF NOT EXISTS tz VARCHAR",
    "UPDATE incidents SET tz = 'Europe/Amsterdam' WHERE tz IS NULL",
    "ALTER TABLE ingest_batches ADD COLUMN IF NOT EXISTS timezone VARCHAR",
    # v3: a content key per quarantined row, so re-ingesting a file does not add its rejected
    # rows again. Rows of v2 get the key they would have had (copies they hold stay).
    "ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS row_key VARCHAR",
    # (reason, row_number, raw and row_key are columns of quarantine only.)
    f"UPDATE quarantine SET row_key = {quarantine_key_sql('b.sha256', 'CAST(raw AS VARCHAR)')} "
    "FROM ingest_batches b WHERE b.batch_id = quarantine.batch_id AND row_key IS NULL",
)


#: SQL of an incident's record key for the cell key method: a keyed 64-bit hash of its identity,
#: cut to 32 bits. One bound parameter: the store's secret. DuckDB's hash is fixed per release
#: (duckdb is pinned); a new release may change every key at once, never some of them.
RECORD_KEY_SQL = "(hash(incident_id, category, occurred_from, ?) & 4294967295)"


def utc_now() -> datetime:
    """Return the current UTC time as a naive datetime (the store's system-time convention)."""
    return datetime.now(UTC).replace(tzinfo=None)


SCHEMA_SQL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS meta (
        key VARCHAR PRIMARY KEY,
        value VARCHAR NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS ingest_batches (
        batch_id VARCHAR PRIMARY KEY,
        file_name VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL,
        category VARCHAR,
        municipality VARCHAR,
        source_crs VARCHAR,
        crs_note VARCHAR,
        rows_in BIGINT NOT NULL,
        stored BIGINT NOT NULL,
        duplicates BIGINT NOT NULL,
        quarantined BIGINT NOT NULL,
        skipped BIGINT NOT NULL,
        actor VARCHAR,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL,
        timezone VARCHAR
    )""",
    # One row per incident. occurred_from/occurred_to: burglaries are often only known
    # to have happened within a window. x/y are metric coordinates in metric_crs
    # (EPSG:28992 in the Netherlands, the local UTM zone elsewhere).
    """CREATE TABLE IF NOT EXISTS incidents (
        incident_id VARCHAR NOT NULL,
        category VARCHAR NOT NULL,
        subtype VARCHAR,
        occurred_from TIMESTAMP NOT NULL,
        occurred_to TIMESTAMP,
        reported_at TIMESTAMP,
        lon DOUBLE NOT NULL,
        lat DOUBLE NOT NULL,
        x DOUBLE NOT NULL,
        y DOUBLE NOT NULL,
        metric_crs VARCHAR NOT NULL,
        tz VARCHAR,
        municipality VARCHAR,
        wijk_code VARCHAR,
        buurt_code VARCHAR,
        batch_id VARCHAR NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS quarantine (
        batch_id VARCHAR NOT NULL,
        row_number BIGINT NOT NULL,
        reason VARCHAR NOT NULL,
        detail VARCHAR,
        raw JSON NOT NULL,
        row_key VARCHAR
    )""",
    # geom in EPSG:4326 (lon/lat order).
    """CREATE TABLE IF NOT EXISTS areas (
        code VARCHAR NOT NULL,
        name VARCHAR,
        level VARCHAR NOT NULL,
        municipality VARCHAR,
        dwellings DOUBLE,
        dwellings_estimated BOOLEAN NOT NULL DEFAULT false,
        inhabitants DOUBLE,
        source VARCHAR,
        geom GEOMETRY NOT NULL,
        PRIMARY KEY (level, code)
    )""",
    """CREATE TABLE IF NOT EXISTS cameras (
        camera_id VARCHAR PRIMARY KEY,
        kind VARCHAR NOT NULL,
        name VARCHAR,
        lon DOUBLE NOT NULL,
        lat DOUBLE NOT NULL,
        municipality VARCHAR,
        active_from DATE,
        active_to DATE,
        source VARCHAR
    )""",
    # API keys: only a SHA-256 of the secret is stored.
    """CREATE TABLE IF NOT EXISTS api_keys (
        key_id VARCHAR PRIMARY KEY,
        key_hash VARCHAR NOT NULL UNIQUE,
        role VARCHAR NOT NULL,
        label VARCHAR,
        created_at TIMESTAMP NOT NULL,
        revoked_at TIMESTAMP
    )""",
    """CREATE TABLE IF NOT EXISTS audit_log (
        logged_at TIMESTAMP NOT NULL,
        actor VARCHAR NOT NULL,
        role VARCHAR,
        action VARCHAR NOT NULL,
        detail JSON
    )""",
    # Sign-ins on the pages (/inloggen): only a SHA-256 of the session id is stored. A key's
    # session holds no rights of its own, it names the API key (whose role is read each time);
    # an OpenID Connect session (key_id NULL) holds the actor and the role its groups gave.
    """CREATE TABLE IF NOT EXISTS web_sessions (
        session_hash VARCHAR PRIMARY KEY,
        key_id VARCHAR,
        actor VARCHAR,
        role VARCHAR,
        created_at TIMESTAMP NOT NULL,
        expires_at TIMESTAMP NOT NULL,
        ended_at TIMESTAMP
    )""",
)


def spatial_extension_path() -> Path:
    """Return the path of the DuckDB spatial extension shipped by ``duckdb-extension-spatial``.

    Raises
    ------
    RuntimeError
        If the package is not installed or ships no extension for this DuckDB.
    """
    import duckdb_extension_spatial

    root = Path(duckdb_extension_spatial.__file__).parent / "extensions"
    wanted = root / f"v{duckdb.__version__}" / "spatial.duckdb_extension"
    if wanted.is_file():
        return wanted
    found = sorted(root.glob("*/spatial.duckdb_extension"))
    raise RuntimeError(
        f"no spatial extension for duckdb {duckdb.__version__} under {root}; found {found}"
    )


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB database with the spatial extension loaded (offline)."""
    con = duckdb.connect(str(path), read_only=read_only)
    con.execute(f"LOAD '{spatial_extension_path()}'")  # path is ours, not user input
    return con


class Memo:
    """A small thread-safe LRU of derived values (study grids) shared by a store's cursors.

    Keys must include the store's data version, so an entry is never stale.
    """

    def __init__(self, max_entries: int = 64) -> None:
        self._max = max_entries
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Return the value for ``key``, computing (outside the lock) when absent."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._max:
                self._items.popitem(last=False)
        return value


class StoreBase:
    """Holds the DuckDB connection; query modules add methods as mixins.

    Parameters
    ----------
    con
        An open connection with the spatial extension loaded (see :func:`connect`).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, memo: Memo | None = None) -> None:
        self.con = con
        self.memo = memo if memo is not None else Memo()

    def cursor(self) -> Self:
        """Return a store on a new cursor of this connection, sharing the memo (per request)."""
        return type(self)(self.con.cursor(), self.memo)

    @classmethod
    def open(cls, path: Path | str, *, read_only: bool = False) -> Self:
        """Open (and, unless read-only, create/migrate) the store at ``path``."""
        store = cls(connect(path, read_only=read_only))
        if not read_only:
            store.ensure_schema()
        return store

    def ensure_schema(self) -> None:
        """Create missing tables; idempotent."""
        for stmt in (*SCHEMA_SQL, *MIGRATIONS):
            self.con.execute(stmt)
        self.con.execute(
            "INSERT INTO meta VALUES ('schema_version', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [str(SCHEMA_VERSION)],
        )
        self.con.execute(
            "INSERT INTO meta VALUES ('data_version', '0') ON CONFLICT (key) DO NOTHING"
        )
        # The secret of the record keys of the disclosure control (spatial/privacy/disclosure.py):
        # made once per store and never shown, so nobody outside can compute a cell key.
        self.con.execute(
            "INSERT INTO meta VALUES ('record_key_secret', ?) ON CONFLICT (key) DO NOTHING",
            [secrets.token_hex(16)],
        )

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Run a block atomically: COMMIT on success, ROLLBACK on any exception (Ctrl-C too)."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def data_version(self) -> str:
        """Return a token that changes whenever stored data change (cache keys, ETags)."""
        row = self.con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
        return row[0] if row else "0"

    def bump_data_version(self) -> None:
        """Mark stored data as changed. Call inside the transaction that changed them."""
        self.con.execute(
            "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) "
            "WHERE key = 'data_version'"
        )

    def meta(self, key: str) -> str | None:
        """Return one value of the store's ``meta`` table (None when absent)."""
        row = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Set one value of the store's ``meta`` table."""
        self.con.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )

    def record_key_secret(self) -> str:
        """Return the store's secret for record keys (see :func:`record_key_sql`)."""
        value = self.meta("record_key_secret")
        if value is None:  # a read-only store of an old schema: keys still stable per file
            value = self.meta("schema_version") or "geo-service"
        return value

    def today(self) -> date:
        """Return the store's "today": the demo's clock where the store is a demo, else today.

        A demo store is built *as of* a date (``geo-service demo --as-of``, recorded as
        ``meta.demo_as_of``); the pages then judge "incomplete", "expired" and default periods
        against that date, so a demo built on one day reads the same on any later day. A store
        of real data has no such key and lives on the calendar.
        """
        value = self.meta("demo_as_of")
        return date.fromisoformat(value) if value else date.today()

    def close(self) -> None:
        """Close the connection."""
        self.con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
