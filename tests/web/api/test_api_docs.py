"""The API documentation pages /docs (Swagger UI) and /redoc (Redoc) work without internet.

FastAPI's built-in pages load their scripts from a CDN (and Redoc Google Fonts): offline,
/docs was blank. The pages must reference only the service's own vendored assets, and in
headless Chromium with every request off loopback refused they must still show the operations.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, ConsoleMessage, Request, Route

from geo_service.web import create_app
from tests.web_fixtures import LiveServer, browser, demo_db, live_server, web_settings

__all__ = ["browser", "demo_db", "live_server"]

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# The attributes through which the HTML loads something.
ASSET = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'""")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    # The doc pages need no data: an empty store.
    path = tmp_path_factory.mktemp("docs") / "empty.duckdb"
    with TestClient(create_app(web_settings(path))) as c:
        yield c


def _assets(html: str) -> list[str]:
    return [a or b for a, b in ASSET.findall(html)]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/docs",
            {
                "/static/vendor/swagger-ui/swagger-ui.css",
                "/static/vendor/swagger-ui/swagger-ui-bundle.js",
                "/static/vendor/swagger-ui/favicon-32x32.png",
                "/openapi.json",
            },
        ),
        (
            "/redoc",
            {
                "/static/vendor/redoc/redoc.standalone.js",
                "/static/vendor/swagger-ui/favicon-32x32.png",
                "/openapi.json",
            },
        ),
    ],
)
def test_doc_pages_load_only_the_services_own_assets(
    client: TestClient, path: str, expected: set[str]
) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert set(_assets(r.text)) == expected
    for forbidden in ("fonts.googleapis", "cdn.jsdelivr", "fastapi.tiangolo.com", "https://"):
        assert forbidden not in r.text
    for url in expected:
        assert client.get(url).status_code == 200, url


def test_swagger_ui_has_no_online_validator_and_keeps_the_oauth2_redirect(
    client: TestClient,
) -> None:
    page = client.get("/docs").text
    # Swagger UI's default badge sends the spec's address to validator.swagger.io.
    assert '"validatorUrl": null' in page
    assert "oauth2RedirectUrl: window.location.origin + '/docs/oauth2-redirect'" in page
    redirect = client.get("/docs/oauth2-redirect")
    assert redirect.status_code == 200 and "oauth2" in redirect.text


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_doc_pages_hold_the_browser_to_the_same_origin(client: TestClient, path: str) -> None:
    policy = dict(
        part.strip().split(" ", 1)
        for part in client.get(path).headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    for directive in ("img-src", "font-src", "connect-src", "script-src", "style-src"):
        assert "https:" not in policy[directive] and "*" not in policy[directive]


def test_doc_pages_follow_the_root_path(tmp_path: Path) -> None:
    # Behind a proxy that strips /geo, the browser must ask /geo/static/..., as FastAPI's did.
    with TestClient(create_app(web_settings(tmp_path / "e.duckdb")), root_path="/geo") as c:
        for path in ("/docs", "/redoc"):
            assets = _assets(c.get(path).text)
            assert assets and all(a.startswith("/geo/") for a in assets), assets


def test_doc_pages_are_not_in_the_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not {"/docs", "/redoc", "/docs/oauth2-redirect"} & set(paths)
    assert "/api/v1/hotspots" in paths


# -- in Chromium, offline ---------------------------------------------------------------------


class Offline:
    """A page in Chromium that can reach loopback only; what it tried beyond and what failed."""

    def __init__(self, browser: Browser) -> None:
        context = browser.new_context(viewport={"width": 1300, "height": 1000})
        self.page = context.new_page()
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.refused: list[str] = []  # requests and messages of the Content-Security-Policy
        self.failed: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", self._failed)
        self.page.route("**/*", self._only_loopback)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            csp = "Content Security Policy" in message.text
            (self.refused if csp else self.errors).append(message.text)

    def _failed(self, request: Request) -> None:
        # A request the policy refused never left the browser (the route never saw it).
        csp = "csp" in (request.failure or "").lower()  # "csp" or net::ERR_BLOCKED_BY_CSP
        (self.refused if csp else self.failed).append(request.url)

    def _only_loopback(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:", "about:")) or urlparse(url).hostname in LOOPBACK:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort("internetdisconnected")


def _wait(offline: Offline, url: str, selector: str) -> Any:
    offline.page.goto(url, wait_until="networkidle", timeout=60_000)
    locator = offline.page.locator(selector)
    locator.first.wait_for(timeout=30_000)
    return locator


@pytest.mark.browser
@pytest.mark.slow
def test_swagger_ui_works_offline(
    browser: Browser, live_server: LiveServer, test_output: Path
) -> None:
    offline = Offline(browser)
    ops = _wait(offline, live_server.url + "/docs", ".opblock")
    assert ops.count() > 10
    paths = offline.page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/hotspots" in [p.replace("\u200b", "") for p in paths]
    assert offline.page.locator(".swagger-ui .info .title").inner_text().startswith("Hotspots")
    offline.page.screenshot(path=str(test_output / "api-docs-swagger.png"))
    assert offline.outside == []
    assert offline.failed == []
    assert offline.errors == [] and offline.refused == []


@pytest.mark.browser
@pytest.mark.slow
def test_redoc_works_offline(browser: Browser, live_server: LiveServer, test_output: Path) -> None:
    offline = Offline(browser)
    ops = _wait(offline, live_server.url + "/redoc", "[data-section-id^='operation/']")
    assert ops.count() > 10
    body = offline.page.locator("body").inner_text()
    assert "/api/v1/hotspots" in body
    assert offline.page.locator("h1").first.inner_text().startswith("Hotspots")
    offline.page.screenshot(path=str(test_output / "api-docs-redoc.png"))
    assert offline.outside == []  # no Google Fonts either
    assert offline.failed == []
    assert offline.errors == []
    # Redoc's hard-coded sidebar logo is the one thing the page's policy has to refuse.
    assert all("https://cdn.redoc.ly/redoc/logo-mini.svg" in r for r in offline.refused)
    assert offline.page.locator("img[alt='redocly logo']").count() == 0
