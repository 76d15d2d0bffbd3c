"""The map pages in headless Chromium (Debian's /usr/bin/chromium, no browser download).

Each page must load with no console errors and no request leaving 127.0.0.1; the layers
must be present and clickable; each page prints on one A4 sheet; screenshots go to
test-output/ for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Frame, Page

from tests.clock import DemoClock, label
from tests.web_fixtures import DemoDB, LiveServer, browser, demo_clock, demo_db, live_server

# The demo's clock decides what these tests see: `make test` runs them at three dates.
pytestmark = pytest.mark.clock

__all__ = ["browser", "demo_clock", "demo_db", "live_server"]

KAART = "/kaart?municipality=GM0518&category=woninginbraak&res=9"
READY = "() => window.mapReady === true"


class Visit:
    """A page opened in Chromium, with what went wrong on the way."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.sizes: dict[str, int] = {}

    def maps(self) -> list[Frame]:
        """The map documents of the page (the page itself when it is one), all drawn."""
        frames = [f for f in self.page.frames if "/kaart/kaartlaag" in f.url]
        for frame in frames:
            frame.wait_for_function(READY, timeout=60_000)
        return frames


def _open(
    browser: Browser,
    url: str,
    shot: Path | None,
    *,
    headers: dict[str, str] | None = None,
    viewport: tuple[int, int] = (1300, 1000),
) -> Visit:
    context = browser.new_context(
        extra_http_headers=headers or {}, viewport={"width": viewport[0], "height": viewport[1]}
    )
    visit = Visit(context.new_page())
    page = visit.page
    page.on("console", lambda m: visit.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: visit.errors.append(str(e)))

    def check(request: Any) -> None:
        if request.url.startswith(("data:", "about:")):
            return
        if urlparse(request.url).hostname != "127.0.0.1":
            visit.outside.append(request.url)

    def size(response: Any) -> None:
        if "/kaart/kaartlaag" in response.url:
            visit.sizes[response.url] = len(response.body())

    page.on("request", check)
    page.on("response", size)
    page.goto(url, wait_until="networkidle")
    visit.maps()
    if shot is not None:
        page.screenshot(path=str(shot), full_page=True)
    return visit


def _pdf_pages(page: Page) -> tuple[int, bool]:
    """Print the page as Chromium does (CSS @page size); return pages and landscape."""
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert box is not None
    return pages, float(box.group(1)) > float(box.group(2))


def _print_shot(page: Page, path: Path, width: int) -> None:
    """Screenshot of the print layout (A4 content width in CSS px) for a person to check."""
    page.emulate_media(media="print")
    page.set_viewport_size({"width": width, "height": 700})
    page.screenshot(path=str(path), full_page=True)
    page.emulate_media(media="screen")


def _cell_point(frame: Frame, style: int) -> tuple[float, float] | None:
    """Container point of the first cell of a style (0 = 99% hotspot) in the hexagon layer."""
    point = frame.evaluate(
        """(style) => {
            const layer = geoMap._hexLayers[0];
            const i = layer._style.indexOf(style);
            if (i < 0) { return null; }
            const c = h3.cellToLatLng(layer._ids[i]);
            const p = geoMap.latLngToContainerPoint(L.latLng(c[0], c[1]));
            return [p.x, p.y];
        }""",
        style,
    )
    return None if point is None else (float(point[0]), float(point[1]))


# -- /kaart ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_kaart_page(
    browser: Browser, live_server: LiveServer, test_output: Path, demo_clock: DemoClock
) -> None:
    visit = _open(browser, live_server.url + KAART, test_output / "kaart.png")
    page = visit.page
    assert visit.errors == []
    assert visit.outside == []
    (frame,) = visit.maps()
    labels = " ".join(frame.locator(".leaflet-control-layers-overlays label").all_inner_texts())
    for name in ("Hotspots (Gi*)", "Dichtheid", "Wijkgrenzen", "Buurtgrenzen", "camera's"):
        assert name in labels
    checked = frame.locator(".leaflet-control-layers-overlays input:checked").count()
    assert checked == 2  # hotspots and wijken; cameras start switched off
    assert frame.locator(".leaflet-zeshoeken-pane canvas").count() == 1  # cells on one canvas
    assert frame.locator("#legenda").inner_text().startswith("Hotspots (Gi*)")
    # a metric scale bar, no miles
    scale = frame.locator(".leaflet-control-scale-line").all_inner_texts()
    assert len(scale) == 1 and re.fullmatch(r"\d+ k?m", scale[0])
    # the caption says what the map shows
    caption = page.locator(".caption").inner_text()
    for part in (f"Periode: {demo_clock.viewer_window}", "woninginbraak", "Gi*", "resolutie 9"):
        assert part in caption
    assert "Deels synthetisch" in caption and "laatst ingelezen" in caption
    # trend: bars, month labels and an axis title
    assert page.locator("#trend rect").count() > 12
    trend = page.locator("#trend").text_content() or ""
    assert "jan" in trend and "incidenten per maand" in trend


@pytest.mark.slow
def test_hotspot_popup_through_the_wijk_outline(
    browser: Browser, live_server: LiveServer, test_output: Path, demo_clock: DemoClock
) -> None:
    """Old code: the wijk outline layer caught every click inside it; no popup opened."""
    visit = _open(browser, live_server.url + KAART, None)
    page = visit.page
    (frame,) = visit.maps()
    assert frame.locator(".leaflet-control-layers-overlays input:checked").count() == 2
    point = _cell_point(frame, 0)
    assert point is not None
    box = page.locator("#kaart").bounding_box()
    assert box is not None
    x, y = box["x"] + point[0], box["y"] + point[1]
    page.mouse.move(x, y)
    tip = frame.locator(".hex-tip")
    tip.wait_for(timeout=5000)
    assert "Hotspot, 99% betrouwbaar" in tip.inner_text() and "incidenten" in tip.inner_text()
    page.mouse.click(x, y)
    popup = frame.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    page.wait_for_timeout(400)  # Leaflet fades popups in
    text = popup.inner_text()
    assert "Hotspot, 99% betrouwbaar" in text
    assert re.search(r"Aantal incidenten in deze zeshoek: (\d+|<5)", text)
    assert f"Periode: {demo_clock.viewer_window}" in text
    assert "z-score" not in text  # a viewer
    page.screenshot(path=str(test_output / "kaart-popup.png"))
    assert visit.errors == []


@pytest.mark.slow
def test_cameras_are_small_and_off_until_switched_on(
    browser: Browser, live_server: LiveServer
) -> None:
    visit = _open(browser, live_server.url + KAART, None)
    (frame,) = visit.maps()
    assert frame.evaluate("Object.keys(geoMap._layers).length") > 0
    fixed = frame.locator(".leaflet-control-layers-overlays label", has_text="Vaste camera's")
    fixed.locator("input").check()
    radii = frame.evaluate(
        """() => Object.values(geoMap._layers)
              .filter(l => l instanceof L.CircleMarker && l.options.pane === 'cameras')
              .map(l => l.getRadius())"""
    )
    assert len(radii) > 50 and max(radii) <= 4
    popups = frame.evaluate(
        """() => Object.values(geoMap._layers)
              .filter(l => l instanceof L.CircleMarker && l.feature)
              .map(l => l.feature.properties.popup).join(' ')"""
    )
    assert "NaT" not in popups and "actief" in popups
    assert visit.errors == []


@pytest.mark.slow
def test_kaart_prints_on_one_landscape_page(
    browser: Browser, live_server: LiveServer, test_output: Path
) -> None:
    visit = _open(browser, live_server.url + KAART, None)
    page = visit.page
    pages, landscape = _pdf_pages(page)
    assert pages == 1 and landscape
    page.emulate_media(media="print")
    assert not page.locator("form.choices").is_visible()
    assert page.locator(".caption").is_visible()
    assert page.locator("footer").inner_text().startswith("Bron:")
    (frame,) = visit.maps()
    assert not frame.locator(".leaflet-control-zoom").is_visible()
    assert not frame.locator(".leaflet-control-layers").is_visible()
    assert frame.locator("#legenda").is_visible()
    assert frame.locator(".leaflet-control-scale").is_visible()
    page.emulate_media(media="screen")
    _print_shot(page, test_output / "kaart-print.png", 1047)


@pytest.mark.slow
def test_map_document_alone_says_what_it_shows_and_prints(
    browser: Browser, live_server: LiveServer, test_output: Path
) -> None:
    url = f"{live_server.url}/kaart/kaartlaag?municipality=GM1783&category=jeugdoverlast&method=kde"
    visit = _open(browser, url, test_output / "kaart-kde-westland.png")
    page = visit.page
    assert visit.errors == []
    assert visit.outside == []
    assert page.locator("#legenda").inner_text().startswith("Dichtheid")
    checked = page.locator(".leaflet-control-layers-overlays input:checked")
    assert checked.count() == 2  # density and wijken
    caption = page.locator("#map-caption")
    assert caption.is_visible()  # shown when the document is opened on its own
    assert "Westland" in caption.inner_text() and "kerndichtheid" in caption.inner_text()
    assert _pdf_pages(page) == (1, True)


@pytest.mark.slow
def test_no_hotspots_says_so(
    browser: Browser, live_server: LiveServer, demo_clock: DemoClock
) -> None:
    before = demo_clock.first.year - 2  # a half year before the data begin
    url = (
        f"{live_server.url}/kaart/kaartlaag?municipality=GM0518&category=woninginbraak"
        f"&start={before}-01-01&end={before}-06-30"
    )
    visit = _open(browser, url, None)
    message = visit.page.locator("#map-message")
    assert message.is_visible()
    assert message.inner_text().startswith("Geen")
    caption = visit.page.locator("#map-caption").inner_text()
    assert f"gegevens beginnen in {label(demo_clock.first)}" in caption
    assert visit.errors == []


@pytest.mark.slow
def test_resolution_11_for_analysts_is_small_and_drawn(
    browser: Browser, live_server: LiveServer, demo_db: DemoDB, test_output: Path
) -> None:
    """Old code: 43 MB and ~20 s in Chromium. Timing is benchmarks/pages.py's job."""
    url = f"{live_server.url}/kaart/kaartlaag?municipality=GM0518&category=woninginbraak&res=11"
    visit = _open(
        browser, url, test_output / "kaart-res11.png", headers={"X-API-Key": demo_db.analyst}
    )
    assert visit.errors == []
    assert visit.outside == []
    (size,) = visit.sizes.values()
    assert size < 2_000_000
    drawn = visit.page.evaluate("geoMap._hexLayers[0]._ids.length")
    assert drawn > 5000
    # analysts read z and p in the popup
    point = _cell_point(visit.page.main_frame, 0)
    assert point is not None
    visit.page.mouse.click(*point)
    assert "Gi*-z-score" in visit.page.locator(".leaflet-popup-content").inner_text()


# -- /overzicht and /vergelijk ---------------------------------------------------------------


@pytest.mark.slow
def test_overzicht_page(
    browser: Browser, live_server: LiveServer, test_output: Path, demo_clock: DemoClock
) -> None:
    url = f"{live_server.url}/overzicht?municipality=GM0518&res=9"
    visit = _open(browser, url, test_output / "overzicht.png")
    page = visit.page
    assert visit.errors == []
    assert visit.outside == []
    assert page.locator("#per-jaar tr").count() > 2
    # five years of months: a partial first and last year unless they are whole years
    assert page.locator("#per-jaar tr.partial").count() >= 2 or demo_clock.first.month == 1
    assert page.locator("table.places").count() == 2
    assert page.locator("table.places tr").count() > 2
    assert len(visit.maps()) == 2  # a map per category
    pages, landscape = _pdf_pages(page)
    assert pages == 1 and not landscape
    _print_shot(page, test_output / "overzicht-print.png", 733)


@pytest.mark.slow
def test_vergelijk_page(browser: Browser, live_server: LiveServer, test_output: Path) -> None:
    url = f"{live_server.url}/vergelijk?municipality=GM0518&category=woninginbraak&res=9"
    visit = _open(browser, url, test_output / "vergelijk.png")
    assert visit.errors == []
    assert visit.outside == []
    assert len(visit.maps()) == 2
    periods = visit.page.locator(".caption .period").all_inner_texts()
    assert len(set(periods)) == 2
    # the two maps and their figures on the first landscape page, the change map on the second
    assert _pdf_pages(visit.page) == (2, True)


@pytest.mark.slow
def test_vergelijk_change_map_shows_no_small_count(
    browser: Browser, live_server: LiveServer, test_output: Path
) -> None:
    url = f"{live_server.url}/vergelijk?municipality=GM0518&category=woninginbraak&res=9"
    visit = _open(browser, url, None)
    page = visit.page
    section = page.locator("#verandering-hotspots")
    section.scroll_into_view_if_needed()
    assert section.is_visible()
    cells = page.locator("#veranderkaart path.change")
    assert cells.count() > 10
    kinds = set(
        page.locator("#veranderkaart path.change").evaluate_all(
            "els => els.map(e => e.dataset.kind)"
        )
    )
    assert kinds == {"nieuw", "gebleven", "verdwenen"}
    legend = page.locator("#veranderlegenda").inner_text()
    assert "nieuwe hotspot" in legend and "niet langer een hotspot" in legend
    # what a viewer can read from the change: shown counts (>= 5) or "<5", never a difference
    tips = page.locator("#veranderkaart path.change title").all_text_contents()
    for tip in tips:
        numbers = [int(n) for n in re.findall(r"(?<![<\d])(\d+)(?= incidenten|,)", tip)]
        assert all(n >= 5 for n in numbers), tip
    assert any("<5" in tip for tip in tips)  # withheld counts are said so
    section.screenshot(path=str(test_output / "vergelijk-verandering.png"))
    assert visit.errors == [] and visit.outside == []


def _covered_share(frame: Frame, selector: str) -> float:
    """Share of the map's area under the element ``selector`` (0 when it is not shown)."""
    box = frame.locator(selector).bounding_box()
    whole = frame.locator(".leaflet-container").bounding_box()
    assert whole is not None
    if box is None:
        return 0.0
    width = min(box["x"] + box["width"], whole["x"] + whole["width"]) - max(box["x"], whole["x"])
    height = min(box["y"] + box["height"], whole["y"] + whole["height"]) - max(box["y"], whole["y"])
    return max(width, 0.0) * max(height, 0.0) / (whole["width"] * whole["height"])


@pytest.mark.slow
@pytest.mark.parametrize("method", ["gistar", "kde", "emerging"])
def test_vergelijk_legends_leave_the_maps_visible(
    browser: Browser, live_server: LiveServer, test_output: Path, method: str
) -> None:
    """Old code: the Gi* legend's list covered the lower left of each small map, hotspots too."""
    url = f"{live_server.url}/vergelijk?municipality=GM0518&category=woninginbraak&res=9"
    visit = _open(browser, url + ("" if method == "gistar" else f"&method={method}"), None)
    frames = visit.maps()
    assert len(frames) == 2
    for frame in frames:
        legend = frame.locator("#legenda")
        assert legend.is_visible()
        assert _covered_share(frame, "#legenda") <= 0.20
        if method == "emerging":
            continue  # categorical patterns: the names flow side by side instead
        # the one-line ramp, with every class's meaning as its tooltip
        assert frame.locator("#legenda .compact").is_visible()
        assert not frame.locator("#legenda .full").is_visible()
        tips = frame.locator("#legenda .compact .sw").evaluate_all("els => els.map(e => e.title)")
        assert len(tips) == (7 if method == "gistar" else 5) and all(tips)
        if method == "gistar":
            assert "Hotspot, 99% betrouwbaar" in tips and "Coldspot, 99% betrouwbaar" in tips
            assert "% betrouwbaar" in legend.inner_text()
    visit.page.locator(".maps-2").screenshot(path=str(test_output / f"vergelijk-{method}.png"))
    assert visit.errors == []
    assert visit.outside == []


@pytest.mark.slow
def test_kaart_keeps_the_full_legend(browser: Browser, live_server: LiveServer) -> None:
    visit = _open(browser, live_server.url + KAART, None)
    (frame,) = visit.maps()
    assert frame.locator("#legenda .full").is_visible()
    assert not frame.locator("#legenda .compact").is_visible()
    assert "Hotspot, 95% betrouwbaar" in frame.locator("#legenda").inner_text()


@pytest.mark.slow
def test_error_page_is_dutch(browser: Browser, live_server: LiveServer, test_output: Path) -> None:
    url = f"{live_server.url}/overzicht?municipality=GM9999"
    visit = _open(browser, url, test_output / "fout.png")
    text = visit.page.locator("main").inner_text()
    assert "Gemeente 'GM9999' is niet bekend" in text
    assert "geo-service" not in text and "Traceback" not in text
    assert visit.page.locator("a.button").get_attribute("href") == "/overzicht"
    # the only console message is Chromium's note on the 404 status itself
    assert all("404" in e for e in visit.errors)
    assert visit.outside == []
