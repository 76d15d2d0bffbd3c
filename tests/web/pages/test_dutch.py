"""Every HTML page reads Dutch: no English UI words in the visible text, viewer and analyst.

The pages come from the app's routes (every GET route the Dutch HTML error pages answer for,
:func:`geo_service.web.pages.errors.is_html_page`), so a new page is checked without editing
this file. The visible text is the HTML without ``<script>``, ``<style>``, ``<code>`` and
attribute values (code values such as ``gi_class`` or a URL are not UI text).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from geo_service.store import Store
from geo_service.web.pages.errors import is_html_page
from tests.web_fixtures import DemoDB, client, demo_db

__all__ = ["client", "demo_db"]

#: Common English UI words that are not also Dutch words (left out: "of", "map", "is", "in",
#: "per", "over", "was", "had", "been", "bad", "most", "help", "home", "show", "district",
#: "hotspot", "zones", and "significant", all Dutch too; "significant Knox cells" is caught
#: by "cells"; and "emerging": "Emerging Hot Spot Analysis" is the cited method's name).
_WORDS = """the and with from for not found error errors download downloads cell cells contiguous
    page pages please unknown invalid required missing loading submit cancel search select
    hide login logout sign signed password results total count counts only none yes this
    that these those which when where there your you are were would should could cannot
    must might other less than then into between about above below before after while
    during since until without within using used click chosen choose choice period periods
    category categories municipality municipalities neighbourhood pattern patterns detected
    consecutive intensifying persistent diminishing sporadic oscillating historical
    forecast forecasts warning warnings many few least request forbidden unauthorized
    """
ENGLISH = frozenset(_WORDS.split())

_SKIP = {"script", "style", "code"}


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in _SKIP:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """Return the text a reader sees of ``html`` (module docstring).

    Examples
    --------
    >>> html = '<p title="the map">Kaart <code>the_code</code><script>x()</script>!</p>'
    >>> visible_text(html).split()
    ['Kaart', '!']
    """
    parser = _Visible()
    parser.feed(html)
    parser.close()
    return " ".join(parser.parts)


def english_words(text: str) -> list[str]:
    """Return the words of ``text`` in :data:`ENGLISH` (case-insensitive), in order.

    Examples
    --------
    >>> english_words("Geen significant Knox cells; Download de kaart of the map")
    ['cells', 'Download', 'the']
    """
    return [w for w in re.findall(r"[A-Za-z][A-Za-z']*", text) if w.lower() in ENGLISH]


def page_paths(app: Any) -> list[str]:
    """Return the paths of every GET HTML page route of ``app`` (no path parameters)."""
    out: list[str] = []

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:  # an included router
                walk(inner.routes, prefix + route.include_context.prefix)
                continue
            path = prefix + getattr(route, "path", "")
            methods = getattr(route, "methods", None) or ()
            if "GET" in methods and is_html_page(path) and "{" not in path and path not in out:
                out.append(path)

    walk(list(app.routes), "")
    return out


#: Other states of the pages than their defaults: each map method, the small municipality.
VARIANTS = (
    "/kaart?method=kde",
    "/kaart?method=emerging",
    "/kaart/kaartlaag?method=emerging",
    "/overzicht?municipality=GM1783",
    "/driehoek?level=buurt",
    "/waarschuwingszones?municipality=GM1783",
)


def _pages(client: TestClient, demo_db: DemoDB) -> Iterator[tuple[str, str, str]]:
    for path in [*page_paths(client.app), *VARIANTS]:
        for who, headers in (("viewer", {}), ("analyst", {"X-API-Key": demo_db.analyst})):
            resp = client.get(path, headers=headers)
            if resp.headers.get("content-type", "").startswith("text/html"):
                yield path, who, resp.text


def test_the_page_list_comes_from_the_routes(client: TestClient) -> None:
    paths = page_paths(client.app)
    # The pages of the navigation, found by walking the routes (no hand-kept list).
    for path in ("/kaart", "/overzicht", "/vergelijk", "/waarschuwingszones", "/driehoek"):
        assert path in paths
    assert "/cameras" in paths and "/inloggen" in paths
    assert not any(p.endswith((".csv", ".geojson", ".gpkg")) for p in paths)


def test_every_page_reads_dutch(client: TestClient, demo_db: DemoDB) -> None:
    found: dict[str, list[str]] = {}
    seen = 0
    for path, who, html in _pages(client, demo_db):
        seen += 1
        words = english_words(visible_text(html))
        if words:
            found[f"{who} {path}"] = sorted(set(words))
    assert seen >= 2 * 8  # every page, twice
    assert found == {}


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"res": "x"}, "/kaart"),
        ({"start": "morgen"}, "/overzicht"),
        ({"municipality": "GM9999"}, "/vergelijk"),
    ],
)
def test_error_pages_read_dutch(client: TestClient, params: dict[str, str], path: str) -> None:
    resp = client.get(path, params=params)
    assert resp.status_code >= 400
    assert english_words(visible_text(resp.text)) == []


@pytest.mark.parametrize(
    ("path", "params", "dutch"),
    [
        ("/api/v1/hotspots", {"res": "x"}, "res: moet een geheel getal zijn"),
        ("/api/v1/hotspots", {"res": "99"}, "res: mag hoogstens 11 zijn"),
        ("/api/v1/hotspots", {"start": "gisteren"}, "start: is geen geldige datum"),
        ("/api/v1/cameras", {"bbox": "1,2,3"}, "bbox: heeft niet de verwachte vorm"),
        ("/ogc/collections/wijken/items", {"limit": "-1"}, "limit: moet minstens 1 zijn"),
    ],
)
def test_api_parameter_errors_read_dutch(
    client: TestClient, path: str, params: dict[str, str], dutch: str
) -> None:
    # pydantic's messages ("Input should be a valid integer") are English; the API's are not.
    resp = client.get(path, params=params)
    assert resp.status_code == 400
    detail = resp.json()["detail"]
    assert dutch in detail
    said = detail.split(": ", 1)[1]  # after "Ongeldige parameter(s) / invalid parameter(s)"
    assert english_words(said) == [], detail


# -- every page in the navigation and the README, one gemeente list on every form ------------

#: Pages reached another way than the navigation: the sign-in pages (the "Inloggen" link and
#: the OIDC redirect) and the map document the pages embed.
NOT_IN_NAV = ("/inloggen", "/uitloggen", "/kaart/kaartlaag")


def _readme_table() -> str:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Endpoints", 1)[1].split("\n\n", 1)[0]
    return "\n".join(line for line in section.splitlines() if line.startswith("|"))


def test_every_page_is_in_the_navigation_and_the_readme(client: TestClient) -> None:
    nav = re.search(r'<nav class="noprint">(.*?)</nav>', client.get("/kaart").text, re.S)
    assert nav
    hrefs = set(re.findall(r'href="([^"?]+)', nav.group(1)))
    table = _readme_table()
    for path in page_paths(client.app):
        if not path.startswith(NOT_IN_NAV):
            assert path in hrefs, f"{path} is not in the navigation"
        # as a path of its own: followed by ?, `, a space or a comma, not a longer path
        assert re.search(re.escape(path) + r"[?` ,]", table), f"{path} is not in the README"


def test_every_gemeente_field_is_the_list_of_stored_municipalities(
    client: TestClient, demo_db: DemoDB
) -> None:
    with Store.open(demo_db.path) as store:
        stored = store.municipalities()
    assert len(stored) >= 2
    forms = 0
    for path, who, page in _pages(client, demo_db):
        for form in re.findall(r"<form[^>]*>(.*?)</form>", page, re.S):
            if 'name="municipality"' not in form:
                continue
            forms += 1
            select = re.search(r'<select name="municipality">(.*?)</select>', form, re.S)
            assert select, f"{who} {path}: the gemeente is not a list"
            values = re.findall(r'<option value="([^"]*)"', select.group(1))
            assert [v for v in values if v] == stored, f"{who} {path}: {values}"
    assert forms >= 6  # kaart, overzicht, vergelijk, driehoek, veiligheidskaart, ... (analyst)


def test_every_rate_says_its_period(client: TestClient, demo_db: DemoDB) -> None:
    # "per 1.000 woningen" alone was a five-year total on /overzicht; a rate names its period
    rate = re.compile(r"per 1\.000 (?:woningen|won\.|inwoners)(?! per jaar| in \d{4})", re.I)
    found = {
        f"{who} {path}": rate.findall(re.sub(r"\s+", " ", visible_text(page)))
        for path, who, page in _pages(client, demo_db)
    }
    assert len(found) >= 2 * 7
    assert {k: v for k, v in found.items() if v} == {}
