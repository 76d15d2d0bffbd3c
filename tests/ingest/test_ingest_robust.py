"""Ingestion judged per row, not per file (adversarial review of ingestion).

Each test names, in its docstring, what the code before the fix did; each failed on it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo_service.cli import main
from geo_service.errors import InputFileError
from geo_service.ingest import REASONS, ingest_file, ingest_frame
from geo_service.store import Store
from geo_service.store.core import StoreBase

TODAY = date(2026, 11, 22)
HEADER = "incident_id,lon,lat,occurred_from,category"


def _accounted(r) -> None:
    assert r.rows_in == r.stored + r.duplicates + r.quarantined + r.skipped
    assert sum(r.reasons.values()) == r.quarantined


def _good(i: int) -> str:
    return f"g{i},4.{300 + i % 50},52.0{7 + i % 2},2026-01-{1 + i % 28:02d},woninginbraak"


def _frame(**cols: list[object]) -> pd.DataFrame:
    return pd.DataFrame({k: [str(v) for v in vs] for k, vs in cols.items()})


# --------------------------------------------------------------------------- 1. ragged rows


def test_five_percent_ragged_rows_are_quarantined_and_the_rest_stored(
    store: Store, tmp_path: Path
) -> None:
    """Old: one row with an extra field or an unbalanced quote made the whole file fail
    (InputFileError from the C parser), so nothing was ingested."""
    lines = [HEADER]
    bad_rows: dict[int, str] = {}
    for i in range(1, 201):
        if i % 40 == 0:  # extra field
            row = f"x{i},4.30,52.07,2026-01-05,woninginbraak,EXTRA"
        elif i % 40 == 20:  # unbalanced quote: opens, never closes on this line
            row = f'q{i},"4.30,52.07,2026-01-05,woninginbraak'
        else:
            lines.append(_good(i))
            continue
        bad_rows[i] = row
        lines.append(row)
    f = tmp_path / "ragged.csv"
    f.write_text("\n".join(lines) + "\n")

    r = ingest_file(store, f, today=TODAY)

    _accounted(r)
    assert r.rows_in == 200
    assert r.reasons == {"malformed_row": 10}
    assert r.stored == 190  # every line after an unbalanced quote is read on its own
    q = store.quarantine_frame(r.batch_id)
    assert q["row_number"].tolist() == sorted(bad_rows)
    assert {json.loads(raw)["raw_text"] for raw in q["raw"]} == set(bad_rows.values())
    assert set(q["detail"]) == {REASONS["malformed_row"]}
    assert "aantal kolommen" in REASONS["malformed_row"]
    ids = set(store.incident_points()["incident_id"])
    assert ids == {f"g{i}" for i in range(1, 201) if i not in bad_rows}


def test_short_and_wrong_separator_rows_are_malformed_not_unknown_category(
    store: Store, tmp_path: Path
) -> None:
    """Old: the C-parser fallback padded short rows and `;` rows with NaN, so they were
    quarantined as ``unknown_category``, with their fields scattered over the wrong columns."""
    f = tmp_path / "short.csv"
    f.write_bytes(
        (
            f"{HEADER}\r\n"
            f"{_good(1)}\r\n"
            "s2,4.31,52.08\r\n"  # short
            "w3;4,31;52,08;2026-01-05;woninginbraak\r\n"  # another separator
            f"{_good(4)}\r\n"
        ).encode()
    )
    r = ingest_file(store, f, today=TODAY)
    _accounted(r)
    assert (r.rows_in, r.stored, r.reasons) == (4, 2, {"malformed_row": 2})
    q = store.quarantine_frame(r.batch_id)
    raws = [json.loads(x) for x in q["raw"]]
    assert q["row_number"].tolist() == [2, 3]
    assert [x["raw_text"] for x in raws] == [
        "s2,4.31,52.08",
        "w3;4,31;52,08;2026-01-05;woninginbraak",
    ]
    # Split at the commas: "w3;4" | "31;52" | "08;2026-01-05;woninginbraak".
    assert [(x["expected_columns"], x["actual_columns"]) for x in raws] == [(5, 3), (5, 3)]


def test_rows_numbers_stay_file_positions_after_malformed_rows(
    store: Store, tmp_path: Path
) -> None:
    """Old: the file failed as a whole; row numbers of later rejects must not shift."""
    f = tmp_path / "positions.csv"
    f.write_text(
        f"{HEADER}\n"
        f"{_good(1)}\n"
        "m2,4.3,52.07,2026-01-05,woninginbraak,extra\n"
        f"{_good(3)}\n"
        "d4,4.3,52.07,,woninginbraak\n"  # missing date: a validation reject at row 4
    )
    r = ingest_file(store, f, today=TODAY)
    q = store.quarantine_frame(r.batch_id)
    assert list(zip(q["row_number"], q["reason"], strict=True)) == [
        (2, "malformed_row"),
        (4, "missing_date"),
    ]


def test_quoted_line_breaks_are_values_and_blank_lines_are_not_rows(
    store: Store, tmp_path: Path
) -> None:
    """A line break inside a quoted value (an address) is data, not a ragged row; an
    unbalanced quote whose next quote sits many rows further on does not swallow them."""
    f = tmp_path / "multiline.csv"
    f.write_text(
        "incident_id,lon,lat,occurred_from,category,subtype\n"
        'a1,4.30,52.07,2026-01-05,woninginbraak,"Laan 1\n2511 AB Den Haag"\n'
        "\n"
        'a2,4.31,52.07,2026-01-05,woninginbraak,"via de ""achterdeur""\nen de tuin"\n'
        'b3,"4.32,52.07,2026-01-05,woninginbraak,x\n'  # unbalanced
        "a4,4.33,52.07,2026-01-05,woninginbraak,x\n"
        "a5,4.34,52.07,2026-01-05,woninginbraak,x\n"
        'b6,"4.35,52.07,2026-01-05,woninginbraak,x\n'  # unbalanced: pairs with b3's quote
        "a7,4.36,52.07,2026-01-05,woninginbraak,x\n"
    )
    r = ingest_file(store, f, today=TODAY)
    _accounted(r)
    assert (r.rows_in, r.stored, r.reasons) == (7, 5, {"malformed_row": 2})
    pts = store.incident_points().set_index("incident_id")
    assert pts.loc["a1", "subtype"] == "Laan 1\n2511 AB Den Haag"
    assert pts.loc["a2", "subtype"] == 'via de "achterdeur"\nen de tuin'
    q = store.quarantine_frame(r.batch_id)
    assert q["row_number"].tolist() == [3, 6]
    assert [json.loads(x)["raw_text"][:3] for x in q["raw"]] == ["b3,", "b6,"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kinds=st.lists(
        st.sampled_from(
            [
                "good",
                "extra",
                "short",
                "quote",
                "semicolon",
                "cp1252",
                "blankdate",
                "multiline",
                "blank",
            ]
        ),
        min_size=1,
        max_size=30,
    )
)
def test_nothing_is_lost_in_a_ragged_file(store: Store, tmp_path: Path, kinds: list[str]) -> None:
    """Accounting holds for any mix of ragged, badly quoted and mis-encoded rows."""
    rows = {
        "good": _good(1).encode(),
        "extra": b"e,4.3,52.07,2026-01-05,x,y",
        "short": b"s,4.3",
        "quote": b'q,"4.3,52.07,2026-01-05,x',
        "semicolon": b"c;4.3;52.07;2026-01-05;x",
        "cp1252": "p,4.3,52.07,2026-01-05,café".encode("cp1252"),
        "blankdate": b"b,4.3,52.07,,x",
        "multiline": b'm,4.3,52.07,2026-01-05,"two\nlines"',
        "blank": b"",
    }
    f = tmp_path / "mix.csv"
    f.write_bytes(b"\n".join([HEADER.encode(), *(rows[k] for k in kinds)]) + b"\n")
    before_q, before_n = len(store.quarantine_frame()), store.count_incidents()
    try:
        r = ingest_file(store, f, today=TODAY)
    except InputFileError as exc:  # only a file with no readable row at all
        assert "no rows" in str(exc)
        return
    _accounted(r)
    assert r.rows_in == len(kinds) - kinds.count("blank")  # every non-blank line is one row
    assert store.count_incidents() - before_n == r.stored
    assert len(store.quarantine_frame()) - before_q == r.quarantined - r.quarantine_known


# --------------------------------------------------------------------------- 2. encodings


def test_one_stray_byte_does_not_turn_the_file_into_mojibake(store: Store, tmp_path: Path) -> None:
    """Old: one non-UTF-8 byte made the whole file cp1252, so every UTF-8 'café' became
    'cafÃ©', and nothing said so."""
    lines = [b"datum;lon;lat;omschrijving"]
    lines += [f"05-01-2026;4,3{i};52,07;café {i}".encode() for i in range(5)]
    lines.append("05-01-2026;4,35;52,07;café cp".encode("cp1252"))
    f = tmp_path / "mixed.csv"
    f.write_bytes(b"\n".join(lines) + b"\n")
    r = ingest_file(
        store,
        f,
        category="woninginbraak",
        columns={"occurred_from": "datum", "subtype": "omschrijving"},
        today=TODAY,
    )
    assert r.stored == 6
    subtypes = store.incident_points()["subtype"].tolist()
    assert not any("Ã" in s for s in subtypes)
    assert sorted(subtypes) == sorted([f"café {i}" for i in range(5)] + ["café cp"])
    assert r.encoding_note is not None
    assert r.encoding_note.startswith("1 rijen waren niet UTF-8")
    assert "Windows-1252" in r.encoding_note
    assert json.loads(r.to_json())["encoding_note"] == r.encoding_note


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-16-le"])
def test_utf16_is_refused_clearly(store: Store, tmp_path: Path, encoding: str) -> None:
    """Old: a UTF-16 file was read as cp1252 and failed with a garbled column list
    (``i\\x00n\\x00c\\x00...``)."""
    text = "\ufeff" if encoding != "utf-16" else ""
    f = tmp_path / "wide.csv"
    f.write_bytes((text + f"{HEADER}\n{_good(1)}\n").encode(encoding))
    with pytest.raises(InputFileError, match="UTF-16") as info:
        ingest_file(store, f, today=TODAY)
    assert "sla het bestand op als UTF-8" in str(info.value)
    assert "\x00" not in str(info.value)


# --------------------------------------------------------------------------- 3. coordinates


def test_null_island_and_denormals_are_invalid(store: Store) -> None:
    """Old: (0, 0) and 1e-320 are in WGS84's range and were stored (in the Gulf of Guinea)."""
    df = _frame(
        lon=[4.30, 0.0, "1e-320", 4.31],
        lat=[52.07, 0.0, 52.07, "-1e-310"],
        occurred_from=["2026-01-05"] * 4,
        category=["x"] * 4,
    )
    r = ingest_frame(store, df, file_name="null.csv", today=TODAY)
    _accounted(r)
    assert (r.stored, r.reasons) == (1, {"invalid_coordinates": 3})


def _liverpool(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(-3.05, -2.85, n), rng.uniform(53.35, 53.50, n)


def test_uk_file_with_swapped_columns_is_read_the_other_way(store: Store) -> None:
    """Old: swap detection knew only the Dutch band, so a UK file with lat/lon swapped was
    stored in the Indian Ocean (lon 53.4, lat -2.9)."""
    lon, lat = _liverpool(40)
    df = _frame(
        lon=lat.round(5).tolist(),  # the columns are mislabelled
        lat=lon.round(5).tolist(),
        occurred_from=["2024-03-01"] * 40,
        category=["burglary"] * 40,
    )
    r = ingest_frame(store, df, file_name="uk_swapped.csv", today=TODAY)
    assert r.stored == 40
    assert "verwisseld" in (r.crs_note or "")
    assert r.timezone == "Europe/London"
    pts = store.incident_points()
    assert pts["lon"].between(-3.1, -2.8).all() and pts["lat"].between(53.3, 53.6).all()
    assert set(pts["metric_crs"]) == {"EPSG:32630"}


def test_single_swapped_rows_in_a_uk_file_are_quarantined(store: Store) -> None:
    """Old: the two swapped UK rows read as valid WGS84 points in the Indian Ocean and
    were stored (and would pull any study area to the equator)."""
    lon, lat = _liverpool(30)
    lon_col, lat_col = lon.round(5).tolist(), lat.round(5).tolist()
    lon_col[3], lat_col[3] = lat_col[3], lon_col[3]
    lon_col[17], lat_col[17] = lat_col[17], lon_col[17]
    df = _frame(
        lon=lon_col, lat=lat_col, occurred_from=["2024-03-01"] * 30, category=["burglary"] * 30
    )
    r = ingest_frame(store, df, file_name="uk_rows.csv", today=TODAY)
    _accounted(r)
    assert (r.stored, r.reasons) == (28, {"swapped_lat_lon": 2})
    assert "verwisseld" not in (r.crs_note or "")
    q = store.quarantine_frame(r.batch_id)
    assert q["row_number"].tolist() == [4, 18]


def test_far_points_are_outside_the_study_area(store: Store) -> None:
    """Old: a Dutch row in a Liverpool file was stored (and a point 500 km away stretched the
    batch's footprint); there was no ``outside_study_area``."""
    lon, lat = _liverpool(20)
    df = _frame(
        lon=[*lon.round(5).tolist(), 4.30],
        lat=[*lat.round(5).tolist(), 52.07],
        occurred_from=["2024-03-01"] * 21,
        category=["burglary"] * 21,
    )
    r = ingest_frame(store, df, file_name="far.csv", today=TODAY)
    _accounted(r)
    assert (r.stored, r.reasons) == (20, {"outside_study_area": 1})
    assert "buiten" in REASONS["outside_study_area"]
    # The radius is a parameter: with 1,000 km the Dutch row is part of the batch.
    r2 = ingest_frame(store, df, file_name="far2.csv", today=TODAY, region_km=1000)
    assert r2.reasons == {} and r2.duplicates == 20 and r2.stored == 1


def test_metric_crs_follows_each_row(store: Store) -> None:
    """Old: one metric CRS per file from the median, so the one Dutch row in a mostly-UK batch
    got UTM 30N x/y instead of RD New."""
    lon, lat = _liverpool(10)
    df = _frame(
        incident_id=[f"u{i}" for i in range(10)] + ["nl"],
        lon=[*lon.round(5).tolist(), 5.3872],
        lat=[*lat.round(5).tolist(), 52.1552],
        occurred_from=["2024-03-01"] * 11,
        category=["burglary"] * 11,
    )
    r = ingest_frame(store, df, file_name="mixed.csv", today=TODAY, region_km=1000)
    assert r.stored == 11
    pts = store.incident_points().set_index("incident_id")
    assert pts.loc["nl", "metric_crs"] == "EPSG:28992"
    assert pts.loc["nl", "x"] == pytest.approx(155_000, abs=5)
    assert pts.loc["nl", "y"] == pytest.approx(463_000, abs=5)
    assert set(pts.drop(index="nl")["metric_crs"]) == {"EPSG:32630"}


def test_existing_dutch_swap_rules_still_hold(store: Store) -> None:
    """The Dutch cases of before: a whole swapped file is turned, a single row quarantined."""
    whole = _frame(
        lon=[52.07, 52.08], lat=[4.30, 4.31], occurred_from=["2026-01-05"] * 2, category=["x"] * 2
    )
    r = ingest_frame(store, whole, file_name="nl1.csv", today=TODAY)
    assert r.stored == 2 and "verwisseld" in (r.crs_note or "")
    assert set(store.incident_points()["metric_crs"]) == {"EPSG:28992"}
    one = _frame(
        lon=[4.30, 52.08, 4.32],
        lat=[52.07, 4.31, 52.09],
        occurred_from=["2026-01-06"] * 3,
        category=["x"] * 3,
    )
    r = ingest_frame(store, one, file_name="nl2.csv", today=TODAY)
    assert r.reasons == {"swapped_lat_lon": 1}


def test_cli_region_km_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Old: no ``--region-km``; the far row was stored."""
    f = tmp_path / "r.csv"
    f.write_text(
        f"{HEADER}\na,4.30,52.07,2026-01-05,x\nb,4.31,52.08,2026-01-05,x\nc,9.99,53.55,2026-01-05,x\n"
    )  # c: Hamburg, ~400 km from the batch's region (default radius 200 km)
    assert main(["ingest", str(f), "--db", str(tmp_path / "r.duckdb")]) == 0
    assert json.loads(capsys.readouterr().out)["reasons"] == {"outside_study_area": 1}
    args = ["ingest", str(f), "--db", str(tmp_path / "r2.duckdb"), "--region-km", "500"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["stored"] == 3


# --------------------------------------------------------------------------- 4. dates


def test_placeholder_dates_are_implausible(store: Store) -> None:
    """Old: 0001-01-01 and 1900-01-01 (placeholders of source systems) were stored as
    incidents that happened then."""
    df = _frame(
        lon=[4.30, 4.31, 4.32, 4.33],
        lat=[52.07] * 4,
        occurred_from=["0001-01-01", "1900-01-01", "1989-12-31", "2026-01-05"],
        category=["x"] * 4,
    )
    r = ingest_frame(store, df, file_name="old.csv", today=TODAY)
    _accounted(r)
    assert (r.stored, r.reasons) == (1, {"implausible_date": 3})
    # The floor is a parameter (ingest --earliest).
    r2 = ingest_frame(store, df, file_name="old2.csv", today=TODAY, earliest=date(1980, 1, 1))
    assert (r2.stored, r2.duplicates, r2.reasons) == (1, 1, {"implausible_date": 2})


def test_impossible_calendar_dates_stay_unparseable(store: Store) -> None:
    df = _frame(
        lon=[4.30, 4.31],
        lat=[52.07] * 2,
        occurred_from=["2025-02-30", "2025-04-31"],
        category=["x"] * 2,
    )
    r = ingest_frame(store, df, file_name="cal.csv", today=TODAY)
    assert r.reasons == {"unparseable_date": 2}


def test_cli_earliest_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "e.csv"
    f.write_text(f"{HEADER}\na,4.3,52.07,1985-06-01,x\nb,4.3,52.07,2026-01-05,x\n")
    assert main(["ingest", str(f), "--db", str(tmp_path / "e.duckdb")]) == 0
    assert json.loads(capsys.readouterr().out)["reasons"] == {"implausible_date": 1}
    args = ["ingest", str(f), "--db", str(tmp_path / "e2.duckdb"), "--earliest", "1980-01-01"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["stored"] == 2


# --------------------------------------------------------------------------- 5. Ctrl-C


def _csv(tmp_path: Path) -> Path:
    f = tmp_path / "in.csv"
    f.write_text(f"{HEADER}\n{_good(1)}\n{_good(2)}\nbad,,,2026-01-05,x\n")
    return f


def _interrupt_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("Onderbroken")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_ctrl_c_after_commit_says_the_batch_is_stored(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    store_db: str,
) -> None:
    """Old: Ctrl-C right after COMMIT left the batch stored, while the CLI said nothing
    truthful (a traceback / "nothing was half-written") and printed no report."""
    original = StoreBase.transaction

    @contextmanager
    def then_ctrl_c(self: StoreBase) -> Iterator[object]:
        with original(self) as con:
            yield con
        raise KeyboardInterrupt  # the COMMIT went through

    monkeypatch.setattr(StoreBase, "transaction", then_ctrl_c)
    db = store_db  # each catalog: sqlite, postgres
    assert main(["ingest", str(_csv(tmp_path)), "--db", str(db)]) == 130
    line = _interrupt_line(capsys.readouterr().err)
    assert "is wel opgeslagen (2 incidenten)" in line
    batch_id = line.split()[2]
    monkeypatch.undo()
    with Store.open(db, read_only=True) as store:
        assert store.batches()["batch_id"].tolist() == [batch_id]
        assert store.count_incidents() == 2


@pytest.mark.parametrize("where", ["before_commit", "during_commit"])
def test_ctrl_c_before_commit_says_the_batch_is_not_stored(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    where: str,
    store_db: str,
) -> None:
    """Old: the same generic message either way. 'during_commit' leaves the transaction open
    (Ctrl-C arrived as COMMIT started): the answer must come from the store after a rollback."""
    if where == "before_commit":

        def interrupted(*args: object, **kwargs: object) -> None:
            raise KeyboardInterrupt

        monkeypatch.setattr(Store, "_write_quarantine", interrupted)
    else:

        @contextmanager
        def no_commit(self: StoreBase) -> Iterator[object]:
            self.con.execute("BEGIN TRANSACTION")
            yield self.con
            raise KeyboardInterrupt  # neither COMMIT nor ROLLBACK ran

        monkeypatch.setattr(StoreBase, "transaction", no_commit)
    db = store_db  # each catalog: sqlite, postgres
    assert main(["ingest", str(_csv(tmp_path)), "--db", str(db)]) == 130
    line = _interrupt_line(capsys.readouterr().err)
    assert line.endswith("is niet opgeslagen (0 incidenten)")
    monkeypatch.undo()
    with Store.open(db, read_only=True) as store:
        assert store.batches().empty
        assert store.count_incidents() == 0


# --------------------------------------------------------------------------- 6. locked store


@pytest.fixture
def locked_db(tmp_path: Path) -> Iterator[Path]:
    """A single-file DuckDB store of before the shared store, held open by another process.

    New stores are shared (DuckLake, see tests/store/test_shared.py) and have no such lock;
    a single-file store still opens as it is, and its lock is still one line.
    """
    db = tmp_path / "held.duckdb"
    duckdb.connect(str(db)).close()  # a DuckDB file: Store.open keeps it single-file
    Store.open(db).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, duckdb\n"
            "con = duckdb.connect(sys.argv[1])\n"
            "print('ready', flush=True)\n"
            "time.sleep(120)\n",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        yield db
    finally:
        holder.kill()
        holder.wait(timeout=30)


@pytest.mark.parametrize(
    "command", [["status"], ["keys", "list"], ["ingest", "IN"], ["hotspots", "--category", "x"]]
)
def test_locked_database_is_one_line_not_a_traceback(
    locked_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """Old: every command died with a DuckDB ``IOException`` traceback about a lock."""
    args = [str(_csv(tmp_path)) if a == "IN" else a for a in command]
    code = main([*args, "--db", str(locked_db)])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "in gebruik door een draaiende service (geo-service serve" in err
    assert "POST /api/v1/incidents" in err and "database locked" in err


def test_locked_database_from_a_real_cli_process(locked_db: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "geo_service", "status", "--db", str(locked_db)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert "database locked by a running service" in out.stderr


def _number_reference(value: str | None) -> float:
    """What a person means by a coordinate cell: blank is missing, a decimal comma is a point."""
    text = (value or "").strip()
    for candidate in (text, text.replace(",", ".")):
        try:
            return float(candidate) if candidate else float("nan")
        except ValueError:
            continue
    return float("nan")


_CELLS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
    st.floats(-180, 180, allow_nan=False).map(lambda v: f"{v:.6f}".replace(".", ",")),
    st.integers(-300_000, 300_000).map(str),
    st.sampled_from(["", "  ", " 52.07 ", "onbekend", "n/a", "1e3", "-0"]),
    st.none(),
)


@settings(max_examples=60, deadline=None)
@given(cells=st.lists(_CELLS, min_size=1, max_size=40))
def test_coordinate_numbers_fast_and_forgiving_paths_agree(cells: list[str | None]) -> None:
    """Arrow's cast (clean columns) and the fallback (text, decimal commas) read the same."""
    from geo_service.ingest.parsing import _numbers

    expected = np.array([_number_reference(c) for c in cells])
    for series in (pd.Series(cells, dtype="string"), pd.Series(cells, dtype=object)):
        np.testing.assert_array_equal(_numbers(series), expected)
