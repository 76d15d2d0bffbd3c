"""Store commands: ``store migrate`` and ``store compact``.

``migrate`` turns a single-file DuckDB store into the shared store; ``compact`` merges the
small data files of many ingests (a weekly timer in deploy/).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from geo_service.store.core import migrate_single_file


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Register ``store migrate`` and ``store compact``."""
    p = sub.add_parser("store", parents=[common], help="the store itself / de opslag")
    ssub = p.add_subparsers(dest="store_command", required=True, metavar="ACTION")
    m = ssub.add_parser(
        "migrate",
        parents=[common],
        help="turn a single-file DuckDB store into the shared store (old file kept)",
    )
    m.set_defaults(handler=_migrate)
    c = ssub.add_parser(
        "compact",
        parents=[common],
        help="merge small data files and delete what old snapshots held (safe while serving)",
    )
    c.add_argument(
        "--keep-days",
        type=int,
        default=7,
        help="keep snapshots and unlinked files this many days (a long read may use them)",
    )
    c.set_defaults(handler=_compact)


def _migrate(args: argparse.Namespace) -> int:
    try:
        kept, copied = migrate_single_file(args.db)
    except ValueError as exc:
        print(f"geo-service: {exc}", file=sys.stderr)
        return 2
    rows = ", ".join(f"{t} {n}" for t, n in copied.items())
    print(f"omgezet naar de gedeelde opslag / migrated: {args.db} ({rows}); oud bestand: {kept}")
    return 0


def _compact(args: argparse.Namespace) -> int:
    import duckdb

    from geo_service.store import Store

    with Store.open(args.db) as store:
        try:
            report = store.compact(args.keep_days)
        except ValueError as exc:
            print(f"geo-service: {exc}", file=sys.stderr)
            return 2
        except duckdb.TransactionException:
            print(
                "geo-service: de opslag werd steeds tegelijk gewijzigd; probeer het later "
                "opnieuw / the store kept changing, try again later",
                file=sys.stderr,
            )
            return 1
    print(json.dumps(asdict(report)))
    return 0
