"""``geo-service hotspots``: a Gi* or KDE hotspot layer as GeoJSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from geo_service.commands.common import open_existing, parse_date
from geo_service.filters import IncidentFilter
from spatial.errors import InvalidParameterError


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Register the hotspots command."""
    p = sub.add_parser(
        "hotspots", parents=[common], help="hotspot layer (Gi* or KDE per H3 cell) as GeoJSON"
    )
    p.add_argument("--category", required=True)
    p.add_argument("--method", choices=["gistar", "kde"], default="gistar")
    p.add_argument("--res", type=int, default=10, help="H3 resolution 8-11 (default 10)")
    p.add_argument(
        "--k-ring", type=int, default=1, help="Gi* neighbourhood: grid distance 1-5 (default 1)"
    )
    p.add_argument("--start", type=parse_date, help="first day (inclusive)")
    p.add_argument("--end", type=parse_date, help="last day (inclusive)")
    p.add_argument("--municipality", help="CBS code, e.g. GM0518")
    p.add_argument("--permutations", type=int, default=999)
    p.add_argument("--fdr-alpha", type=float, default=0.05)
    p.add_argument("--bandwidth-m", type=float, help="KDE bandwidth (default: Silverman, ArcGIS)")
    p.add_argument("--seed", type=int, default=0, help="seed of the permutations")
    p.add_argument(
        "--p-sim",
        choices=["two-sided-midrank", "folded"],
        default="two-sided-midrank",
        help="permutation p-value: two-sided mid-rank (default) or esda's folded one-sided",
    )
    p.add_argument("--out", type=Path, help="output file (default: stdout)")
    p.set_defaults(handler=_hotspots)


def _hotspots(args: argparse.Namespace) -> int:
    from geo_service.analyses.hotspots import HotspotParams, hotspots_geojson

    params = HotspotParams(
        incidents=IncidentFilter(
            category=args.category,
            municipality=args.municipality,
            start=args.start,
            end=args.end,
        ),
        method=args.method,
        res=args.res,
        k_ring=args.k_ring,
        p_sim_method=args.p_sim,
        max_cells=None,
        permutations=args.permutations,
        fdr_alpha=args.fdr_alpha,
        bandwidth_m=args.bandwidth_m,
        seed=args.seed,
    )
    if not Path(args.db).exists():
        raise InvalidParameterError(f"database {args.db} does not exist; run `geo-service demo`")
    with open_existing(args.db) as store:
        fc = hotspots_geojson(store, params)
    text = json.dumps(fc, ensure_ascii=False, separators=(",", ":"))
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"{len(fc['features'])} cells -> {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text + "\n")
    return 0
