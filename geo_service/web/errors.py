"""Map domain exceptions to HTTP status codes and ``application/problem+json`` bodies.

One dict (:data:`STATUS_CODES`, like tipg's ``DEFAULT_STATUS_CODES``) decides the
status of each domain exception. Bodies follow RFC 9457 with a bilingual
(Dutch / English) ``title`` and ``detail``; a traceback never reaches a client.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

import duckdb
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from geo_service.errors import (
    AuthenticationError,
    AuthorizationError,
    BusyError,
    DomainError,
    GeoServiceError,
    InputFileError,
    InputTooLargeError,
    NotFoundError,
    StoreUnavailableError,
    UnknownColumnError,
)
from geo_service.store.core import redact
from geo_service.web.metrics import current_request_id
from geo_service.web.pages.errors import RETRY_UNAVAILABLE_S, is_html_page, page_error_response
from spatial.errors import (
    CRSError,
    EmptyStudyAreaError,
    InvalidParameterError,
    InvalidResolutionError,
    SpatialError,
    TooManyCellsError,
)

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

#: Domain exception class -> HTTP status. Looked up along the MRO, most specific first.
STATUS_CODES: dict[type[Exception], int] = {
    StoreUnavailableError: 503,
    AuthenticationError: 401,
    AuthorizationError: 403,
    BusyError: 409,
    NotFoundError: 404,
    UnknownColumnError: 422,
    InputTooLargeError: 413,
    InputFileError: 422,
    InvalidResolutionError: 400,
    TooManyCellsError: 413,
    InvalidParameterError: 400,
    CRSError: 400,
    EmptyStudyAreaError: 404,
    SpatialError: 400,
    GeoServiceError: 400,
    DomainError: 400,
}

#: Dutch / English titles per status.
TITLES: dict[int, str] = {
    400: "Ongeldig verzoek / Bad request",
    401: "Niet aangemeld / Authentication required",
    403: "Geen toegang / Forbidden",
    404: "Niet gevonden / Not found",
    405: "Methode niet toegestaan / Method not allowed",
    406: "Formaat niet beschikbaar / Not acceptable",
    409: "Bezet / Busy",
    413: "Te groot / Too large",
    422: "Ongeldige invoer / Unprocessable input",
    429: "Te veel verzoeken / Too many requests",
    500: "Interne fout / Internal server error",
    503: "Tijdelijk niet beschikbaar / Service unavailable",
}

#: Detail of a 503: the store's catalog or data files did not answer (a DuckDB I/O error).
UNAVAILABLE_DETAIL = (
    "De opslag is even niet bereikbaar; probeer het over een halve minuut opnieuw / the store "
    "is temporarily unreachable"
)


def status_for(exc: BaseException) -> int:
    """Return the HTTP status for a domain exception (500 if it is not a domain error)."""
    for cls in type(exc).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return 500


def problem(
    status: int, detail: str, *, instance: str | None = None, **extra: object
) -> JSONResponse:
    """Build an RFC 9457 ``application/problem+json`` response."""
    body: dict[str, object] = {
        "type": "about:blank",
        "title": TITLES.get(status, HTTPStatus(status).phrase),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    request_id = current_request_id()
    if request_id is not None:
        # The id the log line of this request carries: an operator finds it from the body.
        body["request_id"] = request_id
    body.update(extra)
    headers: dict[str, str] = {}
    if request_id is not None:
        headers["X-Request-ID"] = request_id
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="geo-service"'
    elif status == 409:
        headers["Retry-After"] = "5"
    elif status == 503:
        headers["Retry-After"] = str(RETRY_UNAVAILABLE_S)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers or None)


def dutch_validation_message(err: dict[str, object]) -> str:
    """Return what is wrong with one parameter, in Dutch (pydantic's messages are English).

    Examples
    --------
    >>> dutch_validation_message({"type": "int_parsing", "msg": "Input should be ..."})
    'moet een geheel getal zijn'
    >>> dutch_validation_message({"type": "less_than_equal", "ctx": {"le": 11}})
    'mag hoogstens 11 zijn'
    >>> dutch_validation_message({"type": "something_new"})
    'is ongeldig'
    """
    kind = str(err.get("type", ""))
    raw = err.get("ctx")
    ctx: dict[str, object] = raw if isinstance(raw, dict) else {}
    if kind.startswith(("date", "datetime")):
        return "is geen geldige datum; gebruik jjjj-mm-dd, bijvoorbeeld 2026-03-31"
    texts = {
        "int_parsing": "moet een geheel getal zijn",
        "int_from_float": "moet een geheel getal zijn",
        "float_parsing": "moet een getal zijn",
        "bool_parsing": "moet true of false zijn",
        "greater_than_equal": f"moet minstens {ctx.get('ge')} zijn",
        "greater_than": f"moet groter dan {ctx.get('gt')} zijn",
        "less_than_equal": f"mag hoogstens {ctx.get('le')} zijn",
        "less_than": f"moet kleiner dan {ctx.get('lt')} zijn",
        "literal_error": f"moet een van deze zijn: {ctx.get('expected', '')}".replace("'", ""),
        "enum": f"moet een van deze zijn: {ctx.get('expected', '')}".replace("'", ""),
        "string_too_long": f"is te lang (hoogstens {ctx.get('max_length')} tekens)",
        "string_too_short": f"is te kort (minstens {ctx.get('min_length')} tekens)",
        "string_pattern_mismatch": "heeft niet de verwachte vorm",
        "missing": "ontbreekt",
    }
    return texts.get(kind, "is ongeldig")


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "body", "path"))
        parts.append(f"{loc}: {dutch_validation_message(err)}")
    return "Ongeldige parameter(s) / invalid parameter(s): " + "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    """Register the problem+json handlers on ``app``.

    The HTML pages (:func:`geo_service.web.pages.errors.is_html_page`) get a Dutch error page
    with the same status instead; their data downloads get problem+json like the API.
    """

    async def domain_error(request: Request, exc: Exception) -> Response:
        status = status_for(exc)
        if is_html_page(request.url.path):
            return page_error_response(request, status, exc)
        # Domain messages are written for users (English / Dutch); they hold no internals.
        known = getattr(exc, "known", ())
        extra: dict[str, object] = {"known": list(known)} if known else {}
        return problem(status, str(exc), instance=request.url.path, **extra)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for this type only
        if is_html_page(request.url.path):
            return page_error_response(request, exc.status_code, exc)
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
        if exc.status_code == 404 and detail == "Not Found":
            detail = "Deze pagina of dit object bestaat niet / this resource does not exist"
        elif exc.status_code == 405:
            detail = "Deze methode is hier niet toegestaan / method not allowed here"
        response = problem(exc.status_code, detail, instance=request.url.path)
        # Keep the exception's headers: a 405 must say which methods are allowed (Allow).
        response.headers.update(exc.headers or {})
        return response

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this type only
        status = 422 if request.method != "GET" else 400
        if is_html_page(request.url.path):
            return page_error_response(request, status, exc)
        return problem(status, _validation_detail(exc), instance=request.url.path)

    async def unexpected(request: Request, exc: Exception) -> Response:
        if isinstance(exc, duckdb.IOException):
            # The catalog server or the shared data folder did not answer: 503, retry later
            # (the same open store works again once it is back). The log line is redacted.
            log.error(
                "store unreachable on %s (request_id %s): %s",
                request.url.path,
                current_request_id(),
                redact(str(exc)).splitlines()[0][:300],
            )
            if is_html_page(request.url.path):
                return page_error_response(request, 503, exc)
            return problem(503, UNAVAILABLE_DETAIL, instance=request.url.path)
        log.exception(
            "unhandled error on %s (request_id %s)", request.url.path, current_request_id()
        )
        if is_html_page(request.url.path):
            return page_error_response(request, 500, exc)
        return problem(
            500,
            "Er ging iets mis aan onze kant; de fout is gelogd / something went wrong on our side",
            instance=request.url.path,
        )

    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected)
