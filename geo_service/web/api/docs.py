"""The API documentation pages ``/docs`` (Swagger UI) and ``/redoc`` (Redoc), offline.

FastAPI's built-in pages load Swagger UI and Redoc from a CDN (and Redoc Google Fonts, both
a FastAPI favicon): without internet ``/docs`` was a blank page, and every visit told the CDN
who reads the docs. These routes render the same HTML (FastAPI's own functions) with the
copies vendored under ``/static/vendor/`` (versions and licences in ``NOTICE.md``), so the
pages load nothing from outside the service. A Content-Security-Policy makes the browser hold
them to that: Redoc 2's sidebar has a hard-coded ``https://cdn.redoc.ly`` logo (no option turns
it off), which the policy refuses; Redoc then drops the image and keeps its text link.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse

#: Where the vendored assets are served (``app.py`` mounts ``geo_service/static`` at /static).
SWAGGER_UI: Final = "/static/vendor/swagger-ui"
REDOC: Final = "/static/vendor/redoc"
FAVICON: Final = f"{SWAGGER_UI}/favicon-32x32.png"
OAUTH2_REDIRECT: Final = "/docs/oauth2-redirect"
#: Added to FastAPI's defaults: Swagger UI's default validator badge would send the spec's
#: address to validator.swagger.io from any host that is not localhost.
SWAGGER_UI_PARAMETERS: Final = {"validatorUrl": None}

#: Same origin only. Inline script for the page's Swagger UI set-up, inline styles for the
#: styles both libraries inject, data: images for their icons, blob: workers for Redoc's search.
CSP: Final = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    )
)

router = APIRouter(include_in_schema=False)


def _same_origin_only(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = CSP
    return response


def _root(request: Request) -> str:
    # Behind a proxy that strips a prefix (root_path), as FastAPI's own doc routes do.
    return str(request.scope.get("root_path", "")).rstrip("/")


def _openapi_url(request: Request) -> str:
    return _root(request) + (request.app.openapi_url or "/openapi.json")


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    """Render Swagger UI on the vendored bundle."""
    root = _root(request)
    page = get_swagger_ui_html(
        openapi_url=_openapi_url(request),
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"{root}{SWAGGER_UI}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{SWAGGER_UI}/swagger-ui.css",
        swagger_favicon_url=root + FAVICON,
        oauth2_redirect_url=root + OAUTH2_REDIRECT,
        swagger_ui_parameters=dict(SWAGGER_UI_PARAMETERS),
    )
    return _same_origin_only(page)


@router.get(OAUTH2_REDIRECT, response_class=HTMLResponse)
def swagger_ui_redirect() -> HTMLResponse:
    """Serve Swagger UI's OAuth2 redirect page (as FastAPI's built-in docs did)."""
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    """Render Redoc on the vendored standalone bundle, without Google Fonts."""
    root = _root(request)
    page = get_redoc_html(
        openapi_url=_openapi_url(request),
        title=f"{request.app.title} - Redoc",
        redoc_js_url=f"{root}{REDOC}/redoc.standalone.js",
        redoc_favicon_url=root + FAVICON,
        with_google_fonts=False,
    )
    return _same_origin_only(page)
