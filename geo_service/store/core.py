"""DuckDB connection and schema.

The spatial extension is loaded from the file that the pinned PyPI package
``duckdb-extension-spatial`` ships, so the store works without network access
(DuckDB would otherwise try to download it).
"""

from __future__ import annotations

import importlib
import os
import random
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, Self, TypeVar

import duckdb

from geo_service.config import is_postgres_db
from geo_service.errors import BusyError, StoreUnavailableError

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
        key VARCHAR NOT NULL,
        value VARCHAR NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS ingest_batches (
        batch_id VARCHAR NOT NULL,
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
    # What each category is: a police registration ('politie') or a residents' report to the
    # municipality ('melding', e.g. overlast jeugd). Set by the batch that first stored the
    # category; a category without a row is a police registration. A melding is not a crime:
    # the two kinds are never added together (geo_service/store/incidents.py, CATEGORY_KINDS).
    """CREATE TABLE IF NOT EXISTS category_kinds (
        category VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        batch_id VARCHAR
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
        geom GEOMETRY NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS cameras (
        camera_id VARCHAR NOT NULL,
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
        key_id VARCHAR NOT NULL,
        key_hash VARCHAR NOT NULL,
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
        session_hash VARCHAR NOT NULL,
        key_id VARCHAR,
        actor VARCHAR,
        role VARCHAR,
        created_at TIMESTAMP NOT NULL,
        expires_at TIMESTAMP NOT NULL,
        ended_at TIMESTAMP
    )""",
)


def _extension_file(module: str, name: str) -> Path:
    """Return the extension file ``name`` that the PyPI package ``module`` ships for this DuckDB.

    Raises
    ------
    RuntimeError
        If the package ships no extension for this DuckDB.
    """
    package = importlib.import_module(module)
    root = Path(str(package.__file__)).parent / "extensions"
    wanted = root / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if wanted.is_file():
        return wanted
    found = sorted(root.glob(f"*/{name}.duckdb_extension"))
    raise RuntimeError(
        f"no {name} extension for duckdb {duckdb.__version__} under {root}; found {found}"
    )


def spatial_extension_path() -> Path:
    """Return the path of the DuckDB spatial extension shipped by ``duckdb-extension-spatial``.

    Raises
    ------
    RuntimeError
        If the package is not installed or ships no extension for this DuckDB.
    """
    return _extension_file("duckdb_extension_spatial", "spatial")


def _scanner_extension_path(module: str, name: str, entry: str) -> Path:
    """Return a link named ``<entry>.duckdb_extension`` to a shipped extension file.

    DuckDB derives an extension's entry point from its file name: the ``sqlite`` and
    ``postgres`` packages ship ``sqlite.duckdb_extension`` whose entry point is
    ``sqlite_scanner_duckdb_cpp_init``, so LOAD needs the file under the name
    ``sqlite_scanner.duckdb_extension``. The link lives in a per-user folder of the
    temporary directory and is replaced atomically (several processes may make it at once).
    """
    target = _extension_file(module, name)
    folder = Path(tempfile.gettempdir()) / f"geo-service-ext-{os.getuid()}" / duckdb.__version__
    link = folder / f"{entry}.duckdb_extension"
    if link.is_symlink() and link.resolve() == target.resolve():
        return link
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{entry}.{os.getpid()}.{secrets.token_hex(4)}"
    tmp.symlink_to(target)
    os.replace(tmp, link)
    return link


#: The first bytes of a DuckDB database file carry ``DUCK`` at offset 8.
_DUCKDB_MAGIC = b"DUCK"

StoreKind = Literal["duckdb", "sqlite", "postgres"]


@dataclass(frozen=True)
class StoreLocation:
    """Where a store lives, resolved from ``--db`` (see :func:`resolve_location`).

    Attributes
    ----------
    kind
        ``"sqlite"``: a DuckLake with a SQLite catalog in ``catalog`` and its Parquet data
        files in ``data_path`` (``<catalog>.files/``), the embedded default; ``"postgres"``:
        a DuckLake with a PostgreSQL catalog (``catalog`` is a libpq connection string) and
        data files in ``data_path`` (``$GEO_SERVICE_DATA_PATH``), for several machines;
        ``"duckdb"``: a single-file DuckDB store of before the shared store (one writing
        process at a time), still opened as it is.
    catalog
        The catalog file (sqlite, duckdb) or the PostgreSQL connection string.
    data_path
        The folder of the Parquet data files (None for a single-file store).
    """

    kind: StoreKind
    catalog: str
    data_path: Path | None

    @property
    def shared(self) -> bool:
        """Whether several processes may read and write the store at once."""
        return self.kind != "duckdb"

    def display(self) -> str:
        """Return the location for logs and messages, with any password removed."""
        uri = "://" in self.catalog
        return redact(self.catalog if uri else f"{self.kind}:{self.catalog}")


_SECRET_PATTERNS = (
    re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE),
    re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)"),
)


def redact(text: str) -> str:
    """Remove passwords from connection strings in ``text`` (libpq key=value and URL forms)."""
    text = _SECRET_PATTERNS[0].sub(r"\1***", text)
    return _SECRET_PATTERNS[1].sub(r"\1***\3", text)


def resolve_location(path: Path | str) -> StoreLocation:
    """Resolve ``--db`` to a :class:`StoreLocation`.

    ``postgres:<libpq connection string>`` (``postgres:dbname=geo host=db user=geo``) or a
    libpq URI (``postgres://geo@db:5432/geo``, ``postgresql://...``) is a DuckLake catalogued
    in PostgreSQL, data files in ``$GEO_SERVICE_DATA_PATH``. An existing
    DuckDB file (recognised by its header) is a single-file store of before. Any other path
    is a DuckLake catalogued in a SQLite file at that path, data files beside it in
    ``<path>.files/`` -- new stores are created so.
    """
    text = str(path)
    if is_postgres_db(text):
        data = os.environ.get("GEO_SERVICE_DATA_PATH")
        # A URI goes to libpq whole; a key=value string without its "postgres:".
        uri = text.startswith(("postgres://", "postgresql://"))
        conninfo = text if uri else text.removeprefix("postgres:")
        return StoreLocation("postgres", conninfo, Path(data) if data else None)
    file = Path(text)
    if file.is_file():
        with file.open("rb") as fh:
            head = fh.read(12)
        if head[8:12] == _DUCKDB_MAGIC:
            return StoreLocation("duckdb", text, None)
    return StoreLocation("sqlite", text, file.with_name(file.name + ".files"))


def _sql_text(value: str) -> str:
    """Quote a value as an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _prepare_sqlite_catalog(file: Path) -> None:
    """Create the SQLite catalog file in WAL mode (readers then never block a committing writer).

    WAL is a property of the file, so this is done once, before DuckLake first attaches it.
    """
    import sqlite3

    file.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(file, timeout=30)
    try:
        db.execute("PRAGMA journal_mode=WAL")
    finally:
        db.close()


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a store's DuckDB connection with the spatial extension loaded (offline).

    A DuckLake store is attached as the catalog ``lake`` and made the default (``USE lake``),
    so the store's SQL is the same on every kind of store. Extensions are LOADed from the
    files the pinned PyPI packages ship; DuckDB never downloads one.

    Raises
    ------
    StoreUnavailableError
        If the catalog cannot be reached; the message carries no password.
    """
    loc = resolve_location(path)
    if loc.kind == "duckdb":
        con = duckdb.connect(loc.catalog, read_only=read_only)
        con.execute(f"LOAD '{spatial_extension_path()}'")  # path is ours, not user input
        return con
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    try:
        con.execute(f"LOAD '{spatial_extension_path()}'")
        if loc.kind == "sqlite":
            scanner = _scanner_extension_path("duckdb_extension_sqlite", "sqlite", "sqlite_scanner")
            con.execute(f"LOAD '{scanner}'")
            catalog = Path(loc.catalog)
            if not catalog.exists():
                if read_only:
                    raise FileNotFoundError(f"geen opgeslagen gegevens in {catalog} / no store")
                _prepare_sqlite_catalog(catalog)
        else:
            scanner = _scanner_extension_path(
                "duckdb_extension_postgres", "postgres", "postgres_scanner"
            )
            con.execute(f"LOAD '{scanner}'")
        con.execute(f"LOAD '{_extension_file('duckdb_extension_ducklake', 'ducklake')}'")
        options = []
        if loc.data_path is not None:
            options += [
                f"DATA_PATH {_sql_text(str(loc.data_path) + os.sep)}",
                "OVERRIDE_DATA_PATH true",
            ]
        if read_only:
            options.append("READ_ONLY")
        opts = f" ({', '.join(options)})" if options else ""
        con.execute(f"ATTACH {_sql_text(f'ducklake:{loc.kind}:{loc.catalog}')} AS lake{opts}")
        con.execute("USE lake")
    except duckdb.Error as exc:
        con.close()
        raise StoreUnavailableError(
            f"de opslag {loc.display()} is niet bereikbaar: {redact(str(exc)).splitlines()[0]} "
            "/ store unreachable"
        ) from None
    return con


def copy_store(source: Path | str, target: Path | str) -> None:
    """Copy a file store (its catalog and data files) to ``target``, which must not exist.

    For tests and backups of a store that nobody writes at the moment.
    """
    src, dst = resolve_location(source), resolve_location(target)
    if src.kind == "postgres" or dst.kind == "postgres":
        raise ValueError("copy_store copies file stores only")
    shutil.copyfile(src.catalog, dst.catalog)
    if src.data_path is not None and dst.data_path is not None and src.data_path.is_dir():
        shutil.copytree(src.data_path, dst.data_path)


#: Words of DuckDB's and DuckLake's messages when a concurrent write won the race.
_CONFLICT_WORDS = ("conflict", "database is locked", "busy", "concurrent")


def is_write_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` says another transaction changed the store first (worth a retry)."""
    if not isinstance(exc, duckdb.Error):
        return False
    text = str(exc).lower()
    return any(word in text for word in _CONFLICT_WORDS)


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


T = TypeVar("T")


class SnapshotProbe:
    """Reads the newest DuckLake snapshot id of a SQLite catalog through DuckDB (~2 ms).

    Every commit of any process makes a new snapshot. :meth:`StoreBase.data_version` asks
    the probe first and reads the ``meta`` table through DuckLake (~6 ms, see
    ``benchmarks/store_engines.py``) only when the snapshot moved: every request reads the
    data version for its cache keys, and most requests are answered from those caches.
    The snapshot is read *before* the version, so a cached pair is never older than the
    snapshot it is filed under.

    The snapshot table is read through DuckDB's own attached metadata catalog
    (``__ducklake_metadata_lake``), never with Python's ``sqlite3``: two SQLite libraries in
    one process on one database file do not share POSIX locks (closing one's file drops the
    other's locks), and the WAL index of a live catalog was seen truncated under DuckDB's
    mapping of it (a bus error in the test suite).
    """

    SQL = "SELECT max(snapshot_id) FROM __ducklake_metadata_lake.ducklake_snapshot"

    def __init__(self) -> None:
        self.last: tuple[int, str] | None = None

    def snapshot(self, con: duckdb.DuckDBPyConnection) -> int:
        """Return the newest snapshot id of the catalog, read on ``con``."""
        row = con.execute(self.SQL).fetchone()
        return int(row[0]) if row and row[0] is not None else -1

    def close(self) -> None:
        """Nothing to close (kept for the store's close)."""


#: How long a write waits for concurrent writes of other processes before giving up (s).
WRITE_WAIT_S = 60.0


@dataclass(frozen=True)
class CompactReport:
    """What :meth:`StoreBase.compact` did.

    Attributes
    ----------
    files_before, files_after
        Live data files (of every table) before and after the merge.
    snapshots_expired
        Snapshots older than ``keep_days`` removed from the catalog.
    files_deleted
        Files no snapshot needs any more, unlinked at least ``keep_days`` ago, deleted.
    keep_days
        How long unneeded snapshots and files are kept (a long read may still use them).
    """

    files_before: int
    files_after: int
    snapshots_expired: int
    files_deleted: int
    keep_days: int


class StoreBase:
    """Holds the DuckDB connection; query modules add methods as mixins.

    Parameters
    ----------
    con
        An open connection with the spatial extension loaded (see :func:`connect`).
    memo
        The derived-value cache shared by a store's cursors.
    location
        Where the store lives (:func:`resolve_location`); None for a bare connection, taken
        as a single DuckDB file.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        memo: Memo | None = None,
        location: StoreLocation | None = None,
        probe: SnapshotProbe | None = None,
    ) -> None:
        self.con = con
        self.memo = memo if memo is not None else Memo()
        self.location = location if location is not None else StoreLocation("duckdb", "", None)
        self._probe = probe
        self._owns_probe = False
        self._write_depth = 0
        self._pinned = False

    def cursor(self) -> Self:
        """Return a store on a new cursor of this connection, sharing the memo (per request)."""
        cur = self.con.cursor()
        if self.location.shared:
            cur.execute("USE lake")  # the default catalog is per connection
        return type(self)(cur, self.memo, self.location, self._probe)

    @classmethod
    def open(cls, path: Path | str, *, read_only: bool = False) -> Self:
        """Open (and, unless read-only, create/migrate) the store at ``path``.

        ``path`` is resolved by :func:`resolve_location`: a shared DuckLake store (the
        default for new stores), or a single DuckDB file of before.
        """
        location = resolve_location(path)
        store = cls(connect(path, read_only=read_only), location=location)
        if location.kind == "sqlite":
            store._probe = SnapshotProbe()
            store._owns_probe = True
        if not read_only:
            try:
                store.ensure_schema()
            except BaseException:
                store.close()
                raise
        return store

    def ensure_schema(self) -> None:
        """Create missing tables, migrate an older schema and set the store's keys; idempotent.

        Writes only what is missing, so opening an up-to-date store writes nothing (several
        processes open a shared store at once).
        """
        for stmt in SCHEMA_SQL:
            self.con.execute(stmt)

        def settle() -> None:
            version = self.meta("schema_version")
            if version is not None and int(version) < SCHEMA_VERSION:
                for stmt in MIGRATIONS:
                    self.con.execute(stmt)
            if version != str(SCHEMA_VERSION):
                self.set_meta("schema_version", str(SCHEMA_VERSION))
            self._insert_meta_if_absent("data_version", "0")
            self._insert_meta_if_absent("write_serial", "0")
            # The secret of the record keys of the disclosure control
            # (spatial/privacy/disclosure.py): made once per store and never shown, so nobody
            # outside can compute a cell key.
            self._insert_meta_if_absent("record_key_secret", secrets.token_hex(16))

        if not self._meta_complete():
            self.write(settle, claim=False, _schema=True)

    def _meta_complete(self) -> bool:
        row = self.con.execute(
            "SELECT count(DISTINCT key) FILTER (WHERE key IN ('data_version', 'write_serial', "
            "'record_key_secret')), max(value) FILTER (WHERE key = 'schema_version') FROM meta"
        ).fetchone()
        return bool(row and row[0] == 3 and row[1] == str(SCHEMA_VERSION))

    def _insert_meta_if_absent(self, key: str, value: str) -> None:
        self.con.execute(
            "INSERT INTO meta SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = ?)",
            [key, value, key],
        )

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Run a block atomically: COMMIT on success, ROLLBACK on any exception (Ctrl-C too).

        A :meth:`write` inside the block joins this transaction.
        """
        with self._plain_transaction() as con:
            yield con

    @contextmanager
    def pinned(self) -> Iterator[Self]:
        """Read one snapshot in the block: every read, :meth:`data_version` too, sees one commit.

        A read transaction (DuckDB's MVCC; on a DuckLake store the snapshot current when the
        transaction first reads, checked in ``tests/store/test_pinned.py``): commits of other
        processes or cursors during the block are not seen, so a response computed inside is
        computed on the data of the version it is filed under. The block may not write (a
        write would end in the rollback that closes the read); :meth:`write` refuses. Inside
        a write or another pinned block it only joins that.

        Raises
        ------
        RuntimeError
            From :meth:`write` inside the block.
        """
        if self._write_depth or self._pinned:
            yield self
            return
        self.con.execute("BEGIN TRANSACTION")
        self._pinned = True
        try:
            yield self
        finally:
            self._pinned = False
            self.con.execute("ROLLBACK")

    @contextmanager
    def _plain_transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self.con.execute("BEGIN TRANSACTION")
        self._write_depth += 1
        try:
            try:
                yield self.con
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            self.con.execute("COMMIT")
        finally:
            self._write_depth -= 1

    def write(self, block: Callable[[], T], *, claim: bool = True, _schema: bool = False) -> T:
        """Run ``block`` in one transaction; run it again when a concurrent write won the race.

        A shared store lets several processes write at once (optimistic concurrency: the
        second COMMIT of two conflicting transactions fails). Every write transaction claims
        the store's write serial (one ``meta`` row), so any two concurrent writes conflict
        and one of them runs again on the other's result: the checks a write makes inside
        (an incident id already stored, a quarantine row already held) see everything
        committed before it, and no batch is lost or stored twice. A block called inside
        another write joins that transaction.

        Raises
        ------
        BusyError
            When other writes kept winning for :data:`WRITE_WAIT_S` seconds.
        """
        if self._write_depth:
            return block()
        if self._pinned:
            raise RuntimeError("a pinned read (StoreBase.pinned) cannot write")
        deadline = time.monotonic() + WRITE_WAIT_S
        attempt = 0
        while True:
            try:
                with self._plain_transaction() if _schema else self.transaction():
                    result = block()
                    if claim:
                        self._claim_write()
                return result
            except duckdb.Error as exc:
                if not is_write_conflict(exc):
                    raise
                attempt += 1
                if time.monotonic() > deadline:
                    raise BusyError(
                        "de opslag is bezig met andere wijzigingen; probeer het zo opnieuw "
                        "/ store busy with concurrent writes"
                    ) from None
            time.sleep(min(0.5, 0.005 * 2**attempt) * random.uniform(0.5, 1.5))  # noqa: S311 (jitter)

    def _claim_write(self) -> None:
        self.con.execute(
            "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) "
            "WHERE key = 'write_serial'"
        )

    def data_version(self) -> str:
        """Return a token that changes whenever stored data change (cache keys, ETags).

        On a shared store it follows commits of every process: the next call after another
        process's commit returns the new version (see :class:`SnapshotProbe`).
        """
        # Inside a transaction the version is read from the transaction's own snapshot: the
        # probe reads the catalog's newest snapshot, which may be newer than the one read.
        probe = self._probe if not (self._write_depth or self._pinned) else None
        snapshot = probe.snapshot(self.con) if probe is not None else None
        if probe is not None and probe.last is not None and probe.last[0] == snapshot:
            return probe.last[1]
        row = self.con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
        version = str(row[0]) if row else "0"
        if probe is not None and snapshot is not None:
            probe.last = (snapshot, version)
        return version

    def compact(self, keep_days: int = 7, *, attempts: int = 5) -> CompactReport:
        """Merge small data files, expire old snapshots and delete the files they held.

        Every ingest commits at least one Parquet file; a folder that is watched every
        quarter of an hour makes thousands a month, and each query opens them all. DuckLake's
        own maintenance (``ducklake_merge_adjacent_files``, ``ducklake_expire_snapshots``,
        ``ducklake_cleanup_old_files``) merges them and removes what no snapshot younger than
        ``keep_days`` needs: a read that started before the compaction finishes on the files
        it opened (they are deleted only ``keep_days`` after they were unlinked). No data
        changes, so the data version stays (caches stay valid). A merge that meets a
        concurrent commit is retried (a DuckLake transaction either changes data or
        compacts, never both, so it cannot join :meth:`write`).

        Raises
        ------
        ValueError
            A single-file DuckDB store (nothing to compact) or ``keep_days`` below 0.
        duckdb.TransactionException
            The merge met a concurrent commit ``attempts`` times.
        """
        if not self.location.shared:
            raise ValueError(
                "een enkel DuckDB-bestand heeft geen compactie nodig / a single-file store "
                "needs no compaction"
            )
        if isinstance(keep_days, bool) or not isinstance(keep_days, int) or keep_days < 0:
            raise ValueError(f"keep_days must be an integer >= 0, got {keep_days!r}")
        live = (
            "SELECT count(*) FROM __ducklake_metadata_lake.ducklake_data_file "
            "WHERE end_snapshot IS NULL"
        )
        before = int(self.con.execute(live).fetchone()[0])  # type: ignore[index]
        for attempt in range(attempts):
            try:
                # SELECT * (a count(*) is answered without running the merge)
                self.con.execute("SELECT * FROM ducklake_merge_adjacent_files('lake')").fetchall()
                break
            except duckdb.TransactionException:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.2 * (attempt + 1) + random.random() * 0.2)  # noqa: S311
        after = int(self.con.execute(live).fetchone()[0])  # type: ignore[index]
        older = f"now() - INTERVAL '{int(keep_days)} days'"

        def rows(sql: str) -> int:
            # Every row fetched (a count(*) may be answered without running the function), as
            # Arrow: the rows hold time-zoned timestamps that Python objects would need pytz for.
            return int(self.con.execute(sql).arrow().read_all().num_rows)

        expired = rows(f"SELECT * FROM ducklake_expire_snapshots('lake', older_than => {older})")
        deleted = rows(f"SELECT * FROM ducklake_cleanup_old_files('lake', older_than => {older})")
        return CompactReport(
            files_before=before,
            files_after=after,
            snapshots_expired=expired,
            files_deleted=deleted,
            keep_days=keep_days,
        )

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
        """Set one value of the store's ``meta`` table (one row per key, in one transaction)."""

        def put() -> None:
            self.con.execute("DELETE FROM meta WHERE key = ?", [key])
            self.con.execute("INSERT INTO meta VALUES (?, ?)", [key, value])

        self.write(put)

    def meta_or_set(self, key: str, value: str) -> str:
        """Return the ``meta`` value of ``key``; store ``value`` first when there is none.

        Checked and set in one write transaction, so of several processes starting at once on
        a new store one value wins and every process gets that one (a secret two workers
        must share).
        """

        def block() -> str:
            self._insert_meta_if_absent(key, value)
            row = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
            return str(row[0]) if row else value

        return self.write(block, claim=False)

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
        if self._probe is not None and self._owns_probe:
            self._probe.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def migrate_single_file(path: Path | str) -> tuple[Path, dict[str, int]]:
    """Turn a single-file DuckDB store into a shared store at the same path.

    The old file is kept beside it as ``<path>.single-file`` (nothing is deleted); every
    table is copied by column name into a new shared store at ``path``, in one transaction,
    so a failed migration leaves the old file in place and no new store.

    Returns
    -------
    tuple
        The kept old file and the number of rows copied per table.

    Raises
    ------
    ValueError
        If ``path`` is not a single-file DuckDB store (already shared, or absent).
    """
    file = Path(path)
    if resolve_location(file).kind != "duckdb":
        raise ValueError(
            f"{file} is geen DuckDB-bestand van vóór de gedeelde opslag / not a single-file store"
        )
    kept = file.with_name(file.name + ".single-file")
    if kept.exists():
        raise ValueError(f"{kept} bestaat al / exists already")
    old = StoreBase.open(file)  # brings the old file to the current schema first
    old.close()
    os.replace(file, kept)
    wal = file.with_name(file.name + ".wal")
    if wal.exists():
        os.replace(wal, kept.with_name(kept.name + ".wal"))
    copied: dict[str, int] = {}
    try:
        new = StoreBase.open(file)
        try:
            new.con.execute(f"ATTACH {_sql_text(str(kept))} AS single (READ_ONLY)")
            tables = [
                str(r[0])
                for r in new.con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE database_name = 'single' "
                    "ORDER BY table_name"
                ).fetchall()
            ]

            def block() -> None:
                for table in tables:
                    cols = [
                        str(r[0])
                        for r in new.con.execute(
                            "SELECT column_name FROM duckdb_columns() WHERE database_name = "
                            "'single' AND table_name = ? ORDER BY column_index",
                            [table],
                        ).fetchall()
                    ]
                    names = ", ".join(f'"{c}"' for c in cols)
                    new.con.execute(
                        f'CREATE TABLE IF NOT EXISTS "{table}" AS '
                        f'SELECT {names} FROM single."{table}" LIMIT 0'
                    )
                    new.con.execute(f'DELETE FROM "{table}"')  # the new store's own meta rows
                    row = new.con.execute(
                        f'INSERT INTO "{table}" ({names}) SELECT {names} FROM single."{table}"'
                    ).fetchone()
                    copied[table] = int(row[0]) if row else 0

            new.write(block, claim=False)
            new.con.execute("DETACH single")
        finally:
            new.close()
    except BaseException:
        resolved = resolve_location(file)
        if resolved.kind == "sqlite":
            file.unlink(missing_ok=True)
            for suffix in ("-wal", "-shm"):
                file.with_name(file.name + suffix).unlink(missing_ok=True)
            if resolved.data_path is not None:
                shutil.rmtree(resolved.data_path, ignore_errors=True)
        os.replace(kept, file)
        raise
    return kept, copied


def remove_store(path: Path | str) -> None:
    """Delete a file store: its catalog (with SQLite's or DuckDB's journal) and data files.

    Only for a store nobody has open (``geo-service demo --refresh`` before ``serve``).
    """
    loc = resolve_location(path)
    if loc.kind == "postgres":
        raise ValueError("remove_store removes file stores only")
    file = Path(loc.catalog)
    for extra in (file, *(file.with_name(file.name + s) for s in (".wal", "-wal", "-shm"))):
        extra.unlink(missing_ok=True)
    if loc.data_path is not None:
        shutil.rmtree(loc.data_path, ignore_errors=True)
