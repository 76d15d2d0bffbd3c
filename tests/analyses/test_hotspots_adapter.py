"""Hotspot adapter and CLI on a real demo database."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from geojson_pydantic import FeatureCollection

from geo_service.analyses.hotspots import HotspotParams, compute_hotspots, hotspots_geojson
from geo_service.demo.dataset import build_demo
from geo_service.errors import NotFoundError
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.store.core import copy_store
from spatial.errors import InvalidParameterError, InvalidResolutionError


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    with Store.open(path) as s:
        build_demo(s, seed=5, end_month=date(2026, 10, 1), progress=False)
    return path


@pytest.fixture
def store(demo_db: Path):
    s = Store.open(demo_db, read_only=True)
    yield s
    s.close()


def hp(category: str, *, municipality=None, start=None, end=None, **kw) -> HotspotParams:
    """HotspotParams for a category (and municipality / period) plus any other parameter."""
    flt = IncidentFilter(category=category, municipality=municipality, start=start, end=end)
    return HotspotParams(incidents=flt, **kw)


def test_gistar_geojson_is_valid_and_reproducible(store: Store) -> None:
    params = hp(
        "woninginbraak",
        municipality="GM0518",
        res=9,
        start=date(2025, 11, 1),
        permutations=99,
        seed=3,
    )
    fc = hotspots_geojson(store, params)
    FeatureCollection.model_validate(fc)
    props = fc["features"][0]["properties"]
    assert {"h3", "count", "gi_z", "gi_p", "gi_p_sim", "gi_class", "gi_class_fdr"} <= set(props)
    meta = fc["metadata"]
    assert meta["parameters"]["res"] == 9 and meta["parameters"]["permutations"] == 99
    assert meta["n_incidents"] == store.count_incidents(
        IncidentFilter("woninginbraak", "GM0518", date(2025, 11, 1))
    )
    assert meta["software"].startswith("geo-service")
    counts = sum(f["properties"]["count"] for f in fc["features"])
    assert counts + meta["n_incidents_outside_grid"] == meta["n_incidents"]
    assert hotspots_geojson(store, params) == fc  # same parameters, same map
    # RFC 7946: lon/lat order, inside the Netherlands.
    lon, lat = fc["features"][0]["geometry"]["coordinates"][0][0]
    assert 3 < lon < 8 and 50 < lat < 54


def test_hotspots_sit_where_incidents_concentrate(store: Store) -> None:
    layer = compute_hotspots(
        store, hp("jeugdoverlast", municipality="GM0518", res=9, permutations=0)
    )
    cls = layer.properties["gi_class_fdr"]
    count = layer.properties["count"]
    assert (cls == 3).any()
    assert count[cls == 3].mean() > 5 * count[cls == 0].mean()


def test_kde_layer(store: Store) -> None:
    layer = compute_hotspots(
        store,
        hp("woninginbraak", method="kde", municipality="GM1783", res=9, bandwidth_m=400),
    )
    dens = layer.properties["kde_density"]
    assert np.nanmin(dens) >= 0 and np.nanmax(dens) > 0
    assert layer.metadata["bandwidth_m"] == 400 and layer.metadata["bandwidth_rule"] == "given"


def test_parameter_errors(store: Store) -> None:
    with pytest.raises(InvalidResolutionError):
        hp("woninginbraak", res=12)
    with pytest.raises(InvalidParameterError):
        hp("woninginbraak", method="lisa")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError):
        hp("woninginbraak", start=date(2026, 2, 1), end=date(2026, 1, 1))
    with pytest.raises(InvalidParameterError):  # 9999-12-31 + 1 day overflowed (500)
        hp("woninginbraak", end=date(9999, 12, 31))
    with pytest.raises(InvalidParameterError, match="2 cells"):
        hp("woninginbraak", method="kde", bandwidth_m=10.0)
    with pytest.raises(NotFoundError):
        hotspots_geojson(store, hp("woninginbraak", municipality="GM9999"))


def test_cli_hotspots(demo_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    copy_store(demo_db, db)
    out = tmp_path / "h.geojson"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "geo_service",
            "hotspots",
            "--db",
            str(db),
            "--category",
            "jeugdoverlast",
            "--method",
            "gistar",
            "--res",
            "9",
            "--municipality",
            "GM0518",
            "--permutations",
            "99",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    fc = json.loads(out.read_text())
    FeatureCollection.model_validate(fc)
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "geo_service",
            "hotspots",
            "--db",
            str(db),
            "--category",
            "x",
            "--res",
            "13",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "resolution" in bad.stderr
