"""Space-time commands: ``emerging``, ``near-repeat`` and ``near-repeat alerts``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from geo_service.analyses import default_of
from geo_service.analyses.alerts import AlertParams
from geo_service.analyses.nearrepeat import NearRepeatParams
from geo_service.commands.common import open_existing, param_argument, parse_date
from geo_service.filters import IncidentFilter
from spatial.errors import InvalidParameterError


def _edges(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers like 0,100,200, got {text!r}"
        ) from exc


def _filter_args(p: argparse.ArgumentParser, *, period: bool = True) -> None:
    p.add_argument("--category", help="category, e.g. woninginbraak (required)")
    p.add_argument("--municipality", help="CBS code, e.g. GM0518")
    if period:
        p.add_argument("--start", type=parse_date, help="first local day (inclusive)")
        p.add_argument("--end", type=parse_date, help="last local day (inclusive)")


def _knox_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--distance-bands",
        type=_edges,
        help="distance band edges in metres, half-open bands (default 0,100,200,300,400,500)",
    )
    p.add_argument(
        "--time-bands",
        type=_edges,
        help="time band edges in days, half-open bands (default 0,7,14,21,28,35,42,49,56)",
    )
    param_argument(p, "--permutations", NearRepeatParams, "Knox permutations")
    param_argument(p, "--seed", NearRepeatParams, "seed of the permutations")
    p.add_argument(
        "--null",
        choices=["stratified", "unrestricted"],
        default=default_of(NearRepeatParams, "null"),
        help="permute dates within squares of --stratum-m (default; robust to trends per "
        "district) or over all incidents (the classic Near Repeat Calculator)",
    )
    param_argument(p, "--stratum-m", NearRepeatParams, "side of the squares in metres")


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Register the space-time commands."""
    p = sub.add_parser(
        "emerging",
        parents=[common],
        help="emerging hot spot analysis (space-time Gi* + Mann-Kendall) per H3 cell as GeoJSON",
    )
    _filter_args(p)
    p.add_argument("--res", type=int, default=9, help="H3 resolution 8-11 (default 9)")
    p.add_argument(
        "--bin",
        choices=["week", "month", "quarter"],
        default="month",
        help="time bin on the local calendar (week = ISO, Monday start); partial first/last "
        "bins are dropped",
    )
    p.add_argument(
        "--time-window", type=int, default=1, help="previous bins in the neighbourhood (1)"
    )
    p.add_argument("--k-ring", type=int, default=1, help="spatial neighbourhood 1-5 (1)")
    p.add_argument("--alpha", type=float, default=0.10, help="per-bin significance (0.10)")
    p.add_argument("--trend-alpha", type=float, default=0.05, help="trend significance (0.05)")
    p.add_argument("--no-fdr", action="store_true", help="no FDR correction of the bins")
    p.add_argument("--out", type=Path, help="output file (default: stdout)")
    p.set_defaults(handler=_emerging)

    p = sub.add_parser(
        "near-repeat",
        parents=[common],
        help="Knox test for near repeats (JSON or a Dutch table); `near-repeat alerts` for zones",
    )
    _filter_args(p)
    _knox_args(p)
    p.add_argument("--format", choices=["json", "table"], default="json")
    p.set_defaults(handler=_near_repeat)
    nsub = p.add_subparsers(dest="near_repeat_command", metavar="[alerts]", required=False)
    a = nsub.add_parser(
        "alerts",
        parents=[common],
        help="alert zones (GeoJSON) around every incident since a date: for warning letters",
    )
    _filter_args(a, period=False)
    a.add_argument("--since", type=parse_date, required=True, help="first local day with zones")
    a.add_argument("--until", type=parse_date, help="last local day with zones (default: all)")
    a.add_argument("--radius-m", type=float, help="zone radius (default: from the Knox test)")
    a.add_argument("--days", type=int, help="period of raised risk (default: from the Knox test)")
    param_argument(
        a,
        "--history-days",
        AlertParams,
        "the Knox test uses the incidents of this many days before --since",
    )
    a.add_argument(
        "--as-of", type=parse_date, help="reference day of `active` (default: last data)"
    )
    param_argument(
        a,
        "--max-zone-radius-m",
        AlertParams,
        "every zone fits in a disc of this radius in metres; longer chains are split",
    )
    _knox_args(a)
    a.add_argument("--out", type=Path, help="output file (default: stdout)")
    a.set_defaults(handler=_alerts)


def _require_category(args: argparse.Namespace) -> str:
    if not args.category:
        raise InvalidParameterError("--category is required / --category is verplicht")
    return str(args.category)


def _bands(args: argparse.Namespace) -> dict[str, Any]:
    """Return the band edges the user gave (the parameter classes hold the defaults)."""
    out: dict[str, Any] = {}
    if args.distance_bands is not None:
        out["distance_edges_m"] = args.distance_bands
    if args.time_bands is not None:
        out["time_edges_days"] = args.time_bands
    return out


def _write(fc: dict[str, Any], out: Path | None, what: str) -> None:
    text = json.dumps(fc, ensure_ascii=False, separators=(",", ":"))
    if out:
        out.write_text(text, encoding="utf-8")
        print(f"{len(fc['features'])} {what} -> {out}", file=sys.stderr)
    else:
        sys.stdout.write(text + "\n")


def _emerging(args: argparse.Namespace) -> int:
    from geo_service.analyses.emerging import EmergingParams, emerging_geojson

    params = EmergingParams(
        incidents=IncidentFilter(
            category=_require_category(args),
            municipality=args.municipality,
            start=args.start,
            end=args.end,
        ),
        res=args.res,
        time_bin=args.bin,
        time_window_bins=args.time_window,
        k_ring=args.k_ring,
        alpha=args.alpha,
        trend_alpha=args.trend_alpha,
        fdr=not args.no_fdr,
        max_cells=None,
    )
    with open_existing(args.db) as store:
        fc = emerging_geojson(store, params)
    _write(fc, args.out, "cells")
    counts = fc["metadata"]["pattern_counts"]
    summary = ", ".join(f"{k}: {v}" for k, v in counts.items() if k != "no pattern detected")
    print(f"patterns / patronen: {summary or 'none'}", file=sys.stderr)
    return 0


def _near_repeat(args: argparse.Namespace) -> int:
    from geo_service.analyses.nearrepeat import (
        NearRepeatParams,
        near_repeat,
        near_repeat_json,
        near_repeat_table,
    )

    params = NearRepeatParams(
        incidents=IncidentFilter(
            category=_require_category(args),
            municipality=args.municipality,
            start=args.start,
            end=args.end,
        ),
        permutations=args.permutations,
        seed=args.seed,
        null=args.null,
        stratum_m=args.stratum_m,
        **_bands(args),
    )
    with open_existing(args.db) as store:
        result = near_repeat(store, params)
    if args.format == "table":
        sys.stdout.write(near_repeat_table(result) + "\n")
    else:
        sys.stdout.write(json.dumps(near_repeat_json(result), ensure_ascii=False) + "\n")
    return 0


def _alerts(args: argparse.Namespace) -> int:
    from geo_service.analyses.alerts import AlertParams, alerts_geojson

    params = AlertParams(
        incidents=IncidentFilter(
            category=_require_category(args),
            municipality=args.municipality,
            start=args.since,
            end=args.until,
        ),
        radius_m=args.radius_m,
        days=args.days,
        history_days=args.history_days,
        permutations=args.permutations,
        seed=args.seed,
        null=args.null,
        stratum_m=args.stratum_m,
        max_zone_radius_m=args.max_zone_radius_m,
        as_of=args.as_of,
        **_bands(args),
    )
    with open_existing(args.db) as store:
        fc = alerts_geojson(store, params)
    _write(fc, args.out, "zones")
    ext = fc["metadata"]["extent"]
    print(
        f"extent / bereik: {ext['radius_m']:g} m, {ext['days']} dagen ({ext['source']}: "
        f"{ext['reason']})",
        file=sys.stderr,
    )
    return 0
