"""Ingest the police exports a municipality drops in a folder (``geo-service watch DIR``).

One *round* looks at the folder twice, ``settle_s`` seconds apart, and takes the files whose
size and modification time did not change between the two looks (a file still being copied
is left for the next round, and so is an empty file: a copy may just have begun). For each
file taken:

* its SHA-256 is looked up in ``ingest_batches``: a file stored before is reported as
  ``"al eerder verwerkt"`` and nothing is written (the same file twice stores nothing);
* otherwise it is ingested as one atomic batch (:func:`~geo_service.ingest.ingest_file`) and
  reported with the batch's accounting (``stored``, ``duplicates``, ``quarantined``,
  ``skipped``);
* a file that cannot be read at all (:class:`~geo_service.errors.InputFileError`) is moved to
  ``DIR/quarantaine/`` with a Dutch reason file ``<name>.reden.txt`` beside it;
* a processed file (stored or already known) is moved to ``DIR/verwerkt/``, unless
  ``keep=True``: then it stays and later rounds of the same process pass it by.

A file whose batch lost the race against other writers for too long
(:class:`~geo_service.errors.BusyError`) stays where it is for the next round.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from geo_service.errors import BusyError, InputFileError
from geo_service.ingest.pipeline import DEFAULT_EARLIEST, ingest_file
from geo_service.store import Store
from spatial.errors import CRSError, InvalidParameterError
from spatial.grid.crs import DEFAULT_REGION_KM, RD_NEW, WGS84, normalise_crs
from spatial.grid.timezones import DEFAULT_TIMEZONE, check_zone

#: File names the readers know (``geo_service.ingest.readers``), lower case.
INCIDENT_SUFFIXES: tuple[str, ...] = (
    ".csv",
    ".csv.gz",
    ".txt",
    ".tsv",
    ".parquet",
    ".geoparquet",
    ".geojson",
    ".json",
    ".gpkg",
    ".fgb",
)

PROCESSED_DIR = "verwerkt"
QUARANTINE_DIR = "quarantaine"
REASON_SUFFIX = ".reden.txt"

Status = Literal["opgeslagen", "al eerder verwerkt", "quarantaine", "later opnieuw"]


@dataclass(frozen=True)
class WatchOptions:
    """The ingest options of every file of a watched folder (as ``geo-service ingest``)."""

    category: str | None = None
    municipality: str | None = None
    crs: str | None = None
    tz: str | None = None
    default_tz: str = DEFAULT_TIMEZONE
    columns: Mapping[str, str] | None = None
    category_map: Mapping[str, str] | None = None
    only_mapped: bool = False
    kind: str | None = None
    earliest: date = DEFAULT_EARLIEST
    region_km: float = DEFAULT_REGION_KM
    actor: str = "watch"

    def check(self) -> None:
        """Check the options that are the same for every file, before any file is touched.

        A wrong option (an unknown time zone, CRS or radius) would otherwise fail every file
        alike; it is the operator's to fix, not the files'.

        Raises
        ------
        InvalidParameterError
            An option no file could be read with.
        """
        if self.tz is not None:
            check_zone(self.tz)
        check_zone(self.default_tz)
        if self.crs is not None:
            try:
                code = normalise_crs(self.crs)
            except CRSError as exc:
                raise InvalidParameterError(str(exc)) from None
            if code not in (WGS84, RD_NEW):
                raise InvalidParameterError(
                    f"--crs {self.crs}: alleen {WGS84} en {RD_NEW} / only these two"
                )
        if not self.region_km > 0:
            raise InvalidParameterError(f"--region-km moet positief zijn, niet {self.region_km}")
        if self.earliest >= date.today():
            raise InvalidParameterError(
                f"--earliest {self.earliest.isoformat()} ligt niet vóór vandaag"
            )


@dataclass(frozen=True)
class FileReport:
    """What one round did with one file (one JSON line, see :meth:`to_json`).

    ``status`` is ``"opgeslagen"`` (ingested as a new batch), ``"al eerder verwerkt"`` (its
    SHA-256 is a stored batch's; nothing written), ``"quarantaine"`` (unreadable, moved to
    ``quarantaine/``) or ``"later opnieuw"`` (store busy; left for the next round). For a
    stored batch ``rows_in = stored + duplicates + quarantined + skipped``.
    """

    file: str
    status: Status
    sha256: str
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    skipped: int = 0
    batch_id: str | None = None
    reason: str | None = None
    moved_to: str | None = None

    def to_json(self) -> str:
        """Return the report as ONE JSON line."""
        return json.dumps(asdict(self), ensure_ascii=False)


def _is_candidate(path: Path) -> bool:
    name = path.name.lower()
    return (
        path.is_file()
        and not name.startswith(".")
        and not name.endswith(REASON_SUFFIX)
        and name.endswith(INCIDENT_SUFFIXES)
    )


def _look(folder: Path) -> dict[Path, tuple[int, int]]:
    """Return size and modification time (ns) of each candidate file directly in ``folder``."""
    seen: dict[Path, tuple[int, int]] = {}
    for path in sorted(folder.iterdir()):
        try:
            if _is_candidate(path):
                st = path.stat()
                seen[path] = (st.st_size, st.st_mtime_ns)
        except FileNotFoundError:  # moved away between listing and stat
            continue
    return seen


def stable_files(
    folder: Path, settle_s: float, sleep: Callable[[float], object] = time.sleep
) -> list[Path]:
    """Return the non-empty candidate files whose size and mtime stayed over ``settle_s`` s."""
    first = _look(folder)
    if not first:
        return []
    sleep(settle_s)
    second = _look(folder)
    return [p for p, sig in first.items() if sig[0] > 0 and second.get(p) == sig]


def file_sha256(path: Path) -> str:
    """Return the SHA-256 (hex) of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _free_name(folder: Path, name: str) -> Path:
    """Return ``folder/name``, or ``folder/name.1``, ``.2``... when that is taken."""
    target = folder / name
    n = 0
    while target.exists() or target.with_name(target.name + REASON_SUFFIX).exists():
        n += 1
        target = folder / f"{name}.{n}"
    return target


def _move(path: Path, folder: Path) -> Path | None:
    """Move ``path`` into ``folder``; None when it is gone (another watcher moved it)."""
    folder.mkdir(exist_ok=True)
    target = _free_name(folder, path.name)
    try:
        os.replace(path, target)
    except FileNotFoundError:
        return None
    return target


def known_batch(store: Store, sha256: str) -> str | None:
    """Return the id of a stored batch of a file with this SHA-256 (None when there is none)."""
    row = store.con.execute(
        "SELECT batch_id FROM ingest_batches WHERE sha256 = ? ORDER BY started_at LIMIT 1",
        [sha256],
    ).fetchone()
    return None if row is None else str(row[0])


def process_file(
    store: Store, folder: Path, path: Path, options: WatchOptions, *, keep: bool = False
) -> FileReport:
    """Ingest one stable file of ``folder`` (idempotently) and move it; see the module doc.

    Raises
    ------
    FileNotFoundError
        The file went away before it was read (another watcher took it).
    InvalidParameterError
        An option no file can be read with (checked first by :meth:`WatchOptions.check`).
    """
    digest = file_sha256(path)
    name = path.name
    known = known_batch(store, digest)
    if known is not None:
        moved = None if keep else _move(path, folder / PROCESSED_DIR)
        return FileReport(
            name,
            "al eerder verwerkt",
            digest,
            batch_id=known,
            moved_to=str(moved.relative_to(folder)) if moved else None,
        )
    try:
        report = ingest_file(
            store,
            path,
            category=options.category,
            municipality=options.municipality,
            crs=options.crs,
            tz=options.tz,
            default_tz=options.default_tz,
            columns=options.columns,
            category_map=options.category_map,
            only_mapped=options.only_mapped,
            kind=options.kind,
            actor=options.actor,
            earliest=options.earliest,
            region_km=options.region_km,
        )
    except BusyError as exc:
        return FileReport(name, "later opnieuw", digest, reason=str(exc))
    except (InputFileError, CRSError, UnicodeDecodeError) as exc:
        # What the file holds (its columns, rows, CRS); an option error (InvalidParameterError)
        # would fail every file alike and ends the watcher instead (see WatchOptions.check).
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        moved = _move(path, folder / QUARANTINE_DIR)
        if moved is None:
            return FileReport(name, "later opnieuw", digest, reason="bestand verdwenen")
        moved.with_name(moved.name + REASON_SUFFIX).write_text(
            f"Bestand: {name}\nSHA-256: {digest}\n"
            f"Niet ingelezen; reden: {reason}\n"
            "Er is niets uit dit bestand opgeslagen. Herstel het bestand en zet het opnieuw "
            "in de map om het alsnog in te lezen.\n",
            encoding="utf-8",
        )
        return FileReport(
            name, "quarantaine", digest, reason=reason, moved_to=str(moved.relative_to(folder))
        )
    moved = None if keep else _move(path, folder / PROCESSED_DIR)
    return FileReport(
        name,
        "opgeslagen",
        digest,
        stored=report.stored,
        duplicates=report.duplicates,
        quarantined=report.quarantined,
        skipped=report.skipped,
        batch_id=report.batch_id,
        moved_to=str(moved.relative_to(folder)) if moved else None,
    )


class FolderWatcher:
    """Rounds over one folder; remembers (with ``keep``) the files it already passed.

    Parameters
    ----------
    store
        The store to ingest into.
    folder
        The folder the exports are dropped in (``verwerkt/`` and ``quarantaine/`` are made
        inside it when first needed).
    options
        Ingest options of every file.
    keep
        Leave processed files where they are instead of moving them to ``verwerkt/``.
    settle_s
        Seconds between the two looks of a round.
    """

    def __init__(
        self,
        store: Store,
        folder: Path,
        options: WatchOptions,
        *,
        keep: bool = False,
        settle_s: float = 2.0,
    ) -> None:
        if not folder.is_dir():
            raise InputFileError(f"map {folder} bestaat niet / folder does not exist")
        options.check()
        self.store = store
        self.folder = folder
        self.options = options
        self.keep = keep
        self.settle_s = settle_s
        self._passed: set[tuple[Path, int, int]] = set()

    def round(
        self,
        sleep: Callable[[float], object] = time.sleep,
        stop: threading.Event | None = None,
        emit: Callable[[FileReport], object] | None = None,
    ) -> list[FileReport]:
        """Process every stable file once; return one report per file processed.

        ``emit`` is called with each report as soon as its file is done; when ``stop`` is set,
        the round ends after the file in progress.
        """
        reports: list[FileReport] = []
        for path in stable_files(self.folder, self.settle_s, sleep):
            if stop is not None and stop.is_set():
                break
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            sig = (path, st.st_size, st.st_mtime_ns)
            if sig in self._passed:
                continue
            try:
                report = process_file(self.store, self.folder, path, self.options, keep=self.keep)
            except FileNotFoundError:  # taken by another watcher before it was read
                continue
            if self.keep and report.status != "later opnieuw":
                self._passed.add(sig)
            reports.append(report)
            if emit is not None:
                emit(report)
        return reports

    def run(
        self,
        interval_s: float,
        stop: threading.Event,
        emit: Callable[[FileReport], object],
    ) -> None:
        """Run rounds every ``interval_s`` seconds until ``stop`` is set (SIGTERM, Ctrl-C).

        A round in progress finishes its current file; the stop is seen between files' rounds
        and during the wait.
        """
        while not stop.is_set():
            self.round(sleep=stop.wait, stop=stop, emit=emit)
            stop.wait(interval_s)
