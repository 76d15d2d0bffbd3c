"""The Dutch map pages: ``/kaart``, ``/overzicht`` and ``/vergelijk``.

Server-rendered HTML from Jinja2 templates (``geo_service/templates``: the ``base.html``
layout, the ``_caption.html`` partial). The map itself is a folium document served at
``/kaart/kaartlaag`` and embedded in an iframe, so the form, caption and chart stay outside
Leaflet's full-page layout. Privacy rules are the API's: layers come from
:func:`geo_service.web.service.layer_collection` with the caller's role, periods and counts
from :class:`~geo_service.web.policy.ViewerPolicy` (see :mod:`geo_service.web.pages.overview`).
The downloads of each page are in :mod:`geo_service.web.pages.downloads`; errors on these paths
are Dutch HTML pages (:mod:`geo_service.web.pages.errors`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

import shapely.geometry
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from geo_service.config import Settings
from geo_service.errors import DomainError, GeoServiceError
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.web.auth import Principal
from geo_service.web.deps import CacheDep, PrincipalDep, ReadStoreDep, ResQuery, SettingsDep
from geo_service.web.pages import downloads
from geo_service.web.pages.caption import DataWindow, month_end, used_period
from geo_service.web.pages.context import (
    Choices,
    MapParams,
    MapParamsDep,
    Text,
    cached_gzip,
    caption_for,
    check_page_period,
    form_state,
    layer_query,
    map_title,
    overview_data,
    query_string,
    reject_unknown_page_params,
    resolve,
    resolve_map,
)
from geo_service.web.pages.errors import dutch_message
from geo_service.web.pages.overview import monthly_series, places_or_error, trend_chart
from geo_service.web.pages.templating import render_fragment, render_page
from geo_service.web.published.base import FeatureCollection, LayerQuery
from geo_service.web.published.registry import get_layer
from geo_service.web.service import cache_key, layer_collection
from layers import maps
from layers.change import CHANGE_STYLE, change_shapes, hotspot_change
from layers.svgmap import Shape, svg_map

NL_BOUNDS = (3.3, 50.75, 7.2, 53.55)

router = APIRouter(include_in_schema=False, dependencies=[Depends(reject_unknown_page_params)])
router.include_router(downloads.router)


# -- the map document ------------------------------------------------------------------------


def _bounds(store: Store, municipality: str | None) -> tuple[float, float, float, float]:
    if municipality:
        try:
            minx, miny, maxx, maxy = store.municipality_geometry(municipality).bounds
            return (minx, miny, maxx, maxy)
        except GeoServiceError:
            pass
    return NL_BOUNDS


@dataclass(frozen=True)
class MapLayers:
    """The hotspot layers of one map, or the Dutch message of why there are none."""

    gistar: FeatureCollection | None
    kde: FeatureCollection | None
    error: str | None


def map_layers(
    request: Request, store: Store, principal: Principal, query: LayerQuery
) -> MapLayers:
    """Compute (or fetch) both hotspot layers as the caller may see them."""
    try:
        gi = layer_collection(request, store, get_layer("hotspots-gistar"), query, principal)
        kde = layer_collection(request, store, get_layer("hotspots-kde"), query, principal)
    except DomainError as exc:
        return MapLayers(None, None, " ".join(dutch_message(exc, 400)))
    return MapLayers(gi, kde, None)


def build_map_html(
    request: Request,
    store: Store,
    settings: Settings,
    principal: Principal,
    ch: Choices,
    params: MapParams,
) -> str:
    """Return the folium HTML document of a map (hotspots, density, areas, cameras)."""
    query = layer_query(
        settings,
        ch,
        category=ch.category,
        start=params.start,
        end=params.end,
        principal=principal,
    )
    method = params.method
    if method == "emerging":
        return build_emerging_map_html(request, store, settings, principal, ch, params, query)
    found = map_layers(request, store, principal, query)
    used = query.incidents.start, query.incidents.end
    if found.gistar is not None:
        used = used_period(found.gistar.get("metadata"))
    caption = caption_for(
        ch,
        title=map_title(ch, method, ch.category),
        start=used[0],
        end=used[1],
        requested=(params.start, params.end),
        category=ch.category,
        method=method,
        res=ch.res,
    )
    period_text = caption.period
    k = ch.shown.policy.min_count
    groups: list[Any] = []
    message = found.error
    kde_labels: list[str] = []
    if found.gistar is not None and found.kde is not None:
        gi_layer = maps.gistar_layer(found.gistar, show=method == "gistar", period=period_text, k=k)
        kde_layer = maps.kde_layer(found.kde, show=method == "kde", period=period_text, k=k)
        kde_labels = kde_layer.legend_labels
        groups += [gi_layer, kde_layer]
        message = _no_hotspot_message(method, gi_layer, kde_layer)
    muni = ch.municipality
    groups.append(
        maps.areas_layer(
            store.areas_frame(level="buurt", municipality=muni),
            name="Buurtgrenzen",
            colour="#666666",
            weight=0.6,
            show=False,
        )
    )
    groups.append(
        maps.areas_layer(
            store.areas_frame(level="wijk", municipality=muni),
            name="Wijkgrenzen",
            colour="#222222",
            weight=1.4,
        )
    )
    cameras = store.cameras_frame(municipality=muni)
    groups.append(maps.cameras_layer(cameras, kind="fixed", name="Vaste camera's"))
    groups.append(maps.cameras_layer(cameras, kind="flexible", name="Flexibele camera's"))
    m = maps.base_map(
        _bounds(store, muni), tile_url=settings.tile_url, attribution=settings.tile_attribution
    )
    caption_html = render_fragment(
        "_caption.html", caption=caption, with_title=True, box_id="map-caption"
    )
    maps.finish_map(
        m,
        groups,
        maps.legend(k=k, method=method, kde_labels=kde_labels, viewer=ch.shown.viewer),
        caption_html=str(caption_html),
        message=message,
    )
    html: str = m.get_root().render()
    return html


def _outline_groups(store: Store, municipality: str | None) -> list[Any]:
    """Return the wijk/buurt outlines and the camera layers of a map."""
    cameras = store.cameras_frame(municipality=municipality)
    return [
        maps.areas_layer(
            store.areas_frame(level="buurt", municipality=municipality),
            name="Buurtgrenzen",
            colour="#666666",
            weight=0.6,
            show=False,
        ),
        maps.areas_layer(
            store.areas_frame(level="wijk", municipality=municipality),
            name="Wijkgrenzen",
            colour="#222222",
            weight=1.4,
        ),
        maps.cameras_layer(cameras, kind="fixed", name="Vaste camera's"),
        maps.cameras_layer(cameras, kind="flexible", name="Flexibele camera's"),
    ]


def build_emerging_map_html(
    request: Request,
    store: Store,
    settings: Settings,
    principal: Principal,
    ch: Choices,
    params: MapParams,
    query: LayerQuery,
) -> str:
    """Return the folium HTML document of the emerging hot spot map (monthly patterns).

    The layer comes through :func:`layer_collection`, so viewers get the filtered cells.
    """
    message = None
    fc: FeatureCollection | None = None
    try:
        fc = layer_collection(request, store, get_layer("emerging-hotspots"), query, principal)
    except DomainError as exc:
        message = " ".join(dutch_message(exc, 400))
    used = query.incidents.start, query.incidents.end
    quarterly = False
    if fc is not None:
        used = used_period(fc.get("metadata"))
        bins = (fc.get("metadata") or {}).get("time_bins") or {}
        quarterly = bins.get("unit") == "quarter"  # viewers: the privacy lattice
    caption = caption_for(
        ch,
        title=map_title(ch, "emerging", ch.category),
        start=used[0],
        end=used[1],
        requested=(params.start, params.end),
        category=ch.category,
        method="emerging-quarter" if quarterly else "emerging",
        res=ch.res,
    )
    k = ch.shown.policy.min_count
    groups: list[Any] = []
    layer = maps.emerging_layer(fc or {}, period=caption.period, k=k)
    if fc is not None:
        groups.append(layer)
        if not layer.n_cells:
            message = (
                "Geen opkomende of afnemende hotspots voor deze keuze: geen zeshoek heeft "
                f"een patroon over de {'kwartalen' if quarterly else 'maanden'}."
            )
    groups += _outline_groups(store, ch.municipality)
    m = maps.base_map(
        _bounds(store, ch.municipality),
        tile_url=settings.tile_url,
        attribution=settings.tile_attribution,
    )
    caption_html = render_fragment(
        "_caption.html", caption=caption, with_title=True, box_id="map-caption"
    )
    maps.finish_map(
        m,
        groups,
        maps.emerging_legend(layer, k=k, per="kwartaal" if quarterly else "maand"),
        caption_html=str(caption_html),
        message=message,
    )
    html: str = m.get_root().render()
    return html


def _no_hotspot_message(method: str, gi: maps.HexLayer, kde: maps.HexLayer) -> str | None:
    """Return the map's message when it has nothing to show, else None."""
    if method == "kde":
        return None if kde.n_cells else "Geen incidenten in deze periode: geen dichtheid te tonen."
    significant = sum(1 for s in gi.payload.style if s != maps.GI_NEUTRAL_STYLE)
    if significant:
        return None
    if gi.n_cells:
        return (
            "Geen significante hotspots voor deze keuze: de incidenten liggen niet opvallend "
            "dicht bij elkaar (alleen omlijnde zeshoeken met incidenten)."
        )
    return "Geen hotspots: in deze periode zijn (te) weinig incidenten om te tonen."


@router.get("/kaart/kaartlaag", response_class=HTMLResponse)
def kaartlaag(
    request: Request,
    store: ReadStoreDep,
    cache: CacheDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    params: MapParamsDep,
) -> Response:
    """Render the folium map document embedded by the pages (also opened on its own)."""
    ch = resolve_map(store, settings, principal, params)
    return cached_gzip(
        request,
        cache,
        cache_key(request, store, principal),
        lambda: build_map_html(request, store, settings, principal, ch, params).encode(),
        "text/html; charset=utf-8",
    )


# -- /kaart ----------------------------------------------------------------------------------


@router.get("/kaart", response_class=HTMLResponse)
def kaart(
    request: Request,
    store: ReadStoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    params: MapParamsDep,
) -> HTMLResponse:
    """Render the map page: form, caption, map (iframe), downloads and the monthly trend."""
    ch = resolve_map(store, settings, principal, params)
    flt = ch.shown.flt(
        IncidentFilter(
            category=ch.category, municipality=ch.municipality, start=params.start, end=params.end
        )
    )
    caption = caption_for(
        ch,
        title=map_title(ch, params.method, ch.category),
        start=flt.start,
        end=flt.end,
        requested=(params.start, params.end),
        category=ch.category,
        method=params.method,
        res=ch.res,
    )
    query = query_string(
        municipality=ch.municipality,
        category=ch.category,
        start=params.start,
        end=params.end,
        res=ch.res,
        method=params.method,
    )
    message = None
    map_src = f"/kaart/kaartlaag?{query}"
    if not ch.categories:
        message = "Er zijn nog geen incidenten opgeslagen: er is nog niets om te tonen."
        map_src = ""
    chart = trend_chart(monthly_series(store, flt, ch.window) if ch.category else [], ch.shown)
    compare = query_string(
        municipality=ch.municipality, category=ch.category, res=ch.res, method=params.method
    )
    context = {
        "title": "Hotspotkaart",
        "active": "/kaart",
        "demo": ch.demo,
        "caption": caption,
        "form": form_state(ch, method=params.method, start=params.start, end=params.end),
        "action": "/kaart",
        "map_src": map_src,
        "message": message,
        "downloads": {
            "geojson": f"/kaart/kaartlaag.geojson?{query}",
            "gpkg": f"/kaart/kaartlaag.gpkg?{query}",
            "csv": f"/kaart/trend.csv?{query}",
            "compare": f"/vergelijk?{compare}",
        },
        "chart": chart,
        "viewer": ch.shown.viewer,
        "trend_title": f"{ch.category or ''} per maand in {ch.place}",
    }
    return render_page(request, "kaart.html", context)


# -- /overzicht ------------------------------------------------------------------------------


@router.get("/overzicht", response_class=HTMLResponse)
def overzicht(
    request: Request,
    store: ReadStoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    municipality: Text = None,
    res: ResQuery = 10,
) -> HTMLResponse:
    """Render the one-page summary: counts per year, hotspots as places, a map per category."""
    data = overview_data(request, store, settings, principal, municipality, res)
    ch: Choices = data["ch"]
    query = query_string(municipality=ch.municipality, res=ch.res)
    context = {
        "title": f"Overzicht veiligheid {ch.place}",
        "active": "/overzicht",
        "demo": ch.demo,
        "caption": data["caption"],
        "form": form_state(ch, with_category=False, with_period=False, with_method=False),
        "action": "/overzicht",
        "table": data["table"],
        "sections": data["sections"],
        "viewer": ch.shown.viewer,
        "k": ch.shown.policy.min_count,
        "downloads": {
            "places": f"/overzicht/hotspots.csv?{query}",
            "years": f"/overzicht/per-jaar.csv?{query}",
        },
    }
    return render_page(request, "overzicht.html", context)


# -- /vergelijk ------------------------------------------------------------------------------


def _default_periods(window: DataWindow, viewer: bool) -> tuple[date, date, date, date]:
    """Return the last twelve months of data and the twelve before.

    Viewers: the last two whole calendar years of data, periods of the viewer lattice (twelve
    months across a year boundary would be answered with all data).
    """
    last = window.last or month_end(window.today or date.today())
    if viewer:
        year = last.year if last.month == 12 else last.year - 1
        return date(year - 1, 1, 1), date(year - 1, 12, 31), date(year, 1, 1), date(year, 12, 31)
    index = last.year * 12 + last.month - 1
    start_b = date((index - 11) // 12, (index - 11) % 12 + 1, 1)
    end_a = month_end(date((index - 12) // 12, (index - 12) % 12 + 1, 1))
    start_a = date((index - 23) // 12, (index - 23) % 12 + 1, 1)
    return start_a, end_a, start_b, last


@router.get("/vergelijk", response_class=HTMLResponse)
def vergelijk(
    request: Request,
    store: ReadStoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    params: MapParamsDep,
    compare_start: date | None = None,
    compare_end: date | None = None,
) -> HTMLResponse:
    """Compare two periods side by side: two maps, the totals and the hotspot places."""
    check_page_period(params.start, params.end, "De recente periode")
    check_page_period(compare_start, compare_end, "De eerdere periode")
    ch = resolve(
        store,
        settings,
        principal,
        municipality=params.municipality,
        category=params.category,
        res=params.res,
    )
    a0, a1, b0, b1 = _default_periods(ch.window, ch.shown.viewer)
    periods = [
        ("Eerdere periode", compare_start or a0, compare_end or a1),
        ("Recente periode", params.start or b0, params.end or b1),
    ]
    columns = []
    layers = []
    for label, start, end in periods:
        flt = ch.shown.flt(IncidentFilter(ch.category, ch.municipality, start, end))
        caption = caption_for(
            ch,
            title=label,
            start=flt.start,
            end=flt.end,
            requested=(start, end),
            category=ch.category,
            method=params.method,
            res=ch.res,
        )
        query = layer_query(
            settings, ch, category=ch.category, start=start, end=end, principal=principal
        )
        places, error = places_or_error(
            request, store, principal, query, ch.shown, place_name=ch.place
        )
        layers.append(None if error else (query, caption.period))
        total = ch.shown.count(*store.count_and_key(flt))
        columns.append(
            {
                "label": label,
                "caption": caption,
                "total": total,
                "total_text": ch.shown.text(*store.count_and_key(flt)),
                "hot_cells": len(places.cells) if places else None,
                "clusters": places.n_clusters if places else None,
                "places": places,
                "error": " ".join(dutch_message(error, 400)) if error else None,
                "map_src": "/kaart/kaartlaag?"
                + query_string(
                    municipality=ch.municipality,
                    category=ch.category,
                    start=start,
                    end=end,
                    res=ch.res,
                    method=params.method,
                ),
            }
        )
    change_map = _change_map(request, store, principal, ch, layers)
    change = None
    before, after = columns[0]["total"], columns[1]["total"]
    if isinstance(before, int) and before > 0 and isinstance(after, int):
        change = round((after - before) / before * 100)
    form = form_state(
        ch,
        method=params.method,
        start=periods[1][1],
        end=periods[1][2],
        compare_start=periods[0][1],
        compare_end=periods[0][2],
        with_compare=True,
    )
    context = {
        "title": f"Vergelijk twee perioden: {ch.category or ''} in {ch.place}",
        "active": "/vergelijk",
        "demo": ch.demo,
        "caption": columns[1]["caption"],
        "form": form,
        "action": "/vergelijk",
        "columns": columns,
        "change": change,
        "change_map": change_map,
        "k": ch.shown.policy.min_count,
        "viewer": ch.shown.viewer,
    }
    return render_page(request, "vergelijk.html", context)


def _change_map(
    request: Request,
    store: Store,
    principal: Principal,
    ch: Choices,
    layers: list[tuple[LayerQuery, str] | None],
) -> dict[str, Any] | None:
    """Return the per-cell change map of ``/vergelijk``: new, stayed, gone hot spots.

    Built from the two Gi* layers as the caller sees them (:mod:`layers.change`), over the
    wijk outlines; None when either period has no layer (the page says why per period).
    """
    if any(item is None for item in layers):
        return None
    (query_a, label_a), (query_b, label_b) = (item for item in layers if item is not None)
    gistar = get_layer("hotspots-gistar")
    changes = hotspot_change(
        layer_collection(request, store, gistar, query_a, principal),
        layer_collection(request, store, gistar, query_b, principal),
    )
    k = ch.shown.policy.min_count
    wijken = store.areas_frame(level="wijk", municipality=ch.municipality)
    outlines = [
        Shape(shapely.geometry.mapping(g), css_class="wijk", stroke="#777", title=str(n))
        for g, n in zip(wijken.geometry, wijken["name"], strict=True)
    ]
    shapes = [*outlines, *change_shapes(changes, k, (label_a, label_b))]
    counts = Counter(c.kind for c in changes)
    return {
        "svg": Markup(svg_map(shapes, svg_id="veranderkaart", title="Verandering van de hotspots")),  # noqa: S704 - escaped in svg_map
        "legend": [
            (CHANGE_STYLE[kind][1], CHANGE_STYLE[kind][0], counts.get(kind, 0))
            for kind in ("nieuw", "gebleven", "verdwenen")
        ],
    }


# -- /waarschuwingszones ---------------------------------------------------------------------

#: Days before the store's last incident date that the alert page looks back by default.
ALERT_DEFAULT_DAYS = 28
#: Where the zone size came from, as the page says it (the analysis' ``extent.source``).
EXTENT_SOURCES = {
    "knox": "Knox-toets op de inbraken van de periode ervoor",
    "default": "standaardwaarde uit de literatuur",
    "given": "opgegeven",
}


def _dutch(text: object) -> str:
    """Return the Dutch half of a bilingual ``"Nederlands / English"`` text.

    Examples
    --------
    >>> _dutch("opgegeven / given"), _dutch("alleen Nederlands")
    ('opgegeven', 'alleen Nederlands')
    """
    return str(text or "").split(" / ", 1)[0].strip()


def _nl_date(value: date | str | None) -> str:
    """Return ``"2-11-2026"`` for 2026-11-02 (the date style of the captions)."""
    if value in (None, ""):
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return f"{day.day}-{day.month}-{day.year}"


def _day_month(iso: str) -> str:
    """Return ``"03-10"`` for ``"2026-10-03"`` (the table's compact dates)."""
    return f"{iso[8:10]}-{iso[5:7]}"


def _zone_wijken(fc: FeatureCollection, wijken: Any) -> list[str]:
    """Return, per zone, the names of the wijken it touches (comma separated)."""
    import shapely.geometry

    out: list[str] = []
    for feat in fc.get("features", []):
        geom = shapely.geometry.shape(feat["geometry"])
        names = (
            sorted({str(n) for n in wijken.loc[wijken.intersects(geom), "name"]})
            if len(wijken)
            else []
        )
        out.append(", ".join(names) or "-")
    return out


def build_alert_map(
    store: Store, settings: Settings, fc: FeatureCollection, municipality: str | None
) -> str:
    """Return the folium HTML document of the alert zones (with wijk outlines)."""
    import folium
    from branca.element import Element

    groups: list[Any] = []
    zones = folium.FeatureGroup(name="Waarschuwingszones")
    for feat in fc.get("features", []):
        p = feat["properties"]
        active = bool(p.get("actief"))
        style = (
            {"color": "#b30000", "weight": 1.5, "fillColor": "#e34a33", "fillOpacity": 0.35}
            if active
            else {"color": "#777777", "weight": 1, "fillColor": "#bbbbbb", "fillOpacity": 0.25}
        )
        status = "actief" if active else "verlopen"
        shape = folium.GeoJson(
            {"type": "Feature", "geometry": feat["geometry"], "properties": {}},
            style_function=lambda f, style=style: style,
            tooltip=f"Zone {p['number']} ({status})",
        )
        folium.Popup(
            f"<b>Zone {p['number']}</b> ({status})<br>"
            f"{_nl_date(p['begin'])} t/m {_nl_date(p['einde'])}<br>"
            f"Aantal inbraken: {p['aantal_inbraken']}<br>"
            f"Geschatte woningen: {p['woningen'] if p['woningen'] is not None else '-'}"
        ).add_to(shape)
        shape.add_to(zones)
    groups.append(zones)
    groups.append(
        maps.areas_layer(
            store.areas_frame(level="wijk", municipality=municipality),
            name="Wijkgrenzen",
            colour="#222222",
            weight=1.2,
        )
    )
    bounds = _bounds(store, municipality)
    if fc.get("features"):
        import shapely.geometry

        geoms = [shapely.geometry.shape(f["geometry"]) for f in fc["features"]]
        minx, miny, maxx, maxy = shapely.geometry.GeometryCollection(geoms).bounds
        pad = 0.005
        bounds = (minx - pad, miny - pad, maxx + pad, maxy + pad)
    m = maps.base_map(
        bounds, tile_url=settings.tile_url, attribution=settings.tile_attribution, jquery=True
    )
    legend_box = Element(
        '<div id="legenda" class="map-box"><b>Waarschuwingszones</b>'
        '<div><i class="sw" style="background:#e34a33;opacity:0.6;border:1px solid #b30000">'
        "</i>Verhoogd risico (herhaald slachtofferschap in de buurt)</div>"
        '<div><i class="sw" style="background:#bbbbbb;opacity:0.6;border:1px solid #777777">'
        "</i>Verlopen zone</div></div>"
    )
    message = None if fc.get("features") else "Geen waarschuwingszones in deze periode."
    maps.finish_map(m, groups, legend_box, message=message)
    html: str = m.get_root().render()
    return html


@router.get("/waarschuwingszones", response_class=HTMLResponse)
def waarschuwingszones(
    request: Request,
    store: ReadStoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    municipality: Text = None,
    category: Text = "woninginbraak",
    since: date | None = None,
) -> HTMLResponse:
    """Near-repeat alert zones since a date, for warning letters (analysts and admins only).

    The zones reveal where incidents happened, so viewers (and anonymous callers) get the
    Dutch error page (401/403).
    """
    from datetime import timedelta

    from geo_service.analyses.alerts import AlertParams, alerts_geojson
    from geo_service.web.auth import require

    require(principal, "analyst")
    check_page_period(since, None, "De begindatum")
    ch = resolve(store, settings, principal, municipality=municipality, category=category, res=10)
    cat = ch.category or category or "woninginbraak"
    last = store.data_window(IncidentFilter(category=cat, municipality=ch.municipality))[1]
    last_day = (
        last if isinstance(last, date) else date.fromisoformat(str(last)[:10]) if last else None
    )
    if since is None:
        since = (last_day or store.today()) - timedelta(days=ALERT_DEFAULT_DAYS)
    caption = caption_for(
        ch,
        title=f"Waarschuwingszones {cat} in {ch.place}",
        start=since,
        end=last_day,
        requested=(since, None),
        category=cat,
    )
    message = None
    zones: list[dict[str, Any]] = []
    extent: dict[str, Any] = {}
    map_html = ""
    as_of = ""
    try:
        fc = alerts_geojson(
            store,
            AlertParams(
                incidents=IncidentFilter(cat, ch.municipality, since, None),
                max_zone_radius_m=settings.alert_max_zone_radius_m,
            ),
        )
    except DomainError as exc:
        message = " ".join(dutch_message(exc, 400))
    else:
        meta = fc.get("metadata") or {}
        extent = dict(meta.get("extent") or {})
        extent["max_zone_radius_m"] = meta.get("max_zone_radius_m")
        extent["n_chains"] = meta.get("n_chains")
        extent["n_zones"] = meta.get("n_zones")
        extent["reason"] = _dutch(extent.get("reason"))
        extent["source"] = EXTENT_SOURCES.get(str(extent.get("source")), "")
        as_of = _nl_date(meta.get("as_of"))
        # Active zones first, expired ("verlopen") ones last; stable, so each group keeps
        # the order of the analysis (by start).
        fc["features"] = sorted(
            fc.get("features", []), key=lambda f: not f["properties"].get("actief")
        )
        for number, feat in enumerate(fc.get("features", []), start=1):
            feat["properties"]["number"] = number  # the table's zone numbers, on the map too
        wijken = _zone_wijken(fc, store.areas_frame(level="wijk", municipality=ch.municipality))
        for feat, wijk in zip(fc["features"], wijken, strict=True):
            p = feat["properties"]
            zones.append(
                {
                    "zone": p["zone"],
                    "number": len(zones) + 1,
                    "begin": p["begin"],
                    "einde": p["einde"],
                    "begin_short": _day_month(p["begin"]),
                    "einde_short": _day_month(p["einde"]),
                    "aantal": p["aantal_inbraken"],
                    "woningen": p["woningen"],
                    "actief": p["actief"],
                    "status": "actief" if p["actief"] else "verlopen",
                    "wijken": wijk,
                }
            )
        map_html = build_alert_map(store, settings, fc, ch.municipality)
    context = {
        "title": f"Waarschuwingszones {cat} in {ch.place}",
        "active": "/waarschuwingszones",
        "demo": ch.demo,
        "caption": caption,
        "message": message,
        "since": since,
        "since_nl": _nl_date(since),
        "category": cat,
        "form": {
            "municipalities": [(m, f"{ch.names.get(m, m)} ({m})") for m in ch.municipalities],
            "municipality": ch.municipality,
            "categories": ch.categories,
        },
        "zones": zones,
        "extent": extent,
        "map_html": map_html,
        "as_of": as_of,
    }
    return render_page(request, "waarschuwingszones.html", context)
