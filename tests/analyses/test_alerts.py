"""Near-repeat alert zones from the store: Knox extent, bounded zones, dwellings, GeoJSON."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import shapely
from geojson_pydantic import FeatureCollection
from shapely.geometry import shape

from geo_service.analyses.alerts import AlertParams, alerts_geojson, compute_alerts
from geo_service.demo.dataset import DEN_HAAG, WESTLAND, build_demo
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.store.core import copy_store
from spatial.errors import InvalidParameterError
from spatial.grid.crs import RD_NEW, WGS84, transform
from spatial.spacetime.nearrepeat import DEFAULT_MAX_ZONE_RADIUS_M

END = date(2026, 10, 1)
BURGLARY = "woninginbraak"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("alerts") / "demo.duckdb"
    with Store.open(path) as s:
        build_demo(s, seed=5, end_month=END, progress=False)
    return path


@pytest.fixture
def store(demo_db: Path) -> Iterator[Store]:
    s = Store.open(demo_db, read_only=True)
    yield s
    s.close()


def test_params_are_validated() -> None:
    with pytest.raises(InvalidParameterError, match="since"):
        AlertParams(IncidentFilter(BURGLARY))
    since = IncidentFilter(BURGLARY, start=date(2026, 1, 1))
    with pytest.raises(InvalidParameterError):
        AlertParams(since, radius_m=5.0)
    with pytest.raises(InvalidParameterError, match="max_zone_radius_m"):
        AlertParams(since, max_zone_radius_m=20.0)
    with pytest.raises(InvalidParameterError, match="at least radius_m"):
        AlertParams(since, radius_m=300.0, max_zone_radius_m=250.0)
    with pytest.raises(InvalidParameterError, match="null"):
        AlertParams(since, null="none")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- alert zones


def test_alert_zones_from_westland_knox(store: Store) -> None:
    # Westland is small (~150 burglaries a year): four years of history for the Knox table.
    params = AlertParams(
        IncidentFilter(BURGLARY, WESTLAND, start=date(2026, 4, 1)), history_days=1460
    )
    layer = compute_alerts(store, params)
    meta = layer.metadata
    assert meta["extent"]["source"] == "knox"
    # The planted followers lie 20-150 m and 1-13 days from their origin, so two followers of
    # one origin can be up to 300 m and 12 days apart: the extent is 200 or 300 m, 14 days.
    assert layer.extent.radius_m in (200.0, 300.0) and layer.extent.days == 14
    assert meta["knox"]["history_end"] == "2026-03-31" and len(meta["knox"]["bands"]) == 40
    pts = store.incident_points(IncidentFilter(BURGLARY, WESTLAND, start=date(2026, 4, 1)))
    assert sum(len(ids) for ids in layer.incident_ids) == len(pts) == meta["n_incidents"]
    assert sorted(i for ids in layer.incident_ids for i in ids) == sorted(pts["incident_id"])
    # Merging: no two zones of different chains overlap in both space and period (zones split
    # from one chain may).
    z = layer.zones
    g = z.geometry
    assert z.chain_of is not None
    for a in range(z.n):
        for b in range(a + 1, z.n):
            if z.chain_of[a] == z.chain_of[b]:
                continue
            periods = z.start_day[a] <= z.end_day[b] and z.start_day[b] <= z.end_day[a]
            assert not (periods and shapely.intersection(g[a], g[b]).area > 1.0)
    assert (z.n_incidents > 1).any()  # the planted chains merge


def test_alert_geojson_properties_and_dwellings(store: Store) -> None:
    params = AlertParams(
        IncidentFilter(BURGLARY, DEN_HAAG, start=date(2026, 10, 1)), radius_m=200.0, days=14
    )
    fc = alerts_geojson(store, params)
    FeatureCollection.model_validate(fc)
    meta = fc["metadata"]
    assert meta["extent"]["source"] == "given" and meta["knox"] is None
    assert meta["dwellings"]["estimated"] is True and meta["dwellings"]["level"] == "wijk"
    assert meta["as_of"] == "2026-10-31"
    props = [f["properties"] for f in fc["features"]]
    assert sum(p["count"] for p in props) == meta["n_incidents"] > 50
    p = max(props, key=lambda p: p["count"])
    assert p["aantal_inbraken"] == p["count"] == len(p["incident_ids"]) == len(p["incidenten"])
    assert p["einde"] >= p["begin"] >= "2026-10-01" and p["dwellings_estimated"] is True
    assert p["woningen"] == p["dwellings"] > 0 and "woningen (schatting)" in p["omschrijving"]
    assert all(q["active"] == (q["period_start"] <= "2026-10-31" <= q["period_end"]) for q in props)
    # A lone burglary: a 200 m circle in RD New (area pi r^2 within the polygon approximation).
    lone = next(f for f in fc["features"] if f["properties"]["count"] == 1)
    geom = shape(lone["geometry"])
    ring = np.asarray(geom.exterior.coords)
    x, y = transform(ring[:, 0], ring[:, 1], WGS84, RD_NEW)
    rd_area = shapely.Polygon(np.column_stack([x, y])).area
    assert rd_area == pytest.approx(np.pi * 200**2, rel=0.01)
    assert geom.exterior.is_ccw  # RFC 7946 orientation
    # Dwellings by hand for that zone: sum over wijken of dwellings x overlap share.
    areas = store.areas_frame(level="wijk", municipality=DEN_HAAG).to_crs(RD_NEW)
    zone = shapely.Polygon(np.column_stack([x, y]))
    share = shapely.area(shapely.intersection(areas.geometry.to_numpy(), zone)) / areas.area
    expected = float((share * areas["dwellings"]).sum())
    assert lone["properties"]["dwellings"] == pytest.approx(expected, abs=2)


def test_thin_history_falls_back_to_the_default(store: Store) -> None:
    # 60 days of Westland history hold ~10 burglaries: too thin for a Knox extent.
    params = AlertParams(
        IncidentFilter(BURGLARY, WESTLAND, start=date(2026, 9, 1)), history_days=60
    )
    layer = compute_alerts(store, params)
    assert layer.extent.source == "default"
    assert (layer.extent.radius_m, layer.extent.days) == (200.0, 14)
    assert "te weinig" in layer.metadata["extent"]["reason"]
    assert layer.metadata["knox"]["n_incidents"] < 50


def _bounding_radii_rd(fc: dict) -> np.ndarray:
    """Radius (m, RD New) of the smallest circle around each feature's polygon."""
    out = []
    for f in fc["features"]:
        geom = shape(f["geometry"])

        def to_rd(coords: np.ndarray) -> np.ndarray:
            x, y = transform(coords[:, 0], coords[:, 1], WGS84, RD_NEW)
            return np.column_stack([x, y])

        out.append(shapely.minimum_bounding_radius(shapely.transform(geom, to_rd)))
    return np.asarray(out)


def test_den_haag_chains_are_split_into_zones_a_team_can_leaflet(store: Store) -> None:
    # Den Haag since July 2026, 200 m / 14 days: chained circles reach ~2 km without a bound
    # (measured: 272 chains, the largest 77 burglaries and a 2,008 m enclosing circle);
    # with the default 400 m every zone fits (375 zones, at most 12 burglaries each).
    flt = IncidentFilter(BURGLARY, DEN_HAAG, start=date(2026, 7, 1))
    loose = alerts_geojson(
        store, AlertParams(flt, radius_m=200.0, days=14, max_zone_radius_m=5_000.0)
    )
    bounded = alerts_geojson(store, AlertParams(flt, radius_m=200.0, days=14))
    assert _bounding_radii_rd(loose).max() > 1_000
    radii = _bounding_radii_rd(bounded)
    # The bound holds in RD New up to the coordinate rounding of the GeoJSON (~0.1 m).
    assert radii.max() <= DEFAULT_MAX_ZONE_RADIUS_M + 1.0
    meta = bounded["metadata"]
    assert meta["max_zone_radius_m"] == DEFAULT_MAX_ZONE_RADIUS_M
    assert meta["n_zones"] > meta["n_chains"] == loose["metadata"]["n_chains"]
    assert "gesplitst" in meta["merging"]
    # The split zones hold the same burglaries, and each chain's zones cover its old zone.
    ids = sorted(i for f in bounded["features"] for i in f["properties"]["incident_ids"])
    assert ids == sorted(i for f in loose["features"] for i in f["properties"]["incident_ids"])
    by_chain: dict[int, list] = {}
    for f in bounded["features"]:
        by_chain.setdefault(f["properties"]["keten"], []).append(shape(f["geometry"]))
    old = {f["properties"]["keten"]: shape(f["geometry"]) for f in loose["features"]}
    assert set(by_chain) == set(old)
    chained = max(by_chain, key=lambda k: len(by_chain[k]))
    union = shapely.union_all(by_chain[chained])
    assert shapely.symmetric_difference(union, old[chained]).area < 1e-3 * union.area
    # Dwellings per zone fall with the size: the loose chain's largest zone holds far more.
    most = max(p["dwellings"] or 0 for p in (f["properties"] for f in bounded["features"]))
    assert most < max(p["dwellings"] or 0 for p in (f["properties"] for f in loose["features"]))


def test_cli_alerts_take_the_bound(demo_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    copy_store(demo_db, db)
    zones = tmp_path / "zones.geojson"
    r = subprocess.run(
        [
            sys.executable, "-m", "geo_service", "near-repeat", "alerts", "--db", str(db),
            "--category", BURGLARY, "--municipality", DEN_HAAG, "--since", "2026-09-01",
            "--radius-m", "150", "--days", "10", "--max-zone-radius-m", "300",
            "--null", "unrestricted", "--out", str(zones),
        ],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    fc = json.loads(zones.read_text())
    assert fc["metadata"]["max_zone_radius_m"] == 300.0
    assert _bounding_radii_rd(fc).max() <= 301.0
