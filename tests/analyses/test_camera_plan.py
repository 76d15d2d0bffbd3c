"""Flexible camera plan (``geo-service cameras plan``) on the demo and on small stores."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from fastapi.testclient import TestClient
from geojson_pydantic import FeatureCollection

from geo_service.analyses.camera_plan import (
    CameraPlanParams,
    camera_plan_geojson,
    compute_camera_plan,
    plan_coverage_curve,
    solution_quality,
)
from geo_service.cli import main
from geo_service.demo.dataset import planted_spots
from geo_service.errors import InputFileError, NotFoundError
from geo_service.filters import IncidentFilter
from geo_service.ingest import import_areas, import_cameras, ingest_frame
from geo_service.ingest.plans import read_candidates
from geo_service.store import Store
from geo_service.web import create_app
from spatial.errors import InvalidParameterError
from spatial.grid.crs import RD_NEW, WGS84, transform
from tests.analyses.conftest import END
from tests.web_fixtures import web_settings


@pytest.fixture
def store(demo_store: Store) -> Store:
    return demo_store


def kinds(fc: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {"proposed": [], "fixed": [], "current": []}
    for f in fc["features"]:
        out[f["properties"]["kind"]].append(f)
    return out


def test_cli_runs_on_the_demo_without_flags(demo_db: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "plan.geojson"
    assert main(["--db", str(demo_db), "cameras", "plan", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "22 plekken" in err
    assert "(bewezen optimaal (geen plan dekt meer))" in err
    fc = json.loads(out.read_text(encoding="utf-8"))
    FeatureCollection.model_validate(fc)
    meta = fc["metadata"]
    assert meta["status"] == "optimal" and meta["optimality_gap"] == 0
    assert meta["solution_quality"] == "bewezen optimaal (geen plan dekt meer)"
    assert 0 < meta["covered_demand"] <= meta["upper_bound"] + 1e-6
    assert meta["parameters"]["end"] == "2026-10-31" and meta["parameters"]["start"] == "2025-11-01"
    k = kinds(fc)
    assert len(k["proposed"]) == 22 and len(k["fixed"]) == 106 and len(k["current"]) == 22
    gains = [f["properties"]["marginal_gain"] for f in k["proposed"]]
    assert gains == sorted(gains, reverse=True)  # marginal-gain order
    assert sum(gains) == pytest.approx(meta["covered_demand"], abs=0.02)  # rounded to 3 dp
    for f in k["proposed"]:
        p = f["properties"]
        assert p["reason"].startswith(f"Plek {p['order']} van 22: dekt ")
        # The demo's jeugdoverlast are meldingen: a total per kind, never one sum (issue 23).
        assert p["total_politie"] == p["incidents_woninginbraak"]
        assert p["total_melding"] == p["incidents_jeugdoverlast"]
        assert "incidents_covered" not in p
    for f in k["current"]:
        p = f["properties"]
        assert p["advice"] in ("keep", "move", "withdraw")
        word = {"keep": "Laten hangen", "move": "Verplaatsen", "withdraw": "Intrekken"}
        assert p["reason"].startswith(word[p["advice"]])
        if p["advice"] == "move":
            assert p["stay_loss"] >= meta["parameters"]["min_move_gain"]
    # Every planned site is taken by a kept or moved camera (22 cameras for 22 sites).
    targets = [f["properties"]["target_site"] for f in k["current"]]
    assert sorted(targets) == sorted(f["id"] for f in k["proposed"])


def test_planted_hotspots_get_cameras(store: Store) -> None:
    result = compute_camera_plan(store, CameraPlanParams(categories=("jeugdoverlast",)))
    sites = result.plan.selected_xy
    for name, spot in planted_spots(END).items():
        x, y = transform([spot["lon"]], [spot["lat"]], WGS84, result.crs)
        dist = np.hypot(sites[:, 0] - x[0], sites[:, 1] - y[0])
        assert (dist <= 150).sum() >= (2 if name == "intensifying" else 1), name
    # The intensifying spot (40 a month in the last year) holds the most-covering sites.
    spot = planted_spots(END)["intensifying"]
    x, y = transform([spot["lon"]], [spot["lat"]], WGS84, result.crs)
    first = np.hypot(sites[:5, 0] - x[0], sites[:5, 1] - y[0])
    assert (first <= 150).any()


def test_coverage_never_drops_with_count(store: Store) -> None:
    result = compute_camera_plan(store, CameraPlanParams(count=8))
    curve = plan_coverage_curve(result, [0, 1, 2, 3, 5, 8], time_limit_s=20)
    assert curve.covered_demand[0] == 0
    assert (np.diff(curve.covered_demand) >= -1e-9).all()
    assert curve.covered_demand[-1] == pytest.approx(result.plan.mclp.covered_demand, rel=1e-9)
    greedy = plan_coverage_curve(result, list(range(9)), method="greedy")
    assert (np.diff(greedy.covered_demand) >= 0).all()
    assert (greedy.covered_demand[[0, 1, 2, 3, 5, 8]] <= curve.covered_demand + 1e-9).all()


def test_recency_weighting(store: Store) -> None:
    flat = compute_camera_plan(store, CameraPlanParams(count=3, half_life_days=0))
    meta = flat.metadata
    assert meta["total_demand"] == pytest.approx(meta["n_incidents"])
    assert meta["weighting"] == "elk incident weegt 1"
    weighted = compute_camera_plan(store, CameraPlanParams(count=3))
    assert weighted.metadata["total_demand"] < 0.6 * meta["n_incidents"]


def small_store(path: Path, *, designated: bool = False) -> Store:
    """Two clusters of incidents in Den Haag, one fixed camera on the first, two flexible."""
    s = Store.open(path)
    x0, y0 = 81_000.0, 455_000.0
    rng = np.random.default_rng(1)
    a = np.column_stack([rng.normal(x0, 15, 40), rng.normal(y0, 15, 40)])
    b = np.column_stack([rng.normal(x0 + 800, 15, 30), rng.normal(y0, 15, 30)])
    c = np.column_stack([rng.normal(x0 + 400, 15, 20), rng.normal(y0 + 600, 15, 20)])
    pts = np.vstack([a, b, c])
    # Five years of incidents; around the first cluster they fall every year.
    years = np.r_[np.repeat([2022, 2023, 2024, 2025, 2026], [16, 10, 8, 4, 2]), [2026] * 50]
    frame = pd.DataFrame(
        {
            "incident_id": [f"S{i}" for i in range(len(pts))],
            "x": pts[:, 0],
            "y": pts[:, 1],
            "occurred_from": [f"{y}-03-01 12:00" for y in years],
            "category": "jeugdoverlast",
        }
    )
    ingest_frame(s, frame, file_name="s.csv", crs=RD_NEW, today=date(2026, 12, 31))
    cams = gpd.GeoDataFrame(
        {"camera_id": ["F1"], "active_from": ["2015-01-01"]},
        geometry=gpd.points_from_xy([x0], [y0]),
        crs=RD_NEW,
    )
    import_cameras(s, cams, kind="fixed", municipality="GM0518")
    flex = gpd.GeoDataFrame(
        {"camera_id": ["M1", "M2"]},
        geometry=gpd.points_from_xy([x0 + 800, x0 + 3000], [y0, y0]),
        crs=RD_NEW,
    )
    import_cameras(s, flex, kind="flexible", municipality="GM0518")
    town = gpd.GeoDataFrame(
        {"code": ["GM0518"], "name": ["Den Haag (proef)"]},
        geometry=[shapely.box(x0 - 1000, y0 - 1000, x0 + 2000, y0 + 1500)],
        crs=RD_NEW,
    )
    import_areas(s, town, level="gemeente")
    if designated:
        zone = gpd.GeoDataFrame(
            {"code": ["CAM-1"], "name": ["Cameragebied oost"]},
            geometry=[shapely.box(x0 + 600, y0 - 300, x0 + 1000, y0 + 300)],
            crs=RD_NEW,
        )
        import_areas(s, zone, level="designated", municipality="GM0518")
    return s


def test_fixed_coverage_advice_and_review(tmp_path: Path) -> None:
    with small_store(tmp_path / "s.duckdb") as s:
        params = CameraPlanParams(
            incidents=IncidentFilter(start=date(2022, 1, 1), end=date(2026, 12, 31)),
            count=2,
            half_life_days=0,
        )
        result = compute_camera_plan(s, params)
    fc = camera_plan_geojson(result)
    k = kinds(fc)
    # Cluster a is under the fixed camera: the two sites go to clusters b and c.
    assert fc["metadata"]["already_covered_demand"] == pytest.approx(40, abs=3)
    sites = np.array([f["geometry"]["coordinates"] for f in k["proposed"]])
    x, y = transform(sites[:, 0], sites[:, 1], WGS84, RD_NEW)
    centres = np.array([[81_800.0, 455_000.0], [81_400.0, 455_600.0]])  # clusters b and c
    dist = np.hypot(x[:, None] - centres[:, 0], y[:, None] - centres[:, 1])
    assert sorted(dist.argmin(axis=1).tolist()) == [0, 1] and (dist.min(axis=1) < 75).all()
    advice = {f["id"]: f["properties"] for f in k["current"]}
    assert advice["M1"]["advice"] == "keep"  # already on cluster b
    assert advice["M2"]["advice"] == "move"  # 3 km away from everything
    assert advice["M2"]["target_site"] != advice["M1"]["target_site"]
    fixed = k["fixed"][0]["properties"]
    assert fixed["review"] is True and fixed["counts_per_period"] == [16, 10, 8, 4, 2]
    assert "daalde 5 perioden van 12 maanden op rij (16 → 10 → 8 → 4 → 2)" in fixed["reason"]


def test_designated_areas_restrict_the_sites(tmp_path: Path) -> None:
    with small_store(tmp_path / "d.duckdb", designated=True) as s:
        result = compute_camera_plan(s, CameraPlanParams(count=2))
        zone = s.areas_frame(level="designated").geometry.iloc[0]
        free = compute_camera_plan(s, CameraPlanParams(count=2, designated=False))
    fc = camera_plan_geojson(result)
    assert "aangewezen" in fc["metadata"]["candidates"]["source"]
    for f in kinds(fc)["proposed"]:
        assert zone.buffer(1e-6).contains(shapely.Point(f["geometry"]["coordinates"]))
    assert result.plan.mclp.covered_demand < free.plan.mclp.covered_demand
    advice = {f["id"]: f["properties"]["advice"] for f in kinds(fc)["current"]}
    assert advice["M1"] == "keep" and advice["M2"] == "withdraw"


def test_given_candidates(tmp_path: Path, store: Store) -> None:
    lon, lat = 4.3007, 52.0705
    csv = tmp_path / "kandidaten.csv"
    csv.write_text(f"naam;lon;lat\na;{lon};{lat}\nb;{lon + 0.01};{lat}\n", encoding="utf-8")
    cands = read_candidates(csv)
    assert cands == ((lon, lat), (lon + 0.01, lat))
    result = compute_camera_plan(store, CameraPlanParams(count=2, candidates=cands))
    assert result.metadata["candidates"] == {"source": "opgegeven punten", "n": 2}
    given = np.round(np.array(cands), 5)
    geoms = result.current.geometry.values
    cur = np.round(np.column_stack([shapely.get_x(geoms), shapely.get_y(geoms)]), 5)
    for site in np.round(result.site_lonlat, 5):
        assert (given == site).all(axis=1).any() or (np.abs(cur - site) < 1e-4).all(axis=1).any()
    bad = tmp_path / "bad.csv"
    bad.write_text("x;y\n1;2\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="lon and lat"):
        read_candidates(bad)


def test_domain_errors(demo_db: Path, store: Store, capsys) -> None:
    with pytest.raises(NotFoundError, match="niet bekend"):
        compute_camera_plan(store, CameraPlanParams(categories=("fietsdiefstal",)))
    with pytest.raises(InvalidParameterError, match="count"):
        CameraPlanParams(count=0)
    with pytest.raises(InvalidParameterError, match="radius_m"):
        CameraPlanParams(radius_m=-5)
    base = ["--db", str(demo_db), "cameras", "plan"]
    assert main([*base, "--designated"]) == 2
    assert "geen aangewezen cameragebieden" in capsys.readouterr().err
    assert main([*base, "--candidates", "/nonexistent/k.geojson"]) == 2
    err = capsys.readouterr().err
    assert "niet gevonden" in err and "Traceback" not in err


def test_equity_of_the_plan(store: Store) -> None:
    result = compute_camera_plan(store, CameraPlanParams())  # both categories
    eq = result.metadata["equity"]
    assert eq["unit"] == "cameraplekken" and eq["total_effort"] == 22
    rows = {r["code"]: r for r in eq["wijken"]}
    assert sum(r["effort"] for r in rows.values()) == 22  # every site lies in a wijk
    # The planted jeugdoverlast spot draws several cameras: Kijkduin gets more than its share
    # of all incidents (it has few burglaries).
    kijkduin = rows["WK051815"]
    assert kijkduin["effort"] >= 3 and kijkduin["more_than_share"]
    assert any(s.startswith("Kijkduin en Ockenburgh: ") for s in eq["sentences"])
    assert eq["summary"].startswith(f"{len(eq['sentences'])} van de ")
    assert "van de cameraplekken, tegenover" in eq["summary"]


def test_published_layer_is_for_analysts(demo_db: Path) -> None:
    secret = demo_db.with_suffix(".key").read_text()
    with TestClient(create_app(web_settings(demo_db))) as c:
        anonymous = c.get("/api/v1/camera-plan", params={"count": 3})
        analyst = c.get("/api/v1/camera-plan", params={"count": 3}, headers={"X-API-Key": secret})
        listed = {col["id"] for col in c.get("/ogc/collections").json()["collections"]}
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert analyst.status_code == 200
    FeatureCollection.model_validate(analyst.json())
    assert analyst.json()["features"] and "equity" in analyst.json()["metadata"]
    assert {"iha-voorstellen", "cameraplan"}.isdisjoint(listed)  # not listed to viewers


def test_no_camera_is_moved_less_than_its_view_radius(store: Store) -> None:
    # On the demo the old rule (min_move_m=0: only the gain threshold) re-hangs several
    # cameras 30-70 m along the same street; the default (the 75 m view radius) keeps them and
    # says why, in numbers.
    old = camera_plan_geojson(compute_camera_plan(store, CameraPlanParams(min_move_m=0.0)))
    new = camera_plan_geojson(compute_camera_plan(store, CameraPlanParams()))
    old_moves = [
        p for p in (f["properties"] for f in kinds(old)["current"]) if p["advice"] == "move"
    ]
    assert any(p["distance_m"] < 75 for p in old_moves)
    assert new["metadata"]["parameters"]["min_move_m"] == 75.0
    current = [f["properties"] for f in kinds(new)["current"]]
    for p in current:
        if p["advice"] == "move":
            assert p["distance_m"] >= 75 and p["keep_reason"] is None
            assert "(drempels: 75 m en 1,0 gewogen incidenten)" in p["reason"]
        elif p["keep_reason"] == "short_move":
            assert p["distance_m"] < 75
            assert f"maar {p['distance_m']} m verderop" in p["reason"]
            assert "minder dan de minimale verplaatsing van 75 m (kijkstraal 75 m)" in p["reason"]
        elif p["advice"] == "keep":
            assert p["keep_reason"] in ("planned", "small_gain")
    assert any(p["keep_reason"] == "short_move" for p in current)


@pytest.mark.parametrize(
    ("status", "gap", "says"),
    [
        ("time_limit", 0.0419, "tijdslimiet van 60 s; dekt bewezen minstens 95,81 % van het best"),
        ("time_limit", 1e-12, "tijdslimiet van 60 s; dekt bewezen minstens 99,99 % van het best"),
        # 1 - 1e-7 is 99.99999 %: rounded down, never up to a share that is not proven.
        ("optimal", 1e-7, "rekentolerantie; dekt bewezen minstens 99,99 % van het best"),
        ("greedy", 0.12, "snelle heuristiek"),
        ("solver_failed", 0.5, "minstens 50,00 % van het best mogelijke"),
    ],
)
def test_a_plan_not_proven_optimal_is_never_called_optimal(
    status: str, gap: float, says: str
) -> None:
    """Issue 21: a planner told "optimaal" must be able to rely on it. Only a proven gap of
    exactly 0 says so; every other plan names the share of the optimum it is proven to reach."""
    text = solution_quality(status, gap, 60.0)
    assert "optimaal" not in text
    assert says in text


@pytest.mark.parametrize("status", ["optimal", "time_limit", "greedy"])
def test_only_a_proven_optimum_is_called_optimal(status: str) -> None:
    """Gap 0 is a proof (the valid upper bound equals the coverage) however the search ended."""
    assert solution_quality(status, 0.0, 60.0) == "bewezen optimaal (geen plan dekt meer)"
