"""The Veiligheidskaart page ``/veiligheidskaart`` and the HTML its PDF is printed from.

One HTML document serves both: the page in the browser and, printed by headless Chromium
(:mod:`geo_service.web.pdf`), the yearly report ``geo-service report --out
veiligheidskaart.pdf``. Figures come from
:func:`geo_service.analyses.veiligheidskaart.compute_veiligheidskaart`.

Two editions:

* **Openbaar (viewer)**: the counts a viewer may see -- the cell key method of
  :class:`geo_service.web.policy.ViewerPolicy` (:meth:`~ViewerPolicy.counts`), no count
  below *k* -- and everything derived (rates, trends, ranks, the camera rule, the WDQ) from
  those published counts only.
* **Analist**: exact counts, and every section says so.

Anonymous callers and viewer keys get the public edition; analyst keys the analyst one
(``?editie=openbaar`` shows an analyst the public one).
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from geo_service.analyses.targeting import CATEGORY_NOUNS, nl
from geo_service.analyses.veiligheidskaart import (
    LEVELS,
    AreaCategory,
    VeiligheidskaartParams,
    VeiligheidskaartResult,
    compute_veiligheidskaart,
)
from geo_service.config import Settings
from geo_service.errors import DomainError, NotFoundError, PageInputError, PageNotFoundError
from geo_service.store import Store
from geo_service.web.deps import PrincipalDep, ReadStoreDep, SettingsDep
from geo_service.web.errors import status_for
from geo_service.web.pages.context import Text, reject_unknown_page_params
from geo_service.web.pages.errors import dutch_message
from geo_service.web.pages.templating import NAV, render_page, templates
from geo_service.web.policy import ViewerPolicy
from layers.svgchart import Series, svg_line_chart

pages = APIRouter(include_in_schema=False, dependencies=[Depends(reject_unknown_page_params)])
router = APIRouter()

#: Line colours of the categories in the charts (colour-blind safe, Okabe-Ito).
COLOURS: Final = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
TEMPLATE: Final = "veiligheidskaart.html"
EDITIONS: Final = ("openbaar", "analist")


#: Table headings of the two kinds of category (never summed: a melding is not a crime).
KIND_HEADINGS: Final = {
    "politie": "Politieregistraties",
    "melding": "Meldingen bij de gemeente (geen misdrijven; apart geteld)",
}


def category_label(category: str, kind: str = "politie") -> str:
    """Dutch plural label of a category (``woninginbraken``, ``meldingen jeugdoverlast``).

    Examples
    --------
    >>> category_label("woninginbraak"), category_label("fietsdiefstal")
    ('woninginbraken', 'incidenten fietsdiefstal')
    >>> category_label("geluidsoverlast", "melding")
    'meldingen geluidsoverlast'
    """
    word = "meldingen" if kind == "melding" else "incidenten"
    return CATEGORY_NOUNS.get(category, (category, f"{word} {category}"))[1]


def _count(value: float | None, k: int) -> str:
    return f"<{k}" if value is None else nl(value)


def _ratio(row: AreaCategory) -> str:
    if row.rate_ratio is None or row.rr_low is None or row.rr_high is None:
        if any(c is None for c in row.counts):
            return "niet te schatten (een jaar onder de drempel)"
        if not any(row.counts):
            return "geen incidenten"
        return "niet te schatten (alle incidenten in het eerste of laatste jaar)"
    pct = (row.rate_ratio - 1) * 100
    word = "daling" if pct < 0 else "stijging"
    return (
        f"{nl(abs(pct), 1)}% {word} per jaar (95%-interval {nl(row.rr_low, 2)} tot "
        f"{nl(row.rr_high, 2)} als jaarfactor)"
    )


def _source(store: Store, demo: bool) -> str:
    if demo:
        return (
            "demo: politiecijfers woninginbraak per buurt 2011-2017 (verschoven naar recente "
            "jaren) en synthetische meldingen jeugdoverlast; deels synthetisch"
        )
    return "politieregistraties en meldingen bij de gemeente in deze database"


def _municipality_name(store: Store, municipality: str) -> str:
    gm = store.areas_frame(level="gemeente", municipality=municipality)
    if len(gm) and isinstance(gm["name"].iloc[0], str) and gm["name"].iloc[0]:
        return str(gm["name"].iloc[0])
    return municipality


def report_context(
    store: Store,
    settings: Settings,
    *,
    analyst: bool,
    municipality: str | None = None,
    year: int | None = None,
    level: str = "stadsdeel",
) -> dict[str, Any]:
    """Return the figures of the report (the page's and the PDF's).

    Parameters
    ----------
    store, settings
        The store and the service settings (``k`` and the cell key method).
    analyst
        True: exact counts (analyst edition); False: the public edition.
    municipality, year, level
        What to report (see :class:`VeiligheidskaartParams`).

    Raises
    ------
    DomainError
        Domain errors (Dutch messages).
    """
    policy = ViewerPolicy.from_settings(settings)
    if municipality:
        try:
            muni = store.check_municipality(municipality) or municipality
        except NotFoundError as exc:
            raise PageNotFoundError(str(exc).split(" / ")[0], known=exc.known) from None
    else:
        # The first municipality with wijken (a report is per area); else the first known.
        with_wijken = store.areas_frame(level="wijk")["municipality"].dropna()
        munis = sorted(set(with_wijken)) or store.municipalities()
        if not munis:
            raise PageNotFoundError("Er zijn nog geen gemeenten of incidenten opgeslagen.")
        muni = str(munis[0])
    if level not in LEVELS:
        raise PageInputError(f"Gebiedsniveau {level!r} bestaat niet; kies stadsdeel of wijk.")
    params = VeiligheidskaartParams(municipality=muni, year=year, level=level)  # type: ignore[arg-type]
    result = compute_veiligheidskaart(store, params, publish=None if analyst else policy.counts)
    demo = store.has_demo_data()
    return _context(result, store, policy, demo=demo, analyst=analyst, muni=muni)


def _context(
    result: VeiligheidskaartResult,
    store: Store,
    policy: ViewerPolicy,
    *,
    demo: bool,
    analyst: bool,
    muni: str,
) -> dict[str, Any]:
    k = policy.min_count
    years = list(result.years)
    period = f"{years[0]}-{years[-1]} (hele kalenderjaren)"
    source = _source(store, demo)
    colours = {c: COLOURS[i % len(COLOURS)] for i, c in enumerate(result.categories)}
    place = _municipality_name(store, muni)
    level_word = "stadsdeel" if result.params.level == "stadsdeel" else "wijk"
    edition = (
        "Analistenversie: exacte aantallen, niet openbaar maken."
        if analyst
        else (
            f"Openbare editie: aantallen licht verstoord (celsleutelmethode, hoogstens "
            f"{policy.max_noise} ernaast); aantallen onder {k} niet getoond."
        )
    )
    kinds = result.kinds
    areas = []
    for a in result.areas:
        rows = []
        for row in a.rows:
            rows.append(
                {
                    "category": row.category,
                    "kind": kinds.get(row.category, "politie"),
                    "label": category_label(row.category, kinds.get(row.category, "politie")),
                    "counts": [_count(c, k) for c in row.counts],
                    "rates": [nl(r, 1) if r is not None else "\u2013" for r in row.rates],
                    "trend": _ratio(row),
                    "p": nl(row.p_value, 3) if row.p_value is not None else "",
                    "rank": row.rank,
                    "rank_before": row.rank_before,
                    "n_ranked": row.n_ranked,
                    "camera": row.camera.text if row.camera else None,
                    "colour": colours[row.category],
                }
            )
        chart = svg_line_chart(
            years,
            [
                Series(
                    category_label(r.category, kinds.get(r.category, "politie")),
                    r.rates,
                    colours[r.category],
                )
                for r in a.rows
            ],
            title=f"{a.name}: incidenten per 1.000 woningen per jaar",
            y_label="per 1.000 woningen per jaar",
        )
        areas.append(
            {
                "code": a.code,
                "name": a.name,
                "dwellings": nl(a.dwellings),
                "wijken": ", ".join(a.wijken),
                "fixed_cameras": a.fixed_cameras,
                "rows": rows,
                # one table per kind: police registrations, then meldingen
                "groups": [
                    {"kind": kind, "heading": heading, "rows": grouped}
                    for kind, heading in KIND_HEADINGS.items()
                    if (grouped := [r for r in rows if r["kind"] == kind])
                ],
                "chart": Markup(chart),  # noqa: S704 - every text escaped in svg_line_chart
            }
        )
    effects = []
    for e in result.effects:
        r = e.result
        effects.append(
            {
                "kind": "IHA" if e.kind == "iha" else "flexibele camera",
                "name": e.name,
                "start": e.start.isoformat(),
                "months": e.months,
                "category": category_label(e.category, kinds.get(e.category, "politie")),
                "counts": None
                if r is None
                else [r.a_before, r.a_after, r.b_before, r.b_after, r.c_before, r.c_after],
                "success": "" if r is None else nl(r.success_measure * 1000, 2),
                "buffer": "" if r is None else nl(r.buffer_measure * 1000, 2),
                "wdq": "" if r is None or not r.significant else nl(r.wdq, 2),
                "verdict": e.verdict,
            }
        )
    return {
        "title": f"Veiligheidskaart {place} {years[-1]}",
        "active": "/veiligheidskaart",
        "nav": NAV,
        "error": None,
        "caption": None,
        "demo": demo,
        "analyst": analyst,
        "edition": edition,
        "period": period,
        "source": source,
        "years": years,
        "level_word": level_word,
        "level_plural": "stadsdelen" if level_word == "stadsdeel" else "wijken",
        "derived": result.derived_areas,
        "notes": list(result.notes),
        "areas": areas,
        "effects": effects,
        "k": k,
        "rule_years": result.params.rule_years,
        "window_months": result.params.window_months,
        "buffer_m": nl(result.params.buffer_m),
        "camera_radius_m": nl(result.params.camera_radius_m),
        "form": {
            "municipality": muni,
            "municipalities": store.municipalities(),
            "year": years[-1],
            "level": result.params.level,
        },
        "data_version": result.data_version,
        "software": result.software,
    }


def render_report(context: dict[str, Any]) -> str:
    """Render the report's HTML (the same template as the page), for the PDF."""
    return templates().get_template(TEMPLATE).render(**context)


def _int(text: str | None, label: str) -> int | None:
    if text in (None, ""):
        return None
    try:
        return int(str(text))
    except ValueError:
        raise PageInputError(f"{label}: {text!r} is geen jaartal.") from None


@pages.get("/veiligheidskaart", response_class=HTMLResponse)
def veiligheidskaart(
    request: Request,
    store: ReadStoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    municipality: Text = None,
    year: Text = None,
    level: Text = None,
    editie: Text = None,
) -> HTMLResponse:
    """Render the Veiligheidskaart: per stadsdeel or wijk the yearly development."""
    base: dict[str, Any] = {
        "title": "Veiligheidskaart",
        "active": "/veiligheidskaart",
        "nav": NAV,
        "error": None,
        "caption": None,
        "demo": False,
        "areas": None,
    }
    try:
        if editie not in (None, "", *EDITIONS):
            raise PageInputError(f"Editie {editie!r} bestaat niet; kies openbaar of analist.")
        analyst = principal.can("analyst") and editie != "openbaar"
        context = report_context(
            store,
            settings,
            analyst=analyst,
            municipality=municipality or None,
            year=_int(year, "Jaar"),
            level=level or "stadsdeel",
        )
    except DomainError as exc:
        status = 400 if isinstance(exc, PageInputError) else status_for(exc)
        text = str(exc)
        if isinstance(exc, NotFoundError) and " / " in text:  # the adapter's Dutch half
            dutch = text.split(" / ", 1)[1]
            base["error"] = dutch[:1].upper() + dutch[1:] + "."
        else:
            base["error"] = " ".join(dutch_message(exc, status))
        return render_page(request, TEMPLATE, base, status_code=status)
    return render_page(request, TEMPLATE, context)


router.include_router(pages)
