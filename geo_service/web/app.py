"""The application factory.

Nothing is created at import: :func:`create_app` takes (or reads) the settings and
the DuckDB store is opened in the lifespan. One connection is opened for the app;
each request works on its own cursor (see :func:`geo_service.web.deps.get_store`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from geo_service import __version__
from geo_service.config import Settings, get_settings
from geo_service.errors import AuthorizationError
from geo_service.store import Store
from geo_service.store.core import redact
from geo_service.web import licence, session
from geo_service.web.api import docs as api_docs
from geo_service.web.api import keys as api_keys
from geo_service.web.api import routes as api
from geo_service.web.auth import require
from geo_service.web.cache import ResponseCache
from geo_service.web.deps import PrincipalDep
from geo_service.web.errors import install_error_handlers
from geo_service.web.guards import HostGuard, UploadGuard
from geo_service.web.head import HeadAsGet
from geo_service.web.metrics import (
    Metrics,
    RequestTelemetry,
    configure_access_log,
    is_loopback,
    multiprocess_dir,
)
from geo_service.web.ogc import features as ogc
from geo_service.web.pages import maps as pages
from geo_service.web.pages import signin
from geo_service.web.pages import targeting as targeting_pages
from geo_service.web.pages import veiligheidskaart as veiligheidskaart_page
from geo_service.web.ratelimit import AnonymousBudget
from geo_service.web.service import CollectionCache, follow_data_version, warm_up
from geo_service.web.uploads import clean_stale_upload_dirs

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas (one per thread by default) before the thread pool starts.

    Forty request threads each touching large numpy arrays otherwise leave the process with
    forty fragmented heaps: RSS grew past 1.3 GB under the load benchmark. Returns whether
    the cap was applied (False off glibc).
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        m_arena_max = -8  # <malloc.h>
        return bool(libc.mallopt(m_arena_max, arenas))
    except (OSError, AttributeError):
        return False


def _metrics_response(app: FastAPI) -> Response:
    """Render the metrics, with the data version read from the store now."""
    metrics: Metrics = app.state.metrics
    # An unreachable store must not hide the other metrics (/ready reports it).
    with contextlib.suppress(Exception):
        metrics.set_data_version(app.state.store.cursor().data_version())
    body, media_type = metrics.exposition()
    return Response(content=body, media_type=media_type)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the FastAPI app.

    Parameters
    ----------
    settings
        Configuration; ``None`` reads it from the environment (``GEO_SERVICE_*``).

    Returns
    -------
    FastAPI
        The app; its store opens when the app starts (lifespan) and closes on shutdown.
    """
    cfg = settings if settings is not None else get_settings()
    limit_malloc_arenas()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        clean_stale_upload_dirs(max_age_s=cfg.stale_upload_age_s)  # after a kill -9 mid-upload
        store = Store.open(cfg.db)
        app.state.store = store
        app.state.session_secret = session.resolve_secret(store, cfg)
        stop = threading.Event()
        if cfg.warm_up:
            threading.Thread(target=warm_up, args=(app,), name="warm-up", daemon=True).start()
        if store.location.shared:
            threading.Thread(
                target=follow_data_version,
                args=(app, stop),
                kwargs={"interval_s": cfg.data_version_poll_s},
                name="data-version",
                daemon=True,
            ).start()
        try:
            yield
        finally:
            stop.set()
            store.close()

    app = FastAPI(
        title="Hotspots en gebiedsgerichte aanpak",
        description=(
            "Hotspots (Getis-Ord Gi*, kerndichtheid) per H3-zeshoek, wijken, buurten en camera's "
            "voor gemeentelijk veiligheidsbeleid. "
            "Hotspot service for Dutch municipal safety policy. "
            "Roles: viewer (aggregates, counts below k suppressed), "
            "analyst (exact counts, incident "
            "points), admin (ingest). Send a key as `X-API-Key` or `Authorization: Bearer`; "
            "the API takes header keys only (the HTML pages also take the session of /inloggen)."
        ),
        version=__version__,
        lifespan=lifespan,
        # /docs and /redoc are api_docs' routes, on vendored assets instead of FastAPI's CDN.
        docs_url=None,
        redoc_url=None,
        license_info=licence.LICENSE_INFO,
    )
    app.state.settings = cfg
    metrics = Metrics(multiprocess_dir())
    app.state.metrics = metrics
    app.state.cache = ResponseCache(
        max_entries=4096, max_bytes=cfg.cache_max_bytes, on_lookup=metrics.cache_hook("response")
    )
    app.state.write_lock = threading.Lock()
    app.state.collections = CollectionCache(
        max_entries=32, workers=cfg.compute_workers, on_lookup=metrics.cache_hook("collection")
    )
    install_error_handlers(app)
    app.include_router(api.router)
    app.include_router(api_keys.router)  # the one-time bootstrap of the first admin key
    app.include_router(signin.router)  # /inloggen, /uitloggen: sessions for the pages
    app.include_router(signin.oidc_router)  # /inloggen/oidc: optional OpenID Connect
    app.include_router(ogc.router)
    app.include_router(pages.router)
    app.include_router(targeting_pages.router)  # /driehoek, /cameras, /api/v1 targeting layers
    app.include_router(veiligheidskaart_page.router)  # /veiligheidskaart (and its PDF's HTML)
    app.include_router(licence.router)
    app.include_router(api_docs.router)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(url="/kaart")

    @app.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        """Say that the process is up (without touching the store: see ``/ready``)."""
        return {"status": "ok"}

    @app.get("/ready", tags=["service"], response_model=None)
    def ready() -> JSONResponse | dict[str, str]:
        """Say whether the store is reachable, with its data version and kind (503 if not)."""
        try:
            store = app.state.store.cursor()
            version = store.data_version()
        except Exception as exc:  # any failure means "not ready"
            detail = redact(str(exc)).splitlines()[0] if str(exc) else type(exc).__name__
            return JSONResponse(
                status_code=503,
                content={"status": "niet gereed", "detail": f"opslag niet bereikbaar: {detail}"},
            )
        return {
            "status": "ready",
            "data_version": version,
            "store": app.state.store.location.kind,
        }

    if cfg.metrics_access == "loopback":

        @app.get("/metrics", tags=["service"], include_in_schema=False)
        def metrics_loopback(request: Request) -> Response:
            """Prometheus metrics, for callers on this machine only (``metrics_access``)."""
            client = request.client.host if request.client else None
            if not is_loopback(client):
                raise AuthorizationError(
                    "metrics are readable from this machine only / de metrieken zijn alleen "
                    "vanaf deze machine te lezen"
                )
            return _metrics_response(app)

    else:

        @app.get("/metrics", tags=["service"], include_in_schema=False)
        def metrics_admin(principal: PrincipalDep) -> Response:
            """Prometheus metrics, for an admin key (``metrics_access = admin``)."""
            require(principal, "admin")
            return _metrics_response(app)

    # Outermost last: HEAD becomes GET first (so every answer to it loses its body), then
    # the anonymous request budget (the cheapest refusal), the Host check, the upload guard.
    app.add_middleware(UploadGuard, settings=cfg)
    app.add_middleware(HostGuard, settings=cfg)
    if cfg.anonymous_budget_requests:
        app.add_middleware(AnonymousBudget, settings=cfg)
    app.add_middleware(HeadAsGet)
    # Outermost of all: every answer (a 429, a refused Host, a 500) gets an id and a log line.
    configure_access_log()
    app.add_middleware(RequestTelemetry, metrics=metrics, log_format=cfg.log_format)
    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
