"""The data CLI, run as a real process on a real DuckDB file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

UK_COLUMNS = (
    "incident_id=Crime ID,lon=Longitude,lat=Latitude,occurred_from=Month,category=Crime type"
)
UK_MAP = "Burglary=woninginbraak,Anti-social behaviour=jeugdoverlast"


def run(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "geo_service", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_ingest_real_uk_file_twice(shared_data: Path, tmp_path: Path) -> None:
    db = tmp_path / "uk.duckdb"
    src = shared_data / "uk" / "street_full_merseyside.csv.gz"
    first = run(
        "ingest",
        str(src),
        "--columns",
        UK_COLUMNS,
        "--category-map",
        UK_MAP,
        "--only-mapped",
        db=db,
    )
    assert first.returncode == 0, first.stderr
    r1 = json.loads(first.stdout.strip())  # ONE JSON line
    assert len(first.stdout.strip().splitlines()) == 1
    # data.police.uk Merseyside 2018-10..2019-02: 66,359 rows, 4,278 burglaries and 11,686
    # anti-social behaviour reports (counted with pandas value_counts on the raw file).
    assert r1["rows_in"] == 66_359
    assert r1["stored"] == 4_278 + 11_686
    assert r1["rows_in"] == r1["stored"] + r1["duplicates"] + r1["quarantined"] + r1["skipped"]
    assert r1["crs"] == "EPSG:4326"
    second = run(
        "ingest",
        str(src),
        "--columns",
        UK_COLUMNS,
        "--category-map",
        UK_MAP,
        "--only-mapped",
        db=db,
    )
    r2 = json.loads(second.stdout)
    assert (r2["stored"], r2["duplicates"]) == (0, r1["stored"])
    status = run("status", db=db)
    assert status.returncode == 0
    assert "woninginbraak" in status.stdout and "2018-10-01" in status.stdout


def test_rows_without_coordinates_are_quarantined(shared_data: Path, tmp_path: Path) -> None:
    # The Merseyside file happens to have a coordinate on every row; blank some in a copy.
    import gzip

    with gzip.open(shared_data / "uk" / "street_full_merseyside.csv.gz", "rt") as fh:
        lines = fh.read().splitlines()[:201]
    header, rows = lines[0], lines[1:]
    cut = [
        ",".join([*r.split(",")[:4], "", "", *r.split(",")[6:]]) if i % 10 == 0 else r
        for i, r in enumerate(rows)
    ]
    f = tmp_path / "some_without_coords.csv"
    f.write_text("\n".join([header, *cut]) + "\n")
    out = run("ingest", str(f), "--columns", UK_COLUMNS, db=tmp_path / "x.duckdb")
    r = json.loads(out.stdout)
    assert r["reasons"] == {"missing_coordinates": 20}
    assert r["rows_in"] == 200 == r["stored"] + r["duplicates"] + r["quarantined"] + r["skipped"]


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, [], "not found"),
        ("a,b\n1,2\n", ["--columns", "lon=Longitude"], "Longitude"),
        ("\x00\x01garbage", [], "error"),
    ],
)
def test_bad_input_fails_cleanly(
    tmp_path: Path, content: str | None, args: list[str], message: str
) -> None:
    f = tmp_path / "in.csv"
    if content is not None:
        f.write_text(content)
    out = run("ingest", str(f), "--category", "x", *args, db=tmp_path / "x.duckdb")
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    assert message in out.stderr


def test_areas_and_cameras_import(shared_data: Path, tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    out = run(
        "areas",
        "import",
        str(shared_data / "nl" / "amsterdam_buurten_2022.geojson"),
        "--level",
        "buurt",
        "--code-field",
        "cbsCode",
        "--municipality",
        "GM0363",
        db=db,
    )
    assert out.returncode == 0, out.stderr
    # The Amsterdam buurten file has no dwellings or inhabitants: every area reports unknown.
    assert json.loads(out.stdout) == {
        "areas": 518,
        "level": "buurt",
        "layer": None,
        "dropped_empty_geometry": 0,
        "special_codes": {},
        "unknown_dwellings": 518,
        "unknown_inhabitants": 518,
    }
    cams = tmp_path / "cams.geojson"
    cams.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"id": "C1", "naam": "Dam"},
                        "geometry": {"type": "Point", "coordinates": [4.8932, 52.3731]},
                    }
                ],
            }
        )
    )
    out = run("cameras", "import", str(cams), "--kind", "flexible", db=db)
    assert json.loads(out.stdout) == {"cameras": 1, "kind": "flexible"}
    assert "GM0363" in run("status", db=db).stdout


def test_ingest_kind_melding_and_a_refused_clash(tmp_path: Path) -> None:
    # Residents' reports (issue 23): `--kind melding` records the category's kind; a police
    # file for that category is refused whole, with a Dutch message and a non-zero exit.
    db = tmp_path / "m.duckdb"
    csv = tmp_path / "meldingen.csv"
    rows = [f"M{i},4.30{i},52.07,2026-01-0{i + 1}" for i in range(5)]
    csv.write_text("incident_id,lon,lat,occurred_from\n" + "\n".join(rows) + "\n")
    ok = run("ingest", str(csv), "--category", "overlast_jeugd", "--kind", "melding", db=db)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["stored"] == 5
    police = tmp_path / "politie.csv"
    police.write_text(csv.read_text().replace("M", "P"))
    clash = run("ingest", str(police), "--category", "overlast_jeugd", "--kind", "politie", db=db)
    assert clash.returncode != 0
    assert "al opgeslagen als meldingen" in clash.stderr
    assert "Traceback" not in clash.stderr
    status = run("status", db=db)
    line = next(x for x in status.stdout.splitlines() if "overlast_jeugd" in x)
    assert "melding" in line and " 5 " in f" {line} "
