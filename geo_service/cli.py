"""Command-line interface: ``geo-service`` (also ``python -m geo_service``).

Each command group lives in a module of :mod:`geo_service.commands` that exposes
``register(subparsers)``; the handlers receive the parsed arguments and return an
exit code. Domain errors become a one-line message on stderr and exit code 2,
never a traceback; so does a database that a running ``serve`` holds locked.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb

from geo_service import __version__
from geo_service.config import db_target
from geo_service.errors import DomainError

# One line per command module; each registers its sub-commands.
COMMAND_MODULES: tuple[str, ...] = (
    "geo_service.commands.data",
    "geo_service.commands.forecast",
    "geo_service.commands.hotspots",
    "geo_service.commands.ops",
    "geo_service.commands.report",
    "geo_service.commands.spacetime",
    "geo_service.commands.store",
    "geo_service.commands.targeting",
    "geo_service.commands.web",
)


#: DuckDB allows one writing process per file; its message names the holder's PID.
_LOCK_PID = re.compile(r"\(PID (\d+)\)")


def locked_message(exc: duckdb.IOException) -> str | None:
    """One line for a DuckDB file held by another process, or None for another I/O error.

    DuckDB says: ``IO Error: Could not set lock on file "...": Conflicting lock is held in
    /usr/bin/python3 (PID 4242) ...``.
    """
    text = str(exc)
    if "lock" not in text.lower():
        return None
    pid = _LOCK_PID.search(text)
    holder = f", PID {pid.group(1)}" if pid else ""
    return (
        "De database is in gebruik door een draaiende service (geo-service serve"
        f"{holder}); stop die, gebruik de API (POST /api/v1/incidents) of zet de opslag om "
        "naar de gedeelde opslag (geo-service store migrate) / database locked by a running "
        "service"
    )


def default_db() -> Path | str:
    """Return the store: env ``GEO_SERVICE_DB``, else ``hotspots.duckdb`` (see ``db_target``)."""
    return db_target(os.environ.get("GEO_SERVICE_DB", "hotspots.duckdb"))


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every registered command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        type=db_target,
        default=argparse.SUPPRESS,
        help="store: a file, postgres:<libpq string> or postgres://... (default: "
        "$GEO_SERVICE_DB, else ./hotspots.duckdb)",
    )
    parser = argparse.ArgumentParser(
        prog="geo-service",
        description="Hotspot and area-targeting service for municipal safety policy.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"geo-service {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "db"):
        args.db = default_db()
    try:
        return int(args.handler(args))
    except (DomainError, FileNotFoundError, IsADirectoryError) as exc:
        print(f"geo-service: error: {exc}", file=sys.stderr)
        return 2
    except duckdb.IOException as exc:
        message = locked_message(exc)
        if message is None:
            raise
        print(f"geo-service: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("geo-service: interrupted; nothing was half-written", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
