"""Backup and restore of a store (``geo-service backup DIR`` / ``geo-service restore DIR``).

A backup is a *logical* copy: every table of the store is written to one Parquet file in
``DIR`` from inside ONE read transaction, so all tables show the same committed state (one
DuckLake snapshot; DuckDB's MVCC for a single-file store) while other processes keep
writing. The same format serves every kind of store (SQLite or PostgreSQL catalog, single
file), and a backup of one kind restores into another. ``manifest.json`` is written last (a
folder without it is an unfinished backup) and records the schema version, the data version,
the number of rows per table and the SHA-256 of every file.

Restore checks every file against the manifest before it touches the store, refuses a store
that holds data unless ``force``, and replaces all tables in one write transaction (a failed
restore leaves the store as it was). The backup holds what the store holds, the secret of
the record keys and the hashes of API keys included: keep it as safe as the store (the folder
is made readable by its owner only).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geo_service.errors import GeoServiceError
from geo_service.store.core import SCHEMA_SQL, SCHEMA_VERSION, StoreBase, utc_now

MANIFEST = "manifest.json"
FORMAT = "geo-service-backup/1"

#: The tables of a store, in the order of :data:`SCHEMA_SQL`.
TABLES: tuple[str, ...] = tuple(
    stmt.split("EXISTS", 1)[1].split("(", 1)[0].strip() for stmt in SCHEMA_SQL
)

#: Tables added to the schema after backups of this schema version were first made (created
#: by ``CREATE TABLE IF NOT EXISTS`` on open, no version bump): a backup may lack them, and
#: they are then restored empty -- for ``category_kinds`` that reads every category as a
#: police registration, as the store did before the table existed.
LATER_TABLES: frozenset[str] = frozenset({"category_kinds"})

#: Tables whose rows are "data": a store with rows in one of them is not overwritten
#: without ``force`` (``meta`` always holds the store's own keys).
DATA_TABLES: tuple[str, ...] = tuple(t for t in TABLES if t != "meta")


class BackupError(GeoServiceError, ValueError):
    """A backup folder that cannot be written or restored (message in Dutch)."""


@dataclass(frozen=True)
class BackupManifest:
    """What a backup holds (``manifest.json``).

    Attributes
    ----------
    schema_version
        The store's :data:`~geo_service.store.core.SCHEMA_VERSION` at backup time.
    data_version
        The store's data version (``meta.data_version``) in the snapshot that was copied.
    created_at
        UTC time the backup started (ISO 8601).
    source_kind
        ``sqlite``, ``postgres`` or ``duckdb``.
    counts
        Rows per table.
    sha256
        SHA-256 (hex) per file name.
    """

    schema_version: int
    data_version: str
    created_at: str
    source_kind: str
    counts: dict[str, int]
    sha256: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        """Return the manifest as written to ``manifest.json``."""
        return {
            "format": FORMAT,
            "schema_version": self.schema_version,
            "data_version": self.data_version,
            "created_at": self.created_at,
            "source_kind": self.source_kind,
            "tables": {
                t: {"file": f"{t}.parquet", "rows": n, "sha256": self.sha256[f"{t}.parquet"]}
                for t, n in self.counts.items()
            },
        }

    @classmethod
    def read(cls, folder: Path) -> BackupManifest:
        """Read ``folder/manifest.json``.

        Raises
        ------
        BackupError
            No manifest, or not one of this format.
        """
        file = folder / MANIFEST
        if not file.is_file():
            raise BackupError(f"{folder} bevat geen {MANIFEST}; dit is geen (volledige) backup")
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise BackupError(f"{file}: onbekend formaat {data.get('format')!r}")
            tables = data["tables"]
            return cls(
                schema_version=int(data["schema_version"]),
                data_version=str(data["data_version"]),
                created_at=str(data["created_at"]),
                source_kind=str(data["source_kind"]),
                counts={t: int(v["rows"]) for t, v in tables.items()},
                sha256={str(v["file"]): str(v["sha256"]) for v in tables.values()},
            )
        except (KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
            if isinstance(exc, BackupError):
                raise
            raise BackupError(f"{file} is onleesbaar: {exc}") from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def backup_store(store: StoreBase, folder: Path) -> BackupManifest:
    """Write a consistent copy of ``store`` into ``folder`` (new, or an empty folder).

    Every table is copied to ``<table>.parquet`` inside one transaction, so the counts, the
    data version and the rows all belong to one committed state of the store.

    Raises
    ------
    BackupError
        ``folder`` exists and is not empty.
    """
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BackupError(f"{folder} bestaat al en is niet leeg; kies een nieuwe map")
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)  # it holds the record-key secret and the API key hashes
    created = utc_now().isoformat(timespec="seconds") + "Z"
    counts: dict[str, int] = {}
    con = store.con
    con.execute("BEGIN TRANSACTION")
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
        data_version = str(row[0]) if row else "0"
        for table in TABLES:
            target = folder / f"{table}.parquet"
            con.execute(
                f"COPY (SELECT * FROM {table}) TO {_sql_text(str(target))} (FORMAT parquet)"
            )
            n = con.execute(f"SELECT count(*) FROM {table}").fetchone()
            counts[table] = int(n[0]) if n else 0
    finally:
        con.execute("ROLLBACK")  # read only: nothing to commit
    for table in TABLES:
        (folder / f"{table}.parquet").chmod(0o600)
    hashes = {f"{t}.parquet": _sha256(folder / f"{t}.parquet") for t in TABLES}
    manifest = BackupManifest(
        schema_version=SCHEMA_VERSION,
        data_version=data_version,
        created_at=created,
        source_kind=store.location.kind,
        counts=counts,
        sha256=hashes,
    )
    tmp = folder / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest.to_dict(), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)
    return manifest


def verify_backup(folder: Path) -> BackupManifest:
    """Read the manifest of ``folder`` and check every file's SHA-256 and row count.

    Raises
    ------
    BackupError
        A file is missing, changed (another SHA-256) or holds another number of rows; or the
        backup's schema version is not this program's.
    """
    manifest = BackupManifest.read(folder)
    if manifest.schema_version != SCHEMA_VERSION:
        raise BackupError(
            f"de backup heeft schemaversie {manifest.schema_version}, dit programma "
            f"{SCHEMA_VERSION}; herstel met de versie van geo-service die de backup maakte"
        )
    missing = [t for t in TABLES if t not in manifest.counts and t not in LATER_TABLES]
    if missing:
        raise BackupError(f"de backup mist tabel(len) {', '.join(missing)}")
    for name, expected in manifest.sha256.items():
        file = folder / name
        if not file.is_file():
            raise BackupError(f"{name} ontbreekt in de backup")
        if _sha256(file) != expected:
            raise BackupError(
                f"{name} is gewijzigd sinds de backup (SHA-256 klopt niet); niets hersteld"
            )
    return manifest


def store_holds_data(store: StoreBase) -> dict[str, int]:
    """Return the tables of :data:`DATA_TABLES` that hold rows, with their counts."""
    held = {}
    for table in DATA_TABLES:
        row = store.con.execute(f"SELECT count(*) FROM {table}").fetchone()
        if row and row[0]:
            held[table] = int(row[0])
    return held


def restore_store(store: StoreBase, folder: Path, *, force: bool = False) -> BackupManifest:
    """Replace the contents of ``store`` by the backup in ``folder``, in one transaction.

    The backup is verified first (:func:`verify_backup`). The restored store has the backup's
    rows and, where that is newer than the replaced store's, its data version; else one above
    the replaced store's (``max(v_backup, v_old + 1)`` for ``v_old >= v_backup``), so a data
    version never comes back with other data and no cache of a running service can mistake
    the restored data for data it has seen. A new store (version 0) gets the backup's.

    Raises
    ------
    BackupError
        The backup fails verification, or the store holds data and ``force`` is False; in
        both cases the store is not changed.
    """
    manifest = verify_backup(folder)
    held = store_holds_data(store)
    if held and not force:
        what = ", ".join(f"{t} {n}" for t, n in held.items())
        raise BackupError(
            f"de opslag bevat al gegevens ({what}); gebruik --force om die te vervangen"
        )
    old_version = int(store.meta("data_version") or "0")

    def block() -> None:
        for table in TABLES:
            if table not in manifest.counts:  # one of LATER_TABLES, older than the backup
                store.con.execute(f"DELETE FROM {table}")
                continue
            file = _sql_text(str(folder / f"{table}.parquet"))
            cols = [
                str(r[0])
                for r in store.con.execute(
                    f"DESCRIBE SELECT * FROM read_parquet({file})"
                ).fetchall()
            ]
            names = ", ".join(f'"{c}"' for c in cols)
            store.con.execute(f"DELETE FROM {table}")
            row = store.con.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM read_parquet({file})"
            ).fetchone()
            n = int(row[0]) if row else 0
            if n != manifest.counts[table]:
                raise BackupError(
                    f"{table}: {n} rijen gelezen, de manifest noemt {manifest.counts[table]}"
                )
        backup_version = int(manifest.data_version)
        if old_version and old_version >= backup_version:
            version = old_version + 1
            store.con.execute(
                "UPDATE meta SET value = ? WHERE key = 'data_version'", [str(version)]
            )

    store.write(block, claim=False)
    store.memo = type(store.memo)()
    return manifest


def restored_counts(store: StoreBase) -> dict[str, int]:
    """Return the rows per table of :data:`TABLES` (to compare with a manifest)."""
    out = {}
    for table in TABLES:
        row = store.con.execute(f"SELECT count(*) FROM {table}").fetchone()
        out[table] = int(row[0]) if row else 0
    return out


__all__ = [
    "DATA_TABLES",
    "LATER_TABLES",
    "TABLES",
    "BackupError",
    "BackupManifest",
    "backup_store",
    "restore_store",
    "restored_counts",
    "store_holds_data",
    "verify_backup",
]
