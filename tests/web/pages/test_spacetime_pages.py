"""Space-time pages: emerging hot spots on /kaart and the analysts' /waarschuwingszones."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import h3
import pytest
import shapely
from fastapi.testclient import TestClient

from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.web import create_app
from tests.web_fixtures import DemoDB, LiveServer, demo_db, live_server, web_settings

# The demo's clock decides what these tests see: `make test` runs them at three dates.
pytestmark = pytest.mark.clock

__all__ = ["demo_db", "live_server"]

GM = "GM0518"
ZONES = f"/waarschuwingszones?municipality={GM}"
EMERGING = f"municipality={GM}&category=jeugdoverlast&method=emerging&res=9"
INTENSIFYING = 2  # style index = pattern code - 1 ("intensifying hot spot" = 3)


@pytest.fixture(scope="module")
def client(demo_db: DemoDB) -> Iterator[TestClient]:
    with TestClient(create_app(web_settings(demo_db.path, permutations=19))) as c:
        yield c


# -- emerging hot spots on /kaart ---------------------------------------------------------


def _hex_payload(doc: str) -> tuple[dict[str, object], list[str]]:
    """Return the L.hexLayer payload and the popup heads of a map document."""
    found = re.search(r"L\.hexLayer\(\s*(\{.*?\})\s*,\s*\{", doc, re.S)
    assert found
    heads = re.search(r'_heads" data-cells="\d+">(.*?)</div>', doc, re.S)
    assert heads
    return json.loads(found.group(1)), re.findall(r"<p>(.*?)</p>", heads.group(1))


def _planted_cells(
    demo_db: DemoDB, ids: list[str], styles: list[int], wanted: set[int]
) -> list[str]:
    """Cells drawn with a style in ``wanted`` whose centre lies in the planted wijk WK051815."""
    with Store.open(demo_db.path) as store:  # same configuration as the app's connection
        wijken = store.areas_frame(level="wijk", municipality=GM)
    wijk = wijken.loc[wijken["code"] == "WK051815", "geometry"].iloc[0]
    return [
        c
        for c, st in zip(ids, styles, strict=True)
        if st in wanted and wijk.contains(shapely.Point(h3.cell_to_latlng(c)[::-1]))
    ]


def test_emerging_map_shows_the_planted_intensifying_area(
    client: TestClient, demo_db: DemoDB
) -> None:
    # Analysts: monthly bins of exact counts find the planted intensifying spot.
    r = client.get(f"/kaart/kaartlaag?{EMERGING}", headers={"X-API-Key": demo_db.analyst})
    assert r.status_code == 200
    doc = r.text
    assert "Opkomende hotspots (Emerging Hot Spot Analysis, maandelijks)" in doc
    legend = doc[doc.index('id="legenda"') :][:3000]
    assert "toenemende hotspot" in legend and "trend per maand" in legend
    assert "geen patroon" not in legend
    payload, heads = _hex_payload(doc)
    ids, styles, head = payload["h"], payload["s"], payload["p"]
    assert isinstance(ids, list) and isinstance(styles, list) and isinstance(head, list)
    inside = _planted_cells(demo_db, ids, styles, {INTENSIFYING})
    assert inside, "the planted intensifying spot in WK051815 is not drawn"
    popup = heads[head[ids.index(inside[0])]]
    assert "Toenemende hotspot" in popup
    assert re.search(r"Aantal incidenten in deze zeshoek: <b>(\d+)</b>", popup)
    # Viewers: quarterly bins of published counts (the privacy lattice); the planted area is
    # still a hot spot pattern there (quarters smooth its late rise: exact quarterly counts
    # give the same patterns, tested in test_emerging_adapter.py).
    r = client.get(f"/kaart/kaartlaag?{EMERGING}")  # anonymous = viewer: filtered layer
    assert r.status_code == 200
    doc = r.text
    assert "Opkomende hotspots (Emerging Hot Spot Analysis, per kwartaal)" in doc
    legend = doc[doc.index('id="legenda"') :][:3000]
    assert "trend per kwartaal" in legend and "geen patroon" not in legend
    payload, heads = _hex_payload(doc)
    ids, styles, head = payload["h"], payload["s"], payload["p"]
    assert isinstance(ids, list) and isinstance(styles, list) and isinstance(head, list)
    inside = _planted_cells(demo_db, ids, styles, set(range(8)))  # the eight hot spot kinds
    assert inside, "the planted spot in WK051815 is not drawn for viewers"
    popup = heads[head[ids.index(inside[0])]]
    assert "hotspot" in popup.lower()
    assert re.search(r"Aantal incidenten in deze zeshoek: <b>(\d+|&lt;5|<5)</b>", popup)


def test_emerging_is_a_choice_and_default_kaart_is_unchanged(client: TestClient) -> None:
    page = client.get(f"/kaart?{EMERGING}")
    assert page.status_code == 200
    assert "Opkomende hotspots (trend)" in page.text
    assert "Opkomende hotspots (Emerging Hot Spot Analysis, maandelijks)" in page.text
    download = client.get(f"/kaart/kaartlaag.geojson?{EMERGING}")
    assert download.status_code == 200
    feats = download.json()["features"]
    assert feats and all(f["properties"]["pattern_code"] for f in feats)
    default = client.get(f"/kaart/kaartlaag?municipality={GM}&category=woninginbraak&res=9")
    assert default.status_code == 200
    assert "Opkomende hotspots (trend per maand)" not in default.text
    assert "Hotspots (Gi*)" in default.text


# -- /waarschuwingszones ---------------------------------------------------------------------


def test_alert_zones_refused_to_anonymous_and_viewers(client: TestClient, demo_db: DemoDB) -> None:
    anonymous = client.get(ZONES)
    assert anonymous.status_code == 401
    assert "text/html" in anonymous.headers["content-type"]
    assert "Niet aangemeld" in anonymous.text
    viewer = client.get(ZONES, headers={"X-API-Key": demo_db.viewer})
    assert viewer.status_code == 403
    assert "Geen toegang" in viewer.text
    assert "NR-" not in viewer.text


def test_alert_zones_table_for_analysts(client: TestClient, demo_db: DemoDB) -> None:
    r = client.get(ZONES, headers={"X-API-Key": demo_db.analyst})
    assert r.status_code == 200
    text = r.text
    assert 'id="zones"' in text
    assert "Aantal inbraken" in text and "Geschatte woningen" in text and "Wijk(en)" in text
    assert re.search(r"\d{4}-\d\d-\d\d t/m \d{4}-\d\d-\d\d", text)
    assert re.search(r'id="straal">Zone: binnen <b>\d+ m</b>', text)
    assert "Waarom:" in text
    assert "woninginbraak" in text
    assert 'class="caption' in text
    assert "srcdoc=" in text  # the map of the zones


def test_alert_zones_page_takes_the_zone_bound_setting(demo_db: DemoDB) -> None:
    # GEO_SERVICE_ALERT_MAX_ZONE_RADIUS_M: the page says the bound and how many chains it split.
    # A year of Den Haag's burglaries: overlapping zones chain further than 250 m at any demo
    # date (the default window of a few weeks may hold no chain to split).
    with Store.open(demo_db.path, read_only=True) as store:
        last = store.data_window(IncidentFilter(category="woninginbraak", municipality=GM))[1]
    assert last is not None
    since = (last - timedelta(days=365)).isoformat()
    app = create_app(web_settings(demo_db.path, permutations=19, alert_max_zone_radius_m=250.0))
    with TestClient(app) as c:
        r = c.get(f"{ZONES}&since={since}", headers={"X-API-Key": demo_db.analyst})
    assert r.status_code == 200
    assert "Elke zone past binnen een cirkel van\n<b>250 m</b> (één ronde folderen)" in r.text
    assert re.search(r"\d+ ketens van overlappende cirkels zijn gesplitst in \d+ zones", r.text)


def test_alert_zones_unknown_parameter_is_refused(client: TestClient, demo_db: DemoDB) -> None:
    r = client.get(ZONES + "&straal=100", headers={"X-API-Key": demo_db.analyst})
    assert r.status_code == 400


def test_alert_zones_print_on_one_page(demo_db: DemoDB, live_server: LiveServer) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    from tests.web.pages.test_browser import _pdf_pages
    from tests.web_fixtures import CHROMIUM
    from tests.web_fixtures import CHROMIUM_ARGS as ARGS

    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(extra_http_headers={"X-API-Key": demo_db.analyst})
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(live_server.url + ZONES, wait_until="load")
            frame = next(f for f in page.frames if f.url == "about:srcdoc")
            frame.wait_for_function("() => window.mapReady === true", timeout=60_000)
            assert page.locator("#zones table").count() >= 1
            pages, _landscape = _pdf_pages(page)
            assert pages == 1
            assert not errors
        finally:
            browser.close()
