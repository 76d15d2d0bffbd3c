"""Regression tests for the correctness review (issue 7): time zones, one metric projection,
bounded study areas, border points. Each failed on the code before the fix (noted per test)."""

from __future__ import annotations

import datetime as dt
import gzip
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box

from geo_service.analyses.hotspots import HotspotParams, compute_hotspots, study_area
from geo_service.config import Settings
from geo_service.filters import IncidentFilter
from geo_service.ingest import import_areas, ingest_file, ingest_frame
from geo_service.store import Store
from geo_service.web.app import create_app
from geo_service.web.deps import InvalidQueryError, parse_datetime_interval
from spatial.errors import TooManyCellsError

TODAY = dt.date(2026, 11, 22)


def _frame(**cols: list[object]) -> pd.DataFrame:
    return pd.DataFrame({k: [str(v) for v in vs] for k, vs in cols.items()})


# --------------------------------------------------------------------------- time zones


def test_naive_fractional_seconds_stay_local(store: Store) -> None:
    """Old code: ``2024-07-05 23:30:00.000`` was read as UTC and moved to 01:30 the next day."""
    df = _frame(
        occurred_from=["2024-07-05 23:30:00.000", "2024-07-05 23:30:00"],
        lon=[4.30, 4.31],
        lat=[52.07, 52.08],
        category=["woninginbraak"] * 2,
    )
    r = ingest_frame(store, df, file_name="x.csv", today=TODAY)
    assert r.stored == 2 and r.timezone == "Europe/Amsterdam" and r.timezone_source == "default"
    pts = store.incident_points()
    assert pts["occurred_from"].dt.strftime("%Y-%m-%d %H:%M").tolist() == ["2024-07-05 23:30"] * 2
    assert set(pts["tz"]) == {"Europe/Amsterdam"}


def test_us_instant_lands_in_local_time(store: Store) -> None:
    """A US city's ``...T23:30:00Z`` is 19:30 (EDT) local, not 01:30 next day in Amsterdam."""
    df = _frame(
        occurred_from=["2024-07-05T23:30:00Z", "2024-01-05T23:30:00Z", "2024-07-05 23:30"],
        lon=[-79.38, -79.39, -79.40],
        lat=[43.65, 43.66, 43.67],
        category=["burglary"] * 3,
    )
    r = ingest_frame(store, df, file_name="toronto.csv", today=TODAY)
    assert (r.timezone, r.timezone_source) == ("America/Toronto", "coordinates")
    got = store.incident_points()["occurred_from"].dt.strftime("%Y-%m-%d %H:%M").tolist()
    # Summer: UTC-4 -> 19:30; winter: UTC-5 -> 18:30; a naive value is already local.
    assert sorted(got) == ["2024-01-05 18:30", "2024-07-05 19:30", "2024-07-05 23:30"]
    batch = store.batches().iloc[0]
    assert batch["timezone"] == "America/Toronto"


def test_given_zone_wins_and_unknown_zone_is_refused(store: Store) -> None:
    df = _frame(occurred_from=["2024-07-05T22:30:00Z"], lon=[4.3], lat=[52.07], category=["x"])
    r = ingest_frame(store, df, file_name="a.csv", today=TODAY, tz="Europe/London")
    assert (r.timezone, r.timezone_source) == ("Europe/London", "given")
    assert store.incident_points()["occurred_from"].iloc[0] == pd.Timestamp("2024-07-05 23:30")
    from spatial.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="time zone"):
        ingest_frame(store, df, file_name="b.csv", today=TODAY, tz="Mars/Olympus")


def test_real_files_get_their_local_zone(store: Store, shared_data: Path) -> None:
    """The UK file (month resolution) and Toronto (exact local times) keep their own days."""
    uk = ingest_file(
        store,
        shared_data / "uk" / "street_full_merseyside.csv.gz",
        columns={
            "incident_id": "Crime ID",
            "occurred_from": "Month",
            "lon": "Longitude",
            "lat": "Latitude",
            "category": "Crime type",
        },
        category_map={"Burglary": "burglary"},
        only_mapped=True,
        today=TODAY,
    )
    assert (uk.timezone, uk.timezone_source) == ("Europe/London", "coordinates")
    # Month values are the first of the month at 00:00 local, never moved to the previous day.
    uk_pts = store.incident_points(IncidentFilter("burglary"))
    assert (uk_pts["occurred_from"].dt.day == 1).all()
    assert (uk_pts["occurred_from"].dt.hour == 0).all()

    with gzip.open(shared_data / "ca" / "toronto_mci_2014_2021.csv.gz", "rt") as fh:
        raw = pd.read_csv(fh, nrows=3000, dtype=str)
    small = raw[raw["mci"] == "Break and Enter"].head(500)
    path = Path(store.location.catalog).parent / "to.csv"
    small.to_csv(path, index=False)
    ca = ingest_file(
        store,
        path,
        columns={"occurred_from": "occurred_at", "category": "mci"},
        today=TODAY,
    )
    assert (ca.timezone, ca.timezone_source) == ("America/Toronto", "coordinates")
    assert ca.stored == len(small)
    got = store.incident_points(IncidentFilter("break_and_enter"))
    expected = pd.to_datetime(small["occurred_at"]).sort_values().reset_index(drop=True)
    np.testing.assert_array_equal(
        got["occurred_from"].sort_values().to_numpy(), expected.to_numpy("datetime64[us]")
    )


def test_impossible_calendar_dates_are_unparseable(store: Store) -> None:
    """Arrow's strptime turned 30 February into 2 March (issue 8 item 7 too)."""
    df = _frame(
        occurred_from=["2025-02-30", "30-02-2025", "2024-02-29"],
        lon=[4.30, 4.31, 4.32],
        lat=[52.07, 52.08, 52.09],
        category=["x"] * 3,
    )
    r = ingest_frame(store, df, file_name="d.csv", today=TODAY)
    assert r.reasons == {"unparseable_date": 2} and r.stored == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # Day boundary in summer time (CEST, UTC+2): 22:30Z on 31 March is 1 April local.
        ("2024-03-31T22:30:00Z", dt.datetime(2024, 4, 1, 0, 30)),
        # Winter (CET, UTC+1).
        ("2024-01-15T23:30:00Z", dt.datetime(2024, 1, 16, 0, 30)),
        # The night the clocks go forward (02:00 CET -> 03:00 CEST on 31 March 2024).
        ("2024-03-31T00:59:00Z", dt.datetime(2024, 3, 31, 1, 59)),
        ("2024-03-31T01:00:00Z", dt.datetime(2024, 3, 31, 3, 0)),
        # And back (03:00 CEST -> 02:00 CET on 27 October 2024): two instants, one wall clock.
        ("2024-10-27T00:30:00Z", dt.datetime(2024, 10, 27, 2, 30)),
        ("2024-10-27T01:30:00Z", dt.datetime(2024, 10, 27, 2, 30)),
        ("2024-06-01T12:00:00+05:00", dt.datetime(2024, 6, 1, 9, 0)),
    ],
)
def test_ogc_instants_are_converted_to_local_time(value: str, expected: dt.datetime) -> None:
    """Old code took the UTC date of an instant and widened it to a whole day."""
    assert parse_datetime_interval(value) == (expected, expected)


def test_ogc_dates_are_whole_days_and_far_dates_are_400() -> None:
    assert parse_datetime_interval("2024-03-31") == (dt.date(2024, 3, 31), dt.date(2024, 3, 31))
    assert parse_datetime_interval("../2024-03-31") == (None, dt.date(2024, 3, 31))
    for bad in ("9999-12-31", "2024-01-01/9999-12-31T00:00:00Z", "0001-01-01", "2024-02-30"):
        with pytest.raises(InvalidQueryError):
            parse_datetime_interval(bad)


def test_filter_instant_end_is_inclusive() -> None:
    flt = IncidentFilter(end=dt.datetime(2024, 4, 1, 0, 30))
    assert flt.time_bounds()[1] == dt.datetime(2024, 4, 1, 0, 30, 0, 1)


# --------------------------------------------------------------------------- space


def _two_country_store(store: Store) -> None:
    """Burglaries around Enschede (NL, RD New) and Münster (DE, UTM 32N) in two batches."""
    rng = np.random.default_rng(1)
    for lon0, lat0, name in ((6.89, 52.22, "enschede"), (7.62, 51.96, "muenster")):
        n = 60
        df = _frame(
            occurred_from=["2025-03-01"] * n,
            lon=list(lon0 + rng.normal(0, 0.002, n)),
            lat=list(lat0 + rng.normal(0, 0.0015, n)),
            category=["woninginbraak"] * n,
        )
        ingest_frame(store, df, file_name=f"{name}.csv", today=TODAY)


def test_one_analysis_uses_one_metric_crs(store: Store) -> None:
    """Old code fed every row's stored x/y (RD New for one file, UTM for the other) to one KDE:
    the Münster points landed hundreds of kilometres off the grid and their mass was lost."""
    _two_country_store(store)
    assert set(store.incident_points()["metric_crs"]) == {"EPSG:28992", "EPSG:32632"}
    layer = compute_hotspots(
        store,
        HotspotParams(
            IncidentFilter("woninginbraak"), method="kde", res=9, bandwidth_m=400.0, cell_m=50.0
        ),
    )
    meta = layer.metadata
    assert meta["kde_edge_loss"] < 0.5  # all 120 incidents' kernels are on the grid
    dens = layer.properties["kde_density"]
    counts = layer.properties["count"]
    lon, _ = layer.grid.centroids()
    # Both clusters carry density where their incidents are.
    for east in (False, True):
        side = (lon > 7.3) == east
        assert np.nanmax(dens[side & (counts > 0)]) > 10


def test_study_area_is_never_the_hull_and_never_the_query(store: Store) -> None:
    """Old code: the convex hull of the window's incidents (+250 m); a one-incident day gave a
    disc centred on the incident, and the hull between two cities took in everything between."""
    _two_country_store(store)
    one_day = IncidentFilter("woninginbraak", start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 1))
    other = IncidentFilter("another", start=dt.date(2020, 1, 1))
    a = study_area(store, one_day, 10)
    b = study_area(store, other, 10)
    # The same area whatever the category or period: it cannot outline the query's incidents.
    np.testing.assert_array_equal(a.grid.cells, b.grid.cells)
    assert "voetafdruk" in a.note
    # Footprint, not hull: nothing of the 50 km between the two towns.
    lon, _ = a.grid.centroids()
    assert not ((lon > 7.05) & (lon < 7.45)).any()
    assert a.grid.n < 2_000


def test_union_of_imported_areas_is_the_study_area(store: Store) -> None:
    _two_country_store(store)
    import_areas(
        store,
        gpd.GeoDataFrame(
            {"code": ["WK1", "WK2"], "municipality": ["GM0153", "GM0153"]},
            geometry=[box(6.87, 52.20, 6.90, 52.24), box(6.90, 52.20, 6.92, 52.24)],
            crs=4326,
        ),
        level="wijk",
    )
    area = study_area(store, IncidentFilter("woninginbraak"), 9)
    assert area.note == "alle ingelezen gebieden"
    lon, lat = area.grid.centroids()
    assert ((lon > 6.86) & (lon < 6.93) & (lat > 52.19) & (lat < 52.25)).all()
    assert area.metric_crs == "EPSG:28992"


def test_cell_cap_refuses_before_filling(store: Store) -> None:
    """Old code: an anonymous res-11 request filled 4.7 million cells in 27 s."""
    import_areas(
        store,
        gpd.GeoDataFrame({"code": ["GM9998"]}, geometry=[box(3.4, 50.8, 7.2, 53.5)], crs=4326),
        level="gemeente",
    )
    t0 = time.perf_counter()
    with pytest.raises(TooManyCellsError, match="coarser resolution"):
        study_area(store, IncidentFilter(municipality="GM9998"), 11, max_cells=60_000)
    assert time.perf_counter() - t0 < 2.0


def test_cell_cap_is_413_problem_json_and_lower_for_anonymous(tmp_path: Path) -> None:
    db = tmp_path / "cap.duckdb"
    with Store.open(db) as store:
        _two_country_store(store)
        _, analyst = store.create_key("analyst", label="test")
    settings = Settings(
        db=db, max_cells_viewer=500, max_cells_analyst=50_000, permutations=0, viewer_max_res=11
    )
    with TestClient(create_app(settings)) as client:
        params = {"category": "woninginbraak", "res": 11}
        anon = client.get("/api/v1/hotspots", params=params)
        assert anon.status_code == 413
        assert anon.headers["content-type"].startswith("application/problem+json")
        assert "grovere resolutie" in anon.json()["detail"]
        ok = client.get("/api/v1/hotspots", params=params, headers={"X-API-Key": analyst})
        assert ok.status_code == 200, ok.text
        far = client.get("/api/v1/hotspots", params={**params, "end": "9999-12-31"})
        assert far.status_code == 400


def test_point_on_a_border_belongs_to_an_area(store: Store) -> None:
    """Old code tested `contains`: a point exactly on the edge fell in no area."""
    import_areas(
        store,
        gpd.GeoDataFrame({"code": ["GM0001"]}, geometry=[box(4.0, 52.0, 4.2, 52.2)], crs=4326),
        level="gemeente",
    )
    df = _frame(occurred_from=["2025-01-01"], lon=[4.2], lat=[52.1], category=["x"])
    r = ingest_frame(store, df, file_name="edge.csv", municipality="GM0001", today=TODAY)
    assert r.stored == 1 and r.quarantined == 0
    assert store.incident_points()["municipality"].iloc[0] == "GM0001"


def test_area_lookup_follows_changed_areas_not_new_incidents(store: Store) -> None:
    """The point-in-polygon grid is rebuilt when an area changes, and only then."""
    wijken = gpd.GeoDataFrame(
        {"code": ["WK01", "WK02"], "municipality": ["GM0001", "GM0001"]},
        geometry=[box(4.0, 52.0, 4.1, 52.2), box(4.1, 52.0, 4.2, 52.2)],
        crs=4326,
    )
    import_areas(store, wijken, level="wijk")
    first = store.areas_for_points([4.05, 4.15], [52.1, 52.1])
    assert first["wijk_code"].tolist() == ["WK01", "WK02"]
    index = store._area_index()
    df = _frame(occurred_from=["2025-01-01"], lon=[4.05], lat=[52.1], category=["x"])
    ingest_frame(store, df, file_name="one.csv", today=TODAY)
    assert store._area_index() is index  # incidents changed, areas did not
    # WK01 now reaches to 4.16: a cursor of the same store sees the new border at once.
    moved = wijken.assign(geometry=[box(4.0, 52.0, 4.16, 52.2), box(4.16, 52.0, 4.2, 52.2)])
    import_areas(store, moved, level="wijk")
    after = store.cursor().areas_for_points([4.05, 4.15], [52.1, 52.1])
    assert after["wijk_code"].tolist() == ["WK01", "WK01"]
