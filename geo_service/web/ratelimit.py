"""A request budget per client for callers without an API key (defence in depth).

Viewer answers are protected one by one (:mod:`geo_service.web.policy`); an attacker who
differences many answers (periods, areas, categories) needs many requests. Anonymous callers
get a token bucket per client address: ``burst`` requests at once, refilled at
``requests / window_s`` per second. Over it the answer is 429 problem+json with
``Retry-After``, and the refusal is logged. Callers with a key are not limited (they are known
and audited); nor are static files (page assets, no data).

Clients are told apart by ``scope["client"]``: behind a reverse proxy not on loopback, set
``FORWARDED_ALLOW_IPS`` (uvicorn) to the proxy so that it is the caller's address. IPv6 callers
share a bucket per /64 network: one host usually holds a whole /64, and could otherwise take a
fresh address (and a full bucket) for every request.

References
----------
Token bucket: J. Turner, "New directions in communications (or which way to the information
age?)", IEEE Communications Magazine 24(10), 1986.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie

from starlette.types import ASGIApp, Receive, Scope, Send

from geo_service.config import Settings
from geo_service.web.errors import problem
from geo_service.web.session import SESSION_COOKIE, read_session

log = logging.getLogger(__name__)

#: Paths never counted: page assets, which hold no data.
EXEMPT_PREFIXES = ("/static/",)


class RequestBudget:
    """Token buckets keyed by client, bounded in number (least recently seen go first).

    Parameters
    ----------
    requests, window_s
        Refill rate: ``requests`` per ``window_s`` seconds.
    burst
        Bucket size: requests a new (or long quiet) client may make at once.
    max_clients
        Buckets kept; forgetting a client gives it a full bucket, so keep this above the
        number of clients seen in one window.
    clock
        Seconds, monotonic (tests pass a fake one).

    Examples
    --------
    >>> now = [0.0]
    >>> budget = RequestBudget(requests=1, window_s=10, burst=2, clock=lambda: now[0])
    >>> [budget.take("a"), budget.take("a"), budget.take("a")]
    [0.0, 0.0, 10.0]
    >>> now[0] = 10.0
    >>> budget.take("a"), budget.take("b")
    (0.0, 0.0)
    """

    def __init__(
        self,
        requests: int,
        window_s: float,
        burst: int,
        *,
        max_clients: int = 65_536,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if requests < 1 or window_s <= 0 or burst < 1 or max_clients < 1:
            raise ValueError(
                f"budget needs requests, burst, max_clients >= 1 and window_s > 0, got "
                f"{requests!r}, {burst!r}, {max_clients!r}, {window_s!r}"
            )
        self.rate_per_s = requests / window_s
        self.burst = float(burst)
        self._max = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """Spend one request of ``client``'s budget.

        Returns
        -------
        float
            0 when the request may go ahead, else the seconds until it would.
        """
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate_per_s)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate_per_s
            self._buckets[client] = (tokens - 1 if wait == 0 else tokens, now)
            while len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)


def client_key(scope: Scope) -> str:
    """Return the budget key of a request: its client address, IPv6 by /64 network.

    Examples
    --------
    >>> client_key({"client": ("2001:db8:1:2:aaaa::1", 4711)})
    '2001:db8:1:2::/64'
    >>> client_key({"client": ("::ffff:192.0.2.7", 4711)}), client_key({"client": None})
    ('192.0.2.7', 'unknown')
    """
    client = scope.get("client")
    if not client:
        return "unknown"
    host = str(client[0])
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # a name (test clients, unix sockets)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


def _has_key(scope: Scope) -> bool:
    if any(name in (b"x-api-key", b"authorization") for name, _ in scope["headers"]):
        return True
    return _has_session(scope)


def _has_session(scope: Scope) -> bool:
    """Whether the request carries a page session cookie this server signed.

    Only the HMAC is checked (no store lookup): signed-in analysts behind one office address
    must not share the anonymous budget; a forged cookie fails the check and is counted.
    """
    app = scope.get("app")
    secret = getattr(getattr(app, "state", None), "session_secret", None)
    if not secret:
        return False
    for name, value in scope["headers"]:
        if name == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except CookieError:
                return False
            morsel = jar.get(SESSION_COOKIE)
            return morsel is not None and read_session(secret, morsel.value) is not None
    return False


class AnonymousBudget:
    """ASGI middleware: 429 for anonymous clients past their budget (see module docstring)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.budget = RequestBudget(
            settings.anonymous_budget_requests,
            settings.anonymous_budget_window_s,
            settings.anonymous_budget_burst,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count anonymous HTTP requests; refuse the ones past the budget."""
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(EXEMPT_PREFIXES) or _has_key(scope):
            await self.app(scope, receive, send)
            return
        client = client_key(scope)
        wait = self.budget.take(client)
        if wait == 0:
            await self.app(scope, receive, send)
            return
        retry = max(1, math.ceil(wait))
        log.warning(
            "request budget: refused anonymous %s %s from %s (retry after %d s)",
            scope["method"],
            path,
            client,
            retry,
        )
        response = problem(
            429,
            f"Te veel verzoeken zonder API-sleutel vanaf dit adres; probeer het over {retry} s "
            f"opnieuw of gebruik een API-sleutel / too many requests without an API key from "
            f"this address; retry after {retry} s",
            instance=path,
        )
        response.headers["Retry-After"] = str(retry)
        await response(scope, receive, send)
