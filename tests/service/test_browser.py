"""The map pages in headless Chromium (Debian's /usr/bin/chromium, no browser download).

Each page must load with no console errors and no request leaving 127.0.0.1; the
layers must be present; a screenshot goes to test-output/ for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.service.web_fixtures import LiveServer, demo_db, live_server

__all__ = ["demo_db", "live_server"]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def _visit(browser: Browser, url: str, shot: Path) -> tuple[list[str], list[str], object]:
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def check(request: object) -> None:
        host = urlparse(request.url).hostname  # type: ignore[attr-defined]
        if request.url.startswith(("data:", "about:")):  # type: ignore[attr-defined]
            return
        if host != "127.0.0.1":
            outside.append(request.url)  # type: ignore[attr-defined]

    page.on("request", check)
    page.goto(url, wait_until="networkidle")
    page.wait_for_timeout(500)
    page.screenshot(path=str(shot), full_page=True)
    return errors, outside, page


@pytest.mark.slow
def test_kaart_page(browser: Browser, live_server: LiveServer, test_output: Path) -> None:
    url = f"{live_server.url}/kaart?municipality=GM0518&category=woninginbraak&res=9"
    errors, outside, page = _visit(browser, url, test_output / "kaart.png")
    assert errors == []
    assert outside == []
    frame = page.frame_locator("#kaart")  # type: ignore[attr-defined]
    labels = frame.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    text = " ".join(labels)
    for name in ("Hotspots (Gi*)", "Dichtheid", "Wijkgrenzen", "Buurtgrenzen", "Camera's"):
        assert name in text
    assert (
        frame.locator(".leaflet-overlay-pane canvas").count() >= 1
    )  # prefer_canvas: features draw here
    assert frame.locator("#legenda").inner_text().startswith("Gi*-hotspots")
    assert page.locator("#trend rect").count() > 12  # type: ignore[attr-defined]
    assert "synthetisch" in page.content()  # type: ignore[attr-defined]


@pytest.mark.slow
def test_kde_map_document(browser: Browser, live_server: LiveServer, test_output: Path) -> None:
    url = f"{live_server.url}/kaart/kaartlaag?municipality=GM1783&category=jeugdoverlast&method=kde"
    errors, outside, page = _visit(browser, url, test_output / "kaart-kde-westland.png")
    assert errors == []
    assert outside == []
    assert page.locator("#legenda").inner_text().startswith("Dichtheid")  # type: ignore[attr-defined]
    checked = page.locator(".leaflet-control-layers-overlays input:checked")  # type: ignore[attr-defined]
    assert checked.count() >= 3  # KDE, wijken, cameras


@pytest.mark.slow
def test_overzicht_page(browser: Browser, live_server: LiveServer, test_output: Path) -> None:
    url = f"{live_server.url}/overzicht?municipality=GM0518&res=9"
    errors, outside, page = _visit(browser, url, test_output / "overzicht.png")
    assert errors == []
    assert outside == []
    assert page.locator("#per-jaar tr").count() > 2  # type: ignore[attr-defined]
    assert page.locator("table.top tr").count() > 2  # type: ignore[attr-defined]
    frame = page.frame_locator("#kaart")  # type: ignore[attr-defined]
    assert frame.locator(".leaflet-control-layers").count() == 1
