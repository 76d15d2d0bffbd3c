"""Report command: ``report`` -- the Veiligheidskaart as PDF (or its HTML).

``geo-service report --year 2025 --municipality GM0518 --level stadsdeel --out
veiligheidskaart.pdf`` renders the same HTML as the page ``/veiligheidskaart``
(:mod:`geo_service.web.pages.veiligheidskaart`) and prints it with headless Chromium
(:mod:`geo_service.web.pdf`). The public edition (default) applies the viewer privacy; the
analyst edition (``--edition analist``) shows exact counts and says so on every page.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Register the report command."""
    p = sub.add_parser(
        "report",
        parents=[common],
        help="Veiligheidskaart: yearly report per stadsdeel or wijk as PDF / jaarrapport",
    )
    p.add_argument("--year", type=int, default=None, help="report year (default: last whole)")
    p.add_argument(
        "--municipality",
        help="CBS code, e.g. GM0518 (default: the first municipality with wijken)",
    )
    p.add_argument("--level", choices=("stadsdeel", "wijk"), default="stadsdeel")
    p.add_argument(
        "--edition",
        choices=("openbaar", "analist"),
        default="openbaar",
        help="openbaar: viewer privacy (default); analist: exact counts",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("veiligheidskaart.pdf"),
        help="output file: .pdf (printed by Chromium) or .html",
    )
    p.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    from geo_service.commands.common import open_existing
    from geo_service.config import Settings
    from geo_service.web.pages.veiligheidskaart import render_report, report_context
    from geo_service.web.pdf import print_pdf

    out: Path = args.out
    if out.suffix.lower() not in (".pdf", ".html"):
        print("geo-service: error: --out moet eindigen op .pdf of .html", file=sys.stderr)
        return 2
    if not out.parent.exists():
        print(f"geo-service: error: map bestaat niet: {out.parent}", file=sys.stderr)
        return 2
    settings = Settings(db=args.db)
    with open_existing(args.db) as store:
        context = report_context(
            store,
            settings,
            analyst=args.edition == "analist",
            municipality=args.municipality,
            year=args.year,
            level=args.level,
        )
    context = {**context, "form": None, "nav": ()}  # a printed report has no form or menu
    page = render_report(context)
    if out.suffix.lower() == ".html":
        out.write_text(page, encoding="utf-8")
        size = out.stat().st_size
    else:
        size = print_pdf(page, out, title=context["title"], edition=context["edition"])
    summary = {
        "out": str(out),
        "bytes": size,
        "edition": args.edition,
        "areas": len(context["areas"]),
        "years": context["years"],
    }
    print(json.dumps(summary))
    return 0
