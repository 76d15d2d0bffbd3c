"""OGC API - Features, Part 1: Core + GeoJSON, under ``/ogc``.

One collection per published layer the caller may read; a layer of one category (the
hotspot layers, :attr:`~geo_service.web.published.base.Layer.per_category`) is one collection
per stored category, ``<layer>-<category>`` (``hotspots-gistar-woninginbraak``), with that
category's own spatial and temporal extent and a ``category`` property on every feature: OGC
clients (GDAL, QGIS) list collections and never send a ``category`` parameter, so a single
collection silently showed one default category. Items support ``bbox``,
``datetime``, ``limit``/``offset`` paging with ``next``/``prev`` links and
``numberMatched``/``numberReturned``. Coordinates are CRS84 (lon/lat).

References
----------
OGC 17-069r4, OGC API - Features - Part 1: Core, https://docs.ogc.org/is/17-069r4/17-069r4.html
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import numpy as np
from fastapi import APIRouter, Depends, Query, Request, Response

from geo_service.errors import NotFoundError
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.web.auth import Principal
from geo_service.web.deps import (
    BBoxDep,
    CacheDep,
    InvalidQueryError,
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


#: Degrees a category's extent is widened to (outward, ~1 km): the extent says where the
#: category's incidents lie without giving the position of the outermost one.
EXTENT_STEP = 0.01


@dataclass(frozen=True)
class Collection:
    """One OGC collection: a published layer, for one category when the layer is per category.

    Attributes
    ----------
    layer
        The published layer.
    category
        The category of a :attr:`~geo_service.web.published.base.Layer.per_category` layer;
        None for the others.
    """

    layer: Layer
    category: str | None = None

    @property
    def id(self) -> str:
        """The collection id: the layer id, ``-<category>`` appended for a per-category layer."""
        return self.layer.id if self.category is None else f"{self.layer.id}-{self.category}"

    @property
    def title(self) -> str:
        """The layer's title, with the category for a per-category layer."""
        return self.layer.title if self.category is None else f"{self.layer.title}: {self.category}"


def snap_bbox(lon: Any, lat: Any, step: float = EXTENT_STEP) -> list[float] | None:
    """Return the bounding box of the points, widened outward to multiples of ``step``.

    Each lower bound is ``floor(min / s) * s`` and each upper bound ``ceil(max / s) * s``
    (``s`` = ``step``), in the order min lon, min lat, max lon, max lat; None without points.

    Examples
    --------
    >>> snap_bbox([4.3012, 4.3391], [52.0705, 52.1101])
    [4.3, 52.07, 4.34, 52.12]
    >>> snap_bbox([], []) is None
    True
    """
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    if not len(x):
        return None
    # round() first: 4.3 / 0.01 is 429.99999999999994 in floating point
    lo = [math.floor(round(v / step, 6)) * step for v in (x.min(), y.min())]
    hi = [math.ceil(round(v / step, 6)) * step for v in (x.max(), y.max())]
    return [round(lo[0], 6), round(lo[1], 6), round(hi[0], 6), round(hi[1], 6)]


def _rfc3339(day: date | None) -> str | None:
    return None if day is None else f"{day.isoformat()}T00:00:00Z"


def category_extent(request: Request, store: Store, category: str) -> dict[str, Any]:
    """Return the OGC ``extent`` of one category: where and when its incidents lie.

    Spatial: :func:`snap_bbox` of the category's incidents (CRS84); temporal: the first and
    last incident date. Cached per data version.
    """

    def compute() -> dict[str, Any]:
        flt = IncidentFilter(category=category)
        bounds = store.lonlat_bounds(flt)  # min/max in SQL, no points read
        box = (
            snap_bbox([bounds[0], bounds[2]], [bounds[1], bounds[3]]) if bounds else None
        ) or NL_EXTENT
        first, last = store.data_window(flt)
        return {
            "spatial": {"bbox": [box], "crs": CRS84},
            "temporal": {"interval": [[_rfc3339(first), _rfc3339(last)]]},
        }

    key = (store.data_version(), "ogc-extent", category)
    extent: dict[str, Any] = request.app.state.collections.get_or_compute(key, compute)
    return extent


def _collection_doc(request: Request, store: Store, coll: Collection) -> dict[str, Any]:
    base = _base(request)
    layer = coll.layer
    href = f"{base}/collections/{quote(coll.id, safe='')}"
    description = layer.description
    if coll.category is not None:
        description += f" Soort incident: {coll.category}."
    doc: dict[str, Any] = {
        "id": coll.id,
        "title": coll.title,
        "description": description,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [NL_EXTENT], "crs": CRS84}},
        "links": [
            {"href": href, "rel": "self", "type": "application/json", "title": coll.title},
            {"href": f"{href}/items", "rel": "items", "type": GEOJSON, "title": coll.title},
        ],
    }
    if layer.temporal:
        doc["extent"]["temporal"] = {"interval": [[None, None]]}
    if coll.category is not None:
        doc["extent"] = category_extent(request, store, coll.category)
    return doc


def _visible(store: Store, principal: Principal) -> list[Collection]:
    out: list[Collection] = []
    for layer in layers().values():
        if not principal.can(layer.min_role):
            continue
        if layer.per_category:
            out += [Collection(layer, category) for category in store.categories()]
        else:
            out.append(Collection(layer))
    return out


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
def collections(request: Request, store: StoreDep, principal: PrincipalDep) -> dict[str, Any]:
    """Return the collections the caller may read (hotspot layers: one per category)."""
    base = _base(request)
    return {
        "links": [{"href": f"{base}/collections", "rel": "self", "type": "application/json"}],
        "collections": [
            _collection_doc(request, store, coll) for coll in _visible(store, principal)
        ],
    }


def _readable(collection_id: str, principal: Principal, store: Store) -> Collection:
    """Return the collection ``collection_id`` names, if the caller may read it.

    Raises
    ------
    NotFoundError
        No such collection for this caller; a per-category layer without a category or
        with an unknown one (``known`` lists the collections of that layer).
    """
    try:
        layer: Layer | None = get_layer(collection_id)
    except NotFoundError:
        layer = None
    if layer is not None and principal.can(layer.min_role) and not layer.per_category:
        return Collection(layer)
    for candidate in layers().values():
        if not (candidate.per_category and principal.can(candidate.min_role)):
            continue
        if collection_id == candidate.id or collection_id.startswith(candidate.id + "-"):
            category = collection_id[len(candidate.id) + 1 :]
            stored = store.categories()
            if category in stored:
                return Collection(candidate, category)
            known = tuple(Collection(candidate, c).id for c in stored)
            what = (
                f"Soort incident {category!r} is niet bekend" if category else "Geen soort incident"
            )
            raise NotFoundError(
                f"{what} in collectie {collection_id!r} (één collectie per soort incident). "
                f"Bekend: {', '.join(known) or 'geen'}. / unknown category",
                known=known,
            )
    # Do not reveal to a low role which restricted collections exist.
    raise NotFoundError(f"Collectie {collection_id!r} is onbekend. / unknown collection")


@router.get("/collections/{collection_id}", summary="Collection")
def collection(
    request: Request, collection_id: str, store: StoreDep, principal: PrincipalDep
) -> dict[str, Any]:
    """One collection's description."""
    return _collection_doc(request, store, _readable(collection_id, principal, store))


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
    coll: Collection,
    store: Store,
    settings: Any,
    datetime_: str | None,
    category: str | None,
    municipality: str | None,
    res: int,
    analyst: bool = False,
) -> LayerQuery:
    """Build the layer query of a request, its category and municipality checked.

    Raises
    ------
    InvalidQueryError
        A ``category`` parameter other than the category of a per-category collection.
    NotFoundError
        An unknown category or municipality (``known`` lists the stored ones).
    """
    layer = coll.layer
    if coll.category is not None:
        if category and category != coll.category:
            raise InvalidQueryError(
                f"Collectie {coll.id!r} is de soort incident {coll.category!r}; kies voor "
                f"{category!r} de collectie {Collection(layer, category).id!r}. / category "
                "is part of the collection"
            )
        category = coll.category
    elif category:
        category = store.resolve_category(category)
    start, end = parse_datetime_interval(datetime_, settings.timezone)
    if not layer.temporal:
        start = end = None
    return LayerQuery.with_settings(
        settings,
        analyst=analyst,
        incidents=IncidentFilter(
            category=category,
            municipality=store.check_municipality(municipality),
            start=start,
            end=end,
        ),
        res=res,
    )


def with_category(features: list[dict[str, Any]], category: str | None) -> list[dict[str, Any]]:
    """Return ``features`` with a ``category`` property (unchanged when ``category`` is None).

    Copies: the features may be the cached collection's.
    """
    if category is None:
        return features
    return [
        {**feat, "properties": {**(feat.get("properties") or {}), "category": category}}
        for feat in features
    ]


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
    coll = _readable(collection_id, principal, store)
    layer = coll.layer
    query = _layer_query(
        coll, store, settings, datetime, category, municipality, res, principal.can("analyst")
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
        page = with_category(page, coll.category)
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]
        href = f"{base}/collections/{quote(coll.id, safe='')}/items"
        links = [
            {
                "href": f"{href}?{urlencode([*params, ('offset', offset)])}",
                "rel": "self",
                "type": GEOJSON,
            },
            {
                "href": f"{base}/collections/{quote(coll.id, safe='')}",
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
    coll = _readable(collection_id, principal, store)
    layer = coll.layer
    query = _layer_query(
        coll, store, settings, None, category, municipality, res, principal.can("analyst")
    )
    href = f"{_base(request)}/collections/{quote(coll.id, safe='')}"

    def produce() -> dict[str, Any]:
        fc = layer_collection(request, store, layer, query, principal)
        for feat in fc["features"]:
            if str(feat.get("id")) == feature_id:
                return {
                    **with_category([feat], coll.category)[0],
                    "links": [
                        {
                            "href": f"{href}/items/{quote(feature_id, safe='')}",
                            "rel": "self",
                            "type": GEOJSON,
                        },
                        {
                            "href": href,
                            "rel": "collection",
                            "type": "application/json",
                        },
                    ],
                }
        raise NotFoundError(
            f"Object {feature_id!r} niet gevonden in collectie {coll.id!r}. / feature not found"
        )

    return cached_store_response(request, cache, store, principal, produce)
