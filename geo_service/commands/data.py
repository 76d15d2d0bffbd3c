"""Data commands: ``demo``, ``ingest``, ``areas import``, ``cameras import``, ``status``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from geo_service.commands.common import ingest_arguments
from geo_service.errors import InputFileError
from geo_service.store import Store


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Register the data commands."""
    p = sub.add_parser("demo", parents=[common], help="build the demo database (idempotent)")
    p.add_argument("--seed", type=int, default=20261122, help="random seed of the synthetic data")
    p.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=None,
        metavar="YYYY-MM-DD",
        help="the demo's 'today': data end with the last full month before it (default: "
        "GEO_SERVICE_DEMO_AS_OF, else today); recorded in the store",
    )
    p.add_argument(
        "--refresh",
        action="store_true",
        help="replace a demo store of an earlier period by a new one (only a store that holds "
        "nothing but the demo)",
    )
    p.set_defaults(handler=_demo)

    p = sub.add_parser(
        "ingest",
        parents=[common],
        help="ingest an incident file (CSV, GeoJSON, GeoPackage, Parquet)",
    )
    p.add_argument("file")
    ingest_arguments(p)
    p.set_defaults(handler=_ingest)

    areas = sub.add_parser("areas", parents=[common], help="area polygons")
    asub = areas.add_subparsers(dest="areas_command", required=True, metavar="ACTION")
    p = asub.add_parser("import", parents=[common], help="import area polygons")
    p.add_argument("file")
    p.add_argument(
        "--level",
        choices=["buurt", "wijk", "stadsdeel", "verzorgingsgebied", "gemeente", "designated"],
        help="level of the areas (required, except with --cbs: then only this level)",
    )
    p.add_argument(
        "--cbs",
        action="store_true",
        help="CBS wijk- en buurtkaart (GeoPackage; the layout up to 2021, BU_CODE/WONINGEN/"
        "AANT_INW, or from 2022, buurtcode/woningvoorraad/aantal_inwoners): buurten, wijken "
        "and gemeenten; negative special codes read as unknown",
    )
    p.add_argument("--code-field")
    p.add_argument("--name-field")
    p.add_argument("--dwellings-field")
    p.add_argument("--inhabitants-field")
    p.add_argument("--municipality")
    p.add_argument("--municipality-field")
    p.set_defaults(handler=_areas_import)

    cams = sub.add_parser("cameras", parents=[common], help="camera locations")
    csub = cams.add_subparsers(dest="cameras_command", required=True, metavar="ACTION")
    p = csub.add_parser("import", parents=[common], help="import camera points")
    p.add_argument("file")
    p.add_argument("--kind", required=True, choices=["fixed", "flexible"])
    p.add_argument("--id-field")
    p.add_argument("--name-field")
    p.add_argument("--municipality")
    p.set_defaults(handler=_cameras_import)

    p = sub.add_parser("status", parents=[common], help="what the store holds")
    p.set_defaults(handler=_status)


def _demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from geo_service.config import get_settings
    from geo_service.demo.dataset import build_demo, demo_as_of, last_full_month
    from geo_service.store.core import remove_store

    as_of = args.as_of or get_settings().demo_as_of or demo_as_of()
    db = Path(args.db)
    if args.refresh and db.exists():
        with Store.open(db) as store:
            held = store.meta("demo_last_month")
            demo, other = store.con.execute(
                "SELECT count(*) FILTER (actor = 'demo'), count(*) FILTER (actor IS DISTINCT "
                "FROM 'demo') FROM ingest_batches"
            ).fetchone() or (0, 0)
        if held == last_full_month(as_of).isoformat():
            print(f"De demo loopt al t/m {held[:7]}; niets te doen.")
            return 0
        if other:
            # Own data (perhaps beside the demo): never replaced or mixed by a refresh.
            print(f"{db} bevat eigen gegevens ({other} levering(en)); niet ververst.")
            return 0
        if demo:
            print(
                f"Demo t/m {(held or 'een eerdere maand')[:7]} vervangen door een demo tot "
                f"{as_of.isoformat()} (sleutels in dit bestand vervallen)."
            )
            remove_store(db)
    with Store.open(db) as store:
        summary = build_demo(store, seed=args.seed, as_of=as_of, progress=sys.stderr.isatty())
    print(summary.to_json())
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from geo_service.config import get_settings
    from geo_service.ingest import DEFAULT_EARLIEST, ingest_file, new_batch_id, parse_mapping
    from spatial.grid.crs import DEFAULT_REGION_KM

    columns = parse_mapping(args.columns)
    category_map = parse_mapping(args.category_map)
    # Made here, so that after Ctrl-C we can look up whether this very batch was stored.
    batch_id = new_batch_id()
    with Store.open(args.db) as store:
        try:
            report = ingest_file(
                store,
                args.file,
                category=args.category,
                municipality=args.municipality,
                crs=args.crs,
                tz=args.tz,
                default_tz=get_settings().timezone,
                columns=columns,
                category_map=category_map,
                only_mapped=args.only_mapped,
                kind=args.kind,
                earliest=args.earliest or DEFAULT_EARLIEST,
                region_km=args.region_km if args.region_km is not None else DEFAULT_REGION_KM,
                batch_id=batch_id,
            )
            for line in (report.crs_note, report.encoding_note):
                if line:
                    print(line, file=sys.stderr)
            print(
                f"time zone / tijdzone: {report.timezone} ({report.timezone_source})",
                file=sys.stderr,
            )
            print(report.to_json())
        except KeyboardInterrupt:
            # Ctrl-C may arrive after COMMIT: ask the store instead of guessing.
            stored = store.settle_interrupted_batch(batch_id)
            outcome = (
                "niet opgeslagen (0 incidenten)"
                if stored is None
                else f"wel opgeslagen ({stored} incidenten)"
            )
            print(f"Onderbroken: batch {batch_id} is {outcome}", file=sys.stderr)
            return 130
    return 0


def _areas_import(args: argparse.Namespace) -> int:
    from geo_service.ingest.areas import CBS_LEVELS, import_areas_report, import_cbs

    if args.cbs:
        if args.level is not None and args.level not in CBS_LEVELS:
            raise InputFileError(
                f"--cbs kent de niveaus buurt, wijk en gemeente, niet {args.level}"
            )
        levels = (args.level,) if args.level else ("gemeente", "wijk", "buurt")
        with Store.open(args.db) as store:
            reports = import_cbs(store, args.file, levels=levels, municipality=args.municipality)
    else:
        if args.level is None:
            raise InputFileError("--level is verplicht (of --cbs voor een CBS-wijk- en buurtkaart)")
        with Store.open(args.db) as store:
            reports = (
                import_areas_report(
                    store,
                    args.file,
                    level=args.level,
                    code_field=args.code_field,
                    name_field=args.name_field,
                    dwellings_field=args.dwellings_field,
                    inhabitants_field=args.inhabitants_field,
                    municipality=args.municipality,
                    municipality_field=args.municipality_field,
                ),
            )
    for report in reports:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
        if report.special_codes:
            codes = ", ".join(f"{k} ({v}x)" for k, v in report.special_codes.items())
            print(
                f"{report.level}: CBS-codes als onbekend gelezen / read as unknown: {codes}",
                file=sys.stderr,
            )
    return 0


def _cameras_import(args: argparse.Namespace) -> int:
    from geo_service.ingest import import_cameras

    with Store.open(args.db) as store:
        n = import_cameras(
            store,
            args.file,
            kind=args.kind,
            id_field=args.id_field,
            name_field=args.name_field,
            municipality=args.municipality,
        )
    print(f'{{"cameras": {n}, "kind": "{args.kind}"}}')
    return 0


def _status(args: argparse.Namespace) -> int:
    with Store.open(args.db, read_only=True) as store:
        table = store.status()
        kinds = store.category_kinds()
        if not table.empty:
            # meldingen (residents' reports) are a kind of their own, never police counts
            table.insert(
                list(table.columns).index("category") + 1,
                "kind",
                table["category"].map(kinds).fillna("politie"),
            )
        n_areas = store.areas_frame().groupby(["municipality", "level"]).size()
        n_cams = store.cameras_frame().groupby(["municipality", "kind"]).size()
        as_of = store.meta("demo_as_of")
    print(f"Database: {args.db}")
    if as_of:
        print(f"Demo (deels synthetisch) as of / per {as_of}")
    if table.empty:
        print("No incidents stored / geen incidenten opgeslagen.")
    else:
        print(table.to_string(index=False))
    if len(n_areas):
        print("\nAreas / gebieden:\n" + n_areas.to_string())
    if len(n_cams):
        print("\nCameras:\n" + n_cams.to_string())
    return 0
