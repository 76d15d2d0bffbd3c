"""Sign-in and sign-out of the pages: ``/inloggen`` and ``/uitloggen``.

``GET /inloggen`` shows a form with one field, ``sleutel`` (an API key), and a hidden CSRF
token; ``POST /inloggen`` checks the token and the key, opens a session in the store and sets
its cookie (:mod:`geo_service.web.session`), then sends the browser on to ``naar`` (a path on
this site). ``POST /uitloggen`` (with the token) ends the session in the store and removes the
cookie; ``GET /uitloggen`` shows the button. Every key use is audited: the sign-in as
``key.use`` and ``session.login``, each page opened with the session as ``key.use``, the
sign-out as ``session.logout``, a refused key as ``session.refused`` (without the key).
"""

from __future__ import annotations

import hmac
import json
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from geo_service.config import Settings
from geo_service.errors import AuthenticationError, CsrfError, PageNotFoundError
from geo_service.store import Store
from geo_service.web import oidc
from geo_service.web.auth import Principal, authenticate
from geo_service.web.deps import SettingsDep, StoreDep, get_principal
from geo_service.web.pages.context import reject_unknown_page_params
from geo_service.web.pages.templating import render_page
from geo_service.web.session import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    clear_cookie,
    csrf_ok,
    ensure_csrf_nonce,
    read_value,
    safe_next,
    session_id,
    set_cookie,
    sign_session,
    sign_value,
)

router = APIRouter(include_in_schema=False, dependencies=[Depends(reject_unknown_page_params)])

#: The CSRF cookie of the sign-in form lives as long as a person may take to fill it in.
CSRF_MAX_AGE_S = 2 * 3600
CSRF_REFUSED = (
    "Dit formulier is verlopen of komt niet van deze site (controlecode ontbreekt of klopt "
    "niet). Laad de pagina opnieuw en probeer het nog eens."
)

Field = Annotated[str | None, Form(max_length=1000)]


def _optional_principal(request: Request, store: Store, settings: Settings) -> Principal | None:
    """Return the caller as the pages see them, or None where that is refused (no anonymous role).

    The sign-in pages must open for everyone, also when anonymous requests are refused.
    """
    headers = request.headers
    try:
        return get_principal(
            request, store, settings, headers.get("x-api-key"), headers.get("authorization")
        )
    except AuthenticationError:
        return None


def _page(
    request: Request,
    settings: Any,
    *,
    next_path: str,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    nonce = ensure_csrf_nonce(request)
    context = {
        "title": "Inloggen",
        "active": "/inloggen",
        "demo": False,
        "caption": None,
        "error": error,
        "notice": notice,
        "next": next_path,
        "hours": round(settings.session_max_age_s / 3600, 1),
        "oidc": oidc.configured(settings),
    }
    response = render_page(request, "inloggen.html", context, status_code=status_code)
    if nonce is not None:
        set_cookie(response, request, settings, CSRF_COOKIE, nonce, CSRF_MAX_AGE_S)
    return response


@router.get("/inloggen", response_class=HTMLResponse)
def signin_form(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    naar: Annotated[str | None, Query(max_length=1000)] = None,
) -> HTMLResponse:
    """Show the sign-in form (a key field and the CSRF token)."""
    principal = _optional_principal(request, store, settings)
    notice = (
        f"U bent al aangemeld ({principal.actor}); met een nieuwe aanmelding vervangt u deze."
        if principal is not None and principal.session
        else None
    )
    return _page(request, settings, next_path=safe_next(naar), notice=notice)


# -- OpenID Connect (optional) ---------------------------------------------------------------

#: Providers add parameters of their own to the redirect back (session_state, iss, ...), so
#: these routes do not refuse unknown parameters.
oidc_router = APIRouter(include_in_schema=False)
OIDC_COOKIE = "gs_oidc"
OIDC_COOKIE_PATH = "/inloggen/oidc"
OIDC_MAX_AGE_S = 600
OIDC_EXPIRED = (
    "De aanmelding via de organisatie is verlopen of niet op deze site begonnen. Probeer het "
    "opnieuw."
)


def _redirect_uri(request: Request, settings: Settings) -> str:
    base = settings.public_url or str(request.base_url)
    return base.rstrip("/") + "/inloggen/oidc/terug"


def _provider(request: Request, settings: Settings) -> oidc.Provider:
    return oidc.Provider(settings, getattr(request.app.state, "oidc_transport", None))


@oidc_router.get("/inloggen/oidc")
def oidc_start(
    request: Request,
    settings: SettingsDep,
    naar: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    """Send the browser to the identity provider (step 1: state, nonce, PKCE challenge).

    Raises
    ------
    PageNotFoundError
        OpenID Connect is not configured.
    """
    if not oidc.configured(settings):
        raise PageNotFoundError("Inloggen via de organisatie is voor deze dienst niet ingesteld.")
    flow = oidc.Flow.new(safe_next(naar))
    url = _provider(request, settings).authorization_url(flow, _redirect_uri(request, settings))
    response = RedirectResponse(url, status_code=303)
    value = sign_value(request.app.state.session_secret, "oidc", json.dumps(asdict(flow)))
    set_cookie(
        response,
        request,
        settings,
        OIDC_COOKIE,
        value,
        OIDC_MAX_AGE_S,
        samesite="lax",
        path=OIDC_COOKIE_PATH,
    )
    return response


@oidc_router.get("/inloggen/oidc/terug", response_class=HTMLResponse)
def oidc_back(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    code: Annotated[str | None, Query(max_length=4000)] = None,
    state: Annotated[str | None, Query(max_length=500)] = None,
    error: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    """Check ``state``, verify the provider's ID token, open a session (steps 2-3).

    The session cookie is set on a page that goes on to ``naar`` itself: the browser arrived
    from the provider's site, and a SameSite=Strict cookie is only sent on a navigation that
    starts on this site.

    Raises
    ------
    CsrfError
        No flow cookie, or ``state`` is not the flow's (403).
    OidcError
        The provider refused, or its ID token is not valid (401).
    NoRoleError
        The account is in none of the configured groups (403).
    """
    if not oidc.configured(settings):
        raise PageNotFoundError("Inloggen via de organisatie is voor deze dienst niet ingesteld.")
    raw = read_value(request.app.state.session_secret, "oidc", request.cookies.get(OIDC_COOKIE))
    if raw is None or not state:
        raise CsrfError(OIDC_EXPIRED)
    flow = oidc.Flow(**json.loads(raw))
    if not hmac.compare_digest(state, flow.state):
        raise CsrfError(OIDC_EXPIRED)
    if error or not code:
        raise oidc.OidcError(
            "the identity provider gave no access / de organisatie-login gaf geen toegang"
        )
    try:
        identity = _provider(request, settings).identity(
            code, flow, _redirect_uri(request, settings)
        )
    except (oidc.OidcError, oidc.NoRoleError) as exc:
        store.audit("anonymous", None, "session.refused", {"via": "oidc", "reason": str(exc)})
        raise
    old = session_id(request)
    if old is not None:
        store.end_session(old)
    sid = store.open_session(
        None, settings.session_max_age_s, actor=identity.actor, role=identity.role
    )
    store.audit(
        identity.actor, identity.role, "session.login", {"via": "oidc", "groups": identity.groups}
    )
    request.state.principal = Principal(actor=identity.actor, role=identity.role, session=True)
    context = {
        "title": "Aangemeld",
        "active": "/inloggen",
        "demo": False,
        "caption": None,
        "next": flow.next_path,
    }
    response = render_page(request, "aangemeld.html", context)
    cookie = sign_session(request.app.state.session_secret, sid)
    set_cookie(response, request, settings, SESSION_COOKIE, cookie, settings.session_max_age_s)
    response.delete_cookie(OIDC_COOKIE, path=OIDC_COOKIE_PATH)
    return response


@router.post("/inloggen", response_class=HTMLResponse)
def signin(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    sleutel: Field = None,
    csrf: Field = None,
    naar: Field = None,
) -> Response:
    """Check the CSRF token and the key; open a session and go on to ``naar``.

    Raises
    ------
    CsrfError
        The form came without this browser's token (403, Dutch page).
    """
    if not csrf_ok(request, csrf):
        raise CsrfError(CSRF_REFUSED)
    target = safe_next(naar)
    key = (sleutel or "").strip()
    try:
        if not key:
            raise AuthenticationError("no key")
        principal = authenticate(store, settings, key, path=request.url.path)
    except AuthenticationError:
        store.audit("anonymous", None, "session.refused", {"path": request.url.path})
        return _page(
            request,
            settings,
            next_path=target,
            error="Deze sleutel is onbekend of ingetrokken. Controleer de sleutel en probeer "
            "het opnieuw.",
            status_code=401,
        )
    assert principal.key_id is not None  # noqa: S101 - authenticate gives a key id with a key
    old = session_id(request)
    if old is not None:  # signing in again replaces the earlier session
        store.end_session(old)
    sid = store.open_session(principal.key_id, settings.session_max_age_s)
    store.audit(principal.actor, principal.role, "session.login", {"key_id": principal.key_id})
    response = RedirectResponse(target, status_code=303)
    cookie = sign_session(request.app.state.session_secret, sid)
    set_cookie(response, request, settings, SESSION_COOKIE, cookie, settings.session_max_age_s)
    return response


@router.get("/uitloggen", response_class=HTMLResponse)
def signout_form(request: Request, store: StoreDep, settings: SettingsDep) -> HTMLResponse:
    """Show the sign-out button (signing out changes something, so it is a POST form)."""
    principal = _optional_principal(request, store, settings)  # also for the page header
    signed_in = principal is not None and principal.session
    context = {"title": "Uitloggen", "active": "/uitloggen", "demo": False, "caption": None}
    return render_page(
        request, "uitloggen.html", {**context, "ended": False, "signed_in": signed_in}
    )


@router.post("/uitloggen", response_class=HTMLResponse)
def signout(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    csrf: Field = None,
) -> HTMLResponse:
    """End the session in the store and remove its cookie (the CSRF token is required).

    Raises
    ------
    CsrfError
        The form came without the session's token (403, Dutch page).
    """
    if not csrf_ok(request, csrf):
        raise CsrfError(CSRF_REFUSED)
    principal = _optional_principal(request, store, settings)
    sid = session_id(request)
    if sid is not None and store.end_session(sid) and principal is not None:
        store.audit(principal.actor, principal.role, "session.logout", {"key_id": principal.key_id})
    request.state.principal = None
    request.state.session_id = None
    context = {"title": "Uitgelogd", "active": "/uitloggen", "demo": False, "caption": None}
    response = render_page(request, "uitloggen.html", {**context, "ended": True})
    clear_cookie(response, request, settings, SESSION_COOKIE)
    return response
