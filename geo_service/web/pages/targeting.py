"""The Dutch targeting pages: ``/driehoek`` (burglary priorities) and ``/cameras`` (plan).

Server-rendered HTML from Jinja2 templates that extend the shared layout (``driehoek.html``,
``cameras.html``); the maps are static SVG (:mod:`layers.svgmap`), so the pages print as seen
and need no script. Figures come from the published layers through
:func:`geo_service.web.service.layer_collection`, so role checks, the viewer rules and the
cache are the API's: viewers see the priorities as :mod:`geo_service.web.published.priorities`
allows; the camera plan is for analysts (a viewer gets a Dutch page that says so, 403).
Errors are Dutch messages on the page itself, never a traceback. The router also carries
the JSON routes of :mod:`geo_service.web.api.targeting`, so ``app.py`` includes one router.
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Annotated, Any, Final
from urllib.parse import urlencode

import shapely.geometry
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from geo_service.analyses import default_of
from geo_service.analyses.camera_plan import CameraPlanParams
from geo_service.analyses.priorities import DEFAULT_CATEGORY, PriorityParams
from geo_service.analyses.targeting import nl
from geo_service.config import Settings
from geo_service.errors import DomainError, PageInputError
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.web.api import targeting as targeting_api
from geo_service.web.auth import Principal
from geo_service.web.deps import PrincipalDep, ReadStoreDep, SettingsDep
from geo_service.web.errors import status_for
from geo_service.web.pages.context import (
    Choices,
    Text,
    caption_for,
    reject_unknown_page_params,
    resolve,
)
from geo_service.web.pages.errors import dutch_message
from geo_service.web.pages.templating import NAV, render_page
from geo_service.web.published.base import LayerQuery
from geo_service.web.published.camera_plan import SERVICE_TIME_LIMIT_S
from geo_service.web.published.registry import get_layer
from geo_service.web.service import layer_collection
from layers.svgmap import Shape, svg_map

router = APIRouter()
router.include_router(targeting_api.router)
# The routes declare their parameters as plain text and check the values themselves (in Dutch,
# on the page); unknown parameters are refused by the same check as the map pages.
pages = APIRouter(include_in_schema=False, dependencies=[Depends(reject_unknown_page_params)])
#: A comma-separated list of categories (longer than one :data:`Text` value).
CategoriesText = Annotated[str | None, Query(max_length=1000)]

#: The layout's navigation (it lists the targeting pages too).
TARGETING_NAV: Final = NAV
LEVELS: Final = (
    ("wijk", "wijk"),
    ("buurt", "buurt"),
    ("verzorgingsgebied", "verzorgingsgebied"),
)
#: Rank classes of the priority map: (last rank, fill colour), top first.
RANK_COLOURS: Final = ((3, "#b2182b"), (10, "#ef8a62"), (20, "#fddbc7"))
ADVICE: Final = {
    "keep": ("laten hangen", "#1a9850"),
    "move": ("verplaatsen", "#f46d43"),
    "withdraw": ("intrekken", "#a50026"),
}


def _number(text: str | None, default: float, lo: float, hi: float, label: str) -> float:
    if text in (None, ""):
        return default
    try:
        value = float(str(text).replace(",", "."))
    except ValueError:
        raise PageInputError(f"{label}: {text!r} is geen getal.") from None
    if not lo <= value <= hi:
        raise PageInputError(f"{label}: kies een waarde van {nl(lo)} tot en met {nl(hi)}.")
    return value


def _error_page(
    request: Request, template: str, context: dict[str, Any], exc: Exception
) -> HTMLResponse:
    status = 400 if isinstance(exc, PageInputError) else status_for(exc)
    context = {**context, "error": " ".join(dutch_message(exc, status))}
    return render_page(request, template, context, status_code=status)


def _base_context(title: str, active: str) -> dict[str, Any]:
    return {
        "title": title,
        "active": active,
        "nav": TARGETING_NAV,
        "demo": False,
        "caption": None,
        "error": None,
    }


def _form(ch: Choices) -> dict[str, Any]:
    return {
        "municipalities": [(m, f"{ch.names.get(m, m)} ({m})") for m in ch.municipalities],
        "municipality": ch.municipality,
        "categories": ch.categories,
        "category": ch.category,
    }


def _rank_fill(rank: int | None) -> str:
    if rank is None:  # viewers: an area whose count is withheld has no rank
        return "#f7f7f7"
    for last, colour in RANK_COLOURS:
        if rank <= last:
            return colour
    return "#f7f7f7"


# -- /driehoek -------------------------------------------------------------------------------


def rank_labels(features: list[dict[str, Any]]) -> list[Shape]:
    """Return the rank of each ranked area as a label inside it (keyed to the table's Rang).

    The label sits on the polygon's representative point (always inside it, unlike the
    centroid of a bent area); an area without a rank (a viewer's withheld total) gets none.
    """
    out = []
    for f in features:
        p = f["properties"]
        if p.get("rank") is None or not f.get("geometry"):
            continue
        point = shapely.geometry.shape(f["geometry"]).representative_point()
        out.append(
            Shape(
                {"type": "Point", "coordinates": [point.x, point.y]},
                css_class="ranklabel",
                fill="none",
                stroke="none",
                radius=0,
                title=f"{p['name']}: rang {p['rank']}",
                label=str(p["rank"]),
            )
        )
    return out


def driehoek_context(
    request: Request,
    store: Store,
    settings: Settings,
    principal: Principal,
    params: dict[str, str | None],
) -> dict[str, Any]:
    """Return the figures of ``/driehoek`` (raises domain errors and PageInputError)."""
    level = params.get("level") or "wijk"
    if level not in {value for value, _ in LEVELS}:
        raise PageInputError(f"Gebiedsniveau {level!r} bestaat niet; kies wijk, buurt of "
                             "verzorgingsgebied.")  # fmt: skip
    years = int(
        _number(params.get("years"), default_of(PriorityParams, "years"), 2, 10, "Aantal jaren")
    )
    ch = resolve(
        store,
        settings,
        principal,
        municipality=params.get("municipality"),
        category=params.get("category"),
        res=10,
        prefer=(DEFAULT_CATEGORY,),
    )
    incidents = IncidentFilter(category=ch.category, municipality=ch.municipality)
    query = LayerQuery.with_settings(
        settings,
        analyst=principal.can("analyst"),
        incidents=incidents,
        params=PriorityParams(incidents=incidents, level=level, years=years),
    )
    fc = layer_collection(request, store, get_layer("prioriteiten"), query, principal)
    meta = fc.get("metadata") or {}
    window = (meta.get("parameters") or {}).get("as_of")
    rows = [f["properties"] for f in fc["features"]]
    year_keys = sorted({k[6:] for r in rows for k in r if k.startswith("count_")} - {"total"})
    caption = caption_for(
        ch,
        title=f"Prioriteiten {ch.category} per {level} in {ch.place}",
        start=date(int(year_keys[0]), 1, 1) if year_keys else None,
        end=date(int(year_keys[-1]), 12, 31) if year_keys else None,
        category=ch.category,
    )
    shapes = [
        Shape(
            f["geometry"],
            css_class="area",
            fill=_rank_fill(f["properties"]["rank"]),
            stroke="#555",
            title=f"{f['properties']['name']}: {f['properties']['explanation']}",
        )
        for f in fc["features"]
    ]
    shapes += rank_labels(fc["features"])
    api = "/api/v1/priorities?" + urlencode(
        {
            k: v
            for k, v in {
                "category": ch.category,
                "municipality": ch.municipality,
                "level": level,
                "years": years,
            }.items()
            if v
        }
    )
    return {
        "caption": caption,
        "demo": ch.demo,
        "form": {**_form(ch), "level": level, "levels": LEVELS, "years": years},
        "rows": rows,
        "years": year_keys,
        "viewer": ch.shown.viewer,
        "k": ch.shown.policy.min_count,
        "map": Markup(svg_map(shapes, svg_id="prioriteitenkaart", title=caption.title)),  # noqa: S704 - escaped in svg_map
        "legend": [(f"rang 1-{RANK_COLOURS[0][0]}", RANK_COLOURS[0][1])]
        + [
            (f"rang {a + 1}-{b}", colour)
            for (a, _), (b, colour) in itertools.pairwise(RANK_COLOURS)
        ]
        + [(f"rang {RANK_COLOURS[-1][0] + 1} en lager", "#f7f7f7")],
        "equity": meta.get("equity"),
        "as_of": window,
        "download": api,
        "weights_note": meta.get("score"),
    }


@pages.get("/driehoek", response_class=HTMLResponse)
def driehoek(
    request: Request,
    store: ReadStoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    municipality: Text = None,
    category: Text = None,
    level: Text = None,
    years: Text = None,
) -> HTMLResponse:
    """Render the Driehoek page: priority map, table with rank intervals, equity."""
    context = _base_context("Driehoek: prioriteiten woninginbraak", "/driehoek")
    params = {"municipality": municipality, "category": category, "level": level, "years": years}
    try:
        context.update(driehoek_context(request, store, settings, principal, params))
    except DomainError as exc:
        return _error_page(request, "driehoek.html", context, exc)
    return render_page(request, "driehoek.html", context)


# -- /cameras --------------------------------------------------------------------------------


def cameras_context(
    request: Request,
    store: Store,
    settings: Settings,
    principal: Principal,
    params: dict[str, str | None],
) -> dict[str, Any]:
    """Return the figures of ``/cameras`` (raises domain errors and PageInputError)."""

    def default(name: str) -> float:
        return float(default_of(CameraPlanParams, name))

    count = int(_number(params.get("count"), default("count"), 1, 50, "Aantal camera's"))
    radius = _number(params.get("radius_m"), default("radius_m"), 10, 250, "Straal")
    half_life = _number(
        params.get("half_life_days"), default("half_life_days"), 0, 3650, "Halveringstijd"
    )
    cats = store.categories()
    chosen = [c for c in (params.get("categories") or "").split(",") if c]
    unknown = sorted(set(chosen) - set(cats))
    if unknown:
        raise PageInputError(f"Onbekende soort(en): {', '.join(unknown)}.")
    ch = resolve(
        store, settings, principal, municipality=params.get("municipality"), category=None, res=10
    )
    query = LayerQuery.with_settings(
        settings,
        analyst=principal.can("analyst"),
        incidents=IncidentFilter(municipality=ch.municipality),
        params=CameraPlanParams(
            categories=tuple(chosen),
            count=count,
            radius_m=float(radius),
            half_life_days=float(half_life),
            time_limit_s=SERVICE_TIME_LIMIT_S,
        ),
    )
    fc = layer_collection(request, store, get_layer("cameraplan"), query, principal)
    meta = fc["metadata"]
    by_kind: dict[str, list[dict[str, Any]]] = {"proposed": [], "fixed": [], "current": []}
    for f in fc["features"]:
        by_kind[f["properties"]["kind"]].append(f)
    sites = {f["id"]: f["geometry"]["coordinates"] for f in by_kind["proposed"]}
    wijken = store.areas_frame(level="wijk", municipality=ch.municipality)
    shapes = [
        Shape(g.__geo_interface__, css_class="wijk", stroke="#999", title=str(n))
        for g, n in zip(wijken.geometry, wijken["name"], strict=True)
        if g is not None and g.geom_type in ("Polygon", "MultiPolygon")
    ]
    for f in by_kind["current"]:
        p = f["properties"]
        if p["advice"] == "move" and p["target_site"] in sites:
            line = {
                "type": "LineString",
                "coordinates": [f["geometry"]["coordinates"], sites[p["target_site"]]],
            }
            shapes.append(Shape(line, css_class="move", stroke=ADVICE["move"][1]))
    for f in by_kind["fixed"]:
        p = f["properties"]
        shapes.append(
            Shape(
                f["geometry"],
                css_class="fixed review" if p["review"] else "fixed",
                fill="#777" if not p["review"] else "#fee08b",
                stroke="#333",
                radius=2.5 if not p["review"] else 4,
                title=f"{p['camera_id']} (vast)" + (f": {p['reason']}" if p["review"] else ""),
            )
        )
    for f in by_kind["current"]:
        p = f["properties"]
        shapes.append(
            Shape(
                f["geometry"],
                css_class=f"current {p['advice']}",
                fill=ADVICE[p["advice"]][1],
                stroke="#222",
                radius=4,
                title=f"{p['camera_id']}: {p['reason']}",
            )
        )
    for f in by_kind["proposed"]:
        p = f["properties"]
        shapes.append(
            Shape(
                f["geometry"],
                css_class="proposed",
                fill="#2166ac",
                stroke="#fff",
                radius=5,
                title=p["reason"],
                label=p["site"],
            )
        )
    caption = caption_for(
        ch,
        title=f"Plan flexibele camera's in {ch.place}",
        start=date.fromisoformat(meta["parameters"]["start"]),
        end=date.fromisoformat(meta["parameters"]["end"]),
        category=", ".join(meta["parameters"]["categories"]),
    )
    api = "/api/v1/camera-plan?" + urlencode(
        {
            k: v
            for k, v in {
                "municipality": ch.municipality,
                "count": count,
                "categories": ",".join(chosen),
            }.items()
            if v
        }
    )
    return {
        "caption": caption,
        "demo": ch.demo,
        "form": {
            **_form(ch),
            "count": count,
            "radius_m": radius,
            "half_life_days": half_life,
            "chosen": chosen,
        },
        "meta": meta,
        "proposed": [f["properties"] for f in by_kind["proposed"]],
        "current": [f["properties"] for f in by_kind["current"]],
        "review": [f["properties"] for f in by_kind["fixed"] if f["properties"]["review"]],
        "advice_words": {k: v[0] for k, v in ADVICE.items()},
        "map": Markup(svg_map(shapes, svg_id="camerakaart", title=caption.title)),  # noqa: S704 - escaped in svg_map
        "equity": meta.get("equity"),
        "download": api,
    }


@pages.get("/cameras", response_class=HTMLResponse)
def cameras(
    request: Request,
    store: ReadStoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    municipality: Text = None,
    count: Text = None,
    radius_m: Text = None,
    half_life_days: Text = None,
    categories: CategoriesText = None,
) -> HTMLResponse:
    """Render the camera plan page (analysts): map, proposed sites, advice, review."""
    context = _base_context("Plan flexibele camera's", "/cameras")
    params = {
        "municipality": municipality,
        "count": count,
        "radius_m": radius_m,
        "half_life_days": half_life_days,
        "categories": categories,
    }
    try:
        context.update(cameras_context(request, store, settings, principal, params))
    except DomainError as exc:
        return _error_page(request, "cameras.html", context, exc)
    return render_page(request, "cameras.html", context)


router.include_router(pages)
