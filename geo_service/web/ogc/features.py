"""OGC API - Features, Part 1: Core + GeoJSON, under ``/ogc``.

One collection per published layer the caller may read. Items support ``bbox``,
``datetime``, ``limit``/``offset`` paging with ``next``/``prev`` links and
``numberMatched``/``numberReturned``. Coordinates are CRS84 (lon/lat).

References
----------
OGC 17-069r4, OGC API - Features - Part 1: Core, https://docs.ogc.org/is/17-069r4/17-069r4.html
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import numpy as np
from fastapi import APIRouter, Depends, Query, Request, Response

from geo_service.errors import NotFoundError
from geo_service.filters import IncidentFilter
from geo_service.web.auth import Principal
from geo_service.web.deps import (
    BBoxDep,
    CacheDep,
    LimitQuery,
    OffsetQuery,
    PrincipalDep,
    SettingsDep,
    StoreDep,
    parse_datetime_interval,
    reject_unknown_params,
)
from geo_service.web.guards import base_url
from geo_service.web.published.base import FeatureCollection, Layer, LayerQuery
from geo_service.web.published.registry import get_layer, layers
from geo_service.web.service import (
    GEOJSON,
    cached_store_response,
    layer_collection,
    layer_page,
)

router = APIRouter(
    prefix="/ogc", tags=["OGC API - Features"], dependencies=[Depends(reject_unknown_params)]
)

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
NL_EXTENT = [3.2, 50.7, 7.3, 53.6]  # the Netherlands; the service's area of work
Text = Annotated[str | None, Query(max_length=100)]


def _base(request: Request) -> str:
    return base_url(request.app.state.settings, request) + "/ogc"


def _collection_doc(request: Request, layer: Layer) -> dict[str, Any]:
    base = _base(request)
    doc: dict[str, Any] = {
        "id": layer.id,
        "title": layer.title,
        "description": layer.description,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [NL_EXTENT], "crs": CRS84}},
        "links": [
            {
                "href": f"{base}/collections/{layer.id}",
                "rel": "self",
                "type": "application/json",
                "title": layer.title,
            },
            {
                "href": f"{base}/collections/{layer.id}/items",
                "rel": "items",
                "type": GEOJSON,
                "title": layer.title,
            },
        ],
    }
    if layer.temporal:
        doc["extent"]["temporal"] = {"interval": [[None, None]]}
    return doc


def _visible(principal: Principal) -> list[Layer]:
    return [layer for layer in layers().values() if principal.can(layer.min_role)]


@router.get("", summary="Landing page")
def landing(request: Request) -> dict[str, Any]:
    """OGC API landing page."""
    base = _base(request)
    root = str(request.base_url).rstrip("/")
    return {
        "title": "Hotspots en gebiedsgerichte aanpak / hotspot service",
        "description": (
            "Hotspots (Gi*, kerndichtheid), wijken, buurten en camera's als OGC API - Features."
        ),
        "links": [
            {"href": base, "rel": "self", "type": "application/json", "title": "Landing page"},
            {
                "href": f"{root}/openapi.json",
                "rel": "service-desc",
                "type": "application/vnd.oai.openapi+json;version=3.0",
                "title": "OpenAPI",
            },
            {"href": f"{root}/docs", "rel": "service-doc", "type": "text/html", "title": "Docs"},
            {
                "href": f"{base}/conformance",
                "rel": "conformance",
                "type": "application/json",
                "title": "Conformance",
            },
            {
                "href": f"{base}/collections",
                "rel": "data",
                "type": "application/json",
                "title": "Collections",
            },
            {
                "href": f"{root}/licence",
                "rel": "license",
                "type": "text/plain",
                "title": "EUPL-1.2",
            },
        ],
    }


@router.get("/conformance", summary="Conformance classes")
def conformance() -> dict[str, Any]:
    """Return the conformance classes this API implements."""
    return {"conformsTo": CONFORMANCE}


@router.get("/collections", summary="Collections")
def collections(request: Request, principal: PrincipalDep) -> dict[str, Any]:
    """Return the collections the caller may read."""
    base = _base(request)
    return {
        "links": [{"href": f"{base}/collections", "rel": "self", "type": "application/json"}],
        "collections": [_collection_doc(request, layer) for layer in _visible(principal)],
    }


def _readable(layer_id: str, principal: Principal) -> Layer:
    try:
        layer = get_layer(layer_id)
    except NotFoundError:
        layer = None
    if layer is None or not principal.can(layer.min_role):
        # Do not reveal to a low role which restricted collections exist.
        raise NotFoundError(f"no collection {layer_id!r} / onbekende collectie")
    return layer


@router.get("/collections/{collection_id}", summary="Collection")
def collection(request: Request, collection_id: str, principal: PrincipalDep) -> dict[str, Any]:
    """One collection's description."""
    return _collection_doc(request, _readable(collection_id, principal))


def feature_bounds(features: list[dict[str, Any]]) -> np.ndarray:
    """Return an (n, 4) array of minx, miny, maxx, maxy per feature (NaN if no geometry)."""
    out = np.full((len(features), 4), np.nan)
    for i, feat in enumerate(features):
        geom = feat.get("geometry")
        if not geom:
            continue
        coords = geom.get("coordinates")
        if geom.get("type") == "Point":
            out[i] = (coords[0], coords[1], coords[0], coords[1])
            continue
        flat = np.asarray(_flatten(coords), dtype=float).reshape(-1, 2)
        if len(flat):
            out[i, :2] = flat.min(axis=0)
            out[i, 2:] = flat.max(axis=0)
    return out


def _flatten(coords: Any) -> list[float]:
    if isinstance(coords, list | tuple) and coords and isinstance(coords[0], int | float):
        return [float(coords[0]), float(coords[1])]
    acc: list[float] = []
    for part in coords:
        acc.extend(_flatten(part))
    return acc


def _in_bbox(
    features: list[dict[str, Any]], bbox: tuple[float, float, float, float]
) -> list[dict[str, Any]]:
    if not features:
        return features
    b = feature_bounds(features)
    keep = (b[:, 0] <= bbox[2]) & (b[:, 2] >= bbox[0]) & (b[:, 1] <= bbox[3]) & (b[:, 3] >= bbox[1])
    return [f for f, k in zip(features, keep, strict=True) if k]


def _layer_query(
    layer: Layer,
    settings: Any,
    datetime_: str | None,
    category: str | None,
    municipality: str | None,
    res: int,
    analyst: bool = False,
) -> LayerQuery:
    start, end = parse_datetime_interval(datetime_, settings.timezone)
    if not layer.temporal:
        start = end = None
    return LayerQuery.with_settings(
        settings,
        analyst=analyst,
        incidents=IncidentFilter(
            category=category, municipality=municipality, start=start, end=end
        ),
        res=res,
    )


@router.get(
    "/collections/{collection_id}/items",
    summary="Features",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}, "description": "FeatureCollection"}},
)
def items(
    request: Request,
    collection_id: str,
    store: StoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    cache: CacheDep,
    bbox: BBoxDep = None,
    datetime: Annotated[
        str | None, Query(max_length=100, description="RFC 3339 instant or interval")
    ] = None,
    limit: LimitQuery = 1000,
    offset: OffsetQuery = 0,
    category: Text = None,
    municipality: Text = None,
    res: Annotated[int, Query(ge=8, le=11)] = 10,
) -> Response:
    """Features of a collection, filtered by ``bbox``/``datetime``, one page at a time."""
    layer = _readable(collection_id, principal)
    query = _layer_query(
        layer, settings, datetime, category, municipality, res, principal.can("analyst")
    )
    limit = min(limit, settings.max_features)
    base = _base(request)

    def produce() -> FeatureCollection:
        if layer.page is not None:
            # Point layers page in SQL: never the whole table through Python.
            paged = replace(query, incidents=query.incidents.replace(bbox=bbox))
            page, matched = layer_page(request, store, layer, paged, principal, offset, limit)
        else:
            fc = layer_collection(request, store, layer, query, principal)
            feats = fc["features"] if bbox is None else _in_bbox(fc["features"], bbox)
            page, matched = feats[offset : offset + limit], len(feats)
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]
        href = f"{base}/collections/{layer.id}/items"
        links = [
            {
                "href": f"{href}?{urlencode([*params, ('offset', offset)])}",
                "rel": "self",
                "type": GEOJSON,
            },
            {
                "href": f"{base}/collections/{layer.id}",
                "rel": "collection",
                "type": "application/json",
            },
        ]
        if offset + limit < matched:
            links.append(
                {
                    "href": f"{href}?{urlencode([*params, ('offset', offset + limit)])}",
                    "rel": "next",
                    "type": GEOJSON,
                }
            )
        if offset > 0:
            links.append(
                {
                    "href": f"{href}?{urlencode([*params, ('offset', max(0, offset - limit))])}",
                    "rel": "prev",
                    "type": GEOJSON,
                }
            )
        out: FeatureCollection = {
            "type": "FeatureCollection",
            "features": page,
            "numberMatched": matched,
            "numberReturned": len(page),
            "timeStamp": datetime_now(),
            "links": links,
        }
        return out

    return cached_store_response(request, cache, store, principal, produce)


def datetime_now() -> str:
    """Return the current UTC time in RFC 3339."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    summary="Feature",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}, "description": "Feature"}},
)
def item(
    request: Request,
    collection_id: str,
    feature_id: str,
    store: StoreDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    cache: CacheDep,
    category: Text = None,
    municipality: Text = None,
    res: Annotated[int, Query(ge=8, le=11)] = 10,
) -> Response:
    """One feature by id."""
    layer = _readable(collection_id, principal)
    query = _layer_query(
        layer, settings, None, category, municipality, res, principal.can("analyst")
    )
    base = _base(request)

    def produce() -> dict[str, Any]:
        fc = layer_collection(request, store, layer, query, principal)
        for feat in fc["features"]:
            if str(feat.get("id")) == feature_id:
                return {
                    **feat,
                    "links": [
                        {
                            "href": f"{base}/collections/{layer.id}/items/{feature_id}",
                            "rel": "self",
                            "type": GEOJSON,
                        },
                        {
                            "href": f"{base}/collections/{layer.id}",
                            "rel": "collection",
                            "type": "application/json",
                        },
                    ],
                }
        raise NotFoundError(f"no feature {feature_id!r} in {layer.id} / object niet gevonden")

    return cached_store_response(request, cache, store, principal, produce)
