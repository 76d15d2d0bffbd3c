"""``HEAD`` wherever ``GET`` is allowed (RFC 9110 9.3.2).

FastAPI's routes answer only the methods they are declared with, so ``HEAD /kaart`` was a
405 while Starlette's static files answered it. :class:`HeadAsGet` runs a HEAD request as
the GET it stands for and sends that response's status and headers (``Content-Length`` and
``ETag`` included) without its body. A path without GET (an upload route) still answers 405,
because the GET it becomes is refused there. The OpenAPI document stays unchanged.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: ASGI extension that sends a file by path instead of body messages; off for HEAD so a
#: response always ends with a body message that can be emptied.
_PATHSEND = "http.response.pathsend"


class HeadAsGet:
    """Serve ``HEAD`` as ``GET`` without the body (see module docstring).

    Parameters
    ----------
    app
        The ASGI app to wrap; it sees a GET request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass everything but HEAD through; run HEAD as GET and drop the body."""
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        extensions = {k: v for k, v in scope.get("extensions", {}).items() if k != _PATHSEND}
        as_get = {**scope, "method": "GET", "extensions": extensions}

        async def headers_only(message: Message) -> None:
            if message["type"] in ("http.response.body", _PATHSEND):
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(as_get, receive, headers_only)
