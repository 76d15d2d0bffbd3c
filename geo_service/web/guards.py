"""ASGI guards that must act before FastAPI reads a request: uploads and the Host header.

* :class:`UploadGuard`: an upload is authenticated (admin) and its declared size checked
  *before* a byte of the body is read, and a body that streams past the limit is cut off
  with 413 -- an anonymous 1 GB POST used to be spooled to disk before its 401.
* :class:`HostGuard`: without a configured public URL, a request whose ``Host`` is not on the
  allow-list is refused (400), so links the service writes (OGC ``self``/``next``) can never
  point at a host an attacker chose.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo_service.config import Settings
from geo_service.errors import GeoServiceError
from geo_service.store import Store
from geo_service.web.auth import authenticate, extract_secret, require
from geo_service.web.errors import problem, status_for

UPLOAD_PATHS = frozenset({"/api/v1/incidents"})


class _TooLargeError(Exception):
    """The body streamed past the upload limit."""


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
    response = problem(status, detail, instance=scope.get("path"))
    # The client may still be sending: tell it the connection ends here.
    response.headers["Connection"] = "close"
    await response(scope, receive, send)


class UploadGuard:
    """Authenticate and size-check uploads before the body is read (see module docstring)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Guard POSTs to the upload paths; pass everything else through."""
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] not in UPLOAD_PATHS
        ):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        limit = self.settings.max_upload_bytes
        try:
            root: Store = scope["app"].state.store
            store = root.cursor()
            try:
                secret = extract_secret(headers.get("x-api-key"), headers.get("authorization"))
                principal = authenticate(store, self.settings, secret, path=scope["path"])
                require(principal, "admin")
            finally:
                store.close()
        except GeoServiceError as exc:
            await _refuse(scope, receive, send, status_for(exc), str(exc))
            return
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(
                scope,
                receive,
                send,
                413,
                f"upload larger than {limit:,} bytes / bestand is groter dan {limit:,} bytes",
            )
            return
        received = 0
        exceeded = False
        too_large = f"upload larger than {limit:,} bytes / bestand is groter dan {limit:,} bytes"

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLargeError
            return message

        async def guarded_send(message: Message) -> None:
            # FastAPI turns any error while parsing a body into 400: past the limit, the
            # answer is ours (413) and the app's is dropped.
            if not exceeded:
                await send(message)
            elif message["type"] == "http.response.start":
                await _refuse(scope, limited_receive, send, 413, too_large)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLargeError:
            await _refuse(scope, limited_receive, send, 413, too_large)


class HostGuard:
    """Refuse requests whose Host is not allowed, unless a public URL is configured."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.allowed = {h.lower() for h in settings.allowed_hosts}
        self.public = bool(settings.public_url)

    def _ok(self, host: str) -> bool:
        name = host.lower()
        if name.startswith("["):
            name = name.split("]")[0] + "]"
        elif name.count(":") == 1:
            name = name.split(":")[0]
        return "*" in self.allowed or name in self.allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a disallowed Host with 400; pass everything else through."""
        if scope["type"] == "http" and not self.public:
            host = _headers(scope).get("host", "")
            if not self._ok(host):
                await _refuse(
                    scope,
                    receive,
                    send,
                    400,
                    "unknown Host header; set GEO_SERVICE_PUBLIC_URL or GEO_SERVICE_ALLOWED_HOSTS "
                    "/ onbekende host",
                )
                return
        await self.app(scope, receive, send)


def base_url(settings: Settings, request: Any) -> str:
    """Return the URL the service's own links start with (public URL, else the checked Host)."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return str(request.base_url).rstrip("/")
