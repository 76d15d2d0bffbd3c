"""The JSON/GeoJSON API through ``create_app`` on the demo database."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from geojson_pydantic import FeatureCollection

from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.web import create_app
from tests.web_fixtures import DemoDB, client, demo_copy, demo_db, web_settings

__all__ = ["client", "demo_copy", "demo_db"]


def _fc(resp: object) -> dict[str, object]:
    assert resp.status_code == 200, resp.text  # type: ignore[attr-defined]
    assert resp.headers["content-type"].startswith("application/geo+json")  # type: ignore[attr-defined]
    data = resp.json()  # type: ignore[attr-defined]
    FeatureCollection.model_validate({k: v for k, v in data.items() if k != "metadata"})
    return data  # type: ignore[no-any-return]


def test_areas_and_cameras_match_the_store(client: TestClient, demo_db: DemoDB) -> None:
    with Store.open(demo_db.path) as store:
        n_wijk = len(store.areas_frame(level="wijk", municipality="GM1783"))
        n_buurt = len(store.areas_frame(level="buurt"))
        cams = store.cameras_frame(municipality="GM0518")
    wijken = _fc(client.get("/api/v1/areas", params={"level": "wijk", "municipality": "GM1783"}))
    assert len(wijken["features"]) == n_wijk > 0
    assert all(f["properties"]["level"] == "wijk" for f in wijken["features"])
    assert len(_fc(client.get("/api/v1/areas?level=buurt"))["features"]) == n_buurt > 0
    got = _fc(client.get("/api/v1/cameras?municipality=GM0518"))
    assert sorted(f["id"] for f in got["features"]) == sorted(cams["camera_id"])
    kinds = {f["properties"]["kind"] for f in got["features"]}
    assert kinds == {"fixed", "flexible"}


def test_bbox_filters_cameras(client: TestClient) -> None:
    every = _fc(client.get("/api/v1/cameras"))["features"]
    lons = sorted(f["geometry"]["coordinates"][0] for f in every)
    cut = lons[len(lons) // 2]
    west = _fc(client.get("/api/v1/cameras", params={"bbox": f"3.5,51.5,{cut},52.5"}))["features"]
    assert 0 < len(west) < len(every)
    assert all(f["geometry"]["coordinates"][0] <= cut for f in west)


def test_etag_and_304(client: TestClient) -> None:
    first = client.get("/api/v1/areas?level=wijk")
    etag = first.headers["etag"]
    again = client.get("/api/v1/areas?level=wijk", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = client.get("/api/v1/areas?level=wijk", headers={"If-None-Match": '"nope"'})
    assert other.status_code == 200
    assert other.content == first.content


def test_data_change_invalidates_the_cache(demo_copy: DemoDB) -> None:
    with TestClient(create_app(web_settings(demo_copy.path))) as c:
        before = c.get("/api/v1/cameras").headers["etag"]
        c.app.state.store.con.execute("DELETE FROM cameras WHERE kind = 'flexible'")  # type: ignore[attr-defined]
        c.app.state.store.bump_data_version()  # type: ignore[attr-defined]
        after = c.get("/api/v1/cameras", headers={"If-None-Match": before})
        assert after.status_code == 200
        assert after.headers["etag"] != before
        assert {f["properties"]["kind"] for f in after.json()["features"]} == {"fixed"}


@pytest.mark.parametrize(
    ("method", "url", "status", "word"),
    [
        ("GET", "/api/v1/nope", 404, "bestaat niet"),
        ("POST", "/api/v1/areas", 405, "niet toegestaan"),
        ("GET", "/api/v1/hotspots?res=7", 400, "res"),
        ("GET", "/api/v1/hotspots?res=abc", 400, "res"),
        ("GET", "/api/v1/hotspots?method=idw", 400, "method"),
        ("GET", "/api/v1/hotspots?start=2024-05-01&end=2024-01-01", 400, "begindatum"),
        ("GET", "/api/v1/cameras?bbox=1,2,3", 400, "bbox"),
        ("GET", "/api/v1/cameras?bbox=10,60,0,50", 400, "min"),
        ("GET", "/api/v1/cameras?bbox=0,0,200,10", 400, "bereik"),
        ("GET", "/ogc/collections/nope", 404, "onbekend"),
        ("GET", "/ogc/collections/wijken/items/GM9999", 404, "niet gevonden"),
        ("GET", "/ogc/collections/wijken/items?datetime=yesterday", 400, "datetime"),
    ],
)
def test_errors_are_problem_json(
    client: TestClient, method: str, url: str, status: int, word: str
) -> None:
    resp = client.request(method, url)
    assert resp.status_code == status
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert body["status"] == status
    assert " / " in body["title"]  # Dutch / English
    assert word.lower() in body["detail"].lower()
    assert "Traceback" not in resp.text


def test_incidents_for_analyst_match_the_store(client: TestClient, demo_db: DemoDB) -> None:
    with Store.open(demo_db.path) as store:
        expected = store.count_incidents(IncidentFilter("woninginbraak", "GM1783"))
    resp = client.get(
        "/api/v1/incidents",
        params={"category": "woninginbraak", "municipality": "GM1783", "limit": 100000},
        headers={"X-API-Key": demo_db.analyst},
    )
    data = _fc(resp)
    assert data["numberMatched"] == expected == len(data["features"])
    assert {f["properties"]["category"] for f in data["features"]} == {"woninginbraak"}
    bearer = client.get(
        "/api/v1/incidents",
        params={"limit": 3},
        headers={"Authorization": f"Bearer {demo_db.analyst}"},
    )
    assert len(_fc(bearer)["features"]) == 3


def test_hotspots_for_analyst_have_exact_values(client: TestClient, demo_db: DemoDB) -> None:
    resp = client.get(
        "/api/v1/hotspots",
        params={"category": "woninginbraak", "municipality": "GM0518", "res": 9},
        headers={"X-API-Key": demo_db.analyst},
    )
    data = _fc(resp)
    assert isinstance(data["metadata"], dict)
    props = [f["properties"] for f in data["features"]]
    assert props
    assert all(isinstance(p["count"], int) for p in props)
    assert all("gi_z" in p and "gi_class_fdr" in p for p in props)
    with Store.open(demo_db.path) as store:
        total = store.count_incidents(IncidentFilter("woninginbraak", "GM0518"))
    assert sum(p["count"] for p in props) <= total


def test_upload_ingests_and_is_audited(demo_copy: DemoDB) -> None:
    csv = (
        "incident_id,occurred_from,lon,lat\n"
        "up-1,2024-03-01 10:00,4.30,52.07\n"
        "up-2,2024-03-02 11:00,4.31,52.08\n"
        "up-3,2024-03-03 12:00,,\n"
    )
    with TestClient(create_app(web_settings(demo_copy.path))) as c:
        files = {"file": ("nieuw.csv", csv.encode(), "text/csv")}
        data = {"category": "fietsdiefstal"}
        assert c.post("/api/v1/incidents", files=files, data=data).status_code == 401
        denied = c.post(
            "/api/v1/incidents", files=files, data=data, headers={"X-API-Key": demo_copy.analyst}
        )
        assert denied.status_code == 403
        ok = c.post(
            "/api/v1/incidents", files=files, data=data, headers={"X-API-Key": demo_copy.admin}
        )
        assert ok.status_code == 200, ok.text
        report = ok.json()
        assert report["rows_in"] == 3
        assert (
            report["stored"] + report["duplicates"] + report["quarantined"] + report["skipped"] == 3
        )
        assert report["stored"] == 2
    with Store.open(demo_copy.path) as store:
        assert "fietsdiefstal" in store.categories()
        audit = store.list_audit(limit=50)
    actions = list(audit["action"])
    assert "incidents.ingest" in actions
    assert "key.use" in actions
    ingest_row = audit[audit["action"] == "incidents.ingest"].iloc[0]
    assert ingest_row["role"] == "admin"
    assert json.loads(ingest_row["detail"])["file"] == "nieuw.csv"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/hotspots?category=Woninginbraak",
        "/api/v1/hotspots?category=fietsdiefstal&method=kde",
        "/api/v1/priorities?category=Woninginbraak",
    ],
)
def test_unknown_category_is_404_naming_the_known_ones(client: TestClient, url: str) -> None:
    # A misspelled category used to answer 200 with an empty map (every cell 0).
    r = client.get(url)
    assert r.status_code == 404, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert "woninginbraak" in body["known"] and "jeugdoverlast" in body["known"]
    assert "niet bekend" in body["detail"]


def test_unknown_municipality_is_404(client: TestClient) -> None:
    for url in ("/api/v1/hotspots?municipality=GM9999", "/api/v1/areas?municipality=GM9999"):
        r = client.get(url)
        assert r.status_code == 404, (url, r.text)
        assert "GM0518" in r.json()["known"]
