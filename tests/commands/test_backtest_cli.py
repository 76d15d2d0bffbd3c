"""``geo-service backtest`` and ``model-card`` end to end on small real stores.

Two stores are ingested once per module through the CLI: a Toronto slice (Break and Enter,
2018-2019, a 5 x 4.5 km box downtown; timestamps to the minute) and the burglaries of the
data.police.uk Merseyside file (months only). That no method sees data at or after its
origin is tested in ``tests/spatial``; here the wiring is: parameters reach every method,
the month clock is chosen for month data, the output has its schema and its metadata.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest

from geo_service.analyses.backtesting import VERDICT_BETTER, VERDICT_NOT_BETTER, VERDICT_NOT_SHOWN
from geo_service.cli import main
from geo_service.store import Store
from geo_service.store.evaluations import evaluations_path
from spatial.forecast.methods import METHODS

TORONTO_COLUMNS = "occurred_from=occurred_at,category=mci"
UK_COLUMNS = (
    "incident_id=Crime ID,lon=Longitude,lat=Latitude,occurred_from=Month,category=Crime type"
)
TORONTO_CATEGORY = "break_and_enter"  # "Break and Enter", normalised by ingest

NUMBER_OR_NULL = {"type": ["number", "null"]}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["metadata", "methods"],
    "additionalProperties": False,
    "properties": {
        "metadata": {
            "type": "object",
            "required": [
                "parameters",
                "study_area",
                "h3_resolution",
                "metric_crs",
                "time_resolution",
                "time_clock",
                "origins",
                "n_origins",
                "horizon_days",
                "coverage",
                "training",
                "data_window",
                "n_incidents",
                "comparison",
                "software",
                "data_version",
            ],
            "properties": {
                "study_area": {
                    "type": "object",
                    "required": ["definition", "policy", "n_cells", "cells_per_forecast_area"],
                },
                "h3_resolution": {"type": "integer"},
                "metric_crs": {"type": "string", "pattern": "^EPSG:[0-9]+$"},
                "time_resolution": {"enum": ["day", "month"]},
                "origins": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "string", "format": "date"},
                },
                "data_window": {
                    "type": "object",
                    "required": ["first_incident", "last_incident", "test_start", "test_end"],
                },
                "comparison": {
                    "type": "object",
                    "required": ["method", "ratio", "verdict", "goal_ratio"],
                },
                "software": {"type": "string", "pattern": "^geo-service "},
            },
        },
        "methods": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": [
                    "method",
                    "baseline",
                    "origins",
                    "mean_pai",
                    "median_pai",
                    "hit_rate",
                    "rri",
                    "pai_by_origin",
                ],
                "properties": {
                    "method": {"type": "string"},
                    "baseline": {"type": "boolean"},
                    "origins": {"type": "integer", "minimum": 0},
                    "mean_pai": NUMBER_OR_NULL,
                    "median_pai": NUMBER_OR_NULL,
                    "hit_rate": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                    "rri": NUMBER_OR_NULL,
                    "pai_by_origin": {"type": "array", "items": NUMBER_OR_NULL},
                },
            },
        },
    },
}


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in this process; return (exit code, stdout, stderr)."""
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def _toronto_slice(
    shared_data: Path, tmp_path_factory: pytest.TempPathFactory, *, burglary_only: bool
) -> Path:
    """A store of Toronto's 2018-2019 incidents in a 4 x 4 km box downtown."""
    df = pd.read_csv(shared_data / "ca" / "toronto_mci_2014_2021.csv.gz")
    keep = (
        df["lat"].between(43.64, 43.68)
        & df["lon"].between(-79.43, -79.37)
        & (df["occurred_at"] >= "2018-01-01")
        & (df["occurred_at"] < "2020-01-01")
    )
    if burglary_only:
        keep &= df["mci"] == "Break and Enter"
    folder = tmp_path_factory.mktemp("toronto")
    src = folder / "toronto_slice.csv"
    df[keep].to_csv(src, index=False)
    db = folder / "toronto.duckdb"
    assert main(["ingest", str(src), "--columns", TORONTO_COLUMNS, "--db", str(db)]) == 0
    return db


@pytest.fixture(scope="module")
def toronto_db(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Break and Enter only."""
    return _toronto_slice(shared_data, tmp_path_factory, burglary_only=True)


@pytest.fixture(scope="module")
def uk_db(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    df = pd.read_csv(shared_data / "uk" / "street_full_merseyside.csv.gz")
    folder = tmp_path_factory.mktemp("uk")
    src = folder / "merseyside_burglary.csv"
    df[df["Crime type"] == "Burglary"].to_csv(src, index=False)
    db = folder / "uk.duckdb"
    args = ["ingest", str(src), "--columns", UK_COLUMNS, "--db", str(db)]
    assert main([*args, "--category-map", "Burglary=woninginbraak", "--only-mapped"]) == 0
    return db


def test_backtest_toronto_schema_metadata_progress(
    toronto_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code, out, err = cli(
        capsys,
        "backtest",
        "--category",
        TORONTO_CATEGORY,
        "--horizon-days",
        "28",
        "--coverage",
        "0.05",
        "--start",
        "2019-01-01",
        "--end",
        "2019-12-31",
        "--res",
        "9",
        "--db",
        str(toronto_db),
    )
    assert code == 0, err
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA, format_checker=jsonschema.FormatChecker())
    meta = doc["metadata"]
    # Without --method every method runs, ours marked as the one that is not a baseline.
    assert [r["method"] for r in doc["methods"]] == list(METHODS)
    assert {r["method"] for r in doc["methods"] if not r["baseline"]} == {
        "msrate",
        "covrate",
        "hawkes",
    }
    # 2019-01-01 + 13 x 28 days = 2019-12-31: 13 whole test periods, the last day untested.
    assert meta["n_origins"] == 13 == len(meta["origins"])
    assert meta["origins"][:2] == ["2019-01-01", "2019-01-29"]
    assert meta["data_window"]["test_start"] == "2019-01-01"
    assert meta["data_window"]["test_end"] == "2019-12-30"
    assert meta["data_window"]["first_incident"].startswith("2018-01")
    assert meta["time_resolution"] == "day"
    assert meta["horizon_days"] == 28 and meta["h3_resolution"] == 9
    assert meta["metric_crs"] == "EPSG:32617"  # UTM 17N: the study area's own metric CRS
    assert "voetafdruk" in meta["study_area"]["definition"]  # no areas imported: footprint
    assert meta["parameters"]["train_days"] is None
    assert meta["n_incidents_outside_grid"] == 0
    # Coverage: 5 % of the study cells (rounded up) is every forecast area, and no PAI
    # exceeds the ceiling 1 / (a / A) that this area share allows.
    sa = meta["study_area"]
    assert sa["cells_per_forecast_area"] == math.ceil(0.05 * sa["n_cells"] - 1e-9)
    ceiling = sa["n_cells"] / sa["cells_per_forecast_area"]
    for row in doc["methods"]:
        assert len(row["pai_by_origin"]) == 13
        assert all(p is None or p <= ceiling + 1e-6 for p in row["pai_by_origin"])
    comp = meta["comparison"]
    best = max((r for r in doc["methods"] if r["baseline"]), key=lambda r: r["mean_pai"])
    assert comp["best_baseline"] == best["method"]
    assert comp["ratio"] == pytest.approx(
        next(r for r in doc["methods"] if r["method"] == "covrate")["mean_pai"] / best["mean_pai"],
        abs=1e-3,
    )
    # "beter" only when the whole bootstrap interval lies above 1 (a 1,044x ratio whose
    # interval reaches below 1 is not a demonstrated gain)
    if comp["ratio"] <= 1:
        assert comp["verdict"] == VERDICT_NOT_BETTER
    else:
        expected = VERDICT_BETTER if comp["ratio_low"] > 1 else VERDICT_NOT_SHOWN
        assert comp["verdict"] == expected
    # The paired bootstrap interval (percentiles of resampled ratios) and its verdict; the
    # self-exciting method is compared with the same best baseline.
    assert 0 < comp["ratio_low"] <= comp["ratio_high"]
    assert comp["interval_above_one"] == (comp["ratio_low"] > 1)
    dyn = meta["comparison_dynamic"]
    assert dyn["method"] == "hawkes" and dyn["best_baseline"] == best["method"]
    assert 0 < dyn["ratio_low"] <= dyn["ratio_high"]
    # The tqdm bar on stderr reached the total (13 origins x 14 methods); stdout is JSON only.
    total = 13 * len(METHODS)
    assert "backtest" in err and f"{total}/{total}" in err and "100%" in err
    assert "Traceback" not in err
    assert evaluations_path(toronto_db).is_file()  # kept for the model card


def test_train_days_reaches_every_method(
    toronto_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = [
        "backtest",
        "--category",
        TORONTO_CATEGORY,
        "--method",
        "naive_90d,naive_1095d,msrate",
        "--start",
        "2019-07-01",
        "--end",
        "2019-12-31",
        "--res",
        "9",
        "--no-record",
        "--db",
        str(toronto_db),
    ]
    capsys.readouterr()
    code, out, err = cli(capsys, *base, "--train-days", "90")
    assert code == 0, err
    capped = {r["method"]: r for r in json.loads(out)["methods"]}
    meta = json.loads(out)["metadata"]
    assert meta["parameters"]["train_days"] == 90
    assert "90" in meta["training"]
    assert list(capped) == ["naive_90d", "naive_1095d", "msrate"]
    # Capped at 90 days, the 3-year count sees exactly what the 90-day count sees.
    assert capped["naive_1095d"]["pai_by_origin"] == capped["naive_90d"]["pai_by_origin"]
    code, out, err = cli(capsys, *base)
    assert code == 0, err
    free = {r["method"]: r for r in json.loads(out)["methods"]}
    assert free["naive_1095d"]["pai_by_origin"] != free["naive_90d"]["pai_by_origin"]
    # Our method is capped too (its long lag windows lose their data).
    assert capped["msrate"]["pai_by_origin"] != free["msrate"]["pai_by_origin"]


def test_model_card_reads_the_latest_backtest(
    toronto_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    args = ["--category", TORONTO_CATEGORY, "--db", str(toronto_db)]
    code, out, err = cli(
        capsys, "backtest", *args, "--method", "naive_1095d,random,covrate", "--res", "9"
    )
    assert code == 0, err
    bt = json.loads(out)
    code, out, err = cli(capsys, "model-card", *args, "--format", "json")
    assert code == 0, err
    card = json.loads(out)
    assert card["verantwoord_gebruik"]["juridische_grondslag"]["in_te_vullen"] is True
    assert card["algemeen"]["organisatie"]["in_te_vullen"] is True
    data = card["werking"]["gegevens"]
    with Store.open(toronto_db, read_only=True) as store:
        stored = store.count_incidents()
    # All stored incidents; the backtest used those up to its last whole test period.
    assert data["categorie"] == TORONTO_CATEGORY and data["aantal_incidenten"] == stored
    assert 0 < bt["metadata"]["n_incidents"] <= stored
    assert data["gedeeltelijk_synthetisch"] is False
    assert data["tijdzones"] == ["America/Toronto"]
    ev = card["werking"]["evaluatie"]
    assert ev["beschikbaar"] is True and ev["verouderd"] is False
    assert ev["vergelijking"] == bt["metadata"]["comparison"]
    assert ev["opzet"]["gegevensvenster"] == bt["metadata"]["data_window"]
    assert ev["methoden"][0]["method"] in {"naive_1095d", "covrate"}
    limits = " ".join(card["werking"]["bekende_beperkingen"])
    # The benchmark results (benchmarks/results/toronto_ceiling.txt), with their intervals.
    assert "1,091x" in limits and "1,065-1,110" in limits and "kruispunt" in limits
    assert "hawkes" in limits and "0,980-1,023" in limits  # the dynamic method, with interval

    code, md, err = cli(capsys, "model-card", *args)
    assert code == 0, err
    for heading in (
        "## Algemene informatie",
        "### Juridische grondslag",
        "### Menselijke tussenkomst",
        "### Risico's",
        "### Gegevens",
        "### Evaluatie",
        "### Bekende beperkingen",
    ):
        assert heading in md
    assert "[IN TE VULLEN]" in md and "terugkoppeling" in md
    assert f"{bt['metadata']['comparison']['ratio']:.3f}".replace(".", ",") in md
    comp = bt["metadata"]["comparison"]
    low, high = (f"{comp[k]:.3f}".replace(".", ",") for k in ("ratio_low", "ratio_high"))
    assert f"95 %-interval (bootstrap over startmomenten) {low}-{high}" in md
    assert bt["metadata"]["data_window"]["test_start"] in md


@pytest.fixture(scope="module")
def toronto_all_db(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same Toronto slice with every major crime category, not burglary alone."""
    return _toronto_slice(shared_data, tmp_path_factory, burglary_only=False)


def test_covrate_reads_the_other_categories(
    toronto_all_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = [
        "backtest",
        "--category",
        TORONTO_CATEGORY,
        "--method",
        "naive_1095d,covrate",
        "--start",
        "2019-07-01",
        "--end",
        "2019-12-31",
        "--res",
        "9",
        "--no-record",
        "--db",
        str(toronto_all_db),
    ]
    with Store.open(toronto_all_db, read_only=True) as store:
        others = [c for c in store.categories() if c != TORONTO_CATEGORY]
    assert len(others) >= 3  # assault, auto theft, robbery, theft over
    capsys.readouterr()
    code, out, err = cli(capsys, *base)
    assert code == 0, err
    doc = json.loads(out)
    cov = doc["metadata"]["covariates"]["categories"]
    # Default: every other stored category, each with the incidents it contributed.
    assert [c["category"] for c in cov] == others
    assert all(c["n_incidents"] > 0 and c["dating"] == "tijdstip" for c in cov)
    assert doc["metadata"]["comparison"]["method"] == "covrate"
    with_cov = {r["method"]: r for r in doc["methods"]}["covrate"]["pai_by_origin"]

    code, out, err = cli(capsys, *base, "--no-covariates")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["metadata"]["covariates"]["categories"] == []
    assert doc["metadata"]["parameters"]["covariates"] == []
    without = {r["method"]: r for r in doc["methods"]}["covrate"]["pai_by_origin"]
    assert without != with_cov  # the covariates reach the forecast

    code, out, err = cli(capsys, *base, "--covariates", others[0])
    assert code == 0, err
    doc = json.loads(out)
    assert [c["category"] for c in doc["metadata"]["covariates"]["categories"]] == others[:1]

    # A misspelt covariate is a clear error that lists the stored ones; so is the category
    # itself.
    code, out, err = cli(capsys, *base, "--covariates", "Assault")
    assert code != 0 and out == "" and "Traceback" not in err
    assert "onbekende covariaat" in err and others[0] in err
    code, out, err = cli(capsys, *base, "--covariates", TORONTO_CATEGORY)
    assert code == 2 and out == "" and "kan geen covariaat zijn" in err


def test_uk_month_resolution_uses_the_month_clock(
    uk_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    args = ["backtest", "--category", "woninginbraak", "--res", "9", "--db", str(uk_db)]
    code, out, err = cli(capsys, *args, "--horizon-days", "30")
    assert code == 0, err
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA, format_checker=jsonschema.FormatChecker())
    meta = doc["metadata"]
    assert meta["time_resolution"] == "month" and "maandklok" in meta["time_clock"]
    # 2018-10 .. 2019-02: every month with a month of history is an origin.
    assert meta["origins"] == ["2018-11-01", "2018-12-01", "2019-01-01", "2019-02-01"]
    assert meta["data_window"]["test_end"] == "2019-02-28"
    assert meta["n_incidents"] == 4_278  # every Merseyside burglary (see test_cli_data)
    assert meta["metric_crs"] == "EPSG:32630"
    assert all(r["origins"] == 4 for r in doc["methods"])
    # Month data cannot be tested at two weeks: a clear error, no traceback.
    code, out, err = cli(capsys, *args, "--horizon-days", "14")
    assert code == 2 and out == ""
    assert "whole months" in err and "Traceback" not in err
    code, md, err = cli(capsys, "model-card", "--category", "woninginbraak", "--db", str(uk_db))
    assert code == 0, err
    assert "**Tijdresolutie:** maand" in md and "maandklok" in md


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--method", "msrate,oracle"], "unknown method"),
        (["--coverage", "0.9"], "coverage must be"),
        (["--start", "2019-06-01", "--end", "2019-06-05"], "no whole horizon"),
        (["--start", "2019-06-01", "--end", "2019-05-01"], "after end"),
        (["--start", "2030-01-01", "--end", "2030-03-01"], "no incidents in the test window"),
        (["--res", "13"], "resolution"),
    ],
)
def test_bad_parameters_are_one_line_errors(
    toronto_db: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    capsys.readouterr()
    code, out, err = cli(
        capsys,
        "backtest",
        "--category",
        TORONTO_CATEGORY,
        "--no-record",
        "--db",
        str(toronto_db),
        *extra,
    )
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err
    assert err.startswith("geo-service: error:")


def test_unknown_category_and_missing_database(
    toronto_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code, _, err = cli(capsys, "backtest", "--category", "nope", "--db", str(toronto_db))
    assert code == 2 and "no incidents of category 'nope'" in err and TORONTO_CATEGORY in err
    code, _, err = cli(capsys, "model-card", "--category", "nope", "--db", str(toronto_db))
    assert code == 2 and "no incidents of category 'nope'" in err
    code, _, err = cli(
        capsys, "backtest", "--category", "x", "--db", str(tmp_path / "missing.duckdb")
    )
    assert code == 2 and "does not exist" in err
    assert not (tmp_path / "missing.duckdb").exists()
