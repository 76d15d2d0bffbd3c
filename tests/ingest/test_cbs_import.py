"""CBS wijk- en buurtkaart import: three levels, special codes read as unknown, the report."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo_service.cli import main
from geo_service.errors import InputFileError
from geo_service.ingest.areas import cbs_layers, import_areas_report, import_cbs
from geo_service.store import Store

DATA = Path(__file__).with_name("data")
FIXTURE = DATA / "cbs_wijkenbuurten_fixture.gpkg"
#: The same areas and values in CBS's layout from 2022 on (lower-case descriptive fields).
FIXTURE_2023 = DATA / "cbs_wijkenbuurten_2023_fixture.gpkg"


def test_fixture_matches_its_generator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The committed GeoPackage is what make_cbs_fixture.py writes (values, layers, CRS).
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_cbs", DATA / "make_cbs_fixture.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "OUT", tmp_path / "fresh.gpkg")
    monkeypatch.setattr(module, "OUT_2023", tmp_path / "fresh_2023.gpkg")
    module.main()
    for kept_file, fresh_file, layers in (
        (FIXTURE, "fresh.gpkg", ("buurt_2021", "wijk_2021", "gemeente_2021")),
        (FIXTURE_2023, "fresh_2023.gpkg", ("buurten", "wijken", "gemeenten")),
    ):
        for layer in layers:
            fresh = gpd.read_file(tmp_path / fresh_file, layer=layer)
            kept = gpd.read_file(kept_file, layer=layer)
            assert kept.crs == fresh.crs == "EPSG:28992"
            pd.testing.assert_frame_equal(
                kept.drop(columns="geometry"), fresh.drop(columns="geometry")
            )
            assert kept.geometry.geom_equals(fresh.geometry).all()


def test_layers_are_found_by_their_fields() -> None:
    assert cbs_layers(FIXTURE) == {
        "buurt": "buurt_2021",
        "wijk": "wijk_2021",
        "gemeente": "gemeente_2021",
    }


def test_layers_of_the_2022_layout_are_found_by_their_fields() -> None:
    assert cbs_layers(FIXTURE_2023) == {
        "buurt": "buurten",
        "wijk": "wijken",
        "gemeente": "gemeenten",
    }


def test_the_2022_layout_stores_what_the_2021_layout_stores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The two fixtures hold the same areas and values in the two layouts (make_cbs_fixture.py
    # renames the fields), so both imports must store identical areas.
    stored = {}
    for name, path in (("old", FIXTURE), ("new", FIXTURE_2023)):
        db = tmp_path / f"{name}.duckdb"
        assert main(["--db", str(db), "areas", "import", str(path), "--cbs"]) == 0
        out, err = capsys.readouterr()
        reports = {r["level"]: r for r in map(json.loads, out.splitlines())}
        with Store.open(db, read_only=True) as s:
            stored[name] = {
                level: s.areas_frame(level=level)
                .set_index("code")
                .sort_index()[["name", "municipality", "dwellings", "inhabitants"]]
                for level in ("buurt", "wijk", "gemeente")
            }
        if name == "new":
            # Hand count as in the 2021 test, under the 2022 field names.
            assert reports["buurt"]["special_codes"] == {
                "aantal_inwoners=-99999997": 1,
                "woningvoorraad=-99997": 2,
            }
            assert reports["buurt"]["unknown_dwellings"] == 2
            assert reports["wijk"]["special_codes"] == {"woningvoorraad=-99997": 1}
            assert "woningvoorraad=-99997 (2x)" in err
    for level in ("buurt", "wijk", "gemeente"):
        pd.testing.assert_frame_equal(stored["old"][level], stored["new"][level])
    assert stored["new"]["buurt"].loc["BU99990101", "dwellings"] == 1205
    assert np.isnan(stored["new"]["buurt"].loc["BU99990102", "dwellings"])
    assert stored["new"]["buurt"].loc["BU99990101", "name"] == "Oude Haven"
    with Store.open(tmp_path / "one.duckdb") as s:
        (report,) = import_cbs(s, FIXTURE_2023, levels=("buurt",), municipality="GM9999")
        assert report.layer == "buurten" and report.n_areas == 4
        source = s.areas_frame(level="buurt")["source"].iloc[0]
    assert "indeling vanaf 2022" in source


def test_cli_imports_three_levels_with_special_codes_as_unknown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "cbs.duckdb"
    assert main(["--db", str(db), "areas", "import", str(FIXTURE), "--cbs"]) == 0
    out, err = capsys.readouterr()
    reports = {r["level"]: r for r in map(json.loads, out.splitlines())}
    # Hand count from make_cbs_fixture.py: buurt WONINGEN has -99997 twice, AANT_INW
    # -99999997 once; wijk WONINGEN -99997 once; the gemeente has none.
    assert reports["buurt"] == {
        "level": "buurt",
        "layer": "buurt_2021",
        "areas": 4,
        "dropped_empty_geometry": 0,
        "unknown_dwellings": 2,
        "unknown_inhabitants": 1,
        "special_codes": {"AANT_INW=-99999997": 1, "WONINGEN=-99997": 2},
    }
    assert reports["wijk"]["special_codes"] == {"WONINGEN=-99997": 1}
    assert reports["wijk"]["unknown_dwellings"] == 1 and reports["wijk"]["areas"] == 2
    assert reports["gemeente"]["special_codes"] == {} and reports["gemeente"]["areas"] == 1
    assert "als onbekend gelezen" in err and "WONINGEN=-99997 (2x)" in err
    with Store.open(db, read_only=True) as s:
        buurt = s.areas_frame(level="buurt").set_index("code")
        wijk = s.areas_frame(level="wijk").set_index("code")
        gemeente = s.areas_frame(level="gemeente").set_index("code")
        rows = s.con.execute(
            "SELECT count(*) FROM areas WHERE dwellings < 0 OR inhabitants < 0"
        ).fetchone()
    assert rows is not None and rows[0] == 0  # never negative dwellings
    assert buurt.loc["BU99990101", "dwellings"] == 1205
    assert np.isnan(buurt.loc["BU99990102", "dwellings"])  # -99997: unknown
    assert np.isnan(buurt.loc["BU99990201", "inhabitants"])  # -99999997: unknown
    assert buurt.loc["BU99990102", "inhabitants"] == 15
    assert buurt.loc["BU99990101", "name"] == "Oude Haven"
    assert set(buurt["municipality"]) == {"GM9999"}
    assert not buurt["dwellings_estimated"].any()
    assert np.isnan(wijk.loc["WK999902", "dwellings"]) and wijk.loc["WK999901", "name"] == "Centrum"
    assert gemeente.loc["GM9999", "dwellings"] == 1842
    assert gemeente.loc["GM9999", "municipality"] == "GM9999"
    # RD New read and stored as lon/lat: the first buurt lies near Den Haag.
    lon, lat = buurt.loc["BU99990101", "geometry"].centroid.coords[0]
    assert 4.2 < lon < 4.4 and 52.0 < lat < 52.1
    assert "CBS wijk- en buurtkaart" in buurt.loc["BU99990101", "source"]


def test_one_level_and_one_municipality(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb") as s:
        (report,) = import_cbs(s, FIXTURE, levels=("wijk",), municipality="GM9999")
        assert report.level == "wijk" and report.n_areas == 2
        assert len(s.areas_frame(level="buurt")) == 0
        with pytest.raises(InputFileError, match="geen gebieden van GM0518"):
            import_cbs(s, FIXTURE, municipality="GM0518")


def test_cli_refuses_what_is_not_cbs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "plain.gpkg"
    gpd.GeoDataFrame({"code": ["A"]}, geometry=[box(4.3, 52.0, 4.31, 52.01)], crs=4326).to_file(
        plain
    )
    db = str(tmp_path / "s.duckdb")
    assert main(["--db", db, "areas", "import", str(plain), "--cbs"]) == 2
    assert "geen CBS-wijk- en buurtkaart" in capsys.readouterr().err
    assert (
        main(["--db", db, "areas", "import", str(FIXTURE), "--cbs", "--level", "designated"]) == 2
    )
    assert "--cbs kent de niveaus" in capsys.readouterr().err
    assert main(["--db", db, "areas", "import", str(plain)]) == 2
    assert "--level is verplicht" in capsys.readouterr().err


def test_any_area_file_reads_negative_counts_as_unknown(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"statcode": ["BU1", "BU2", "BU3"], "woningen": [300, -99999999, -5]},
        geometry=[box(4.3, 52.0, 4.31, 52.01), box(4.31, 52.0, 4.32, 52.01), None],
        crs=4326,
    )
    with Store.open(tmp_path / "s.duckdb") as s:
        r = import_areas_report(s, gdf, level="buurt", municipality="GM0518")
        stored = s.areas_frame(level="buurt").set_index("code")
    assert r.n_areas == 2 and r.dropped_empty == 1
    assert r.special_codes == {"woningen=-99999999": 1, "woningen=-5": 1}
    assert r.unknown_dwellings == 1  # of the areas written (BU3 had no geometry)
    assert stored.loc["BU1", "dwellings"] == 300 and np.isnan(stored.loc["BU2", "dwellings"])
