"""Operations commands: ``watch DIR`` (scheduled ingest), ``backup DIR``, ``restore DIR``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from geo_service.commands.common import ingest_arguments
from geo_service.store import Store


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Register ``watch``, ``backup`` and ``restore``."""
    p = sub.add_parser(
        "watch",
        parents=[common],
        help="ingest the exports dropped in a folder (idempotent; --once for a systemd timer)",
    )
    p.add_argument("dir", type=Path, help="the folder the exports are dropped in")
    p.add_argument("--once", action="store_true", help="process what is there now and exit")
    p.add_argument(
        "--interval",
        type=float,
        default=60.0,
        help="seconds between rounds without --once (default 60)",
    )
    p.add_argument(
        "--settle",
        type=float,
        default=2.0,
        help="seconds between the two looks of a round; a file whose size or time changed in "
        "between is still being written and left for the next round (default 2)",
    )
    p.add_argument(
        "--keep",
        action="store_true",
        help="leave processed files in DIR instead of moving them to DIR/verwerkt/",
    )
    ingest_arguments(p)
    p.set_defaults(handler=_watch)

    p = sub.add_parser(
        "backup", parents=[common], help="a consistent copy of the store into a new folder"
    )
    p.add_argument("dir", type=Path, help="new (or empty) folder for the backup")
    p.set_defaults(handler=_backup)

    p = sub.add_parser("restore", parents=[common], help="restore a backup into the store")
    p.add_argument("dir", type=Path, help="folder of a backup (with manifest.json)")
    p.add_argument("--force", action="store_true", help="replace a store that holds data already")
    p.set_defaults(handler=_restore)


def _watch(args: argparse.Namespace) -> int:
    from geo_service.config import get_settings
    from geo_service.ingest import DEFAULT_EARLIEST, parse_mapping
    from geo_service.ingest.watch import FileReport, FolderWatcher, WatchOptions
    from spatial.grid.crs import DEFAULT_REGION_KM

    options = WatchOptions(
        category=args.category,
        municipality=args.municipality,
        crs=args.crs,
        tz=args.tz,
        default_tz=get_settings().timezone,
        columns=parse_mapping(args.columns),
        category_map=parse_mapping(args.category_map),
        only_mapped=args.only_mapped,
        kind=args.kind,
        earliest=args.earliest or DEFAULT_EARLIEST,
        region_km=args.region_km if args.region_km is not None else DEFAULT_REGION_KM,
    )

    def emit(report: FileReport) -> None:
        print(report.to_json(), flush=True)

    with Store.open(args.db) as store:
        watcher = FolderWatcher(store, args.dir, options, keep=args.keep, settle_s=args.settle)
        if args.once:
            watcher.round(emit=emit)
            return 0
        stop = threading.Event()

        def on_term(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous = signal.signal(signal.SIGTERM, on_term)
        print(
            f"Map {args.dir} wordt elke {args.interval:g} s bekeken; stoppen met Ctrl-C of "
            "SIGTERM.",
            file=sys.stderr,
            flush=True,
        )
        try:
            watcher.run(args.interval, stop, emit)
        except KeyboardInterrupt:
            # Ctrl-C mid-file rolls its batch back; the file stays for the next run.
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
        print("Gestopt; geen half ingelezen bestanden.", file=sys.stderr, flush=True)
    return 0


def _backup(args: argparse.Namespace) -> int:
    from geo_service.commands.common import open_existing
    from geo_service.store.backup import backup_store

    with open_existing(args.db, read_only=True) as store:
        manifest = backup_store(store, args.dir)
    rows = ", ".join(f"{t} {n}" for t, n in manifest.counts.items() if n)
    print(
        f"Backup gemaakt in {args.dir}: gegevensversie {manifest.data_version}, "
        f"schemaversie {manifest.schema_version} ({rows or 'leeg'})."
    )
    return 0


def _restore(args: argparse.Namespace) -> int:
    from geo_service.store.backup import restore_store, verify_backup

    verify_backup(args.dir)  # before a new store is created for it
    with Store.open(args.db) as store:
        manifest = restore_store(store, args.dir, force=args.force)
        version = store.data_version()
    rows = ", ".join(f"{t} {n}" for t, n in manifest.counts.items() if n)
    print(
        f"Hersteld uit {args.dir} (backup van {manifest.created_at}): {rows or 'leeg'}; "
        f"gegevensversie {version}."
    )
    return 0
