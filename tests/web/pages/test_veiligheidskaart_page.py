"""The page /veiligheidskaart: in headless Chromium (Debian's) and through the TestClient.

Chromium: loads with no console error and no request off 127.0.0.1, one section and one
chart per stadsdeel, a contents list that links them; screenshot in test-output/. TestClient:
the editions by role, no count below k for viewers, Dutch errors.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser

from geo_service.demo.areas import DEN_HAAG_STADSDELEN
from tests.web_fixtures import DemoDB, LiveServer, browser, client, demo_db, live_server

__all__ = ["browser", "client", "demo_db", "live_server"]

pytestmark = pytest.mark.clock


@pytest.mark.browser
@pytest.mark.slow
def test_page_renders_in_chromium(
    browser: Browser, live_server: LiveServer, test_output: Path
) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "request",
        lambda r: (
            outside.append(r.url)
            if not r.url.startswith(("data:", "about:")) and urlparse(r.url).hostname != "127.0.0.1"
            else None
        ),
    )
    response = page.goto(live_server.url + "/veiligheidskaart", wait_until="networkidle")
    assert response is not None and response.status == 200
    page.screenshot(path=str(test_output / "veiligheidskaart.png"), full_page=True)
    assert errors == [] and outside == []
    sections = page.locator("section.area")
    assert sections.count() == 8
    assert page.locator("section.area svg.chart").count() == 8
    assert page.locator("section.area svg.chart polyline.series").count() >= 8
    names = [name for name, _ in DEN_HAAG_STADSDELEN.values()]
    headings = page.locator("section.area h2").all_inner_texts()
    assert [h.split(" (")[0] for h in headings] == names
    # The contents list links every section; following a link lands on it.
    links = page.locator("#inhoud a")
    assert links.count() == 8 + 2
    page.locator("#inhoud a", has_text="Centrum").click()
    assert page.url.endswith("#gebied-SD051805")
    assert page.locator("#editie").inner_text().startswith("Openbare editie")
    assert page.locator("nav a[href='/veiligheidskaart']").count() == 1
    page.close()


def _counts(html: str) -> list[str]:
    return re.findall(r'<td class="count">([^<]*)</td>', html)


def test_viewer_gets_the_public_edition_without_counts_below_k(client: TestClient) -> None:
    r = client.get("/veiligheidskaart", params={"level": "wijk"})
    assert r.status_code == 200
    assert "Openbare editie" in r.text and "Analistenversie" not in r.text
    cells = _counts(r.text)
    assert "&lt;5" in cells
    assert min(int(c.replace(".", "")) for c in cells if c != "&lt;5") >= 5
    assert "Deels synthetisch" in r.text


def test_analyst_gets_exact_counts_on_every_section(client: TestClient, demo_db: DemoDB) -> None:
    key = {"X-API-Key": demo_db.analyst}
    r = client.get("/veiligheidskaart", params={"level": "wijk"}, headers=key)
    assert r.status_code == 200
    assert "&lt;5" not in _counts(r.text)
    sections = re.findall(r'<section class="(area|effects|method)"', r.text)
    assert r.text.count("Analistenversie: exacte aantallen") == len(sections) + 1
    # An analyst may ask for the public edition (to check what the public sees).
    pub = client.get("/veiligheidskaart", params={"editie": "openbaar"}, headers=key)
    assert "Openbare editie" in pub.text and "Analistenversie" not in pub.text


def test_dutch_errors(client: TestClient) -> None:
    r = client.get("/veiligheidskaart", params={"level": "buurt"})
    assert r.status_code == 400 and "kies stadsdeel of wijk" in r.text
    r = client.get("/veiligheidskaart", params={"year": "2200"})
    assert r.status_code == 404 and "geen heel jaar" in r.text
    r = client.get("/veiligheidskaart", params={"municipality": "GM1783"})
    assert r.status_code == 404 and "Geen stadsdelen bekend" in r.text
    r = client.get("/veiligheidskaart", params={"year": "twintig"})
    assert r.status_code == 400 and "geen jaartal" in r.text


def test_unknown_parameter_is_refused_like_the_other_pages(client: TestClient) -> None:
    r = client.get("/veiligheidskaart", params={"jaar": "2025"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    text = r.text.replace("&#39;", "'")
    assert "Onbekende keuze in het adres: jaar." in text
    assert 'href="/veiligheidskaart">Terug naar de Veiligheidskaart</a>' in text
    for internal in ("geo-service", "Traceback", "got "):
        assert internal not in r.text


def test_trend_text_says_why_there_is_none() -> None:
    from geo_service.analyses.veiligheidskaart import AreaCategory
    from geo_service.web.pages.veiligheidskaart import _ratio

    def row(counts: tuple[float | None, ...], rr: float | None = None) -> AreaCategory:
        lo, hi = (None, None) if rr is None else (rr * 0.9, rr * 1.1)
        return AreaCategory("x", counts, counts, rr, lo, hi, None, None, None, 0, 0, None)

    assert _ratio(row((None, 8.0, 9.0))) == "niet te schatten (een jaar onder de drempel)"
    assert _ratio(row((0.0, 0.0, 0.0))) == "geen incidenten"
    assert "eerste of laatste jaar" in _ratio(row((0.0, 0.0, 100.0)))
    # 0.92: 8 % fewer per year, the interval as yearly factors (0.83 to 1.01).
    assert _ratio(row((50.0, 46.0, 42.0), 0.92)).startswith(
        "8,0% daling per jaar (95%-interval 0,83"
    )
