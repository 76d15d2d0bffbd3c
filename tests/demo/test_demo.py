"""The demo data set: reproducible, calibrated to the real counts, idempotent to build."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from geo_service.demo.dataset import DATA_DIR, DEN_HAAG, build_demo, generate_demo, last_full_month
from geo_service.filters import IncidentFilter
from geo_service.store import Store

# The demo's clock decides what these tests see: `make test` runs them at three dates.
pytestmark = pytest.mark.clock

END = date(2026, 10, 1)


@pytest.fixture(scope="module")
def demo():
    return generate_demo(seed=7, end_month=END)


def test_reproducible(demo) -> None:
    again = generate_demo(seed=7, end_month=END)
    pd.testing.assert_frame_equal(demo.incidents, again.incidents)
    other = generate_demo(seed=8, end_month=END)
    assert not np.allclose(
        other.incidents["x"].to_numpy()[:100], demo.incidents["x"].to_numpy()[:100]
    )


def test_five_years_up_to_last_month(demo) -> None:
    occ = demo.incidents["occurred_from"]
    assert occ.min() >= pd.Timestamp("2021-11-01")
    assert occ.max() < pd.Timestamp("2026-11-01")
    assert occ.dt.to_period("M").nunique() == 60
    assert last_full_month(date(2026, 11, 22)) == END
    assert demo.year_shift == 9


def test_burglary_is_the_real_police_count(demo) -> None:
    # Den Haag's real woninginbraak counts (police open data), Nov 2012 .. Oct 2017, shifted +9
    # years, must come back exactly in the buurt-matched part of the demo.
    real = pd.read_csv(DATA_DIR / "woninginbraak_buurt_month_2011_2017.csv.gz")
    real = real[
        (real["year"] * 12 + real["month"] >= 2012 * 12 + 11)
        & (real["year"] * 12 + real["month"] <= 2017 * 12 + 10)
    ]
    b = demo.incidents[demo.incidents["category"] == "woninginbraak"]
    per_year = b.groupby(b["occurred_from"].dt.year).size()
    real_2016 = int(real.loc[real["year"] == 2016, "count"].sum())  # 1,775 (SOURCES.md)
    assert real_2016 == 1775
    # 2025 = real 2016 + synthetic (7 missing wijken, Westland): at least the real count.
    assert per_year[2025] >= real_2016


def test_winter_peak(demo) -> None:
    b = demo.incidents[demo.incidents["category"] == "woninginbraak"]
    by_month = b.groupby(b["occurred_from"].dt.month).size()
    assert by_month[[11, 12, 1]].mean() > 1.2 * by_month[[5, 6, 7]].mean()
    y = demo.incidents[demo.incidents["category"] == "jeugdoverlast"]
    hours = y["occurred_from"].dt.hour
    assert ((hours >= 19) | (hours <= 1)).mean() > 0.45  # evenings


def test_counts_per_buurt_follow_the_real_ones(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "d.duckdb")
    summary = build_demo(store, seed=7, end_month=END, progress=False)
    assert summary.quarantined == 0 and summary.incidents_stored == summary.incidents_in
    assert summary.cameras == 128
    pts = store.incident_points(IncidentFilter("woninginbraak", DEN_HAAG))
    real = pd.read_csv(DATA_DIR / "woninginbraak_buurt_month_2011_2017.csv.gz")
    real_w = real.groupby("wijk_code")["count"].sum()
    demo_w = pts.groupby("wijk_code").size().reindex(real_w.index, fill_value=0)
    rho = spearmanr(real_w.to_numpy(), demo_w.to_numpy()).statistic
    assert rho > 0.8
    # Everything landed in a stored wijk of its municipality.
    all_pts = store.incident_points()
    assert all_pts["wijk_code"].notna().all()
    assert set(all_pts["municipality"]) == {"GM0518", "GM1783"}
    # Idempotent.
    again = build_demo(store, seed=7, end_month=END, progress=False)
    assert again.incidents_stored == 0
    assert store.count_incidents() == summary.incidents_stored
    store.close()


def _demo_cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "geo_service", "--db", str(db), "demo", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_cli_demo_keeps_its_clock(tmp_path: Path) -> None:
    """``demo --as-of``: the data end the month before, the store records it, pages read it."""
    db = tmp_path / "c.duckdb"
    out = _demo_cli(db, "--as-of", "2028-02-29")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["last_month"] == "2028-01-01" and summary["as_of"] == "2028-02-29"
    assert summary["first_month"] == "2023-02-01"  # five years of months
    with Store.open(db, read_only=True) as store:
        assert store.meta("demo_as_of") == "2028-02-29"
        assert store.today() == date(2028, 2, 29)  # the pages' clock, whatever today is
        assert str(store.data_window()[1]) < "2028-02-01"
    # the same clock again: idempotent
    again = _demo_cli(db, "--as-of", "2028-02-29")
    assert again.returncode == 0 and json.loads(again.stdout)["incidents_stored"] == 0
    # another month would mix two data sets: refused in one line, unless --refresh
    later = _demo_cli(db, "--as-of", "2028-04-02")
    assert later.returncode == 2 and "--refresh" in later.stderr
    assert "Traceback" not in later.stderr
    fresh = _demo_cli(db, "--as-of", "2028-04-02", "--refresh")
    assert fresh.returncode == 0, fresh.stderr
    assert json.loads(fresh.stdout.strip().splitlines()[-1])["last_month"] == "2028-03-01"
    with Store.open(db, read_only=True) as store:
        assert str(store.data_window()[0]) >= "2023-04-01"  # nothing left of the old demo


def test_a_real_store_lives_on_the_calendar(store: Store) -> None:
    assert store.meta("demo_as_of") is None
    assert store.today() == date.today()


def test_areas_are_polygons(tmp_path: Path) -> None:
    # The published polygons are rounded; repairing them must not turn wijken into
    # GeometryCollections (which GeoJSON clients and folium tooltips handle badly).
    store = Store.open(tmp_path / "a.duckdb")
    build_demo(store, seed=7, end_month=END, progress=False)
    kinds = set(store.areas_frame().geometry.geom_type)
    assert kinds <= {"Polygon", "MultiPolygon"}
    store.close()
