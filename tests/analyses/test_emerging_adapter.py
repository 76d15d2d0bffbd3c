"""Emerging hot spot adapter, published layer and CLI, on a demo DB with planted patterns."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from geojson_pydantic import FeatureCollection

from geo_service.analyses.emerging import (
    EmergingParams,
    calendar_bins,
    compute_emerging,
    emerging_geojson,
)
from geo_service.demo.dataset import planted_spots
from geo_service.filters import IncidentFilter
from geo_service.ingest import ingest_frame
from geo_service.store import Store
from geo_service.store.core import copy_store
from geo_service.web import create_app
from geo_service.web.policy import ViewerPolicy
from geo_service.web.published.emerging import suppress_emerging
from spatial.errors import InvalidParameterError, InvalidResolutionError, TooManyCellsError
from spatial.grid.h3grid import cells_of_points
from spatial.spacetime.emerging import PATROON, PATTERNS
from tests.web_fixtures import web_settings


@pytest.fixture
def store(demo_store: Store) -> Store:
    return demo_store


@pytest.fixture(scope="session")
def demo_db(demo_db_seed5: Path) -> Path:
    return demo_db_seed5


def ep(category: str = "jeugdoverlast", *, municipality="GM0518", start=None, end=None, **kw):
    flt = IncidentFilter(category=category, municipality=municipality, start=start, end=end)
    return EmergingParams(incidents=flt, **kw)


# --------------------------------------------------------------------------- time bins


def test_calendar_bins_are_whole_local_periods() -> None:
    # ISO weeks start on Monday: 2026-01-01 is a Thursday, so W01 (29 Dec - 4 Jan) is partial.
    w = calendar_bins(date(2026, 1, 1), date(2026, 2, 28), "week")
    assert w.labels()[0] == "2026-W02" and str(w.starts[0]) == "2026-01-05"
    assert str(w.ends[-1]) == "2026-02-22"  # W09 ends on Sunday 1 March: dropped
    assert [(str(s), str(e)) for s, e in w.dropped] == [
        ("2025-12-29", "2026-01-04"),
        ("2026-02-23", "2026-03-01"),
    ]
    assert (np.diff(w.starts).astype(int) == 7).all()
    q = calendar_bins(date(2025, 1, 1), date(2026, 3, 31), "quarter")
    assert q.labels() == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1"]
    assert q.dropped == ()
    m = calendar_bins(date(2024, 1, 1), date(2024, 12, 31), "month")
    assert m.n == 12 and str(m.ends[1]) == "2024-02-29"  # leap year
    days = np.array(["2024-01-31", "2024-02-01", "2023-12-31", "2025-01-01"], "datetime64[D]")
    assert m.index_of(days).tolist() == [0, 1, -1, -1]
    with pytest.raises(InvalidParameterError, match="at least 3"):
        calendar_bins(date(2026, 1, 15), date(2026, 3, 31), "month")
    with pytest.raises(InvalidParameterError, match="after it ends"):
        calendar_bins(date(2026, 3, 1), date(2026, 1, 1), "week")


def test_period_after_the_data_is_a_clear_error(store: Store) -> None:
    # start given, end from the data window (Oct 2026): the period would end before it starts.
    with pytest.raises(InvalidParameterError, match="after it ends"):
        compute_emerging(store, ep(start=date(2030, 1, 1)))


def test_week_bins_follow_the_local_date(tmp_path: Path) -> None:
    # Sunday 23:30 local time belongs to that Sunday's ISO week, 00:10 on Monday to the next.
    s = Store.open(tmp_path / "w.duckdb")
    times = ["2026-03-01 23:30", "2026-03-02 00:10", "2026-03-02 12:00", "2026-02-02 00:00"]
    frame = pd.DataFrame(
        {
            "incident_id": [f"w{i}" for i in range(4)],
            "occurred_from": pd.to_datetime(times),
            "lon": [4.30, 4.3001, 4.3002, 4.3003],
            "lat": [52.08, 52.0801, 52.0802, 52.0803],
            "category": "woninginbraak",
        }
    )
    report = ingest_frame(s, frame, file_name="w", crs="EPSG:4326", today=date(2026, 6, 1))
    assert report.stored == 4
    layer = compute_emerging(
        s,
        ep(
            "woninginbraak",
            municipality=None,
            start=date(2026, 2, 2),
            end=date(2026, 3, 22),
            time_bin="week",
        ),
    )
    assert layer.bins.labels() == [f"2026-W{w:02d}" for w in range(6, 13)]
    per_week = layer.counts.sum(axis=0).tolist()
    assert per_week == [1, 0, 0, 1, 2, 0, 0]  # W06: 2 Feb; W09: Sunday 1 March; W10: Monday
    s.close()


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "kw",
    [
        {"time_bin": "day"},
        {"k_ring": 0},
        {"time_window_bins": -1},
        {"time_window_bins": True},
        {"alpha": 0.0},
        {"trend_alpha": 0.9},
        {"fdr": "yes"},
    ],
)
def test_params_are_validated(kw: dict[str, object]) -> None:
    with pytest.raises(InvalidParameterError):
        ep(**kw)


def test_params_need_category_and_valid_resolution() -> None:
    with pytest.raises(InvalidParameterError, match="category"):
        EmergingParams(incidents=IncidentFilter(municipality="GM0518"))
    with pytest.raises(InvalidResolutionError):
        ep(res=12)


def test_cube_too_large_is_refused(store: Store) -> None:
    # Res 11 over Den Haag (~45,000 cells) x 260 weeks is far beyond MAX_CUBE.
    with pytest.raises(TooManyCellsError, match="kubus"):
        compute_emerging(store, ep(res=11, time_bin="week"))


# --------------------------------------------------------------------------- planted patterns


@pytest.mark.parametrize("res", [9, 10])
def test_planted_patterns_are_found(store: Store, res: int) -> None:
    # geo_service/demo/dataset.py plants an intensifying jeugdoverlast spot in Kijkduin en
    # Ockenburgh
    # and a fading one in Zuiderpark (synthetic); over the demo's 60 months the cell holding
    # each spot must come back with ArcGIS's pattern name.
    layer = compute_emerging(store, ep(res=res))
    spots = planted_spots()
    found = {}
    for name, spot in spots.items():
        cell = cells_of_points([spot["lon"]], [spot["lat"]], res)
        i = int(layer.area.grid.index_of(cell)[0])
        assert i >= 0
        found[name] = (str(layer.properties["pattern"][i]), str(layer.properties["patroon"][i]))
        assert layer.properties["n_hot_bins"][i] >= 0.9 * layer.bins.n
    assert found["intensifying"] == ("intensifying hot spot", "toenemende hotspot")
    assert found["fading"] == ("diminishing hot spot", "afnemende hotspot")


def test_geojson_is_complete_and_reproducible(store: Store) -> None:
    params = ep(res=9)
    fc = emerging_geojson(store, params)
    FeatureCollection.model_validate(fc)
    props = fc["features"][0]["properties"]
    assert list(props)[:1] == ["cell"]
    assert {"pattern", "patroon", "tau", "trend_p", "n_hot_bins", "count"} <= set(props)
    assert {f["properties"]["pattern"] for f in fc["features"]} <= set(PATTERNS)
    assert all(
        PATROON[f["properties"]["pattern"]] == f["properties"]["patroon"] for f in fc["features"]
    )
    meta = fc["metadata"]
    bins = meta["time_bins"]
    # Five years of whole months, Nov 2021 - Oct 2026, from the store's data window.
    assert bins["n_bins"] == 60 and bins["unit"] == "month"
    assert bins["bins"][0] == {
        "bin": 0,
        "label": "2021-11",
        "start": "2021-11-01",
        "end": "2021-11-30",
    }
    assert bins["bins"][-1]["end"] == "2026-10-31" and bins["dropped_partial_bins"] == []
    assert meta["parameters"]["res"] == 9 and meta["parameters"]["time_bin"] == "month"
    assert meta["parameters"]["category"] == "jeugdoverlast"
    assert meta["data_version"] == store.data_version() and meta["software"].startswith("geo")
    assert meta["study_area"] == "gemeente GM0518"
    total = sum(f["properties"]["count"] for f in fc["features"])
    assert total + meta["n_incidents_outside_grid"] == meta["n_incidents"]
    assert meta["n_incidents"] == store.count_incidents(IncidentFilter("jeugdoverlast", "GM0518"))
    assert sum(meta["pattern_counts"].values()) == len(fc["features"]) == meta["n_cells"]
    assert emerging_geojson(store, params) == fc


def test_partial_bins_are_dropped(store: Store) -> None:
    layer = compute_emerging(store, ep(res=9, start=date(2026, 1, 15), end=date(2026, 6, 30)))
    assert layer.bins.labels()[0] == "2026-02"
    assert layer.metadata["time_bins"]["dropped_partial_bins"] == [
        {"start": "2026-01-01", "end": "2026-01-31"}
    ]
    assert "little power" in layer.metadata["warnings"][0]  # 5 bins < 10
    feb_jun = store.count_incidents(
        IncidentFilter("jeugdoverlast", "GM0518", date(2026, 2, 1), date(2026, 6, 30))
    )
    assert layer.metadata["n_incidents"] == feb_jun


# --------------------------------------------------------------------------- published layer


def test_viewer_filter_hides_scores_and_thin_patterns(store: Store) -> None:
    fc = emerging_geojson(store, ep(res=10))
    # the old rule on an exact layer (the cell key method is tested below)
    policy = ViewerPolicy(min_count=5, round_to=5, disclosure="rounding")
    safe = suppress_emerging(fc, policy)
    exact = {f["id"]: f["properties"] for f in fc["features"]}
    assert len(safe["features"]) == len(fc["features"])
    shown = 0
    for feat in safe["features"]:
        p = feat["properties"]
        e = exact[feat["id"]]
        assert not {"tau", "trend_p", "z_last", "n_neighbourhood"} & set(p)
        assert p["count"] is None or (p["count"] >= 5 and p["count"] % 5 == 0)
        if e["n_neighbourhood"] < 5:
            assert p["pattern"] is None and p["patroon"] is None and p["n_hot_bins"] is None
        else:
            assert p["pattern"] == e["pattern"]
            shown += 1
    assert 0 < shown < len(fc["features"])
    meta = safe["metadata"]
    assert "n_incidents" not in meta and "first_incident" not in meta["data_window"]
    assert meta["time_bins"]["n_bins"] == 60 and meta["min_count_k"] == 5
    # Cells with a shown count come first (GDAL types columns from the first page).
    flags = [f["properties"]["suppressed"] for f in safe["features"]]
    assert flags == sorted(flags)


def test_viewer_cube_is_published_quarters(store: Store) -> None:
    """Cell key method: quarterly bins of published counts; totals within D of the truth."""
    policy = ViewerPolicy(min_count=5, max_noise=2)
    exact = compute_emerging(store, ep(res=9, time_bin="quarter"))
    published = compute_emerging(store, ep(res=9, time_bin="quarter", disclosure=policy.cell_key))
    true_cube, cube = exact.counts, published.counts
    assert cube.shape == true_cube.shape
    # every published cell-quarter: withheld (0) where the perturbed value is below k, else
    # within 2 of the truth; never below k
    assert ((cube == 0) | (cube >= 5)).all()
    shown = cube > 0
    assert shown.any() and (np.abs(cube[shown] - true_cube[shown]) <= 2).all()
    assert (true_cube[~shown] <= 6).all()
    assert (np.abs(cube[shown] - true_cube[shown]) > 0).any()  # perturbed, not copied
    total = published.properties["count"]
    hidden = np.asarray(published.properties["suppressed"])
    assert (np.abs(np.asarray(total)[~hidden] - exact.properties["count"][~hidden]) <= 2).all()


def test_ogc_collection_serves_viewers_and_analysts(demo_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "web.duckdb"
    copy_store(demo_db, db)
    with Store.open(db) as s:
        analyst = s.create_key("analyst", "test")[1]
    params = {"municipality": "GM0518", "limit": 10000}
    url = "/ogc/collections/emerging-hotspots-jeugdoverlast/items"
    with TestClient(create_app(web_settings(db))) as c:
        listed = {col["id"] for col in c.get("/ogc/collections").json()["collections"]}
        assert "emerging-hotspots-jeugdoverlast" in listed
        viewer = c.get(url, params=params)
        assert viewer.status_code == 200
        assert viewer.headers["content-type"].startswith("application/geo+json")
        FeatureCollection.model_validate(viewer.json())
        vprops = [f["properties"] for f in viewer.json()["features"]]
        assert all("tau" not in p for p in vprops)
        assert {"intensifying hot spot", "diminishing hot spot"} <= {p["pattern"] for p in vprops}
        full = c.get(url, params=params, headers={"X-API-Key": analyst}).json()
        assert all("tau" in f["properties"] for f in full["features"])
        assert full["numberMatched"] == viewer.json()["numberMatched"]
        # Viewers: res 11 is refused; a month is answered with its quarter, in quarterly
        # bins (the lattice) -- too short for a trend, said so; a year has four quarters.
        assert c.get(url, params={**params, "res": 11}).status_code == 400
        short = c.get(url, params={**params, "datetime": "2025-10-01/2025-10-31"})
        assert short.status_code == 400 and "te korte periode" in short.json()["detail"]
        year = c.get(url, params={**params, "datetime": "2025-01-01/2025-12-31"})
        assert year.status_code == 200 and year.json()["numberReturned"] > 0


# --------------------------------------------------------------------------- CLI


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "geo_service", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_cli_emerging(demo_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    copy_store(demo_db, db)
    out = tmp_path / "e.geojson"
    r = _run(
        "emerging", "--db", str(db), "--category", "jeugdoverlast", "--municipality", "GM0518",
        "--res", "9", "--bin", "quarter", "--out", str(out),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "patterns / patronen:" in r.stderr
    fc = json.loads(out.read_text())
    FeatureCollection.model_validate(fc)
    # Data Nov 2021 - Oct 2026: 2021-Q4 lacks October and 2026-Q4 has only October.
    assert fc["metadata"]["time_bins"]["n_bins"] == 19  # 2022-Q1 .. 2026-Q3
    assert fc["metadata"]["time_bins"]["dropped_partial_bins"] == [
        {"start": "2021-10-01", "end": "2021-12-31"},
        {"start": "2026-10-01", "end": "2026-12-31"},
    ]
    bad = _run("emerging", "--db", str(db), "--category", "jeugdoverlast", "--k-ring", "9")
    assert bad.returncode == 2 and "k_ring" in bad.stderr and "Traceback" not in bad.stderr
    missing = _run("emerging", "--db", str(db), "--municipality", "GM0518")
    assert missing.returncode == 2 and "category" in missing.stderr
