"""Glue between routes and layers: role checks, privacy, caching and ETags."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import replace
from functools import partial
from typing import Any

import orjson
from fastapi import Request, Response

from geo_service.store import Store
from geo_service.web.auth import Principal, require
from geo_service.web.cache import ResponseCache
from geo_service.web.guards import base_url
from geo_service.web.policy import ViewerPolicy
from geo_service.web.registry import FeatureCollection, Layer, LayerQuery

GEOJSON = "application/geo+json"


class CollectionCache:
    """LRU of computed (exact) layer collections keyed by data version, layer and query.

    OGC clients page through a collection; without this each page would recompute
    the hotspots. A per-key lock makes concurrent identical requests compute once (single
    flight), and at most ``workers`` computations run at a time: twenty clients asking for
    twenty different maps queue instead of thrashing two cores.
    """

    def __init__(
        self, max_entries: int = 32, workers: int = 2, max_features: int = 150_000
    ) -> None:
        self._max = max_entries
        self._max_features = max_features
        self._features = 0
        self._items: OrderedDict[Hashable, FeatureCollection] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self._slots = threading.BoundedSemaphore(max(1, workers))

    def get_or_compute(
        self, key: Hashable, compute: Callable[[], FeatureCollection]
    ) -> FeatureCollection:
        """Return the cached collection for ``key``, computing it at most once."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._items:
                    return self._items[key]
            with self._slots:
                value = compute()
            with self._lock:
                self._items[key] = value
                self._features += len(value.get("features", ()))
                # Bounded in entries and in features (memory: ~3 kB of Python objects each).
                while len(self._items) > 1 and (
                    len(self._items) > self._max or self._features > self._max_features
                ):
                    _, gone = self._items.popitem(last=False)
                    self._features -= len(gone.get("features", ()))
                self._key_locks.pop(key, None)
            return value


def warm_up(app: Any) -> None:
    """Precompute the standard layers of the current data version (a background thread).

    For every municipality with a polygon and every category: Gi* and KDE at the default
    resolution over all data, as a viewer's first visit to ``/kaart`` asks for them.
    Errors are logged, never raised: warming is an optimisation.
    """
    import logging

    from geo_service.filters import IncidentFilter
    from geo_service.web.registry import get_layer

    log = logging.getLogger(__name__)
    settings = app.state.settings
    store = app.state.store.cursor()
    cache: CollectionCache = app.state.collections
    try:
        version = store.data_version()
        munis = sorted(
            set(store.areas_frame(level="gemeente")["code"])
            | set(store.areas_frame(level="wijk")["municipality"].dropna())
        )
        for muni in munis:
            for cat in store.categories():
                for layer_id in ("hotspots-gistar", "hotspots-kde"):
                    layer = get_layer(layer_id)
                    query = LayerQuery.with_settings(
                        settings,
                        analyst=False,
                        incidents=IncidentFilter(category=cat, municipality=muni),
                        res=settings.default_h3_res,
                    )
                    key = (version, layer.id, query)
                    cache.get_or_compute(key, partial(layer.features, store, query))
    except Exception:  # an optimisation must never take the service down
        log.exception("warming the standard layers failed")
    finally:
        store.close()


def layer_collection(
    request: Request, store: Store, layer: Layer, query: LayerQuery, principal: Principal
) -> FeatureCollection:
    """Return ``layer`` for ``query`` as ``principal`` may see it.

    Raises
    ------
    AuthenticationError, AuthorizationError
        If the caller's role is below the layer's minimum role.
    """
    require(principal, layer.min_role)
    viewer = not principal.can("analyst")
    policy = ViewerPolicy.from_settings(request.app.state.settings)
    if viewer and layer.viewer_filter is not None:
        # The privacy model, applied before computing: the exact layer a viewer's answer is
        # derived from never covers less than whole months nor a finer grid.
        if layer.cells:
            policy.check_res(query.res)
        if layer.temporal:
            query = replace(query, incidents=policy.period(query.incidents))
    cache: CollectionCache = request.app.state.collections
    key = (store.data_version(), layer.id, query)
    exact = cache.get_or_compute(key, lambda: layer.features(store, query))
    if viewer and layer.viewer_filter is not None:
        return layer.viewer_filter(exact, policy)
    return exact


def layer_page(
    request: Request,
    store: Store,
    layer: Layer,
    query: LayerQuery,
    principal: Principal,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """Return one page of ``layer`` and the number of matching features.

    Layers with their own (SQL) paging use it; others are built whole (cached) and sliced.

    Raises
    ------
    AuthenticationError, AuthorizationError
    """
    require(principal, layer.min_role)
    if layer.page is not None and layer.viewer_filter is None:
        return layer.page(store, query, offset, limit)
    fc = layer_collection(request, store, layer, query, principal)
    feats: list[dict[str, Any]] = fc["features"]
    return feats[offset : offset + limit], len(feats)


def cache_key(request: Request, store: Store, principal: Principal) -> Hashable:
    """Key of a rendered response: data version, base URL, path, sorted parameters, role.

    Unknown parameters never reach here (they are a 400), so junk cannot multiply entries;
    the base URL is part of the key because OGC documents hold absolute links.
    """
    params = tuple(sorted(request.query_params.multi_items()))
    base = base_url(request.app.state.settings, request)
    return (store.data_version(), base, request.url.path, params, principal.role)


def cached_response(
    request: Request,
    cache: ResponseCache,
    key: Hashable,
    produce: Callable[[], Any],
    media_type: str = GEOJSON,
) -> Response:
    """Serve a cached JSON body with an ETag; 304 when ``If-None-Match`` matches."""

    def render() -> bytes:
        # orjson: ~5x faster than json on large FeatureCollections; NaN becomes null.
        return orjson.dumps(
            produce(), default=str, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
        )

    return cached_bytes(request, cache, key, render, media_type)


def cached_bytes(
    request: Request,
    cache: ResponseCache,
    key: Hashable,
    render: Callable[[], bytes],
    media_type: str,
) -> Response:
    """Serve a cached rendered body (any media type) with an ETag and 304 support."""
    entry = cache.get(key)
    if entry is None:
        entry = cache.put(key, render(), media_type)
    headers = {
        "ETag": entry.etag,
        "Cache-Control": "private, max-age=0, must-revalidate",
        "Vary": "X-API-Key, Authorization",
    }
    inm = request.headers.get("if-none-match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        if entry.etag in tags or "*" in tags:
            return Response(status_code=304, headers=headers)
    return Response(content=entry.body, media_type=entry.media_type, headers=headers)
