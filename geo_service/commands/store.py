"""Store commands: ``store migrate`` (a single-file DuckDB store to the shared store)."""

from __future__ import annotations

import argparse
import sys

from geo_service.store.core import migrate_single_file


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Register ``store migrate``."""
    p = sub.add_parser("store", parents=[common], help="the store itself / de opslag")
    ssub = p.add_subparsers(dest="store_command", required=True, metavar="ACTION")
    m = ssub.add_parser(
        "migrate",
        parents=[common],
        help="turn a single-file DuckDB store into the shared store (old file kept)",
    )
    m.set_defaults(handler=_migrate)


def _migrate(args: argparse.Namespace) -> int:
    try:
        kept, copied = migrate_single_file(args.db)
    except ValueError as exc:
        print(f"geo-service: {exc}", file=sys.stderr)
        return 2
    rows = ", ".join(f"{t} {n}" for t, n in copied.items())
    print(f"omgezet naar de gedeelde opslag / migrated: {args.db} ({rows}); oud bestand: {kept}")
    return 0
