"""Jinja2 templates of the HTML pages (``geo_service/templates``).

One shared layout (``base.html``) and a caption partial (``_caption.html``); pages extend the
layout. The environment is made on first use, not at import.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from geo_service.web.session import CSRF_FIELD, csrf_token

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"

#: The navigation of every page: (path, label).
NAV: tuple[tuple[str, str], ...] = (
    ("/kaart", "Kaart"),
    ("/overzicht", "Overzicht"),
    ("/vergelijk", "Vergelijk perioden"),
    ("/driehoek", "Driehoek"),
    ("/cameras", "Camera's"),
    ("/waarschuwingszones", "Waarschuwingszones"),
    ("/veiligheidskaart", "Veiligheidskaart"),
    ("/docs", "API"),
)

#: The roles as the page header names them.
ROLE_LABELS: dict[str, str] = {"viewer": "kijker", "analyst": "analist", "admin": "beheerder"}


def nl_number(value: Any, digits: int = 0) -> str:
    """Format a number the Dutch way: ``12.345`` and ``1,5``.

    Examples
    --------
    >>> nl_number(12345), nl_number(1.25, 1), nl_number(None)
    ('12.345', '1,2', '')
    """
    if value is None:
        return ""
    text = f"{float(value):,.{digits}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


@cache
def templates() -> Jinja2Templates:
    """Return the page templates (autoescaped HTML)."""
    t = Jinja2Templates(directory=TEMPLATES_DIR)
    t.env.filters["nl"] = nl_number
    t.env.globals["nav"] = NAV
    t.env.globals["csrf_token"] = csrf_token
    t.env.globals["csrf_field"] = CSRF_FIELD
    t.env.globals["role_labels"] = ROLE_LABELS
    return t


def render_page(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """Render a page template with the layout's context (request, navigation)."""
    return templates().TemplateResponse(request, name, context, status_code=status_code)


def render_fragment(name: str, **context: Any) -> Markup:
    """Render a partial (e.g. ``_caption.html``) to HTML for use outside a page."""
    return Markup(templates().get_template(name).render(**context))  # noqa: S704 - autoescaped
