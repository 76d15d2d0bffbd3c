"""Ingestion: every quarantine reason, accounting, atomicity, formats, re-ingest."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from geo_service.errors import InputFileError, UnknownColumnError
from geo_service.ingest import import_areas, ingest_file, ingest_frame, parse_dates
from geo_service.store import Store

TODAY = date(2026, 11, 22)


def _accounted(r) -> None:
    assert r.rows_in == r.stored + r.duplicates + r.quarantined + r.skipped
    assert sum(r.reasons.values()) == r.quarantined


def _frame(**cols) -> pd.DataFrame:
    return pd.DataFrame(
        {k: [str(v) if v is not None else "" for v in vs] for k, vs in cols.items()}
    )


def test_every_quarantine_reason(store: Store) -> None:
    import_areas(
        store,
        gpd.GeoDataFrame({"code": ["GM0518"]}, geometry=[box(4.18, 52.0, 4.45, 52.14)], crs=4326),
        level="gemeente",
    )
    df = _frame(
        incident_id=[
            "ok",
            "nocoord",
            "range",
            "swap",
            "nodate",
            "baddate",
            "future",
            "endfirst",
            "outside",
            "nocat",
            "dup",
            "dup",
        ],
        lon=[
            "4.30",
            "",
            "300",
            "52.07",
            "4.30",
            "4.30",
            "4.30",
            "4.30",
            "5.10",
            "4.30",
            "4.30",
            "4.31",
        ],
        lat=[
            "52.07",
            "",
            "200",
            "4.30",
            "52.07",
            "52.07",
            "52.07",
            "52.07",
            "52.09",
            "52.07",
            "52.07",
            "52.07",
        ],
        occurred_from=[
            "2026-01-05",
            "2026-01-05",
            "2026-01-05",
            "2026-01-05",
            "",
            "32-13-2026",
            "2027-01-01",
            "2026-01-05",
            "2026-01-05",
            "2026-01-05",
            "2026-01-05",
            "2026-01-06",
        ],
        occurred_to=["", "", "", "", "", "", "", "2026-01-04", "", "", "", ""],
        category=["woninginbraak", "x", "x", "x", "x", "x", "x", "x", "x", "", "x", "x"],
    )
    r = ingest_frame(store, df, file_name="reasons.csv", municipality="GM0518", today=TODAY)
    _accounted(r)
    assert r.stored == 2 and r.duplicates == 0
    assert r.reasons == {
        "missing_coordinates": 1,
        "invalid_coordinates": 1,
        "swapped_lat_lon": 1,
        "missing_date": 1,
        "unparseable_date": 1,
        "future_date": 1,
        "end_before_start": 1,
        "outside_municipality": 1,
        "unknown_category": 1,
        "duplicate_id": 1,
    }
    q = store.quarantine_frame(r.batch_id)
    assert len(q) == r.quarantined
    # Kept verbatim, with a Dutch explanation.
    swapped = q[q["reason"] == "swapped_lat_lon"].iloc[0]
    assert json.loads(swapped["raw"])["lon"] == "52.07"
    assert "verwisseld" in swapped["detail"]


def test_reingest_stores_nothing_and_identical_rows_are_not_merged(
    store: Store, tmp_path: Path
) -> None:
    f = tmp_path / "dupes.csv"
    f.write_text(
        "datum;x;y;soort\n"
        "05-01-2026 14:30;80000;455000;woninginbraak\n"
        "05-01-2026 14:30;80000;455000;woninginbraak\n"  # a second, identical report
        "06-01-2026;80100,5;455100;woninginbraak\n"
    )
    cols = {"occurred_from": "datum", "x": "x", "y": "y", "category": "soort"}
    r1 = ingest_file(store, f, columns=cols, today=TODAY)
    assert (r1.stored, r1.quarantined, r1.crs) == (3, 0, "EPSG:28992")
    assert "RD New" in (r1.crs_note or "")
    r2 = ingest_file(store, f, columns=cols, today=TODAY)
    assert (r2.stored, r2.duplicates) == (0, 3)
    _accounted(r1)
    _accounted(r2)
    pts = store.incident_points()
    assert pts["x"].tolist() == [80000.0, 80000.0, 80100.5]  # Dutch decimal comma read
    assert pts["occurred_from"].iloc[0] == pd.Timestamp("2026-01-05 14:30")
    assert pts["lon"].between(4.2, 4.4).all()


def test_batch_is_atomic_when_interrupted(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    df = _frame(
        incident_id=["a", "b", "c"],
        lon=["4.3", "4.3", ""],
        lat=["52.07", "52.08", ""],
        occurred_from=["2026-01-01"] * 3,
        category=["woninginbraak"] * 3,
    )
    version = store.data_version()

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # Ctrl-C after the incidents were inserted

    monkeypatch.setattr(Store, "_write_quarantine", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ingest_frame(store, df, file_name="x.csv", today=TODAY)
    assert store.count_incidents() == 0
    assert store.batches().empty
    assert store.data_version() == version
    monkeypatch.undo()
    r = ingest_frame(store, df, file_name="x.csv", today=TODAY)
    assert (r.stored, r.quarantined) == (2, 1)


def test_category_map_and_only_mapped(store: Store) -> None:
    df = _frame(
        lon=["4.3"] * 4,
        lat=["52.07"] * 4,
        occurred_from=["2018-10"] * 4,
        type=["Burglary", "Anti-social behaviour", "Vehicle crime", "Burglary"],
    )
    cmap = {"Burglary": "woninginbraak", "Anti-social behaviour": "jeugdoverlast"}
    r = ingest_frame(
        store,
        df,
        file_name="a",
        columns={"category": "type"},
        category_map=cmap,
        only_mapped=True,
        today=TODAY,
    )
    assert (r.stored, r.skipped, r.quarantined) == (3, 1, 0)
    _accounted(r)
    kept = ingest_frame(
        store, df, file_name="b", columns={"category": "type"}, category_map=cmap, today=TODAY
    )
    assert kept.stored == 1  # the vehicle crime, kept under its own name
    assert set(store.categories()) == {"woninginbraak", "jeugdoverlast", "vehicle_crime"}


def test_unknown_column_is_a_clear_error(store: Store) -> None:
    df = _frame(lon=["4.3"], lat=["52.07"], when=["2026-01-01"])
    with pytest.raises(UnknownColumnError, match="Datum"):
        ingest_frame(store, df, file_name="a", columns={"occurred_from": "Datum"})
    with pytest.raises(UnknownColumnError, match="occurred_from"):
        ingest_frame(store, df, file_name="a", category="x")
    with pytest.raises(UnknownColumnError, match="lon\\+lat"):
        ingest_frame(store, _frame(occurred_from=["2026-01-01"]), file_name="a", category="x")


def test_unreadable_files(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="not found"):
        ingest_file(store, tmp_path / "missing.csv", category="x")
    bad = tmp_path / "bad.gpkg"
    bad.write_bytes(b"this is not a geopackage")
    with pytest.raises(InputFileError, match="cannot read"):
        ingest_file(store, bad, category="x")
    odd = tmp_path / "a.xlsx"
    odd.write_bytes(b"x")
    with pytest.raises(InputFileError, match="unknown file type"):
        ingest_file(store, odd, category="x")


@pytest.mark.parametrize("suffix", ["geojson", "gpkg", "parquet"])
def test_spatial_formats(store: Store, tmp_path: Path, suffix: str) -> None:
    gdf = gpd.GeoDataFrame(
        {"incident_id": ["p1", "p2"], "occurred_from": ["2025-03-01", "2025-03-02 22:15"]},
        geometry=gpd.points_from_xy([80_000, 81_000], [455_000, 456_000]),
        crs=28992,
    )
    path = tmp_path / f"points.{suffix}"
    if suffix == "parquet":
        gdf.to_parquet(path)
    else:
        gdf.to_file(path)
    r = ingest_file(store, path, category="jeugdoverlast", today=TODAY)
    assert (r.stored, r.crs) == (2, "EPSG:28992")
    pts = store.incident_points()
    np.testing.assert_allclose(pts["x"], [80_000, 81_000], atol=1e-6)


def test_dates() -> None:
    got = parse_dates(
        pd.Series(
            [
                "2018-10",
                "22-11-2026",
                "22/11/2026 08:05",
                "2026-11-22T10:00:00+01:00",
                "2026-07-01 12:00:00",
                "nonsense",
                "",
            ]
        )
    )
    assert got.tolist()[:5] == [
        pd.Timestamp("2018-10-01"),
        pd.Timestamp("2026-11-22"),
        pd.Timestamp("2026-11-22 08:05"),
        pd.Timestamp("2026-11-22 10:00"),
        pd.Timestamp("2026-07-01 12:00"),
    ]
    assert got.iloc[5:].isna().all()


rows = st.lists(
    st.tuples(
        st.sampled_from(["", "a", "b", "c"]),  # ids, with repeats and blanks
        st.sampled_from(["4.3", "4.31", "", "x", "52.1", "200"]),
        st.sampled_from(["52.07", "52.08", "", "4.3", "-95"]),
        st.sampled_from(["2026-01-01", "01-02-2026", "", "2030-01-01", "bogus", "2026-03"]),
        st.sampled_from(["woninginbraak", "", "Burglary", "Other"]),
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=rows, only_mapped=st.booleans())
def test_nothing_is_lost(store: Store, data: list[tuple[str, ...]], only_mapped: bool) -> None:
    df = pd.DataFrame(data, columns=["incident_id", "lon", "lat", "occurred_from", "category"])
    before_q = len(store.quarantine_frame())
    before_n = store.count_incidents()
    r = ingest_frame(
        store,
        df,
        file_name="h",
        category_map={"Burglary": "woninginbraak"},
        only_mapped=only_mapped,
        today=TODAY,
    )
    _accounted(r)
    assert store.count_incidents() - before_n == r.stored
    # Rows the quarantine held already (hypothesis repeats frames) are not stored again.
    assert len(store.quarantine_frame()) - before_q == r.quarantined - r.quarantine_known


def test_windows_encoded_dutch_csv(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "cp1252.csv"
    f.write_bytes(
        "datum;lon;lat;omschrijving\n05-01-2026;4,30;52,07;inbraak via achterdeur - café\n".encode(
            "cp1252"
        )
    )
    r = ingest_file(
        store,
        f,
        category="woninginbraak",
        columns={"occurred_from": "datum", "subtype": "omschrijving"},
        today=TODAY,
    )
    assert r.stored == 1
    assert store.incident_points()["subtype"].iloc[0].endswith("café")


# --------------------------------------------------------------------------- quarantine keys

BAD_CSV = (
    "incident_id,lon,lat,occurred_from,category\n"
    "a,4.30,52.07,2026-01-05,woninginbraak\n"
    "b,,,2026-01-05,woninginbraak\n"  # missing coordinates
    ",4.30,52.07,,woninginbraak\n"  # missing date
    ",4.30,52.07,,woninginbraak\n"  # the same rejected row again: two rows, not one
    "c,4.30,52.07,2026-01-05,woninginbraak,extra\n"  # malformed
    "d,4.31,52.08,2026-01-06,woninginbraak\n"
)


def test_reingesting_a_file_leaves_the_quarantine_unchanged(store: Store, tmp_path: Path) -> None:
    """Old code: every re-ingest of a file stored 0 incidents but added its rejected rows again."""
    f = tmp_path / "bad.csv"
    f.write_text(BAD_CSV)
    first = ingest_file(store, f, today=TODAY)
    _accounted(first)
    assert (first.stored, first.quarantined, first.quarantine_known) == (2, 4, 0)
    quarantine = store.quarantine_frame()
    assert len(quarantine) == 4  # the two identical rows stay two (rows 3 and 4)
    for _ in range(2):
        again = ingest_file(store, f, today=TODAY)
        _accounted(again)
        assert (again.stored, again.duplicates) == (0, 2)
        assert again.quarantined == again.quarantine_known == 4
        assert json.loads(again.to_json())["quarantine_known"] == 4
        pd.testing.assert_frame_equal(store.quarantine_frame(), quarantine)
    assert len(store.batches()) == 3  # each ingest is still recorded as a batch
    # The same rows in another file (one more row) are that file's own rows.
    g = tmp_path / "bad2.csv"
    g.write_text(BAD_CSV + "e,,,2026-01-07,woninginbraak\n")
    other = ingest_file(store, g, today=TODAY)
    _accounted(other)
    assert (other.quarantined, other.quarantine_known) == (5, 0)
    assert len(store.quarantine_frame()) == 9


def test_quarantine_keys_are_added_to_an_existing_store(tmp_path: Path) -> None:
    """A store made before the key column opens, gets the keys, and stops growing."""
    f = tmp_path / "bad.csv"
    f.write_text(BAD_CSV)
    db = tmp_path / "old.duckdb"
    with Store.open(db) as store:
        ingest_file(store, f, today=TODAY)
        ingest_file(store, f, today=TODAY)
        # As the store was before: no key column, every re-ingest's rows stored again.
        store.con.execute("ALTER TABLE quarantine DROP COLUMN row_key")
        store.con.execute(
            "INSERT INTO quarantine SELECT 'older', row_number, reason, detail, raw FROM quarantine"
        )
        store.con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
        assert len(store.quarantine_frame()) == 8
    for _ in range(2):  # idempotent
        with Store.open(db) as store:
            keys = store.con.execute(
                "SELECT count(*), count(row_key) FROM quarantine WHERE batch_id <> 'older'"
            ).fetchone()
            assert keys == (4, 4)
            again = ingest_file(store, f, today=TODAY)
            assert again.quarantine_known == again.quarantined == 4
            assert len(store.quarantine_frame()) == 8  # copies from before stay; none added
