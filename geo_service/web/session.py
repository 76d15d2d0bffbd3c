"""Sign-in for the HTML pages: a session cookie opened with an API key, and CSRF tokens.

A browser cannot send ``X-API-Key``, so ``/inloggen`` takes a key in a form and opens a
session (:meth:`geo_service.store.auth.AuthStore.open_session`): a random id whose SHA-256
the store keeps, with the key it was opened with and an expiry. The cookie holds the id and
an HMAC of it under the server's session secret::

    cookie = id "." hex(HMAC-SHA256(secret, "sessie|" + id))

A session has no rights of its own: every request reads the key's role again, so revoking
the key ends its sessions at once, and ``/uitloggen`` ends the session in the store (a copy
of the cookie is worthless after it). Only the pages accept the cookie; the JSON API takes
header keys only, so no cross-site form can reach it with a browser's session.

CSRF (signed double submit, OWASP Cross-Site Request Forgery Prevention Cheat Sheet): every
form that changes something carries a hidden field ``csrf`` that must equal
``hex(HMAC-SHA256(secret, "csrf|" + binding))``. The binding is the session id when a session
is open, else the random value of the ``gs_csrf`` cookie that the sign-in form sets (either
is accepted). Another
site can neither read the token nor make one for a cookie it planted, since it lacks the
secret. Cookies are ``HttpOnly``, ``SameSite=Strict``, ``Path=/`` and ``Secure`` when the
request came over TLS (directly, ``X-Forwarded-Proto: https`` from a proxy, or an https
``public_url``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from typing import Final, Literal

from fastapi import Request, Response

from geo_service.config import Settings
from geo_service.store import Store

log = logging.getLogger(__name__)

SESSION_COOKIE: Final = "gs_sessie"
CSRF_COOKIE: Final = "gs_csrf"
CSRF_FIELD: Final = "csrf"
#: Key of the generated secret in the store's ``meta`` table.
SECRET_META_KEY: Final = "session_secret"  # noqa: S105 - a table key, not a secret


def resolve_secret(store: Store, settings: Settings) -> bytes:
    """Return the secret that signs cookies: the configured one, else the store's own.

    Without ``GEO_SERVICE_SESSION_SECRET`` a random secret is made at the first start and
    kept in the store's ``meta`` table, so sessions survive a restart and every worker process
    on the same store signs alike.
    """
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value().encode("utf-8")
    value = store.meta(SECRET_META_KEY)
    if value is None:
        # Several workers may start at once on a new store: one secret wins for all of them.
        value = store.meta_or_set(SECRET_META_KEY, secrets.token_hex(32))
        log.info("session secret kept in the store")
    return value.encode("utf-8")


def _mac(secret: bytes, purpose: str, value: str) -> str:
    return hmac.new(secret, f"{purpose}|{value}".encode(), hashlib.sha256).hexdigest()


def _secret(request: Request) -> bytes:
    secret: bytes = request.app.state.session_secret
    return secret


def sign_value(secret: bytes, purpose: str, value: str) -> str:
    """Return ``base64url(value).hmac``: a cookie value only this server can make.

    Examples
    --------
    >>> signed = sign_value(b"s", "oidc", '{"a": 1}')
    >>> read_value(b"s", "oidc", signed), read_value(b"s", "sessie", signed)
    ('{"a": 1}', None)
    """
    encoded = base64.urlsafe_b64encode(value.encode("utf-8")).decode("ascii").rstrip("=")
    return f"{encoded}.{_mac(secret, purpose, encoded)}"


def read_value(secret: bytes, purpose: str, signed: str | None) -> str | None:
    """Return the value of :func:`sign_value`'s output when its HMAC is right, else None."""
    if not signed or "." not in signed:
        return None
    encoded, _, mac = signed.rpartition(".")
    if not hmac.compare_digest(mac, _mac(secret, purpose, encoded)):
        return None
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


def sign_session(secret: bytes, session_id: str) -> str:
    """Return the cookie value of a session id: ``id.hmac``."""
    return f"{session_id}.{_mac(secret, 'sessie', session_id)}"


def read_session(secret: bytes, cookie: str | None) -> str | None:
    """Return the session id of a cookie value whose HMAC is right, else None.

    Examples
    --------
    >>> value = sign_session(b"s", "abc")
    >>> read_session(b"s", value), read_session(b"other", value), read_session(b"s", "abc.00")
    ('abc', None, None)
    """
    if not cookie or "." not in cookie:
        return None
    session_id, _, mac = cookie.rpartition(".")
    if not session_id or not hmac.compare_digest(mac, _mac(secret, "sessie", session_id)):
        return None
    return session_id


def session_id(request: Request) -> str | None:
    """Return the (signed) session id the request's cookie names, or None."""
    cookie = request.cookies.get(SESSION_COOKIE)
    return read_session(_secret(request), cookie) if cookie else None


def _bindings(request: Request) -> list[str]:
    """Return what this request's CSRF token may be bound to: the session id, the gs_csrf value.

    Both come from cookies only this server can have made valid (the session's HMAC) or that
    another site cannot read (``gs_csrf``), so a token for either is this browser's.
    """
    found = []
    sid = session_id(request)
    if sid:
        found.append(sid)
    nonce = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf_nonce", None)
    if nonce:
        found.append(str(nonce))
    return found


def csrf_token(request: Request) -> str:
    """Return the CSRF token the forms of this page carry ('' when none can be made)."""
    bindings = _bindings(request)
    return _mac(_secret(request), "csrf", bindings[0]) if bindings else ""


def csrf_ok(request: Request, token: str | None) -> bool:
    """Return whether ``token`` is a CSRF token of this browser (constant-time comparison)."""
    if not token:
        return False
    secret = _secret(request)
    return any(
        hmac.compare_digest(_mac(secret, "csrf", binding), str(token))
        for binding in _bindings(request)
    )


def ensure_csrf_nonce(request: Request) -> str | None:
    """Make a new ``gs_csrf`` value for the sign-in form when the browser has none.

    Returns the new value (to set as a cookie on the response) or None when one exists.
    """
    if request.cookies.get(CSRF_COOKIE):
        return None
    nonce = secrets.token_urlsafe(24)
    request.state.csrf_nonce = nonce
    return nonce


def is_tls(request: Request, settings: Settings) -> bool:
    """Return whether the browser reached us over https (cookies then get ``Secure``)."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return (
        request.url.scheme == "https"
        or forwarded == "https"
        or (settings.public_url or "").lower().startswith("https://")
    )


def set_cookie(
    response: Response,
    request: Request,
    settings: Settings,
    name: str,
    value: str,
    max_age: int,
    *,
    samesite: Literal["strict", "lax"] = "strict",
    path: str = "/",
) -> None:
    """Set an HttpOnly, SameSite=Strict cookie (Secure over TLS) for the whole site.

    ``samesite="lax"`` only for the OpenID Connect flow's cookie, which must come back on
    the provider's redirect (a top-level navigation from another site).
    """
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite=samesite,
        secure=is_tls(request, settings),
    )


def clear_cookie(response: Response, request: Request, settings: Settings, name: str) -> None:
    """Remove a cookie set by :func:`set_cookie`."""
    response.delete_cookie(
        name, path="/", httponly=True, samesite="strict", secure=is_tls(request, settings)
    )


def safe_next(target: str | None, default: str = "/kaart") -> str:
    """Return ``target`` when it is a path on this site, else ``default`` (no open redirect).

    Examples
    --------
    >>> safe_next("/cameras?municipality=GM0518"), safe_next("//evil.example"), safe_next(None)
    ('/cameras?municipality=GM0518', '/kaart', '/kaart')
    >>> safe_next("https://evil.example/")
    '/kaart'
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(c in target for c in "\r\n\t\\") or len(target) > 1000:
        return default
    return target
