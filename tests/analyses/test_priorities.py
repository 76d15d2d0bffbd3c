"""Burglary priorities (``geo-service priorities``) on the demo, and on a tmp store."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from fastapi.testclient import TestClient
from geojson_pydantic import FeatureCollection

from geo_service.analyses.priorities import PriorityParams, compute_priorities
from geo_service.analyses.priorities_output import (
    priorities_csv,
    priorities_feature_collection,
    priorities_json,
)
from geo_service.cli import main
from geo_service.errors import NotFoundError
from geo_service.filters import IncidentFilter
from geo_service.ingest import import_areas, ingest_frame
from geo_service.store import Store
from geo_service.store.core import copy_store
from geo_service.web import create_app
from spatial.errors import InvalidParameterError
from spatial.grid.crs import RD_NEW, WGS84
from tests.web_fixtures import web_settings

YEARS = ["2023", "2024", "2025"]


@pytest.fixture
def store(demo_store: Store) -> Store:
    return demo_store


def pp(level: str = "wijk", municipality: str | None = "GM0518", **kw) -> PriorityParams:
    flt = IncidentFilter(category="woninginbraak", municipality=municipality)
    kw.setdefault("replicates", 300)
    return PriorityParams(incidents=flt, level=level, **kw)


def _empty_block(db: Path, size_m: float = 60.0) -> tuple[float, float]:
    """South-west corner of a 60 m block inside a Den Haag wijk that never held a burglary."""
    with Store.open(db, read_only=True) as s:
        pts = s.incident_points(IncidentFilter(category="woninginbraak", municipality="GM0518"))
        wijken = s.areas_frame(level="wijk", municipality="GM0518").to_crs(RD_NEW)
    city = shapely.union_all(wijken.geometry.to_numpy())
    x0, y0 = 80_000.0, 453_000.0  # near the centre, then outwards on a 60 m lattice
    steps = np.arange(-30, 31) * size_m
    gx, gy = np.meshgrid(x0 + steps, y0 + steps)
    gx, gy = gx.ravel(), gy.ravel()
    order = np.argsort(np.hypot(gx - x0, gy - y0), kind="stable")
    hist = set(
        zip(np.floor((pts["x"] - x0) / size_m), np.floor((pts["y"] - y0) / size_m), strict=True)
    )
    for i in order:
        key = (np.floor((gx[i] - x0) / size_m), np.floor((gy[i] - y0) / size_m))
        box = shapely.box(gx[i], gy[i], gx[i] + size_m, gy[i] + size_m)
        if key not in hist and city.contains(box):
            return float(gx[i]), float(gy[i])
    raise AssertionError("no empty block found")


def test_tiny_area_with_two_burglaries_does_not_reach_the_top(
    demo_db: Path, tmp_path: Path
) -> None:
    # A copy of the demo plus a 10-dwelling wijk (a 60 x 60 m block in Schildersbuurt) with
    # 2 burglaries in the window: its raw risk is by far the highest, EB pulls it back.
    path = tmp_path / "tiny.duckdb"
    copy_store(demo_db, path)
    x0, y0 = _empty_block(demo_db)
    block = gpd.GeoDataFrame(
        {"code": ["WK999901"], "name": ["Klein blok"], "dwellings": [10.0]},
        geometry=[shapely.box(x0, y0, x0 + 60, y0 + 60)],
        crs=RD_NEW,
    )
    burglaries = pd.DataFrame(
        {
            "incident_id": ["TINY-1", "TINY-2"],
            "x": [x0 + 20, x0 + 40],
            "y": [y0 + 30, y0 + 30],
            "occurred_from": ["2024-03-05 02:00", "2025-06-10 14:00"],
            "category": "woninginbraak",
        }
    )
    with Store.open(path) as s:
        import_areas(s, block, level="wijk", municipality="GM0518")
        assert ingest_frame(s, burglaries, file_name="tiny.csv", crs=RD_NEW).stored == 2
        result = compute_priorities(s, pp(replicates=1000))
    rows = {r["code"]: r for r in priorities_json(result)["areas"]}
    tiny = rows["WK999901"]
    assert sum(tiny["counts"].values()) == 2 and tiny["dwellings"] == 10
    raw = [r["risk_per_1000"] for r in rows.values()]
    assert tiny["risk_per_1000"] == pytest.approx(2 / 30 * 1000, abs=0.01)
    assert tiny["risk_per_1000"] >= sorted(raw)[-2]  # ranked by raw risk it would be 1st/2nd
    assert tiny["risk_per_1000_eb"] < tiny["risk_per_1000"] / 3
    assert tiny["rank"] > 10 and tiny["rank_interval"][0] > 5
    assert "onbetrouwbaar" in tiny["explanation"]
    # And the ranking of the other wijken puts the big ones with many burglaries first.
    top = priorities_json(result)["areas"][0]
    assert sum(top["counts"].values()) > 300


def test_json_shape_and_order(store: Store) -> None:
    doc = priorities_json(compute_priorities(store, pp()))
    meta = doc["metadata"]
    assert meta["window"] == {
        "start": "2023-01-01",
        "end": "2025-12-31",
        "years": [2023, 2024, 2025],
        "left_out": [],
    }
    assert meta["parameters"]["as_of"] == "2026-10-31"
    assert meta["parameters"]["weights"] == {"count": 1.0, "risk": 1.0}
    areas = doc["areas"]
    assert len(areas) == meta["n_areas"] == 44  # the Den Haag wijken
    keys = {
        "code", "name", "rank", "rank_interval", "counts", "dwellings", "risk_per_1000",
        "risk_per_1000_eb", "trend", "hotspot_share", "explanation",
    }  # fmt: skip
    for row in areas:
        assert keys <= set(row)
        assert list(row["counts"]) == YEARS
        lo, hi = row["rank_interval"]
        assert 1 <= lo <= hi <= len(areas)
        assert set(row["trend"]) >= {"fell_every_year", "rate_ratio", "p_value"}
        assert row["hotspot_share"] is None or 0 <= row["hotspot_share"] <= 1
    ranks = [r["rank"] for r in areas]
    assert ranks == sorted(ranks) and ranks[0] == 1
    # Counts add up to the incidents in the window that lie in a wijk.
    total = sum(sum(r["counts"].values()) for r in areas)
    assert total == meta["n_incidents"] - meta["n_incidents_outside_areas"]
    flt = IncidentFilter("woninginbraak", "GM0518", date(2023, 1, 1), date(2025, 12, 31))
    assert meta["n_incidents"] == store.count_incidents(flt)
    assert json.loads(json.dumps(doc)) == doc  # plain JSON


def test_counts_equal_the_stored_wijk_of_each_incident(store: Store) -> None:
    # Point-in-polygon at analysis time agrees with ingestion's wijk_code.
    doc = priorities_json(compute_priorities(store, pp(hotspot_share=False)))
    pts = store.incident_points(
        IncidentFilter("woninginbraak", "GM0518", date(2025, 1, 1), date(2025, 12, 31))
    )
    stored = pts.groupby("wijk_code").size()
    for row in doc["areas"]:
        assert row["counts"]["2025"] == stored.get(row["code"], 0)


def test_csv_shape(store: Store) -> None:
    result = compute_priorities(store, pp())
    rows = list(csv.reader(io.StringIO(priorities_csv(result)), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert header[:6] == ["code", "name", "municipality", "rank", "rank_lo", "rank_hi"]
    assert [f"count_{y}" for y in YEARS] == header[6:9] and header[-1] == "explanation"
    assert len(body) == 44 and all(len(r) == len(header) for r in body)
    first = dict(zip(header, body[0], strict=True))
    assert first["rank"] == "1" and "," in first["risk_per_1000_eb"]  # decimal comma
    assert first["explanation"].startswith("Rang 1 (90%-interval ")


def test_explanation_text(store: Store) -> None:
    areas = priorities_json(compute_priorities(store, pp()))["areas"]
    for row in areas:
        text = row["explanation"]
        lo, hi = row["rank_interval"]
        assert text.startswith(f"Rang {row['rank']} (90%-interval {lo}-{hi}): ")
        assert "in 2023-2025" in text and "per 1.000 woningen per jaar" in text
        assert text.endswith(".") and "\n" not in text
        n = sum(row["counts"].values())
        assert (
            f"{n:,}".replace(",", ".") + (" woninginbraak " if n == 1 else " woninginbraken")
            in text
        )
        if row["trend"]["fell_every_year"]:
            assert "elk jaar gedaald" in text
        else:
            assert "elk jaar gedaald" not in text or "niet elk jaar gedaald" in text


def test_weights_count_only_orders_by_count(store: Store) -> None:
    areas = priorities_json(compute_priorities(store, pp(weights=(1.0, 0.0))))["areas"]
    totals = [sum(r["counts"].values()) for r in areas]
    assert totals == sorted(totals, reverse=True)


def test_verzorgingsgebieden_of_the_demo(store: Store) -> None:
    doc = priorities_json(
        compute_priorities(store, pp(level="verzorgingsgebied", municipality=None))
    )
    assert len(doc["areas"]) == 8
    assert all("(synthetisch)" in r["name"] for r in doc["areas"])
    wijken = priorities_json(compute_priorities(store, pp(municipality=None, hotspot_share=False)))
    total = sum(sum(r["counts"].values()) for r in wijken["areas"])
    assert sum(sum(r["counts"].values()) for r in doc["areas"]) == total


def test_buurten_without_dwellings_get_an_areal_estimate(store: Store) -> None:
    doc = priorities_json(compute_priorities(store, pp(level="buurt")))
    assert doc["metadata"]["dwellings"]["estimated_from"] == "wijk"
    assert all(r["dwellings_estimated"] for r in doc["areas"])
    assert doc["metadata"]["n_incidents_outside_areas"] > 0  # coarse 2014 buurten


def test_feature_collection_for_the_layer(store: Store) -> None:
    fc = priorities_feature_collection(compute_priorities(store, pp()))
    feat = fc["features"][0]
    assert feat["geometry"]["type"] in ("Polygon", "MultiPolygon")
    props = feat["properties"]
    assert {"rank", "rank_lo", "rank_hi", "count_2025", "count_total", "explanation"} <= set(props)


def test_rank_interval_is_reproducible(store: Store) -> None:
    a = priorities_json(compute_priorities(store, pp(seed=3)))["areas"]
    b = priorities_json(compute_priorities(store, pp(seed=3)))["areas"]
    assert [r["rank_interval"] for r in a] == [r["rank_interval"] for r in b]


def test_domain_errors(store: Store) -> None:
    with pytest.raises(InvalidParameterError, match="years"):
        pp(years=0)
    with pytest.raises(InvalidParameterError, match="level"):
        pp(level="straat")
    with pytest.raises(InvalidParameterError, match="category"):
        PriorityParams(incidents=IncidentFilter())
    with pytest.raises(InvalidParameterError, match="weights"):
        compute_priorities(store, pp(weights=(0.0, 0.0)))
    with pytest.raises(NotFoundError, match="verzorgingsgebied"):
        compute_priorities(store, pp(level="verzorgingsgebied", municipality="GM9999"))
    with pytest.raises(NotFoundError, match="geen incidenten"):
        compute_priorities(
            store, PriorityParams(incidents=IncidentFilter(category="fietsdiefstal"))
        )


def test_cli_json_and_csv(demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    base = ["--db", str(demo_db), "priorities", "--category", "woninginbraak"]
    assert main([*base, "--level", "verzorgingsgebied", "--replicates", "200"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"metadata", "areas"} == set(doc) and len(doc["areas"]) == 8
    out = tmp_path / "p.csv"
    assert main([*base, "--municipality", "GM1783", "--format", "csv", "--out", str(out)]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1 + 10
    assert main([*base, "--level", "buurt", "--municipality", "GM1783"]) == 2
    err = capsys.readouterr().err
    assert "geen gebieden van niveau 'buurt'" in err and "Traceback" not in err
    assert main([*base, "--weights", "0,0"]) == 2


def test_as_of_picks_full_years(store: Store) -> None:
    doc = priorities_json(compute_priorities(store, pp(as_of=date(2025, 12, 31), years=2)))
    assert list(doc["areas"][0]["counts"]) == ["2024", "2025"]
    # The demo starts in November 2021: a partial first year is left out, not counted low.
    five = priorities_json(compute_priorities(store, pp(years=5, hotspot_share=False)))
    assert five["metadata"]["window"]["years"] == [2022, 2023, 2024, 2025]
    assert five["metadata"]["window"]["left_out"] == [2021]
    assert np.isfinite(doc["metadata"]["risk_mean_per_1000"])
    assert WGS84 == "EPSG:4326"


def test_equity_table_and_sentences(store: Store) -> None:
    eq = priorities_json(compute_priorities(store, pp()))["metadata"]["equity"]
    assert eq["unit"] == "gebieden in de top 10" and eq["total_effort"] == 10
    rows = eq["wijken"]
    assert {"code", "name", "effort_share", "incident_share", "dwelling_share"} <= set(rows[0])
    assert sum(r["effort"] for r in rows) == pytest.approx(10)
    over = [r for r in rows if r["more_than_share"]]
    assert len(eq["sentences"]) == len(over)
    for r in over:
        assert r["effort_share"] > 1.5 * r["incident_share"]
        assert any(s.startswith(f"{r['name']}: ") for s in eq["sentences"])
    for text in eq["sentences"]:
        # like with like: a share of the effort against shares of incidents and dwellings
        assert re.fullmatch(
            r".+: \d+% van de gebieden in de top 10 \([\d,]+ van 10\), tegenover "
            r"(\d+%|minder dan 1%) van de incidenten en (\d+%|minder dan 1%) van de woningen\.",
            text,
        ), text
    if over:  # the summary sums the flagged wijken's shares: shares again, no "wijk(en)"
        assert "wijk(en)" not in eq["summary"]
        share = sum(r["effort_share"] for r in over) * 100  # rows: shares rounded to 0.001
        said = re.search(r"(\d+)% van de gebieden in de top 10, tegenover", eq["summary"])
        assert said and abs(int(said.group(1)) - share) <= 1, eq["summary"]
    # Verzorgingsgebieden spread their unit over their wijken by dwellings.
    vg = priorities_json(compute_priorities(store, pp(level="verzorgingsgebied")))
    eq = vg["metadata"]["equity"]
    assert eq["unit"] == "gebieden in de top 2"  # 6 Den Haag areas: at most a third
    assert sum(r["effort"] for r in eq["wijken"]) == pytest.approx(2, abs=0.01)


def test_published_layer_viewer_rules(demo_db: Path) -> None:
    secret = demo_db.with_suffix(".key").read_text()
    with TestClient(create_app(web_settings(demo_db))) as c:
        viewer = c.get("/api/v1/priorities", params={"municipality": "GM0518"})
        analyst = c.get(
            "/api/v1/priorities", params={"municipality": "GM0518"}, headers={"X-API-Key": secret}
        )
        ogc = c.get("/ogc/collections/prioriteiten/items", params={"municipality": "GM0518"})
        bad = c.get("/api/v1/priorities", params={"level": "straat"})
    assert viewer.status_code == analyst.status_code == ogc.status_code == 200
    assert viewer.headers["content-type"].startswith("application/geo+json")
    fc = viewer.json()
    FeatureCollection.model_validate(fc)
    assert "equity" not in fc["metadata"] and fc["metadata"]["parameters"]["as_of"] == "2025-12-31"
    exact = {f["id"]: f["properties"] for f in analyst.json()["features"]}
    assert "equity" in analyst.json()["metadata"]
    for f in fc["features"]:
        p = f["properties"]
        assert "score" not in p and "risk_per_1000" not in p and "trend_rate_ratio" not in p
        for year in YEARS:
            v, true = p[f"count_{year}"], exact[f["id"]][f"count_{year}"]
            # the cell key method: withheld below k after a perturbation of at most 2
            assert (v is None and true <= 6 and p["suppressed"]) or (v >= 5 and abs(v - true) <= 2)
        # the total is the sum of the published years; no rank where it is withheld
        shown = [p[f"count_{y}"] or 0 for y in YEARS]
        assert p["count_total"] is None or p["count_total"] == sum(shown)
        assert (p["rank"] is None) == (p["count_total"] is None)
        if p["count_total"] is not None:
            assert f"ongeveer {p['count_total']} incidenten" in p["explanation"].replace(".", "")
    assert ogc.json()["numberMatched"] == len(fc["features"])
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
