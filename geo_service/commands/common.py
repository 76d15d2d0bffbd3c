"""What every CLI command module shares: argument types, opening the store, writing output.

Defaults of analysis parameters are read from the analysis's ``*Params`` class
(:func:`param_argument`), so a default lives once and ``--help`` says what it is.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from geo_service.analyses import default_of
from geo_service.config import is_postgres_db
from geo_service.store import Store
from spatial.errors import InvalidParameterError

__all__ = [
    "filter_arguments",
    "ingest_arguments",
    "open_existing",
    "param_argument",
    "parse_date",
    "parse_list",
    "write_output",
]


def parse_date(text: str) -> date:
    """Return an ISO date (argparse ``type``); a clear message otherwise."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-01-31, got {text!r}") from exc


def parse_list(text: str) -> tuple[str, ...]:
    """Return the comma-separated items of ``text``, stripped, empty ones dropped."""
    return tuple(x.strip() for x in text.split(",") if x.strip())


def param_argument(
    parser: argparse.ArgumentParser,
    flag: str,
    params: type[Any],
    help_text: str,
    *,
    field: str | None = None,
    **kwargs: Any,
) -> None:
    """Add ``flag`` whose default is the ``params`` class's default of the same field.

    ``field`` defaults to the flag's name (``--radius-m`` -> ``radius_m``); the type is the
    default's type unless given. The help text ends with the default.
    """
    name = field or flag.lstrip("-").replace("-", "_")
    default = default_of(params, name)
    kwargs.setdefault("type", type(default))
    parser.add_argument(
        flag,
        default=default,
        dest=name,
        help=f"{help_text} (default {default:g})"
        if isinstance(default, int | float)
        else help_text,
        **kwargs,
    )


def filter_arguments(
    parser: argparse.ArgumentParser, *, category: str | None = None, period: bool = True
) -> None:
    """Add ``--municipality`` and optionally ``--category`` and ``--start``/``--end``.

    ``category``: the help text of ``--category`` (None: no such flag).
    """
    if category is not None:
        parser.add_argument("--category", help=category)
    parser.add_argument("--municipality", help="CBS code, e.g. GM0518")
    if period:
        parser.add_argument("--start", type=parse_date, help="first local day (inclusive)")
        parser.add_argument("--end", type=parse_date, help="last local day (inclusive)")


def ingest_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of reading an incident file (``ingest`` and ``watch`` share them).

    ``--category``, ``--municipality``, ``--crs``, ``--tz``, ``--columns``, ``--category-map``,
    ``--only-mapped``, ``--kind``, ``--earliest`` and ``--region-km``.
    """
    parser.add_argument(
        "--category", help="category of every row (or of rows with an empty category)"
    )
    parser.add_argument("--municipality", help="CBS municipality code, e.g. GM0518")
    parser.add_argument("--crs", help="EPSG:4326 or EPSG:28992 (detected when absent)")
    parser.add_argument(
        "--tz",
        help="IANA time zone of timestamps without an offset, e.g. Europe/London (default: the "
        "zone where the data lie outside the Netherlands, else GEO_SERVICE_TIMEZONE)",
    )
    parser.add_argument(
        "--columns",
        help="map canonical columns to the file's, e.g. 'incident_id=Crime ID,lon=Longitude'",
    )
    parser.add_argument(
        "--category-map",
        help="map category values, e.g. 'Burglary=woninginbraak,"
        "Anti-social behaviour=jeugdoverlast'",
    )
    parser.add_argument(
        "--only-mapped",
        action="store_true",
        help="leave out (count as skipped) rows whose category is not in --category-map",
    )
    parser.add_argument(
        "--kind",
        choices=("politie", "melding"),
        default=None,
        help="what the records are: politie (police registrations) or melding (residents' "
        "reports to the municipality, e.g. overlast jeugd; never added to police counts). "
        "Default: the kind the category already has; a new category is politie",
    )
    parser.add_argument(
        "--earliest",
        type=date.fromisoformat,
        default=None,
        metavar="YYYY-MM-DD",
        help="occurrences before this date are quarantined as implausible_date "
        "(default 1990-01-01)",
    )
    parser.add_argument(
        "--region-km",
        type=float,
        default=None,
        help="points farther than this from the batch's centre (median) are quarantined as "
        "outside_study_area (default 100; raise it for a national file)",
    )


def open_existing(db: Path | str, *, read_only: bool = True) -> Store:
    """Open a store that must exist already (analyses never create an empty one).

    Raises
    ------
    InvalidParameterError
        No file at ``db`` (a PostgreSQL catalog, ``postgres:...``, is not a file: opening it
        says whether it can be reached).
    """
    if not is_postgres_db(db) and not Path(db).exists():
        raise InvalidParameterError(f"database {db} does not exist; run `geo-service demo`")
    return Store.open(db, read_only=read_only)


def write_output(text: str, out: Path | None, summary: str) -> None:
    """Write ``text`` to ``out`` (and ``summary -> out`` to stderr), else to stdout."""
    if out:
        out.write_text(text, encoding="utf-8")
        print(f"{summary} -> {out}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
