"""The targeting pages /driehoek and /cameras in headless Chromium (Debian's /usr/bin/chromium).

Each page must load with no console errors and no request leaving 127.0.0.1; the tables and
the SVG map must be there; the form must work; screenshots go to test-output/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page

from tests.web_fixtures import DemoDB, LiveServer, browser, demo_db, live_server

# The demo's clock decides what these tests see: `make test` runs them at three dates.
pytestmark = pytest.mark.clock

__all__ = ["browser", "demo_db", "live_server"]


class Visit:
    """A page opened in Chromium, with its console errors and requests off loopback."""

    def __init__(self, page: Page, status: int | None) -> None:
        self.page = page
        self.status = status
        self.errors: list[str] = []
        self.outside: list[str] = []


def _open(
    browser: Browser, url: str, shot: Path | None = None, headers: dict[str, str] | None = None
) -> Visit:
    context = browser.new_context(
        extra_http_headers=headers or {}, viewport={"width": 1300, "height": 1000}
    )
    page = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def check(request: Any) -> None:
        local = request.url.startswith(("data:", "about:"))
        if not local and urlparse(request.url).hostname != "127.0.0.1":
            outside.append(request.url)

    page.on("request", check)
    response = page.goto(url, wait_until="networkidle", timeout=120_000)
    visit = Visit(page, response.status if response else None)
    visit.errors, visit.outside = errors, outside
    if shot is not None:
        page.screenshot(path=str(shot), full_page=True)
    return visit


@pytest.mark.browser
@pytest.mark.slow
def test_driehoek_page_for_viewers(
    browser: Browser, live_server: LiveServer, test_output: Path
) -> None:
    visit = _open(browser, live_server.url + "/driehoek", test_output / "driehoek.png")
    page = visit.page
    assert visit.status == 200
    assert visit.errors == [] and visit.outside == []
    assert page.title() == "Driehoek: prioriteiten woninginbraak"
    rows = page.locator("#prioriteiten tr[data-code]")
    assert rows.count() == 44  # the Den Haag wijken
    first = rows.first.locator("th").inner_text()
    assert first == "1"
    # Viewer rules: every shown count is "<5" or at least 5 (perturbed).
    cells = page.locator("#prioriteiten tr[data-code] td:nth-child(4)").all_inner_texts()
    assert cells and all(c == "<5" or int(c.replace(".", "")) >= 5 for c in cells)
    assert page.locator("#prioriteitenkaart path.area").count() == 44
    assert page.locator("#legenda .swatch").count() == 4
    assert "alleen voor analisten" in page.locator("main").inner_text()
    assert "Deels synthetisch" in page.locator(".caption").inner_text()
    # The form: choose verzorgingsgebieden and show.
    page.select_option("select[name=level]", "verzorgingsgebied")
    page.click("form.choices button:has-text('Toon')")
    page.wait_for_load_state("networkidle")
    assert "level=verzorgingsgebied" in page.url
    names = page.locator("#prioriteiten tr[data-code] td.l").all_inner_texts()
    assert len(names) == 6 and all("(synthetisch)" in n for n in names)
    assert visit.errors == []


@pytest.mark.browser
@pytest.mark.slow
def test_driehoek_page_for_analysts_shows_equity(
    browser: Browser, live_server: LiveServer, demo_db: DemoDB
) -> None:
    visit = _open(
        browser,
        live_server.url + "/driehoek?municipality=GM1783",
        headers={"X-API-Key": demo_db.analyst},
    )
    assert visit.status == 200 and visit.errors == [] and visit.outside == []
    page = visit.page
    assert page.locator("#prioriteiten tr[data-code]").count() == 10
    assert page.locator("#gelijkheid").inner_text().endswith("aandeel in de incidenten.")
    # Exact counts for analysts: not all multiples of 5.
    cells = page.locator("#prioriteiten tr[data-code] td:nth-child(4)").all_inner_texts()
    assert any(int(c) % 5 for c in cells)


@pytest.mark.browser
@pytest.mark.slow
def test_cameras_page_for_analysts(
    browser: Browser, live_server: LiveServer, demo_db: DemoDB, test_output: Path
) -> None:
    visit = _open(
        browser,
        live_server.url + "/cameras",
        test_output / "cameras.png",
        headers={"X-API-Key": demo_db.analyst},
    )
    page = visit.page
    assert visit.status == 200
    assert visit.errors == [] and visit.outside == []
    assert page.locator("#plekken tr").count() == 1 + 22
    advice = page.locator("#advies tr[data-advice]")
    assert advice.count() == 22
    kinds = set(page.locator("#advies tr[data-advice]").evaluate_all(
        "rows => rows.map(r => r.dataset.advice)"
    ))  # fmt: skip
    assert kinds <= {"keep", "move", "withdraw"}
    svg = page.locator("#camerakaart")
    assert svg.locator("circle.proposed").count() == 22
    assert svg.locator("circle.fixed").count() == 106
    assert svg.locator("circle.current").count() == 22
    figures = page.locator("#kerncijfers").inner_text()
    assert "kwaliteit van het plan: bewezen optimaal" in figures
    assert "(optimaliteitsgat 0,00%)" in figures
    # A tooltip says why: the first site's title is its Dutch reason.
    title = svg.locator("circle.proposed").first.locator("title").text_content()
    assert title is not None and title.startswith("Plek 1 van 22: dekt ")


@pytest.mark.browser
@pytest.mark.slow
def test_cameras_page_refuses_viewers_in_dutch(browser: Browser, live_server: LiveServer) -> None:
    visit = _open(browser, live_server.url + "/cameras")
    assert visit.status == 401
    assert visit.outside == []
    # The only console message is Chromium's note on the 401 status itself.
    assert all("401" in e for e in visit.errors)
    text = visit.page.locator("#fout").inner_text()
    assert "alleen voor analisten" in text
    assert visit.page.locator("#camerakaart").count() == 0


@pytest.mark.browser
@pytest.mark.slow
def test_bad_choice_is_a_dutch_message(browser: Browser, live_server: LiveServer) -> None:
    visit = _open(browser, live_server.url + "/driehoek?years=veel")
    assert visit.status == 400 and visit.outside == []
    assert all("400" in e for e in visit.errors)
    assert visit.page.locator("#fout").inner_text() == "Aantal jaren: 'veel' is geen getal."
