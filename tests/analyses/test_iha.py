"""IHA proposals (``geo-service iha``, ``iha import``) on the demo and on bare data."""

from __future__ import annotations

import itertools
import json
from datetime import date
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient
from geojson_pydantic import FeatureCollection

from geo_service.analyses.iha import IHAParams, compute_iha, iha_geojson
from geo_service.cli import main
from geo_service.demo.dataset import planted_spots
from geo_service.errors import InputFileError, NotFoundError
from geo_service.filters import IncidentFilter
from geo_service.ingest import import_areas, ingest_frame
from geo_service.ingest.plans import import_iha_actions
from geo_service.store import Store
from geo_service.store.core import copy_store
from geo_service.web import create_app
from spatial.errors import InvalidParameterError
from spatial.grid.crs import RD_NEW, WGS84
from tests.analyses.conftest import END
from tests.web_fixtures import web_settings


@pytest.fixture
def store(demo_store: Store) -> Store:
    return demo_store


def rd(fc: dict) -> gpd.GeoSeries:
    return gpd.GeoDataFrame.from_features(fc["features"], crs=WGS84).to_crs(RD_NEW).geometry


def test_cli_on_the_demo(demo_db: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "iha.geojson"
    assert main(["--db", str(demo_db), "iha", "--count", "10", "--out", str(out)]) == 0
    assert "10 IHA-voorstellen" in capsys.readouterr().err
    fc = json.loads(out.read_text(encoding="utf-8"))
    FeatureCollection.model_validate(fc)
    meta = fc["metadata"]
    assert meta["parameters"]["categories"] == ["woninginbraak", "jeugdoverlast"]
    assert meta["category_kinds"] == {"woninginbraak": "politie", "jeugdoverlast": "melding"}
    assert meta["parameters"]["end"] == "2026-10-31"
    feats = fc["features"]
    assert len(feats) == 10 and [f["properties"]["rank"] for f in feats] == list(range(1, 11))
    scores = [f["properties"]["score"] for f in feats]
    assert scores == sorted(scores, reverse=True)
    for f in feats:
        p = f["properties"]
        assert 0.2 <= p["area_km2"] <= 1.5
        # The demo's jeugdoverlast are meldingen: a total per kind, never one sum (issue 23).
        assert p["total_politie"] == p["incidents_woninginbraak"]
        assert p["total_melding"] == p["incidents_jeugdoverlast"]
        assert "incidents_total" not in p
        assert p["wijken"] and p["wijk_codes"].startswith("WK")
    geoms = rd(fc)
    for a, b in itertools.combinations(range(len(geoms)), 2):
        assert geoms[a].intersection(geoms[b]).area < 1.0  # m2: touching at most
        assert geoms[a].distance(geoms[b]) >= 200  # the 250 m gap, in whole rings of cells
    for km2, g in zip([f["properties"]["area_km2"] for f in feats], geoms, strict=True):
        assert g.area / 1e6 == pytest.approx(km2, rel=0.05)


def test_reasons_say_why_each_beat_the_next(store: Store) -> None:
    fc = iha_geojson(compute_iha(store, IHAParams(count=4)))
    reasons = [f["properties"]["reason"] for f in fc["features"]]
    for i, text in enumerate(reasons[:-1]):
        assert text.startswith(f"Voorstel {i + 1} (rond ")
        assert f"gaat voor voorstel {i + 2} (rond " in text
        assert "vooral door meer " in text and " tegen " in text
    assert "gaat voor het beste niet gekozen gebied" in reasons[-1]
    assert fc["metadata"]["reserve"]["score"] < fc["features"][-1]["properties"]["score"]


def test_planted_jeugdoverlast_spot_is_proposed(store: Store) -> None:
    fc = iha_geojson(compute_iha(store, IHAParams(categories=("jeugdoverlast",), count=3)))
    spot = planted_spots(END)["intensifying"]
    first = shapely.geometry.shape(fc["features"][0]["geometry"])
    assert first.contains(shapely.Point(spot["lon"], spot["lat"]))
    assert "Kijkduin en Ockenburgh" in fc["features"][0]["properties"]["wijken"]


def test_weights_select_the_category(store: Store) -> None:
    both = IHAParams(categories=("woninginbraak", "jeugdoverlast"), weights=(0.0, 1.0), count=3)
    only = IHAParams(categories=("jeugdoverlast",), count=3)
    a, b = iha_geojson(compute_iha(store, both)), iha_geojson(compute_iha(store, only))
    assert [f["properties"]["centre_h3"] for f in a["features"]] == [
        f["properties"]["centre_h3"] for f in b["features"]
    ]


def test_recent_action_is_penalised_and_designated_gets_a_bonus(
    demo_db: Path, tmp_path: Path
) -> None:
    path = tmp_path / "past.duckdb"
    copy_store(demo_db, path)
    with Store.open(path) as s:
        before = iha_geojson(compute_iha(s, IHAParams(count=3)))
        top = before["features"][0]
        past = gpd.GeoDataFrame.from_features([top], crs=WGS84)
        past["datum"] = "12-05-2026"  # Dutch day-first
        assert import_iha_actions(s, past, municipality="GM0518") == 1
        # An action from two years ago does not count.
        old = past.assign(datum="2024-05-01", code="OUD")
        assert import_iha_actions(s, old, code_field="code") == 1
        after = iha_geojson(compute_iha(s, IHAParams(count=3)))
        third = before["features"][2]
        zone = gpd.GeoDataFrame.from_features([third], crs=WGS84)
        import_areas(s, zone.assign(code="CAM-9"), level="designated", municipality="GM0518")
        bonus = iha_geojson(compute_iha(s, IHAParams(count=3)))
    assert after["metadata"]["past_actions_considered"] == 1
    top_after = after["features"][0]["properties"]
    assert top_after["centre_h3"] != top["properties"]["centre_h3"]
    penalised = [f["properties"] for f in after["features"] if f["properties"]["recent_iha_share"]]
    assert penalised and all(p["score"] < p["raw_score"] for p in penalised)
    assert any(
        "al een IHA (aftrek)" in f["properties"]["reason"] for f in after["features"]
    ) or any("ondanks een IHA" in f["properties"]["reason"] for f in after["features"])
    boosted = [f["properties"] for f in bonus["features"] if f["properties"]["designated_share"]]
    assert boosted and all(p["score"] > p["raw_score"] * (1 - 0.5) for p in boosted)
    assert bonus["metadata"]["designated_areas"] == 1


def test_works_on_bare_data_without_areas(store: Store, tmp_path: Path) -> None:
    pts = store.incident_points(IncidentFilter(municipality="GM1783"))
    frame = pts[["incident_id", "lon", "lat", "occurred_from", "category"]]
    with Store.open(tmp_path / "bare.duckdb") as bare:
        ingest_frame(bare, frame, file_name="westland.csv", today=date(2026, 12, 31))
        assert bare.areas_frame().empty
        result = compute_iha(bare, IHAParams(count=2, min_km2=0.1, max_km2=2.0, res=9))
    fc = iha_geojson(result)
    assert "voetafdruk" in fc["metadata"]["study_area"]
    assert len(fc["features"]) >= 1
    for f in fc["features"]:
        assert f["properties"]["wijken"] == ""
        assert " N, " in f["properties"]["reason"] and " O" in f["properties"]["reason"]
    assert fc["metadata"]["equity"] == {
        "note": "geen wijken opgeslagen: geen verdeling over wijken"
    }


def test_domain_errors(demo_db: Path, store: Store, tmp_path: Path, capsys) -> None:
    with pytest.raises(NotFoundError, match="niet bekend"):
        compute_iha(store, IHAParams(categories=("fietsdiefstal",)))
    with pytest.raises(InvalidParameterError, match="resolutie"):
        IHAParams(min_km2=1.0, max_km2=1.2)
    with pytest.raises(InvalidParameterError, match="one weight per category"):
        IHAParams(categories=("jeugdoverlast",), weights=(1.0, 2.0))
    with pytest.raises(InputFileError, match="geen datum"):
        import_iha_actions(
            store, gpd.GeoDataFrame(geometry=[shapely.box(4.3, 52.0, 4.31, 52.01)], crs=WGS84)
        )
    base = ["--db", str(demo_db), "iha"]
    assert main([*base, "--categories", "jeugdoverlast", "--weights", "x"]) == 2
    assert main([*base, "--weights", "woninginbraak=2"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "--categories" in err
    other = ["--db", str(tmp_path / "other.duckdb"), "iha"]
    assert main([*other, "import", str(tmp_path / "nope.geojson"), "--date", "2026-01-01"]) == 2
    assert "niet gevonden" in capsys.readouterr().err


def test_equity_of_the_proposals(store: Store, tmp_path: Path) -> None:
    eq = compute_iha(store, IHAParams(count=5)).metadata["equity"]
    assert eq["unit"] == "IHA-gebieden" and eq["total_effort"] == pytest.approx(5)
    assert sum(r["effort"] for r in eq["wijken"]) == pytest.approx(5, abs=0.01)
    assert len(eq["sentences"]) == sum(r["more_than_share"] for r in eq["wijken"])
    assert sum(r["incident_share"] for r in eq["wijken"]) <= 1 + 1e-9


def test_published_layer_is_for_analysts(demo_db: Path) -> None:
    secret = demo_db.with_suffix(".key").read_text()
    with TestClient(create_app(web_settings(demo_db))) as c:
        anonymous = c.get("/api/v1/iha", params={"count": 3})
        analyst = c.get("/api/v1/iha", params={"count": 3}, headers={"X-API-Key": secret})
        listed = {col["id"] for col in c.get("/ogc/collections").json()["collections"]}
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert analyst.status_code == 200
    FeatureCollection.model_validate(analyst.json())
    assert analyst.json()["features"] and "equity" in analyst.json()["metadata"]
    assert {"iha-voorstellen", "cameraplan"}.isdisjoint(listed)  # not listed to viewers
