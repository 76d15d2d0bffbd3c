"""The Dutch map pages: ``/kaart`` (interactive map + trend) and ``/overzicht`` (printable).

The pages are server-rendered HTML; the map itself is a folium document served at
``/kaart/kaartlaag`` and embedded in an iframe, so the form and the chart stay
outside Leaflet's full-page layout. Privacy rules are the API's: the layers come
from :func:`geo_service.web.service.layer_collection` with the caller's role.
"""

from __future__ import annotations

import html
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import h3
import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse

from geo_service.config import Settings
from geo_service.errors import GeoServiceError
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.web.auth import Principal
from geo_service.web.deps import (
    CacheDep,
    PrincipalDep,
    ResQuery,
    SettingsDep,
    StoreDep,
    check_period,
    reject_unknown_params,
)
from geo_service.web.policy import ViewerPolicy
from geo_service.web.privacy import small
from geo_service.web.registry import LayerQuery, get_layer
from geo_service.web.service import cache_key, cached_bytes, layer_collection
from layers import maps
from spatial.errors import SpatialError

router = APIRouter(include_in_schema=False, dependencies=[Depends(reject_unknown_params)])

NL_BOUNDS = (3.3, 50.75, 7.2, 53.55)
Text = Annotated[str | None, Query(max_length=100)]
MONTHS_NL = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1d;background:#f6f6f4}
header{background:#154273;color:#fff;padding:10px 18px}header h1{font-size:19px;margin:0}
header a{color:#fff;margin-right:14px}main{padding:12px 18px;max-width:1280px}
form{display:flex;flex-wrap:wrap;gap:10px;align-items:end;background:#fff;padding:10px;
border:1px solid #ccc;border-radius:4px}label{display:flex;flex-direction:column;font-size:12px}
select,input,button{font-size:14px;padding:3px}button{background:#154273;color:#fff;border:0;
padding:6px 14px;border-radius:3px}iframe{width:100%;height:620px;border:1px solid #aaa;
background:#fff;margin-top:10px}.note{color:#555;font-size:12px}.err{background:#fde2e1;
padding:8px;border:1px solid #d33;margin-top:8px}table{border-collapse:collapse;background:#fff}
td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}th{background:#e8edf3}
td.l,th.l{text-align:left}footer{padding:10px 18px;color:#555;font-size:12px}
@media print{header a,form,.noprint{display:none}iframe{height:480px}body{background:#fff}}
"""


def _page(title: str, body: str, *, demo: bool) -> HTMLResponse:
    footer = "Bron: eigen incidentregistratie; gebieden: de geïmporteerde gebiedsindeling." + (
        " <b>Let op: de demo-gegevens zijn deels synthetisch</b> (verzonnen incidentpunten op "
        "echte wijkgrenzen van Politie Haaglanden 2018 en CBS-buurten 2014, afgestemd op echte "
        "inbraakcijfers per buurt 2011-2017); trek er geen beleidsconclusies uit."
        if demo
        else ""
    )
    doc = f"""<!doctype html><html lang="nl"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,"><style>{CSS}</style></head><body>
<header><h1>{html.escape(title)}</h1><nav class="noprint"><a href="/kaart">Kaart</a>
<a href="/overzicht">Overzicht</a><a href="/docs">API</a></nav></header>
<main>{body}</main><footer>{footer}</footer></body></html>"""
    return HTMLResponse(doc)


def _is_demo(store: Store) -> bool:
    return store.has_demo_data()


def _choices(
    store: Store, municipality: str | None, category: str | None
) -> tuple[list[str], list[str], str | None, str | None]:
    munis = store.municipalities()
    cats = store.categories()
    muni = municipality if municipality else (munis[0] if munis else None)
    cat = category if category else (cats[0] if cats else None)
    return munis, cats, muni, cat


def _names(store: Store) -> dict[str, str]:
    gm = store.areas_frame(level="gemeente")
    return {str(c): str(n) for c, n in zip(gm.get("code", []), gm.get("name", []), strict=False)}


def _select(name: str, label: str, options: list[tuple[str, str]], chosen: str | None) -> str:
    opts = "".join(
        f'<option value="{html.escape(v)}"{" selected" if v == chosen else ""}>'
        f"{html.escape(t)}</option>"
        for v, t in options
    )
    return f'<label>{label}<select name="{name}">{opts}</select></label>'


def trend_svg(
    monthly: pd.DataFrame,
    *,
    k: int,
    suppress: bool,
    policy: ViewerPolicy | None = None,
    width: int = 900,
    height: int = 180,
) -> str:
    """Return an inline SVG bar chart of counts per month (suppressed months as gaps).

    ``monthly`` has columns ``month`` (date-like) and ``count``. With ``suppress`` the counts
    are shown as the privacy policy says (below ``k`` hidden, others rounded).
    """
    if monthly.empty:
        return '<p class="note">Geen incidenten in deze periode.</p>'
    df = pd.DataFrame(monthly.groupby("month")["count"].sum()).reset_index().sort_values("month")
    months = pd.to_datetime(df["month"])
    counts = df["count"].to_numpy(dtype=float)
    hidden = (counts < k) if suppress else np.zeros(len(counts), dtype=bool)
    if suppress:
        pol = policy or ViewerPolicy(min_count=k)
        counts = np.array([pol.count(c) or 0 for c in counts], dtype=float)
    top = max(1.0, float(np.max(np.where(hidden, 0, counts))))
    n = len(df)
    left, bottom = 34, 22
    bar_w = (width - left - 6) / n
    parts = [
        f'<svg id="trend" role="img" aria-label="Incidenten per maand" width="{width}" '
        f'height="{height}" '
        f'viewBox="0 0 {width} {height}" style="background:#fff;border:1px solid #ccc">'
    ]
    for frac in (0.0, 0.5, 1.0):
        y = height - bottom - frac * (height - bottom - 10)
        parts.append(
            f'<line x1="{left}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">'
            f"{top * frac:.0f}</text>"
        )
    for i, (month, count, hide) in enumerate(zip(months, counts, hidden, strict=True)):
        x = left + i * bar_w
        label = f"{MONTHS_NL[month.month - 1]} {month.year}"
        if hide:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom - 3}" font-size="8" '
                f'text-anchor="middle" fill="#888"><title>{label}: {small(k)}</title>&lt;{k}</text>'
            )
        else:
            h = count / top * (height - bottom - 10)
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{height - bottom - h:.1f}" '
                f'width="{max(1.0, bar_w - 2):.1f}" '
                f'height="{h:.1f}" fill="#154273"><title>{label}: {count:.0f}</title></rect>'
            )
        if month.month == 1 or i == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - 6}" font-size="10">{month.year}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _hotspot_query(
    settings: Settings,
    category: str | None,
    municipality: str | None,
    start: date | None,
    end: date | None,
    res: int,
    analyst: bool = False,
) -> LayerQuery:
    return LayerQuery.with_settings(
        settings,
        analyst=analyst,
        incidents=IncidentFilter(
            category=category, municipality=municipality, start=start, end=end
        ),
        res=res,
    )


def _bounds(store: Store, municipality: str | None) -> tuple[float, float, float, float]:
    if municipality:
        try:
            minx, miny, maxx, maxy = store.municipality_geometry(municipality).bounds
            return (minx, miny, maxx, maxy)
        except GeoServiceError:
            pass
    return NL_BOUNDS


@router.get("/kaart", response_class=HTMLResponse)
def kaart(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    municipality: Text = None,
    category: Text = None,
    start: date | None = None,
    end: date | None = None,
    res: ResQuery = 10,
    method: Literal["gistar", "kde"] = "gistar",
) -> HTMLResponse:
    """Render the map page: form, map (iframe) and monthly trend."""
    check_period(start, end)
    policy = ViewerPolicy.from_settings(settings)
    if not principal.can("analyst"):
        res = min(res, policy.max_res)
    munis, cats, muni, cat = _choices(store, municipality, category)
    names = _names(store)
    params: dict[str, Any] = {"res": res, "method": method}
    for key, val in (("municipality", muni), ("category", cat), ("start", start), ("end", end)):
        if val:
            params[key] = str(val)
    form = (
        '<form method="get" action="/kaart">'
        + _select(
            "municipality", "Gemeente", [(m, f"{names.get(m, m)} ({m})") for m in munis], muni
        )
        + _select("category", "Soort incident", [(c, c) for c in cats], cat)
        + f'<label>Van<input type="date" name="start" value="{start or ""}"></label>'
        + f'<label>Tot en met<input type="date" name="end" value="{end or ""}"></label>'
        + _select(
            "res",
            "Zeshoekgrootte",
            [
                ("8", "groot (res 8, ~0,7 km²)"),
                ("9", "middel (res 9, ~0,1 km²)"),
                ("10", "klein (res 10, ~0,015 km²)"),
                ("11", "zeer klein (res 11)"),
            ],
            str(res),
        )
        + _select(
            "method", "Methode", [("gistar", "Hotspots (Gi*)"), ("kde", "Dichtheid (KDE)")], method
        )
        + "<button>Toon</button></form>"
    )
    trend = '<p class="note">Nog geen incidenten opgeslagen.</p>'
    if cat:
        flt = IncidentFilter(category=cat, municipality=muni, start=start, end=end)
        if not principal.can("analyst"):
            flt = policy.period(flt)  # whole months: cumulative windows reveal no daily counts
        trend = trend_svg(
            store.monthly_counts(flt),
            k=settings.min_count_k,
            suppress=not principal.can("analyst"),
            policy=policy,
        )
    body = (
        form
        + '<iframe id="kaart" title="Kaart" '
        + f'src="/kaart/kaartlaag?{html.escape(urlencode(params))}"></iframe>'
        + f"<h2>Trend: {html.escape(cat or '')} per maand in "
        + f"{html.escape(names.get(muni or '', muni or ''))}</h2>"
        + trend
        + '<p class="note">Maanden met minder dan '
        + f"{settings.min_count_k} incidenten tonen we niet (privacy).</p>"
    )
    return _page("Hotspotkaart", body, demo=_is_demo(store))


def build_map_html(
    request: Request,
    store: Store,
    settings: Settings,
    principal: Principal,
    query: LayerQuery,
    method: str,
) -> str:
    """Return the folium HTML document for the map (hotspots, areas, cameras)."""
    bounds = _bounds(store, query.incidents.municipality)
    m = maps.base_map(bounds, tile_url=settings.tile_url, attribution=settings.tile_attribution)
    groups = []
    message = ""
    try:
        gi = layer_collection(request, store, get_layer("hotspots-gistar"), query, principal)
        groups.append(maps.gistar_layer(gi, show=method == "gistar"))
        kde = layer_collection(request, store, get_layer("hotspots-kde"), query, principal)
        groups.append(maps.kde_layer(kde, show=method == "kde"))
    except (GeoServiceError, SpatialError) as exc:
        message = html.escape(str(exc))
    groups.append(
        maps.areas_layer(
            store.areas_frame(level="buurt", municipality=query.incidents.municipality),
            name="Buurtgrenzen",
            colour="#777777",
            weight=0.6,
            show=False,
        )
    )
    groups.append(
        maps.areas_layer(
            store.areas_frame(level="wijk", municipality=query.incidents.municipality),
            name="Wijkgrenzen",
            colour="#222222",
            weight=1.6,
        )
    )
    groups.append(
        maps.cameras_layer(store.cameras_frame(municipality=query.incidents.municipality))
    )
    maps.finish_map(m, groups, maps.legend(k=settings.min_count_k, method=method))
    if message:
        from branca.element import Element

        m.get_root().html.add_child(  # type: ignore[attr-defined]  # root is a branca Figure
            Element(
                '<div style="position:fixed;top:10px;left:60px;z-index:9999;background:#fde2e1;'
                f'padding:6px;border:1px solid #d33">Geen hotspots: {message}</div>'
            )
        )
    return m.get_root().render()


@router.get("/kaart/kaartlaag", response_class=HTMLResponse)
def kaartlaag(
    request: Request,
    store: StoreDep,
    cache: CacheDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    municipality: Text = None,
    category: Text = None,
    start: date | None = None,
    end: date | None = None,
    res: ResQuery = 10,
    method: Literal["gistar", "kde"] = "gistar",
) -> Response:
    """Render the folium map document embedded by ``/kaart`` and ``/overzicht``."""
    check_period(start, end)
    if not principal.can("analyst"):
        res = min(res, ViewerPolicy.from_settings(settings).max_res)
    _, _, muni, cat = _choices(store, municipality, category)
    query = _hotspot_query(settings, cat, muni, start, end, res, principal.can("analyst"))
    # Rendering ~7000 hexagons takes most of a second: cache the document like the API does.
    return cached_bytes(
        request,
        cache,
        cache_key(request, store, principal),
        lambda: build_map_html(request, store, settings, principal, query, method).encode(),
        "text/html; charset=utf-8",
    )


def _count_cell(value: Any, *, k: int, suppress: bool, policy: ViewerPolicy) -> str:
    if suppress:
        shown = policy.count(float(value))
        return f"&lt;{k}" if shown is None else f"{shown}"
    return f"{int(value)}"


@router.get("/overzicht", response_class=HTMLResponse)
def overzicht(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    municipality: Text = None,
    res: ResQuery = 10,
) -> HTMLResponse:
    """Render the printable one-page summary of a municipality."""
    munis, cats, muni, cat = _choices(store, municipality, None)
    names = _names(store)
    k, suppress = settings.min_count_k, not principal.can("analyst")
    policy = ViewerPolicy.from_settings(settings)
    if suppress:
        res = min(res, policy.max_res)
    gm_name = names.get(muni or "", muni or "")
    form = (
        '<form method="get" action="/overzicht">'
        + _select(
            "municipality", "Gemeente", [(m, f"{names.get(m, m)} ({m})") for m in munis], muni
        )
        + '<button>Toon</button> <button type="button" onclick="window.print()">'
        + "Afdrukken</button></form>"
    )
    yearly = (
        store.yearly_counts(muni) if muni else pd.DataFrame(columns=["year", "category", "count"])
    )
    if yearly.empty:
        table = '<p class="note">Geen incidenten opgeslagen.</p>'
    else:
        pivot = yearly.pivot_table(
            index="year", columns="category", values="count", aggfunc="sum", fill_value=0
        )
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in pivot.columns)
        rows = "".join(
            f'<tr><td class="l">{int(y)}</td>'
            + "".join(
                f"<td>{_count_cell(v, k=k, suppress=suppress, policy=policy)}</td>"
                for v in pivot.loc[y]
            )
            + "</tr>"
            for y in pivot.index
        )
        table = f'<table id="per-jaar"><tr><th class="l">Jaar</th>{head}</tr>{rows}</table>'
    tops = []
    for category in cats:
        query = _hotspot_query(settings, category, muni, None, None, res, principal.can("analyst"))
        try:
            fc = layer_collection(request, store, get_layer("hotspots-gistar"), query, principal)
        except (GeoServiceError, SpatialError) as exc:
            tops.append(
                f"<h3>{html.escape(category)}</h3><p class='note'>{html.escape(str(exc))}</p>"
            )
            continue
        tops.append(_top_cells_table(store, category, fc["features"], k=k))
    params = urlencode(
        {"municipality": muni or "", "res": res, "method": "gistar", "category": cat or ""}
    )
    body = (
        form
        + f"<h2>Incidenten per jaar &ndash; {html.escape(gm_name)}</h2>{table}"
        + "<h2>Belangrijkste hotspots (Gi*, na FDR-correctie)</h2>"
        + "".join(tops)
        + f"<h2>Kaart ({html.escape(cat or '')})</h2>"
        + f'<iframe id="kaart" title="Kaart" src="/kaart/kaartlaag?{html.escape(params)}"></iframe>'
    )
    return _page(f"Overzicht veiligheid {gm_name}", body, demo=_is_demo(store))


def _top_cells_table(
    store: Store, category: str, features: list[dict[str, Any]], *, k: int, n: int = 8
) -> str:
    rows = []
    for feat in features:
        p = feat.get("properties") or {}
        cls = int(p.get("gi_class_fdr") or 0)
        if cls <= 0:
            continue
        count = p.get("count")
        rank_count = float(count) if isinstance(count, int | float) else 0.0
        rows.append((cls, float(p.get("gi_z") or 0.0), rank_count, p.get("h3"), p))
    rows.sort(key=lambda r: (r[0], r[1], r[2]), reverse=True)
    rows = rows[:n]
    if not rows:
        return f"<h3>{html.escape(category)}</h3><p class='note'>Geen significante hotspots.</p>"
    cells = [r[3] for r in rows]
    latlng = np.array([h3.cell_to_latlng(c) for c in cells], dtype=float)
    found = store.areas_for_points(latlng[:, 1], latlng[:, 0])
    wijken = store.areas_frame(level="wijk")
    wname = dict(zip(wijken["code"].astype(str), wijken["name"].astype(str), strict=True))
    body = "".join(
        f'<tr><td class="l">{i + 1}</td>'
        f'<td class="l">{html.escape(wname.get(str(w), str(w or "-")))}</td>'
        f"<td>{maps.GI_BIN_STYLE[r[0]][1]}</td><td>{maps.count_text(r[4])}</td>"
        f'<td class="l"><code>{html.escape(str(r[3]))}</code></td></tr>'
        for i, (r, w) in enumerate(zip(rows, found["wijk_code"], strict=True))
    )
    return (
        f"<h3>{html.escape(category)}</h3><table class='top'><tr><th>#</th><th class='l'>Wijk</th>"
        f"<th>Klasse</th><th>Aantal</th><th class='l'>H3-cel</th></tr>{body}</table>"
    )
