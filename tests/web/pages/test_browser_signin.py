"""Sign-in and print in headless Chromium (Debian's /usr/bin/chromium, as tests/web/pages/
test_browser.py): an analyst signs in through the form and opens the analyst pages, a viewer
gets the Dutch 403 page, signing out ends it, a form without its CSRF token is refused, and
/driehoek prints on at most two A4 pages with the ranks on the map."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from pypdf import PdfReader

from tests.web_fixtures import DemoDB, LiveServer, browser, demo_db, live_server

__all__ = ["browser", "demo_db", "live_server"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CAMERAS = "/cameras?municipality=GM0518"
ZONES = "/waarschuwingszones?municipality=GM0518"


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1300, "height": 1000})
    try:
        yield ctx
    finally:
        ctx.close()


def _sign_in(page: Page, server: LiveServer, key: str, naar: str) -> None:
    page.goto(f"{server.url}/inloggen?naar={naar.replace('?', '%3F').replace('=', '%3D')}")
    page.fill("#sleutel", key)
    with page.expect_navigation():
        page.click("form.signin button[type=submit]")


def test_analyst_signs_in_opens_the_pages_and_signs_out(
    context: BrowserContext, live_server: LiveServer, demo_db: DemoDB
) -> None:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    before = page.goto(live_server.url + CAMERAS)
    assert before is not None and before.status == 401
    assert "aangemelde analisten" in page.locator("main").inner_text()
    _sign_in(page, live_server, demo_db.analyst, CAMERAS)
    assert page.url == live_server.url + CAMERAS  # back where the person came from
    assert page.locator("#rol").inner_text() == "analist"
    assert page.locator("#camerakaart").count() == 1
    cookies = {c["name"]: c for c in context.cookies()}
    session = cookies["gs_sessie"]
    assert session["httpOnly"] and session["sameSite"] == "Strict" and session["expires"] > 0
    zones = page.goto(live_server.url + ZONES)
    assert zones is not None and zones.status == 200
    assert page.locator("#zones").count() == 1 and page.locator("#rol").inner_text() == "analist"
    # sign out with the header's button (a POST form with the CSRF token)
    with page.expect_navigation():
        page.click("#aangemeld form.signout button")
    assert "U bent afgemeld" in page.locator("main").inner_text()
    assert "gs_sessie" not in {c["name"] for c in context.cookies()}
    again = page.goto(live_server.url + CAMERAS)
    assert again is not None and again.status == 401
    # the old cookie, put back, opens nothing: the session ended in the store
    old = {"name": session["name"], "value": session["value"], "url": live_server.url}
    context.add_cookies([old])  # type: ignore[list-item]
    replay = page.goto(live_server.url + ZONES)
    assert replay is not None and replay.status == 401
    assert errors == []


def test_viewer_gets_the_dutch_403_page(
    context: BrowserContext, live_server: LiveServer, demo_db: DemoDB
) -> None:
    page = context.new_page()
    _sign_in(page, live_server, demo_db.viewer, CAMERAS)
    assert page.locator("#rol").inner_text() == "kijker"
    resp = page.goto(live_server.url + ZONES)
    assert resp is not None and resp.status == 403
    text = page.locator("main").inner_text()
    assert "Geen toegang" in text and "voor analisten" in text
    assert "Traceback" not in text and "role" not in text


def test_form_without_csrf_token_is_refused(
    context: BrowserContext, live_server: LiveServer, demo_db: DemoDB
) -> None:
    page = context.new_page()
    page.goto(f"{live_server.url}/inloggen")
    page.fill("#sleutel", demo_db.analyst)
    page.evaluate("document.querySelector('form.signin input[name=csrf]').remove()")
    with page.expect_navigation():
        page.click("form.signin button[type=submit]")
    assert "controlecode" in page.locator("main").inner_text()
    assert "gs_sessie" not in {c["name"] for c in context.cookies()}
    resp = page.goto(live_server.url + CAMERAS)
    assert resp is not None and resp.status == 401


@pytest.mark.parametrize("key", ["viewer", "analyst"])
def test_driehoek_prints_on_two_a4_pages_with_ranks_on_the_map(
    context: BrowserContext, live_server: LiveServer, demo_db: DemoDB, key: str
) -> None:
    page = context.new_page()
    page.set_extra_http_headers({"X-API-Key": getattr(demo_db, key)})
    page.goto(f"{live_server.url}/driehoek?municipality=GM0518", wait_until="networkidle")
    pdf = page.pdf(format="A4", print_background=True)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) <= 2  # it printed on 7 before
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    # A4 is 595.3 x 841.9 pt; Chromium rounds the sheet to 8.27 x 11.7 in (595.4 x 842.4)
    assert width == pytest.approx(595.3, abs=1.5) and height == pytest.approx(841.9, abs=1.5)
    # the map on the first sheet, the table on the second
    assert "rang 1-3" in reader.pages[0].extract_text()
    assert "Gecorrigeerd" in reader.pages[-1].extract_text()
    # every ranked area has its rank on the map, keyed to the table's Rang column
    ranks = [
        t.strip()
        for t in page.locator("#prioriteiten tr[data-code] th").all_inner_texts()
        if re.fullmatch(r"\d+", t.strip())
    ]
    labels = page.locator("#prioriteitenkaart text.svglabel").all_text_contents()
    assert len(ranks) > 20 and sorted(labels, key=int) == sorted(ranks, key=int)
