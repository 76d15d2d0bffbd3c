"""Downloads of the map pages: the shown layer as GeoJSON and GeoPackage, tables as CSV.

Same privacy rules as the pages: the layer comes from
:func:`~geo_service.web.service.layer_collection` for the same query and caller, the tables
from the same functions as the pages (:mod:`geo_service.web.pages.overview`), so a download holds
exactly what the page shows -- the cells the map draws, counts as the page shows them.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import geopandas as gpd
import orjson
from fastapi import APIRouter, Depends, Request, Response

from geo_service.config import Settings
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.web.auth import Principal
from geo_service.web.deps import CacheDep, PrincipalDep, ReadStoreDep, ResQuery, SettingsDep
from geo_service.web.pages.caption import Caption, used_period
from geo_service.web.pages.context import (
    Choices,
    MapParams,
    MapParamsDep,
    Text,
    cached_gzip,
    caption_for,
    layer_query,
    map_title,
    overview_data,
    reject_unknown_page_params,
    resolve,
    resolve_map,
)
from geo_service.web.pages.overview import Places, monthly_series, trend_chart, year_table
from geo_service.web.published.base import FeatureCollection
from geo_service.web.published.registry import get_layer
from geo_service.web.service import cache_key, layer_collection
from layers import maps

router = APIRouter(include_in_schema=False, dependencies=[Depends(reject_unknown_page_params)])


def _shown_layer(
    request: Request,
    store: Store,
    settings: Settings,
    principal: Principal,
    params: MapParams,
) -> tuple[FeatureCollection, Caption, Choices]:
    """Return the layer of a map as drawn (same cells, same privacy) and its caption."""
    ch = resolve_map(store, settings, principal, params)
    query = layer_query(
        settings, ch, category=ch.category, start=params.start, end=params.end, principal=principal
    )
    layer_id = {"gistar": "hotspots-gistar", "emerging": "emerging-hotspots"}.get(
        params.method, "hotspots-kde"
    )
    fc = layer_collection(request, store, get_layer(layer_id), query, principal)
    if params.method == "gistar":
        payload = maps.gistar_cells(fc)
    elif params.method == "emerging":
        payload = maps.emerging_cells(fc)
    else:
        payload = maps.kde_cells(fc)[0]
    drawn = set(payload.ids)
    start, end = used_period(fc.get("metadata"))
    caption = caption_for(
        ch,
        title=map_title(ch, params.method, ch.category),
        start=start,
        end=end,
        requested=(params.start, params.end),
        category=ch.category,
        method=params.method,
        res=ch.res,
    )
    feats = [
        f
        for f in fc["features"]
        if str(f["properties"].get("h3") or f["properties"].get("cell") or f.get("id")) in drawn
    ]
    meta = dict(fc.get("metadata") or {})
    meta["caption"] = caption.as_text()
    meta["selection"] = {
        "gistar": "alleen de getoonde zeshoeken: significant of met incidenten",
        "emerging": "alleen de getoonde zeshoeken: met een ruimte-tijdpatroon",
    }.get(
        params.method,
        f"alleen zeshoeken boven {int(maps.KDE_MIN_SHARE * 100)}% van de hoogste dichtheid",
    )
    return {"type": "FeatureCollection", "features": feats, "metadata": meta}, caption, ch


def _filename(ch: Choices, params: MapParams, ext: str) -> str:
    return f"{params.method}-{ch.category or 'alle'}-{ch.municipality or 'alle'}-res{ch.res}.{ext}"


@router.get("/kaart/kaartlaag.geojson")
def kaartlaag_geojson(
    request: Request,
    store: ReadStoreDep,
    cache: CacheDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    params: MapParamsDep,
) -> Response:
    """Download the shown hotspot layer as GeoJSON (RFC 7946, with metadata and caption)."""
    fc, _, ch = _shown_layer(request, store, settings, principal, params)
    return cached_gzip(
        request,
        cache,
        cache_key(request, store, principal),
        lambda: orjson.dumps(fc, default=str, option=orjson.OPT_SERIALIZE_NUMPY),
        "application/geo+json",
        filename=_filename(ch, params, "geojson"),
    )


@router.get("/kaart/kaartlaag.gpkg")
def kaartlaag_gpkg(
    request: Request,
    store: ReadStoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    params: MapParamsDep,
) -> Response:
    """Download the shown hotspot layer as a GeoPackage (EPSG:4326; caption as metadata)."""
    fc, caption, ch = _shown_layer(request, store, settings, principal, params)
    frame = gpd.GeoDataFrame.from_features(fc["features"], crs="EPSG:4326")
    if frame.empty:
        frame = gpd.GeoDataFrame({"h3": []}, geometry=gpd.GeoSeries([], crs="EPSG:4326"))
    layer = f"hotspots_{params.method}"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "laag.gpkg"
        frame.to_file(
            path,
            layer=layer,
            driver="GPKG",
            layer_metadata={"DESCRIPTION": caption.as_text()},
        )
        body = path.read_bytes()
    return Response(
        content=body,
        media_type="application/geopackage+sqlite3",
        headers={
            "Content-Disposition": f'attachment; filename="{_filename(ch, params, "gpkg")}"',
            "Cache-Control": "private, no-store",
        },
    )


def _csv(caption: Caption, header: list[str], rows: list[list[str]], filename: str) -> Response:
    """Return a CSV for Dutch spreadsheets (``;``, UTF-8 BOM), the caption as a comment."""
    buf = io.StringIO()
    buf.write("\ufeff# " + caption.as_text().replace("\n", " ") + "\n")
    writer = csv.writer(buf, delimiter=";", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        content=buf.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/kaart/trend.csv")
def trend_csv(
    store: ReadStoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    params: MapParamsDep,
) -> Response:
    """Download the trend (incidents per month) as on the page, as CSV."""
    ch = resolve_map(store, settings, principal, params)
    flt = ch.shown.flt(IncidentFilter(ch.category, ch.municipality, params.start, params.end))
    chart = trend_chart(monthly_series(store, flt, ch.window) if ch.category else [], ch.shown)
    caption = caption_for(
        ch,
        title=f"{ch.category or ''} per maand in {ch.place}",
        start=flt.start,
        end=flt.end,
        requested=(params.start, params.end),
        category=ch.category,
    )
    rows = [[month, value or f"<{chart.k}"] for month, value in chart.rows]
    name = f"trend-{ch.category or 'alle'}-{ch.municipality or 'alle'}.csv"
    return _csv(caption, ["maand", "incidenten"], rows, name)


@router.get("/overzicht/hotspots.csv")
def overzicht_hotspots_csv(
    request: Request,
    store: ReadStoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    municipality: Text = None,
    res: ResQuery = 10,
) -> Response:
    """Download the hotspot places of the summary as CSV (same figures as the page)."""
    data = overview_data(request, store, settings, principal, municipality, res)
    rows = []
    for section in data["sections"]:
        places: Places | None = section["places"]
        for p in places.places if places else []:
            rows.append(
                [
                    section["category"],
                    str(p.rank),
                    p.wijk,
                    p.buurten,
                    p.strength,
                    str(p.cells),
                    f"{p.area_km2:.3f}".replace(".", ","),
                    p.incidents,
                    p.per_1000_dwellings,
                    f"{p.centre[0]}",
                    f"{p.centre[1]}",
                ]
            )
    header = [
        "soort",
        "rang",
        "wijk",
        "buurten",
        "betrouwbaarheid",
        "zeshoeken",
        "oppervlakte_km2",
        "incidenten",
        "per_1000_woningen_per_jaar",
        "lat",
        "lon",
    ]
    ch: Choices = data["ch"]
    return _csv(data["caption"], header, rows, f"hotspots-{ch.municipality or 'alle'}.csv")


@router.get("/overzicht/per-jaar.csv")
def overzicht_years_csv(
    store: ReadStoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    municipality: Text = None,
    res: ResQuery = 10,
) -> Response:
    """Download the counts per year of the summary as CSV (partial years labelled)."""
    ch = resolve(store, settings, principal, municipality=municipality, category=None, res=res)
    table = year_table(store, ch.municipality, ch.shown, ch.window)
    caption = caption_for(ch, title=f"Incidenten per jaar, {ch.place}", start=None, end=None)
    rows = [[row.label, *row.values] for row in table.rows]
    return _csv(caption, ["jaar", *table.categories], rows, f"per-jaar-{ch.municipality}.csv")
