"""Prometheus metrics, the request id and the per-request log line.

:class:`Metrics` holds the service's instruments; :class:`RequestTelemetry` (outermost ASGI
middleware) gives every request an id, times it, counts it under its route *template* (never
the raw URL, so ids and query values do not multiply the series) and writes one log line.

Several workers (``serve --workers N``): prometheus_client's multiprocess mode. ``serve``
points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder before the workers start; each worker
writes its values to memory-mapped files there and ``/metrics`` (whichever worker answers)
adds up the files of all of them, so one scrape shows the whole service. Without that
variable (one process, the tests) each app keeps its own registry.
"""

from __future__ import annotations

import contextvars
import ipaddress
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client import multiprocess as prom_multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Environment variable of prometheus_client's multiprocess mode.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

#: The request id of the request being served (read by the problem+json bodies).
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

#: A client's ``X-Request-ID`` is kept only if it looks like an id: 8 to 64 of these.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")

#: Route label of requests that matched no route (404s of random paths stay one series).
UNMATCHED = "<unmatched>"

#: Latency buckets in seconds: cached answers take milliseconds, a fresh Gi* seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

access_log = logging.getLogger("geo_service.access")


def current_request_id() -> str | None:
    """Return the id of the request being served, or None outside a request."""
    return request_id_var.get()


def accept_request_id(value: str | None) -> str:
    """Return the client's request id if it is well formed, else a new one.

    Examples
    --------
    >>> accept_request_id("abc-12345")
    'abc-12345'
    >>> len(accept_request_id("bad id with spaces"))
    32
    """
    if value is not None and _REQUEST_ID.match(value):
        return value
    return uuid.uuid4().hex


def multiprocess_dir() -> str | None:
    """Return the folder of prometheus_client's multiprocess mode, or None when unset."""
    return os.environ.get(MULTIPROC_ENV) or None


class Metrics:
    """The service's Prometheus instruments.

    Series (all prefixed ``geo_service_``):

    * ``http_request_duration_seconds{route, method, status_class}``: a histogram; ``route``
      is the path template (``/ogc/collections/{collection_id}/items``), ``status_class``
      ``2xx`` .. ``5xx``; its ``_count`` is the number of requests.
    * ``cache_lookups_total{cache, result}``: ``cache`` is ``collection`` (computed layers)
      or ``response`` (rendered bodies), ``result`` ``hit`` or ``miss``.
    * ``ingest_rows_total{outcome}``: rows of uploads (``POST /api/v1/incidents``) that were
      ``stored`` or ``quarantined``, as the ingest report gives them. An ingest from the CLI
      runs in its own process and is not counted here (the data version shows its commit).
    * ``data_version``: the store's data version seen by the last request or poll.

    Parameters
    ----------
    multiproc_dir
        Folder of prometheus_client's multiprocess mode (``None``: one process, the app's
        own registry).
    """

    def __init__(self, multiproc_dir: str | None = None) -> None:
        self.multiproc_dir = multiproc_dir
        disable_created_metrics()  # no ``_created`` series: half the exposition, no use here
        # In multiprocess mode the values live in files; the instruments register nowhere
        # and a scrape reads the folder. Otherwise they register in this app's registry, so
        # two apps in one process (the tests) never share counts.
        self.registry = CollectorRegistry(auto_describe=True)
        own = None if multiproc_dir else self.registry
        self.requests = Histogram(
            "geo_service_http_request_duration_seconds",
            "Duration of HTTP requests by route template, method and status class.",
            ["route", "method", "status_class"],
            buckets=LATENCY_BUCKETS,
            registry=own,
        )
        self.cache = Counter(
            "geo_service_cache_lookups",
            "Lookups in the collection and response caches, by result.",
            ["cache", "result"],
            registry=own,
        )
        self.ingest_rows = Counter(
            "geo_service_ingest_rows",
            "Rows of uploaded incident files, stored or quarantined.",
            ["outcome"],
            registry=own,
        )
        self.data_version = Gauge(
            "geo_service_data_version",
            "The store's data version (it grows with every commit of data).",
            registry=own,
            multiprocess_mode="mostrecent",
        )
        for outcome in ("stored", "quarantined"):  # the series exist before the first upload
            self.ingest_rows.labels(outcome=outcome)

    def cache_hook(self, cache: Literal["collection", "response"]) -> Callable[[bool], None]:
        """Return a callback that counts one lookup in ``cache`` (True: a hit)."""
        hit = self.cache.labels(cache=cache, result="hit")
        miss = self.cache.labels(cache=cache, result="miss")

        def record(found: bool) -> None:
            (hit if found else miss).inc()

        return record

    def record_ingest(self, stored: int, quarantined: int) -> None:
        """Count the rows of one ingest report."""
        self.ingest_rows.labels(outcome="stored").inc(stored)
        self.ingest_rows.labels(outcome="quarantined").inc(quarantined)

    def set_data_version(self, version: str) -> None:
        """Set the data version gauge (a numeric version string; others are ignored)."""
        try:
            self.data_version.set(float(version))
        except ValueError:
            return

    def exposition(self) -> tuple[bytes, str]:
        """Return the metrics in the Prometheus text format and its content type."""
        if self.multiproc_dir:
            registry = CollectorRegistry()
            prom_multiprocess.MultiProcessCollector(registry, path=self.multiproc_dir)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def is_loopback(host: str | None) -> bool:
    """Return whether ``host`` (a client address) is a loopback address.

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("10.0.0.1")
    (True, True, False)
    >>> is_loopback("testclient")
    False
    """
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def route_template(scope: Scope) -> str:
    """Return the path template of the route that served ``scope`` (:data:`UNMATCHED`)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str) and path:
        return path
    return UNMATCHED


def _role(scope: Scope) -> str:
    state = scope.get("state") or {}
    principal = state.get("principal") if isinstance(state, dict) else None
    role = getattr(principal, "role", None)
    return str(role) if role else "-"


class RequestTelemetry:
    """Outermost middleware: request id, latency histogram and one log line per request.

    The id is the client's ``X-Request-ID`` when well formed (:func:`accept_request_id`),
    else a new one; it is echoed in the response header and, through
    :data:`request_id_var`, in problem+json bodies. The log line holds the time, id,
    method, route template, status, duration in ms and role: never the API key, the query
    string or the raw path (its ids could point at a person).

    Parameters
    ----------
    app
        The wrapped ASGI app.
    metrics
        Where the latencies go.
    log_format
        ``"json"`` (one JSON object a line) or ``"text"``.
    """

    def __init__(
        self, app: ASGIApp, *, metrics: Metrics, log_format: Literal["json", "text"] = "json"
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.log_format = log_format

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI call; HTTP requests get an id, a timing and a log line."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                given = value.decode("latin-1")
                break
        rid = accept_request_id(given)
        request_id_var.set(rid)
        status = 500
        header = (b"x-request-id", rid.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [h for h in message.get("headers", ()) if h[0].lower() != header[0]]
                message["headers"] = [*headers, header]
            await send(message)

        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            status = 500
            raise
        finally:
            elapsed = time.perf_counter() - start
            route = route_template(scope)
            method = str(scope.get("method", "-"))
            self.metrics.requests.labels(
                route=route, method=method, status_class=f"{status // 100}xx"
            ).observe(elapsed)
            self._log(rid, method, route, status, elapsed, _role(scope))

    def _log(
        self, rid: str, method: str, route: str, status: int, elapsed: float, role: str
    ) -> None:
        ms = round(elapsed * 1000, 2)
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        if self.log_format == "json":
            line = json.dumps(
                {
                    "time": now,
                    "request_id": rid,
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": ms,
                    "role": role,
                },
                separators=(",", ":"),
            )
        else:
            line = f"{now} {method} {route} {status} {ms}ms role={role} request_id={rid}"
        access_log.info(line)


def configure_access_log() -> None:
    """Give the access logger one stream handler writing the bare line (idempotent)."""
    if any(getattr(h, "_geo_access", False) for h in access_log.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler._geo_access = True  # type: ignore[attr-defined]
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False
