"""Targeting commands: ``priorities``, ``cameras plan``, ``iha``, ``iha import``, ``monitor``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from geo_service.analyses import default_of
from geo_service.analyses.camera_plan import CameraPlanParams
from geo_service.analyses.iha import IHAParams
from geo_service.analyses.monitor import MonitorParams
from geo_service.analyses.priorities import PriorityParams
from geo_service.analyses.targeting import nl
from geo_service.commands.common import (
    open_existing,
    param_argument,
    parse_date,
    parse_list,
    write_output,
)
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from spatial.errors import InvalidParameterError


def _pair(text: str) -> tuple[float, float]:
    try:
        a, b = (float(x) for x in text.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected two numbers 'count,risk' like 1,1, got {text!r}"
        ) from exc
    return a, b


def _resolve_weights(
    items: tuple[str, ...] | None, cats: tuple[str, ...]
) -> tuple[float, ...] | None:
    if not items:
        return None
    named = all("=" in x for x in items)
    if named and not cats:
        raise InvalidParameterError(
            "named weights need --categories / benoemde gewichten vragen --categories"
        )
    try:
        pairs = [x.split("=", 1) if named else ("", x) for x in items]
        values = {k.strip(): float(v) for k, v in pairs} if named else None
        plain = tuple(float(v) for _, v in pairs)
    except ValueError:
        raise InvalidParameterError(f"weights must be numbers, got {','.join(items)!r}") from None
    if values is None:
        return plain
    unknown = sorted(set(values) - set(cats))
    if unknown:
        raise InvalidParameterError(f"weights for unknown categories: {', '.join(unknown)}")
    return tuple(values.get(c, 1.0) for c in cats)


def _subcommands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    common: argparse.ArgumentParser,
    help_text: str,
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """Return the sub-command action of ``name`` (``cameras``); make it if no module did."""
    parser = sub.choices.get(name)
    if parser is None:
        parser = sub.add_parser(name, parents=[common], help=help_text)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest=f"{name}_command", required=True, metavar="ACTION")


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Register ``priorities``, ``cameras plan``, ``iha`` and ``iha import``."""
    p = sub.add_parser(
        "priorities",
        parents=[common],
        help="burglary priorities per area (count, EB risk, trend, hotspots, rank interval)",
    )
    p.add_argument("--category", required=True)
    p.add_argument(
        "--level",
        default=default_of(PriorityParams, "level"),
        choices=["wijk", "buurt", "verzorgingsgebied", "stadsdeel", "gemeente"],
    )
    param_argument(p, "--years", PriorityParams, "full calendar years")
    p.add_argument("--as-of", type=parse_date, help="reference day (default: last stored incident)")
    p.add_argument("--municipality", help="CBS code, e.g. GM0518")
    p.add_argument("--format", choices=["json", "csv"], default="json")
    p.add_argument(
        "--weights",
        type=_pair,
        default=default_of(PriorityParams, "weights"),
        help="weights of count and risk in the score, 'count,risk' (default 1,1 = count x risk)",
    )
    param_argument(p, "--replicates", PriorityParams, "Poisson replicates (rank interval)")
    param_argument(p, "--interval", PriorityParams, "rank interval level")
    param_argument(p, "--res", PriorityParams, "H3 resolution of the hotspot share")
    param_argument(p, "--seed", PriorityParams, "seed of the replicates")
    p.add_argument("--out", type=Path, help="output file (default: stdout)")
    p.set_defaults(handler=_priorities)

    csub = _subcommands(sub, "cameras", common, "camera locations")
    p = csub.add_parser(
        "plan",
        parents=[common],
        help="plan the flexible cameras (exact MCLP): proposed sites, keep/move/withdraw",
    )
    param_argument(p, "--count", CameraPlanParams, "flexible cameras to place")
    param_argument(p, "--radius-m", CameraPlanParams, "coverage radius in metres")
    p.add_argument(
        "--categories", type=parse_list, default=(), help="comma-separated (default: all)"
    )
    p.add_argument("--start", type=parse_date, help="first day (default: 365 days before --end)")
    p.add_argument("--end", type=parse_date, help="last day (default: last stored incident)")
    param_argument(
        p,
        "--half-life-days",
        CameraPlanParams,
        "recency weighting: weight halves every N days (0 = unweighted)",
    )
    p.add_argument("--candidates", type=Path, help="candidate sites: GeoJSON/GPKG points or CSV")
    p.add_argument(
        "--designated",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="candidates only inside designated camera areas (default: when stored)",
    )
    param_argument(p, "--spacing-m", CameraPlanParams, "candidate grid in metres")
    p.add_argument("--municipality", help="CBS code, e.g. GM0518")
    param_argument(p, "--time-limit-s", CameraPlanParams, "solver limit in seconds")
    param_argument(
        p,
        "--min-move-gain",
        CameraPlanParams,
        "move a current camera only when that covers at least this much more",
    )
    p.add_argument(
        "--min-move-m",
        type=float,
        default=None,
        help="never propose a move shorter than this (default: --radius-m, the view radius)",
    )
    p.add_argument("--out", type=Path, help="output GeoJSON (default: stdout)")
    p.set_defaults(handler=_camera_plan)

    p = sub.add_parser(
        "iha",
        parents=[common],
        help="IHA proposals: walkable action areas where problems come together "
        "(`iha import FILE` stores past actions)",
    )
    param_argument(p, "--count", IHAParams, "number of proposals")
    p.add_argument(
        "--categories",
        type=parse_list,
        default=(),
        help="comma-separated (default: woninginbraak,jeugdoverlast where stored)",
    )
    p.add_argument(
        "--weights",
        type=parse_list,
        default=None,
        help="one weight per category, '2,1' or 'woninginbraak=2,jeugdoverlast=1' (default 1)",
    )
    p.add_argument("--start", type=parse_date, help="first day (default: 365 days before --end)")
    p.add_argument("--end", type=parse_date, help="last day (default: last stored incident)")
    param_argument(p, "--min-km2", IHAParams, "smallest action area in km2")
    param_argument(p, "--max-km2", IHAParams, "largest action area in km2")
    param_argument(p, "--gap-m", IHAParams, "least distance between two, in metres")
    param_argument(p, "--res", IHAParams, "H3 resolution 8-11")
    param_argument(p, "--z-hot", IHAParams, "composite z of a hot cell")
    param_argument(p, "--recent-months", IHAParams, "past actions penalised")
    param_argument(p, "--penalty", IHAParams, "score x (1 - penalty x share)")
    param_argument(p, "--bonus", IHAParams, "designated: x (1 + bonus x share)")
    p.add_argument("--municipality", help="CBS code, e.g. GM0518")
    p.add_argument("--out", type=Path, help="output GeoJSON (default: stdout)")
    p.set_defaults(handler=_iha)
    m = sub.add_parser(
        "monitor",
        parents=[common],
        help="policy monitor: incidents per 1,000 dwellings/inhabitants per year vs a target",
    )
    m.add_argument("--municipality", help="CBS code, e.g. GM0518")
    m.add_argument(
        "--categories", type=parse_list, default=(), help="comma-separated (default: all)"
    )
    m.add_argument(
        "--target",
        type=parse_list,
        default=(),
        help="target per category per 1,000 per year, e.g. 'woninginbraak=8,jeugdoverlast=20'",
    )
    m.add_argument("--per", choices=["dwellings", "inhabitants"], default="dwellings")
    param_argument(m, "--years", MonitorParams, "full calendar years")
    m.add_argument("--as-of", type=parse_date, help="reference day (default: last stored incident)")
    m.add_argument("--format", choices=["json", "csv"], default="json")
    m.add_argument("--out", type=Path, help="output file (default: stdout)")
    m.set_defaults(handler=_monitor)
    isub = p.add_subparsers(dest="iha_command", required=False, metavar="ACTION")
    q = isub.add_parser("import", parents=[common], help="import past IHA actions (polygons)")
    q.add_argument("file")
    q.add_argument("--date-field", help="column with the action's date (default: datum/date)")
    q.add_argument("--date", type=parse_date, help="one date for every action in the file")
    q.add_argument("--code-field")
    q.add_argument("--name-field")
    q.add_argument("--municipality", help="CBS code, e.g. GM0518")
    q.set_defaults(handler=_iha_import)


def _json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=1, default=str)


def _priorities(args: argparse.Namespace) -> int:
    from geo_service.analyses.priorities import compute_priorities
    from geo_service.analyses.priorities_output import priorities_csv, priorities_json

    params = PriorityParams(
        incidents=IncidentFilter(category=args.category, municipality=args.municipality),
        level=args.level,
        years=args.years,
        as_of=args.as_of,
        weights=args.weights,
        replicates=args.replicates,
        interval=args.interval,
        seed=args.seed,
        res=args.res,
    )
    with open_existing(args.db) as store:
        result = compute_priorities(store, params)
    text = priorities_csv(result) if args.format == "csv" else _json(priorities_json(result))
    write_output(text, args.out, f"{len(result.codes)} gebieden ({args.level})")
    return 0


def _camera_plan(args: argparse.Namespace) -> int:
    from geo_service.analyses.camera_plan import (
        CameraPlanParams,
        camera_plan_geojson,
        compute_camera_plan,
    )
    from geo_service.ingest.plans import read_candidates

    params = CameraPlanParams(
        incidents=IncidentFilter(municipality=args.municipality, start=args.start, end=args.end),
        categories=args.categories,
        count=args.count,
        radius_m=args.radius_m,
        half_life_days=args.half_life_days,
        spacing_m=args.spacing_m,
        candidates=read_candidates(args.candidates) if args.candidates else None,
        designated=args.designated,
        time_limit_s=args.time_limit_s,
        min_move_gain=args.min_move_gain,
        min_move_m=args.min_move_m,
    )
    with open_existing(args.db) as store:
        result = compute_camera_plan(store, params)
    fc = camera_plan_geojson(result)
    meta = fc["metadata"]
    advice = [
        f["properties"]["advice"] for f in fc["features"] if f["properties"]["kind"] == "current"
    ]
    summary = (
        f"{meta['n_sites']} plekken, dekking {nl(meta['coverage_fraction'] * 100, 1)} % "
        f"({meta['solution_quality']}); "
        f"huidige camera's: {advice.count('keep')} laten hangen, {advice.count('move')} "
        f"verplaatsen, {advice.count('withdraw')} intrekken; "
        f"{meta['review']['flagged']} vaste camera's ter beoordeling"
    )
    text = json.dumps(fc, ensure_ascii=False, separators=(",", ":"))
    if not args.out:
        print(summary, file=sys.stderr)
    write_output(text, args.out, summary)
    return 0


def _iha(args: argparse.Namespace) -> int:
    from geo_service.analyses.iha import IHAParams, compute_iha, iha_geojson

    params = IHAParams(
        incidents=IncidentFilter(municipality=args.municipality, start=args.start, end=args.end),
        categories=args.categories,
        weights=_resolve_weights(args.weights, args.categories),
        count=args.count,
        res=args.res,
        min_km2=args.min_km2,
        max_km2=args.max_km2,
        gap_m=args.gap_m,
        z_hot=args.z_hot,
        recent_months=args.recent_months,
        penalty=args.penalty,
        bonus=args.bonus,
    )
    with open_existing(args.db) as store:
        result = compute_iha(store, params)
    fc = iha_geojson(result)
    summary = f"{len(fc['features'])} IHA-voorstellen"
    if not args.out:
        print(summary, file=sys.stderr)
    write_output(json.dumps(fc, ensure_ascii=False, separators=(",", ":")), args.out, summary)
    return 0


def _iha_import(args: argparse.Namespace) -> int:
    from geo_service.ingest.plans import import_iha_actions, read_actions

    actions = read_actions(args.file)  # before opening the store: a bad file changes nothing
    with Store.open(args.db) as store:
        n = import_iha_actions(
            store,
            actions,
            date_field=args.date_field,
            action_date=args.date,
            code_field=args.code_field,
            name_field=args.name_field,
            municipality=args.municipality,
        )
    print(json.dumps({"iha_actions": n}))
    return 0


def _monitor(args: argparse.Namespace) -> int:
    from geo_service.analyses.monitor import MonitorParams, compute_monitor, monitor_csv

    try:
        targets = tuple((k.strip(), float(v)) for k, v in (t.split("=", 1) for t in args.target))
    except ValueError:
        raise InvalidParameterError(
            f"--target needs 'category=number', got {','.join(args.target)!r}"
        ) from None
    params = MonitorParams(
        incidents=IncidentFilter(municipality=args.municipality),
        categories=args.categories,
        targets=targets,
        basis=args.per,
        years=args.years,
        as_of=args.as_of,
    )
    with open_existing(args.db) as store:
        doc = compute_monitor(store, params)
    text = monitor_csv(doc) if args.format == "csv" else _json(doc)
    write_output(text, args.out, f"{len(doc['rows'])} regels")
    return 0
