"""Dutch HTML error pages for the map pages (``/kaart``, ``/overzicht``, ``/vergelijk``).

The API answers ``application/problem+json`` (:mod:`geo_service.web.errors`); a person who
follows a link to a map page gets a page in Dutch instead, that says what to change, with a
way back -- never a stack trace, an English parser message or a developer command. The
handlers in :mod:`geo_service.web.errors` call :func:`page_error_response` for these paths.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from geo_service.errors import (
    AuthenticationError,
    AuthorizationError,
    CsrfError,
    NotFoundError,
    PageInputError,
    PageNotFoundError,
)
from geo_service.web.auth import SignInRequiredError
from geo_service.web.oidc import NoRoleError, OidcError
from geo_service.web.pages.templating import render_page
from spatial.errors import EmptyStudyAreaError, InvalidParameterError, TooManyCellsError

#: Path prefixes answered with HTML pages (and HTML errors).
PAGE_PREFIXES = (
    "/kaart",
    "/overzicht",
    "/vergelijk",
    "/waarschuwingszones",
    "/driehoek",
    "/cameras",
    "/veiligheidskaart",
    "/inloggen",
    "/uitloggen",
)


def is_page(path: str) -> bool:
    """Return whether ``path`` is one of the HTML pages (or a download from one).

    Examples
    --------
    >>> [is_page(p) for p in ("/kaart", "/kaart/kaartlaag", "/overzicht.csv", "/api/v1/x")]
    [True, True, True, False]
    >>> is_page("/kaarten")
    False
    """
    return any(is_page_of(path, p) for p in PAGE_PREFIXES)


#: What a download of a page ends in: its errors are problem+json like the API's, for the
#: script or GIS that fetched it, not an HTML page saved under a data file's name.
DOWNLOAD_SUFFIXES = (".csv", ".geojson", ".gpkg", ".json", ".zip")


def is_html_page(path: str) -> bool:
    """Return whether an error on ``path`` is answered with the Dutch HTML error page.

    The pages are (:func:`is_page`), their data downloads (:data:`DOWNLOAD_SUFFIXES`) are not.

    Examples
    --------
    >>> [is_html_page(p) for p in ("/kaart", "/kaart/kaartlaag.geojson", "/overzicht.csv")]
    [True, False, False]
    """
    return is_page(path) and not path.endswith(DOWNLOAD_SUFFIXES)


def is_page_of(path: str, prefix: str) -> bool:
    """Return whether ``path`` is the page ``prefix`` or below it."""
    return path == prefix or path.startswith((prefix + "/", prefix + "."))


#: Form fields by query parameter name, as the form labels them.
FIELD_LABELS = {
    "municipality": "Gemeente",
    "category": "Soort incident",
    "start": "Van",
    "end": "Tot en met",
    "compare_start": "Eerdere periode van",
    "compare_end": "Eerdere periode tot en met",
    "res": "Zeshoekgrootte",
    "method": "Methode",
    "level": "Gebieden",
    "years": "Hele jaren",
    "categories": "Soorten incident",
    "count": "Camera's",
    "radius_m": "Straal (m)",
    "half_life_days": "Halveringstijd (dagen)",
    "since": "Sinds",
}

#: The error page's way back, one per page prefix (:data:`PAGE_PREFIXES`).
BACK_LABELS = {
    "/kaart": "de kaart",
    "/overzicht": "het overzicht",
    "/vergelijk": "de vergelijking",
    "/waarschuwingszones": "de waarschuwingszones",
    "/driehoek": "de Driehoek",
    "/cameras": "het cameraplan",
    "/veiligheidskaart": "de Veiligheidskaart",
    "/inloggen": "inloggen",
    "/uitloggen": "inloggen",
}

#: Seconds a client is asked to wait after a 503 (``Retry-After``).
RETRY_UNAVAILABLE_S = 30

TITLES = {
    400: "Deze keuze kunnen we niet tonen",
    401: "Niet aangemeld",
    403: "Geen toegang",
    404: "Niet gevonden",
    405: "Niet toegestaan",
    409: "Even bezet",
    413: "Te groot",
    422: "Ongeldige invoer",
    500: "Er ging iets mis",
    503: "Tijdelijk niet beschikbaar",
}


def _validation_lines(exc: RequestValidationError) -> list[str]:
    lines = []
    for err in exc.errors()[:6]:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "body", "path")]
        name = loc[-1] if loc else ""
        label = FIELD_LABELS.get(name, name)
        kind = str(err.get("type", ""))
        ctx = err.get("ctx") or {}
        if kind.startswith(("date", "datetime")):
            text = "is geen geldige datum; gebruik jjjj-mm-dd, bijvoorbeeld 2026-03-31"
        elif kind in ("int_parsing", "int_from_float"):
            text = "moet een geheel getal zijn"
        elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            text = "valt buiten het toegestane bereik" + (
                " (8 tot en met 11)" if name == "res" else ""
            )
        elif kind == "literal_error":
            text = f"moet een van deze zijn: {ctx.get('expected', '')}".replace("'", "")
        elif kind == "string_too_long":
            text = "is te lang"
        else:
            text = "is ongeldig"
        lines.append(f"{label}: {text}.")
    return lines


def dutch_message(exc: BaseException, status: int) -> list[str]:
    """Return what a person reads about ``exc``: Dutch sentences, no internals."""
    if isinstance(exc, PageInputError | PageNotFoundError):
        return [str(exc)]
    if isinstance(exc, RequestValidationError):
        return _validation_lines(exc)
    if isinstance(exc, TooManyCellsError):
        return [
            "Het gebied is te groot voor deze zeshoekgrootte. Kies een grotere zeshoek "
            "(een lagere resolutie) of één gemeente."
        ]
    if isinstance(exc, EmptyStudyAreaError):
        return ["Er zijn nog geen incidenten en geen gebieden opgeslagen; er is niets te tonen."]
    if isinstance(exc, InvalidParameterError):
        return ["Een van de keuzes (periode, zeshoekgrootte of methode) is ongeldig."]
    if isinstance(exc, CsrfError):
        return [str(exc)]
    if isinstance(exc, OidcError | NoRoleError):  # "English / Nederlands": the Dutch half
        dutch = str(exc).split(" / ", 1)[-1]
        return [dutch[:1].upper() + dutch[1:] + "."]
    if isinstance(exc, SignInRequiredError):
        return ["Deze pagina is alleen voor aangemelde analisten. Meld u aan met uw sleutel."]
    if isinstance(exc, AuthenticationError):
        return ["Deze sleutel is onbekend of ingetrokken. Meld u opnieuw aan."]
    if isinstance(exc, AuthorizationError):
        return [
            "Uw sleutel geeft geen toegang tot deze gegevens; deze pagina is voor analisten "
            "en beheerders."
        ]
    if isinstance(exc, NotFoundError) and exc.known:
        # "Soort incident 'x' is niet bekend. Bekend: a, b. / unknown category": the Dutch half
        return [str(exc).split(" / ", 1)[0]]
    if isinstance(exc, NotFoundError) or status == 404:
        return ["Deze pagina of gemeente bestaat niet (meer)."]
    if isinstance(exc, StarletteHTTPException) and status == 405:
        return ["Deze pagina kan alleen worden bekeken, niet verstuurd."]
    if status == 503:
        return [
            "De gegevens zijn even niet bereikbaar (de opslag antwoordt niet). Probeer het over "
            "een halve minuut opnieuw; blijft het zo, meld het dan bij de beheerder."
        ]
    if status >= 500:
        return ["Er ging iets mis aan onze kant. De fout is vastgelegd; probeer het later opnieuw."]
    return ["Deze keuze kunnen we niet tonen. Pas de keuzes aan en probeer het opnieuw."]


def page_error_response(request: Request, status: int, exc: BaseException) -> HTMLResponse:
    """Render the Dutch error page for ``exc`` with ``status``."""
    context: dict[str, Any] = {
        "title": TITLES.get(status, "Er ging iets mis"),
        "lines": dutch_message(exc, status),
        "status": status,
        "back": next((p for p in PAGE_PREFIXES if is_page_of(request.url.path, p)), "/kaart"),
        "back_label": BACK_LABELS,
        "sign_in": status in (401, 403) and not isinstance(exc, CsrfError),
    }
    response = render_page(request, "fout.html", context, status_code=status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="geo-service"'
    elif status == 409:
        response.headers["Retry-After"] = "5"
    elif status == 503:
        response.headers["Retry-After"] = str(RETRY_UNAVAILABLE_S)
    return response
