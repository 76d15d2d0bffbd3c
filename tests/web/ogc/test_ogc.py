"""OGC API - Features read by a real OGC client: GDAL's OAPIF driver against uvicorn."""

from __future__ import annotations

import geopandas as gpd
import httpx
import pyogrio
import pytest

from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.web.published.registry import layers
from tests.web_fixtures import DemoDB, LiveServer, demo_db, live_server

__all__ = ["demo_db", "live_server"]

# Expected sizes come from the store, not from the service (an independent path).
#: Layers of one category: one collection per stored category, ``<layer>-<category>``.
PER_CATEGORY = ("hotspots-gistar", "hotspots-kde", "emerging-hotspots")
VIEWER_COLLECTIONS = (
    "wijken",
    "buurten",
    "cameras",
    "prioriteiten",  # targeting: Driehoek priorities (viewer rules)
)


def _read(server: LiveServer, layer: str, key: str | None = None) -> gpd.GeoDataFrame:
    # GDAL's OAPIF driver sets its own HTTP headers (GDAL_HTTP_HEADERS is ignored), but it
    # honours GDAL's bearer-token auth: that sends ``Authorization: Bearer <key>``.
    opts = {"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": key} if key else {}
    pyogrio.set_gdal_config_options(opts)
    try:
        return pyogrio.read_dataframe(f"OAPIF:{server.url}/ogc", layer=layer)
    finally:
        pyogrio.set_gdal_config_options({name: None for name in opts})


def _categories(demo_db: DemoDB) -> list[str]:
    with Store.open(demo_db.path) as store:
        return store.categories()


def test_gdal_lists_the_viewer_collections(live_server: LiveServer, demo_db: DemoDB) -> None:
    names = {name for name, _ in pyogrio.list_layers(f"OAPIF:{live_server.url}/ogc")}
    categories = _categories(demo_db)
    assert len(categories) >= 2  # else one collection per category proves nothing
    per_category = {f"{layer}-{c}" for layer in PER_CATEGORY for c in categories}
    assert names == set(VIEWER_COLLECTIONS) | per_category
    assert "incidents" in layers()  # published, but not to viewers


def test_category_collections_have_their_own_extent(
    live_server: LiveServer, demo_db: DemoDB
) -> None:
    docs = {
        c["id"]: c for c in httpx.get(f"{live_server.url}/ogc/collections").json()["collections"]
    }
    boxes = set()
    for category in _categories(demo_db):
        with Store.open(demo_db.path) as store:
            points = store.incident_points(IncidentFilter(category=category))
            first, last = store.data_window(IncidentFilter(category=category))
        assert first is not None and last is not None
        for layer in PER_CATEGORY:
            extent = docs[f"{layer}-{category}"]["extent"]
            (box,) = extent["spatial"]["bbox"]
            # Every incident inside, and no side more than one 0.01-degree step beyond them.
            lo = (points["lon"].min(), points["lat"].min())
            hi = (points["lon"].max(), points["lat"].max())
            for i in range(2):
                assert lo[i] - 0.01 <= box[i] <= lo[i]
                assert hi[i] <= box[i + 2] <= hi[i] + 0.01
            assert extent["temporal"]["interval"] == [
                [f"{first.isoformat()}T00:00:00Z", f"{last.isoformat()}T00:00:00Z"]
            ]
            boxes.add(tuple(box))
    # Not the whole of the Netherlands, and the categories' extents differ in the demo.
    assert all(b[2] - b[0] < 1 for b in boxes)
    assert len(boxes) == len(_categories(demo_db))


def test_unknown_category_collection_is_a_404_naming_the_known(
    live_server: LiveServer, demo_db: DemoDB
) -> None:
    categories = _categories(demo_db)
    for path in ("hotspots-gistar-onbekend", "hotspots-gistar-onbekend/items", "hotspots-gistar"):
        resp = httpx.get(f"{live_server.url}/ogc/collections/{path}")
        assert resp.status_code == 404
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert resp.json()["known"] == [f"hotspots-gistar-{c}" for c in categories]
    # A category parameter other than the collection's is refused, not silently ignored.
    other = httpx.get(
        f"{live_server.url}/ogc/collections/hotspots-kde-{categories[0]}/items",
        params={"category": categories[1]},
    )
    assert other.status_code == 400
    # Layers with a category filter check it too, as the JSON API and the downloads do.
    for url in (
        f"{live_server.url}/ogc/collections/prioriteiten/items?category=onbekend",
        f"{live_server.url}/api/v1/hotspots?category=onbekend",
        f"{live_server.url}/kaart/kaartlaag.geojson?category=onbekend",
        f"{live_server.url}/ogc/collections/wijken/items?municipality=GM9999",
    ):
        resp = httpx.get(url)
        assert resp.status_code == 404, url
        assert resp.headers["content-type"].startswith("application/problem+json"), url
        assert resp.json()["known"], url


def test_gdal_reads_areas_and_cameras(live_server: LiveServer, demo_db: DemoDB) -> None:
    with Store.open(demo_db.path) as store:
        n_wijk = len(store.areas_frame(level="wijk"))
        n_buurt = len(store.areas_frame(level="buurt"))
        n_cam = len(store.cameras_frame())
    wijken = _read(live_server, "wijken")
    assert len(wijken) == n_wijk
    assert set(wijken["level"]) == {"wijk"}
    assert wijken.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert len(_read(live_server, "buurten")) == n_buurt
    cams = _read(live_server, "cameras")
    assert len(cams) == n_cam
    assert (cams.geometry.geom_type == "Point").all()


@pytest.mark.parametrize("layer", ["hotspots-gistar", "hotspots-kde"])
def test_gdal_reads_hotspot_collections(
    live_server: LiveServer, demo_db: DemoDB, layer: str
) -> None:
    totals = []
    for category in _categories(demo_db):
        frame = _read(live_server, f"{layer}-{category}")
        assert len(frame) > 0
        assert "h3" in frame.columns
        assert (frame.geometry.geom_type == "Polygon").all()
        # Regression (issue 7.6): with "<5" strings in it GDAL typed `count` as text.
        assert frame["count"].dtype.kind in "if", frame["count"].dtype
        # Every feature says its category (a GIS user joins collections on it).
        assert set(frame["category"]) == {category}
        totals.append(frame["count"].sum())
    # The collections hold different data, not one default category twice.
    assert len(set(totals)) == len(totals)


def test_gdal_reads_incidents_with_an_analyst_key(live_server: LiveServer, demo_db: DemoDB) -> None:
    with Store.open(demo_db.path) as store:
        expected = store.count_incidents()
    frame = _read(live_server, "incidents", key=demo_db.analyst)
    assert len(frame) == expected
    assert (frame.geometry.geom_type == "Point").all()
    # Without a key the collection does not exist for the caller (no hint that it does).
    assert httpx.get(f"{live_server.url}/ogc/collections/incidents/items").status_code == 404


def test_paging_links_walk_the_whole_collection(live_server: LiveServer, demo_db: DemoDB) -> None:
    with Store.open(demo_db.path) as store:
        expected = sorted(store.areas_frame(level="buurt")["code"])
    url: str | None = f"{live_server.url}/ogc/collections/buurten/items?limit=25"
    seen: list[str] = []
    pages = 0
    while url:
        resp = httpx.get(url)
        assert resp.status_code == 200
        page = resp.json()
        assert page["numberMatched"] == len(expected)
        assert page["numberReturned"] == len(page["features"]) <= 25
        seen += [f["id"] for f in page["features"]]
        url = next((lk["href"] for lk in page["links"] if lk["rel"] == "next"), None)
        pages += 1
    assert pages == -(-len(expected) // 25)
    assert sorted(seen) == expected


def test_bbox_datetime_and_single_items(live_server: LiveServer, demo_db: DemoDB) -> None:
    base = f"{live_server.url}/ogc/collections"
    every = httpx.get(f"{base}/cameras/items").json()
    lon = sorted(f["geometry"]["coordinates"][0] for f in every["features"])[10]
    part = httpx.get(f"{base}/cameras/items", params={"bbox": f"3,50,{lon},54"}).json()
    assert part["numberMatched"] == sum(
        f["geometry"]["coordinates"][0] <= lon for f in every["features"]
    )
    one = every["features"][0]
    got = httpx.get(f"{base}/cameras/items/{one['id']}")
    assert got.headers["content-type"].startswith("application/geo+json")
    assert got.json()["geometry"] == one["geometry"]
    headers = {"X-API-Key": demo_db.analyst}
    with Store.open(demo_db.path) as store:
        import datetime as dt

        n_2024 = store.count_incidents(
            IncidentFilter(start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31))
        )
    # RFC 3339 full-dates: whole local days.
    year = httpx.get(
        f"{base}/incidents/items",
        headers=headers,
        params={"datetime": "2024-01-01/2024-12-31", "limit": 1},
    )
    assert year.json()["numberMatched"] == n_2024 > 0
    # Date-times are instants, not widened to days (the old behaviour this test enshrined):
    # 2024-01-01T00:00Z .. 2024-12-31T00:00Z ends at 01:00 local on 31 December.
    instants = httpx.get(
        f"{base}/incidents/items",
        headers=headers,
        params={"datetime": "2024-01-01T00:00:00Z/2024-12-31T00:00:00Z", "limit": 1},
    )
    with Store.open(demo_db.path) as store:
        n_instants = store.count_incidents(
            IncidentFilter(start=dt.datetime(2024, 1, 1, 1, 0), end=dt.datetime(2024, 12, 31, 1, 0))
        )
    assert instants.json()["numberMatched"] == n_instants < n_2024
    for path in ("", "/conformance", "/collections"):
        assert httpx.get(f"{live_server.url}/ogc{path}").status_code == 200
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"
        in httpx.get(f"{live_server.url}/ogc/conformance").json()["conformsTo"]
    )
