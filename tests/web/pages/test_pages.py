"""The map pages without a browser: captions, partial years, places, errors, downloads, size.

Browser behaviour (clicks, print, load) is in ``test_browser.py``.
"""

from __future__ import annotations

import html
import io
import re
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from fastapi.testclient import TestClient
from geojson_pydantic import FeatureCollection

from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.web import create_app
from geo_service.web.pages.caption import DataWindow
from tests.clock import DemoClock, add_months, label, month_end, months, quarter_end_before
from tests.web_fixtures import DemoDB, demo_clock, demo_db, web_settings

# The demo's clock decides what these tests see: `make test` runs them at three dates.
pytestmark = pytest.mark.clock

__all__ = ["demo_clock", "demo_db"]

GM = "GM0518"
NOISE = 2  # Settings.viewer_noise: the cell key method's largest perturbation
HOT = {"municipality": GM, "category": "woninginbraak"}


@pytest.fixture(scope="module")
def client(demo_db: DemoDB) -> Iterator[TestClient]:
    with TestClient(create_app(web_settings(demo_db.path, permutations=19))) as c:
        yield c


def _analyst(demo_db: DemoDB) -> dict[str, str]:
    return {"X-API-Key": demo_db.analyst}


def _caption(html: str) -> str:
    block = html.split('class="caption', 1)[1].split("</div>", 1)[0]
    return re.sub(r"<[^>]+>", "", block)


# -- 1. captions -----------------------------------------------------------------------------


def _one_day(clock: DemoClock) -> date:
    """A day in the last month of a quarter well inside the data (the 21st)."""
    return quarter_end_before(clock.last, 6).replace(day=21)


def test_caption_shows_the_period_actually_used_by_viewers(
    client: TestClient, demo_clock: DemoClock
) -> None:
    day = _one_day(demo_clock)
    params = {**HOT, "start": day.isoformat(), "end": day.isoformat(), "res": 9}
    page = client.get("/kaart", params=params).text
    text = _caption(page)
    # one day asked; the privacy policy answers whole months: the quarter that holds it
    shown = f"Periode: {months(add_months(day, -2), day)}"
    assert shown in text
    assert "privacy" in text
    assert "Soort: woninginbraak" in text and "Getis-Ord Gi*" in text
    assert "H3-resolutie 9" in text
    assert f"Gegevens: {demo_clock.window}" in text and "laatst ingelezen" in text
    assert "Deels synthetisch" in text
    # the map document says the same, read from the layer's metadata
    doc = client.get("/kaart/kaartlaag", params=params).text
    map_caption = _caption(doc)
    assert shown in map_caption
    assert "Deels synthetisch" in map_caption


def test_caption_for_analysts_is_the_requested_period(
    client: TestClient, demo_db: DemoDB, demo_clock: DemoClock
) -> None:
    day = _one_day(demo_clock)
    params = {**HOT, "start": day.isoformat(), "end": day.isoformat(), "res": 9}
    text = _caption(client.get("/kaart", params=params, headers=_analyst(demo_db)).text)
    d = f"{day.day}-{day.month}-{day.year}"
    assert f"Periode: {d} t/m {d}" in text
    assert "privacy" not in text


def test_a_period_past_the_data_is_marked_incomplete(
    client: TestClient, demo_db: DemoDB, demo_clock: DemoClock
) -> None:
    # a quarter that starts in the last month of data and runs two months past it
    start, end = demo_clock.last, month_end(add_months(demo_clock.last, 2))
    params = {**HOT, "start": start.isoformat(), "end": end.isoformat()}
    text = _caption(client.get("/kaart", params=params, headers=_analyst(demo_db)).text)
    assert f"Periode: {months(start, end)}" in text
    assert f"gegevens lopen t/m {label(demo_clock.last)}: de periode is onvolledig" in text


def test_partial_years_are_marked_and_compared_like_for_like(
    client: TestClient, demo_db: DemoDB, demo_clock: DemoClock
) -> None:
    page = client.get("/overzicht", params={"municipality": GM}).text
    table = page.split('id="per-jaar"')[1].split("</table>")[0]
    labels = re.findall(r'<th class="l">([^<]+)</th>', table)
    first, last = demo_clock.first, demo_clock.last
    # five years of data: the first and last calendar years are partial unless they start
    # in January / end in December (then the window is five whole years)
    assert labels[1] == (demo_clock.partial_first_year() or str(first.year))
    last_label = demo_clock.partial_last_year()
    if last_label is None:
        assert str(last.year) in labels and "niet met een heel jaar" not in page
        return
    assert last_label in labels and str(last.year) not in labels
    same_months = "jan" if last.month == 1 else f"jan t/m {label(last).split()[0]}"
    assert labels[-1] == f"{last.year - 1} {same_months}"  # "2027 jan t/m jan" read oddly
    assert "niet met een heel jaar" in page
    # the like-for-like row holds the same months of the year before, as every viewer figure
    with Store.open(demo_db.path) as store:  # same configuration as the app's connection
        monthly = store.monthly_counts(IncidentFilter("woninginbraak", GM))
    m = pd.to_datetime(monthly["month"])
    exact = int(monthly["count"][(m.dt.year == last.year - 1) & (m.dt.month <= last.month)].sum())
    last_row = table.rsplit("<tr", 1)[1]
    values = re.findall(r"<td>([^<]+)</td>", last_row)
    # columns: the police registrations (woninginbraak), then the meldingen (jeugdoverlast);
    # viewers: the cell key method, within 2 of exact
    assert abs(int(values[0]) - exact) <= NOISE


def test_data_window_labels() -> None:
    w = DataWindow(date(2021, 11, 1), date(2026, 10, 31), None)
    assert w.partial_year(2021) == "2021 vanaf nov"
    assert w.partial_year(2025) is None


# -- 3. hotspots as places -------------------------------------------------------------------


def test_overview_lists_places_with_areas_size_and_rates(client: TestClient) -> None:
    page = client.get("/overzicht", params={"municipality": GM}).text
    tables = re.findall(
        r'<table class="top places" data-category="([^"]+)">(.*?)</table>', page, re.S
    )
    assert [c for c, _ in tables] == ["jeugdoverlast", "woninginbraak"]  # both categories
    rows = re.findall(r"<tr><th>(\d+)</th>(.*?)</tr>", tables[1][1], re.S)
    assert rows
    for _, row in rows:
        cells = re.findall(r'<td class="[ln]">([^<]*)</td>', row)
        wijk, _buurten, strength, km2, incidents, rate = cells
        assert wijk and wijk != "-"
        assert strength in ("99%", "95%", "90%")
        # a place a team can walk: clusters above 1 km² are split (spatial.hotspots.clusters)
        assert 0 < float(km2.replace(",", ".")) <= 1.0
        assert int(incidents) >= 5  # viewer: perturbed, never < k
        assert rate == "-" or float(rate.replace(",", ".")) > 0
    assert "8a19" not in page  # places, not cell ids
    # a rate says its period: a yearly rate, labelled so (it was a five-year total unlabelled)
    assert "<th>Per 1.000 woningen per jaar</th>" in tables[1][1]
    # both categories get a map
    assert page.count('class="map-frame"') == 2


def test_small_municipality_gets_a_sentence_not_rows_of_small_counts(client: TestClient) -> None:
    page = client.get("/overzicht", params={"municipality": "GM1783"}).text
    section = page.split("<h3>woninginbraak</h3>")[1].split("<h3>")[0].split("<h2>")[0]
    assert "&lt;5" not in section  # no rows of small counts
    sentence = section.split('<p class="note sentence">')[1].split("</p>")[0]
    assert "minder dan 5 incidenten" in sentence or "Geen significante hotspots" in sentence


def test_analysts_see_exact_place_counts(client: TestClient, demo_db: DemoDB) -> None:
    page = client.get("/overzicht", params={"municipality": GM}, headers=_analyst(demo_db)).text
    tables = re.findall(r'<table class="top places"[^>]*>(.*?)</table>', page, re.S)
    counts = [int(v) for t in tables for v in re.findall(r'<td class="n">(\d+)</td>', t)]
    assert any(c % 5 for c in counts)


# -- 6. Dutch error pages --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "status", "says"),
    [
        ("/overzicht", {"municipality": "GM9999"}, 404, "Gemeente 'GM9999' is niet bekend"),
        ("/kaart", {"municipality": "GM9999"}, 404, "niet bekend"),
        ("/kaart", {"end": "9999-12-31"}, 400, "buiten het bereik 1900-2200"),
        ("/kaart/kaartlaag", {"start": "0001-01-01"}, 400, "buiten het bereik"),
        ("/kaart", {"start": "2026-05-01", "end": "2026-01-01"}, 400, "na de einddatum"),
        ("/kaart", {"start": "31-12-2026"}, 400, "geen geldige datum"),
        ("/kaart", {"res": "12"}, 400, "Zeshoekgrootte"),
        ("/kaart", {"method": "heatmap"}, 400, "Methode"),
        ("/kaart", {"gemeente": "GM0518"}, 400, "Onbekende keuze in het adres: gemeente"),
        ("/kaart", {"category": "fietsendiefstal"}, 404, "Soort incident"),
        ("/overzicht", {"res": "x"}, 400, "geheel getal"),
        ("/vergelijk", {"compare_end": "9999-01-01"}, 400, "eerdere periode"),
        ("/kaart/bestaat-niet", {}, 404, "bestaat niet"),
    ],
)
def test_page_errors_are_dutch_html(
    client: TestClient, path: str, params: dict[str, str], status: int, says: str
) -> None:
    r = client.get(path, params=params)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("text/html")
    assert says.lower() in html.unescape(r.text).lower()
    for internal in ("geo-service", "Traceback", "problem", "areas import", "got ", "/work"):
        assert internal not in r.text
    assert 'href="/' in r.text  # a way back


@pytest.mark.parametrize(
    ("path", "knows", "back"),
    [
        # the choices by their form labels, not their parameter names (Dutch only)
        ("/driehoek", "Gebieden, Gemeente, Hele jaren, Soort incident", "de Driehoek"),
        (
            "/cameras",
            "Camera's, Gemeente, Halveringstijd (dagen), Soorten incident, Straal (m)",
            "het cameraplan",
        ),
    ],
)
def test_targeting_pages_refuse_unknown_parameters_like_the_map_pages(
    client: TestClient, demo_db: DemoDB, path: str, knows: str, back: str
) -> None:
    # An analyst, so that /cameras would otherwise answer 200: the refusal is the check's.
    r = client.get(path, params={"gemeente": GM}, headers=_analyst(demo_db))
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/html")
    text = html.unescape(r.text)
    assert f"Onbekende keuze in het adres: gemeente. Deze pagina kent: {knows}." in text
    assert f'href="{path}">Terug naar {back}</a>' in text
    # the same check as the map pages: same sentence, and OGC's f is allowed everywhere
    kaart = html.unescape(client.get("/kaart", params={"gemeente": GM}).text)
    assert "Onbekende keuze in het adres: gemeente. Deze pagina kent: " in kaart
    assert client.get(path, params={"municipality": GM, "f": "html"},
                      headers=_analyst(demo_db)).status_code == 200  # fmt: skip


def test_targeting_pages_still_check_their_values_on_the_page(client: TestClient) -> None:
    # Values are declared as text and checked by the page, so the message stays its own.
    r = client.get("/driehoek", params={"years": "veel"})
    assert r.status_code == 400
    assert "Aantal jaren: &#39;veel&#39; is geen getal." in r.text
    assert 'id="prioriteitenkaart"' not in r.text


def test_the_api_keeps_problem_json(client: TestClient) -> None:
    r = client.get("/api/v1/hotspots", params={**HOT, "end": "9999-12-31"})
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"


# -- 7. downloads and comparison -------------------------------------------------------------


def test_geojson_download_is_the_shown_layer_with_viewer_privacy(
    client: TestClient, demo_clock: DemoClock
) -> None:
    r = client.get("/kaart/kaartlaag.geojson", params={**HOT, "res": 9})
    assert r.headers["content-type"] == "application/geo+json"
    assert "attachment" in r.headers["content-disposition"]
    doc = r.json()
    FeatureCollection.model_validate(doc)
    props = [f["properties"] for f in doc["features"]]
    assert props
    assert all(p["count"] is None or p["count"] >= 5 for p in props)
    assert not any("gi_z" in p for p in props)
    assert f"periode {demo_clock.viewer_window}" in doc["metadata"]["caption"]
    assert "deels synthetische demogegevens" in doc["metadata"]["caption"]
    # the same cells as the map draws: significant, or with a shown count
    assert all(p["gi_class_fdr"] != 0 or p["count"] for p in props)


def test_geopackage_download_reads_in_gdal(client: TestClient) -> None:
    r = client.get("/kaart/kaartlaag.gpkg", params={**HOT, "res": 9})
    assert r.status_code == 200
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.gpkg"
        path.write_bytes(r.content)
        frame = pyogrio.read_dataframe(path)
        meta = pyogrio.read_info(path)
    geo = client.get("/kaart/kaartlaag.geojson", params={**HOT, "res": 9}).json()
    assert len(frame) == len(geo["features"])
    assert frame.crs.to_epsg() == 4326
    assert "h3" in frame.columns and "count" in frame.columns
    assert meta["layer_metadata"] and "woninginbraak" in meta["layer_metadata"]["DESCRIPTION"]


def test_trend_csv_has_the_page_figures(client: TestClient) -> None:
    params = {**HOT, "start": "2025-01-01", "end": "2025-12-31"}
    page = client.get("/kaart", params=params).text
    bars = dict(re.findall(r"<title>(\w+ \d{4}): ([^<]+)</title>", page))
    r = client.get("/kaart/trend.csv", params=params)
    assert r.headers["content-type"].startswith("text/csv")
    frame = pd.read_csv(io.StringIO(r.content.decode("utf-8-sig")), sep=";", comment="#")
    assert list(frame.columns) == ["maand", "incidenten"]
    assert len(frame) == 12 == len(bars)
    assert frame["incidenten"].astype(str).tolist() == [
        v.replace("&lt;", "<") for v in bars.values()
    ]


def test_overview_csvs(client: TestClient, demo_clock: DemoClock) -> None:
    places = client.get("/overzicht/hotspots.csv", params={"municipality": GM})
    frame = pd.read_csv(io.StringIO(places.content.decode("utf-8-sig")), sep=";", comment="#")
    assert set(frame["soort"]) == {"jeugdoverlast", "woninginbraak"}
    assert (frame["incidenten"].astype(int) >= 5).all()
    years = client.get("/overzicht/per-jaar.csv", params={"municipality": GM})
    ytab = pd.read_csv(io.StringIO(years.content.decode("utf-8-sig")), sep=";", comment="#")
    years_shown = ytab["jaar"].astype(str).tolist()
    assert (demo_clock.partial_last_year() or str(demo_clock.last.year)) in years_shown


def test_compare_two_periods(client: TestClient, demo_db: DemoDB, demo_clock: DemoClock) -> None:
    # viewers: the last two whole calendar years (periods of the viewer lattice)
    page = client.get("/vergelijk", params={**HOT, "res": 9}).text
    frames = re.findall(r'<iframe class="map-frame"[^>]*src="([^"]+)"', page)
    assert len(frames) == 2
    year = demo_clock.last.year if demo_clock.last.month == 12 else demo_clock.last.year - 1
    assert f"start={year - 1}-01-01" in frames[0].replace("&amp;", "&")
    assert f"start={year}-01-01" in frames[1].replace("&amp;", "&")
    table = page.split('id="vergelijking"')[1].split("</table>")[0]
    totals = re.findall(r"<td>(\d+)</td>", table.split("Incidenten")[1].split("</tr>")[0])
    assert len(totals) == 2 and all(int(t) >= 5 for t in totals)
    assert "Verandering in incidenten" in page
    # analysts: the last twelve months of data and the twelve before
    page = client.get("/vergelijk", params={**HOT, "res": 9}, headers=_analyst(demo_db)).text
    frames = re.findall(r'<iframe class="map-frame"[^>]*src="([^"]+)"', page)
    assert f"start={demo_clock.month(23).isoformat()}" in frames[0].replace("&amp;", "&")
    assert f"start={demo_clock.month(11).isoformat()}" in frames[1].replace("&amp;", "&")


def _change_cells(page: str) -> list[tuple[str, str]]:
    """(kind, tooltip) of every cell of the change map."""
    svg = page.split('id="veranderkaart"', 1)[1].split("</svg>", 1)[0]
    cells = re.findall(r'class="change (\w+)"[^>]*><title>([^<]*)</title>', svg)
    return [(kind, html.unescape(tip)) for kind, tip in cells]


def test_change_map_is_the_two_viewer_maps_and_shows_no_small_count(
    client: TestClient, demo_clock: DemoClock
) -> None:
    year = demo_clock.last.year if demo_clock.last.month == 12 else demo_clock.last.year - 1
    page = client.get("/vergelijk", params={**HOT, "res": 9}).text
    cells = _change_cells(page)
    assert cells, "no change map"
    # the kinds are those of the two viewer layers (the API's), cell for cell
    hot = []
    for y in (year - 1, year):
        fc = client.get(
            "/api/v1/hotspots", params={**HOT, "res": 9, "start": f"{y}-01-01", "end": f"{y}-12-31"}
        ).json()
        hot.append(
            {f["properties"]["h3"] for f in fc["features"] if f["properties"]["gi_class_fdr"] > 0}
        )
    expected = {
        "nieuw": len(hot[1] - hot[0]),
        "gebleven": len(hot[0] & hot[1]),
        "verdwenen": len(hot[0] - hot[1]),
    }
    assert {k: sum(1 for kind, _ in cells if kind == k) for k in expected} == expected
    # every number a viewer reads in it is a shown count (>= 5) or "<5"; no differences
    for _, tip in cells:
        numbers = [int(n) for n in re.findall(r"(?<![<\d])(\d+)(?= incidenten|,)", tip)]
        assert all(n >= 5 for n in numbers), tip
        assert "+" not in tip and "verschil" not in tip.lower()


# -- 5. size ---------------------------------------------------------------------------------


def test_map_documents_are_small_and_compressed(client: TestClient, demo_db: DemoDB) -> None:
    r10 = client.get("/kaart/kaartlaag", params={**HOT, "res": 10})
    assert r10.headers["content-encoding"] == "gzip"
    assert len(r10.content) < 400_000  # was 5.3 MB
    assert int(r10.headers["content-length"]) < 60_000
    r11 = client.get("/kaart/kaartlaag", params={**HOT, "res": 11}, headers=_analyst(demo_db))
    assert len(r11.content) < 2_000_000  # was 43 MB
    cells = int(r11.text.split('data-cells="', 1)[1].split('"', 1)[0])
    assert cells > 5000  # res 11 is drawn, not refused
    # the popup heads are shared: a few dozen for a viewer, not one per cell
    heads = r10.text.split("_heads", 1)[1].split("</div>", 1)[0].count("<p>")
    assert heads < 80


def test_viewers_fall_back_to_res_10_with_a_note(client: TestClient) -> None:
    page = client.get("/kaart", params={**HOT, "res": 11}).text
    assert "getoond wordt resolutie 10" in page
    assert "res=10" in page.split('id="kaart"')[1].split(">")[0]
