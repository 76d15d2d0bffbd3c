"""Glue between routes and layers: role checks, privacy, caching and ETags."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar, cast

import orjson
from fastapi import Request, Response

from geo_service.store import Store
from geo_service.web.auth import Principal, require
from geo_service.web.cache import CachedBody, ResponseCache
from geo_service.web.guards import base_url
from geo_service.web.policy import ViewerPolicy
from geo_service.web.published.base import FeatureCollection, Layer, LayerQuery
from layers.cells import CellTable

GEOJSON = "application/geo+json"


#: What :class:`CollectionCache` holds: exact per-cell tables and rendered collections.
Cached = FeatureCollection | CellTable
_C = TypeVar("_C", FeatureCollection, CellTable)

#: Rows of a :class:`CellTable` that weigh as much as one feature dict in the cache budget:
#: a row is a few array slots (~80 B; its id and ring are shared with the study area), a
#: feature is ~0.75 kB of dicts besides its ring (measured with tracemalloc, Gi* at res 10).
TABLE_ROWS_PER_FEATURE = 10


def cache_weight(value: Cached) -> int:
    """Return what ``value`` costs in :class:`CollectionCache`'s budget, in features.

    Examples
    --------
    >>> cache_weight({"type": "FeatureCollection", "features": [{}] * 25})
    25
    >>> cache_weight(CellTable.from_cells(["a"] * 25, [[]] * 25, {}))
    3
    """
    if isinstance(value, CellTable):
        return -(-len(value) // TABLE_ROWS_PER_FEATURE)
    return len(value.get("features", ()))


class CollectionCache:
    """LRU of computed layers keyed by data version, layer and query.

    It holds the exact layer (a :class:`CellTable` for cell layers that give one, else the
    collection dict) and, for table layers, the collections rendered from it per audience
    (exact, or viewer under one policy), so a repeated request neither recomputes nor rebuilds
    dicts. OGC clients page through a collection; without this each page would recompute
    the hotspots. A per-key lock makes concurrent identical requests compute once (single
    flight), and at most ``workers`` computations run at a time: twenty clients asking for
    twenty different maps queue instead of thrashing two cores. Size is bounded in entries
    and in features (:func:`cache_weight`). ``on_lookup`` is called with True (found) or
    False (computed here) once per :meth:`get_or_compute` (the metrics); a caller that waited
    for another's computation of the same key counts as a hit.
    """

    def __init__(
        self,
        max_entries: int = 32,
        workers: int = 2,
        max_features: int = 150_000,
        on_lookup: Callable[[bool], None] | None = None,
    ) -> None:
        self._max = max_entries
        self._max_features = max_features
        self._features = 0
        self._items: OrderedDict[Hashable, Cached] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self._slots = threading.BoundedSemaphore(max(1, workers))
        self._on_lookup = on_lookup

    def _record(self, hit: bool) -> None:
        if self._on_lookup is not None:
            self._on_lookup(hit)

    def get_or_compute(self, key: Hashable, compute: Callable[[], _C]) -> _C:
        """Return the cached value for ``key``, computing it at most once.

        One key always holds one kind of value (callers put the kind in the key).
        """
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                found = cast(_C, self._items[key])
            else:
                found = None
                key_lock = self._key_locks.setdefault(key, threading.Lock())
        if found is not None:
            self._record(True)
            return found
        with key_lock:
            with self._lock:
                if key in self._items:
                    found = cast(_C, self._items[key])
            if found is not None:
                self._record(True)
                return found
            self._record(False)
            with self._slots:
                value = compute()
            with self._lock:
                self._items[key] = value
                self._features += cache_weight(value)
                # Bounded in entries and in features (memory, see cache_weight).
                while len(self._items) > 1 and (
                    len(self._items) > self._max or self._features > self._max_features
                ):
                    _, gone = self._items.popitem(last=False)
                    self._features -= cache_weight(gone)
                self._key_locks.pop(key, None)
            return value


def exact_layer(
    cache: CollectionCache,
    store: Store,
    layer: Layer,
    query: LayerQuery,
    version: str | None = None,
) -> Cached:
    """Return the exact ``layer`` for ``query`` from ``cache``: its table if it has one.

    ``version`` is the store's data version the caller keys on (read here when None).
    """
    key = (store.data_version() if version is None else version, layer.id, query)
    if layer.table is not None:
        return cache.get_or_compute(key, partial(layer.table, store, query))
    return cache.get_or_compute(key, partial(layer.features, store, query))


def follow_data_version(app: Any, stop: threading.Event, *, interval_s: float = 1.0) -> None:
    """Follow the store's data version while the app runs (a background thread).

    Another process (an ingest from the CLI, another worker) may commit at any moment. The
    caches are keyed by the data version, so the next request after a commit already
    computes from the new data; this thread warms the standard layers of each new version
    (:func:`warm_up`, where the settings ask for warming), so a worker's first visitor after
    another process's commit does not wait for them.
    """
    import logging

    log = logging.getLogger(__name__)
    try:
        store = app.state.store.cursor()
        seen = store.data_version()
    except Exception:
        if stop.is_set():  # the app stopped (and closed the store) before this thread ran
            return
        raise
    while not stop.wait(interval_s):
        try:
            version = store.data_version()
        except Exception:  # a passing catalog hiccup: next tick
            log.warning("data version not readable; retrying", exc_info=True)
            continue
        if version == seen:
            continue
        log.info("data version %s -> %s (committed by another process or worker)", seen, version)
        seen = version
        if app.state.settings.warm_up:
            warm_up(app)


def warm_up(app: Any) -> None:
    """Precompute the standard layers of the current data version (a background thread).

    For every municipality with a polygon and every category: Gi* and KDE at the default
    resolution over all data, as a viewer's first visit to ``/kaart`` asks for them.
    Errors are logged, never raised: warming is an optimisation.
    """
    import logging

    from geo_service.filters import IncidentFilter
    from geo_service.web.published.registry import get_layer

    log = logging.getLogger(__name__)
    settings = app.state.settings
    store = app.state.store.cursor()
    cache: CollectionCache = app.state.collections
    try:
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
                    exact_layer(cache, store, layer, query)
    except Exception:  # an optimisation must never take the service down
        log.exception("warming the standard layers failed")
    finally:
        store.close()


def _as_caller(
    request: Request, store: Store, layer: Layer, query: LayerQuery, principal: Principal
) -> tuple[LayerQuery, ViewerPolicy, bool]:
    """Return the query as ``principal`` may ask it, the viewer policy, and whether it applies."""
    require(principal, layer.min_role)
    private = layer.private and not principal.can("analyst")
    policy = ViewerPolicy.from_settings(request.app.state.settings)
    if private:
        # The privacy model, applied before computing: the exact layer a viewer's answer is
        # derived from never covers less than whole months nor a finer grid.
        if layer.cells:
            policy.check_res(query.res)
        if layer.temporal:
            first, last = store.data_window()
            query = replace(query, incidents=policy.period(query.incidents, first, last))
        # Layers that count incidents publish by the cell key method (None: the old rule,
        # rounding after computing, in the layer's viewer filter).
        query = replace(query, disclosure=policy.cell_key)
    return query, policy, private


def layer_table(
    request: Request, store: Store, layer: Layer, query: LayerQuery, principal: Principal
) -> CellTable:
    """Return a cell layer for ``query`` as ``principal`` may see it, as a typed table.

    What :func:`layer_collection` renders, before it becomes GeoJSON: pages that compute
    from a layer (hotspot places) read the same cells a caller sees on the map.

    Raises
    ------
    AuthenticationError, AuthorizationError
        If the caller's role is below the layer's minimum role.
    TypeError
        ``layer`` has no table.
    """
    query, policy, private = _as_caller(request, store, layer, query, principal)
    cache: CollectionCache = request.app.state.collections
    version = store.data_version()
    return _table(cache, store, layer, query, version, policy if private else None)


def _table(
    cache: CollectionCache,
    store: Store,
    layer: Layer,
    query: LayerQuery,
    version: str,
    policy: ViewerPolicy | None,
) -> CellTable:
    exact = exact_layer(cache, store, layer, query, version)
    if not isinstance(exact, CellTable):
        raise TypeError(f"layer {layer.id!r} has no table")
    if policy is None or layer.viewer_table_filter is None:
        return exact
    table_filter = layer.viewer_table_filter
    return cache.get_or_compute(
        (version, layer.id, query, "table", policy), lambda: table_filter(exact, policy)
    )


def layer_collection(
    request: Request, store: Store, layer: Layer, query: LayerQuery, principal: Principal
) -> FeatureCollection:
    """Return ``layer`` for ``query`` as ``principal`` may see it.

    Raises
    ------
    AuthenticationError, AuthorizationError
        If the caller's role is below the layer's minimum role.
    """
    query, policy, private = _as_caller(request, store, layer, query, principal)
    cache: CollectionCache = request.app.state.collections
    # One version for the exact layer and what is rendered from it: read twice, a write in
    # between could file a rendering of old data under the new version.
    version = store.data_version()
    if layer.table is not None:
        shown = policy if private and layer.viewer_table_filter is not None else None
        table = _table(cache, store, layer, query, version, shown)
        key = (version, layer.id, query, "geojson") + ((shown,) if shown else ())
        fc: FeatureCollection = cache.get_or_compute(key, table.to_geojson)
    else:
        fc = cast(FeatureCollection, exact_layer(cache, store, layer, query, version))
    if private and layer.viewer_filter is not None:
        return layer.viewer_filter(fc, policy)
    return fc


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
    if layer.page is not None and not layer.private:
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
    return cached_bytes(request, cache, key, lambda: _json_bytes(produce()), media_type)


def _json_bytes(doc: Any) -> bytes:
    # orjson: ~5x faster than json on large FeatureCollections; NaN becomes null.
    return orjson.dumps(
        doc, default=str, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    )


def cached_store_response(
    request: Request,
    cache: ResponseCache,
    store: Store,
    principal: Principal,
    produce: Callable[[], Any],
    media_type: str = GEOJSON,
) -> Response:
    """Serve a cached JSON body computed from ``store``, filed under the version it read.

    A hit is looked up under the current data version (the cheap probe). A miss is computed
    inside :meth:`~geo_service.store.core.StoreBase.pinned`: the version of its key and every
    read of ``produce`` come from one snapshot, so a commit of another process during the
    computation can no longer file data of the next version under this one. ``produce``
    must read ``store`` (the pinned one) and write nothing.
    """
    key = cache_key(request, store, principal)
    entry = cache.get(key)
    if entry is None:
        with store.pinned():
            pinned = cache_key(request, store, principal)
            if pinned != key:  # a commit between the two reads: look again, under the new key
                entry = cache.get(pinned)
            if entry is None:
                entry = cache.put(pinned, _json_bytes(produce()), media_type)
    return _entry_response(request, entry)


def layer_response(
    request: Request,
    store: Store,
    principal: Principal,
    cache: ResponseCache,
    layer: Layer,
    query: LayerQuery,
) -> Response:
    """Serve ``layer`` for ``query`` as ``principal`` may see it: cached GeoJSON with an ETag.

    Computed on one snapshot of the store (:func:`cached_store_response`).
    """
    return cached_store_response(
        request,
        cache,
        store,
        principal,
        lambda: layer_collection(request, store, layer, query, principal),
    )


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
    return _entry_response(request, entry)


def _entry_response(request: Request, entry: CachedBody) -> Response:
    """Answer with a cached body and its ETag; 304 when ``If-None-Match`` matches."""
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
