"""Policy monitor (``geo-service monitor``): rates per 1,000 against a target, on the demo."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

from geo_service.analyses.monitor import MonitorParams, compute_monitor, monitor_csv
from geo_service.cli import main
from geo_service.demo.dataset import build_demo
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from spatial.errors import InvalidParameterError


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("monitor") / "demo.duckdb"
    with Store.open(path) as s:
        build_demo(s, end_month=date(2026, 10, 1), progress=False)
    return path


def test_rates_targets_and_status(demo_db: Path) -> None:
    params = MonitorParams(
        incidents=IncidentFilter(municipality="GM0518"),
        categories=("woninginbraak",),
        targets=(("woninginbraak", 8.0),),
    )
    with Store.open(demo_db, read_only=True) as s:
        doc = compute_monitor(s, params)
        wijken = s.areas_frame(level="wijk", municipality="GM0518")
        flt = IncidentFilter("woninginbraak", "GM0518", date(2025, 1, 1), date(2025, 12, 31))
        n_2025 = s.count_incidents(flt)
    # The demo starts in November 2021: 2021 is left out, not shown as a low year.
    assert doc["metadata"]["window"]["years"] == [2022, 2023, 2024, 2025]
    assert doc["metadata"]["window"]["left_out"] == [2021]
    assert doc["metadata"]["populations_known"] == {"dwellings": True, "inhabitants": False}
    rows = doc["rows"]
    city = rows[0]
    assert city["level"] == "gemeente" and city["code"] == "GM0518"
    assert city["counts"]["2025"] == n_2025
    dwellings = float(wijken["dwellings"].sum())
    assert city["per_1000_dwellings"]["2025"] == pytest.approx(n_2025 / dwellings * 1000, abs=0.01)
    assert city["per_1000_inhabitants"]["2025"] is None  # no inhabitants: no rate, no guess
    assert len(rows) == 1 + len(wijken)
    assert sum(r["counts"]["2025"] for r in rows[1:]) == n_2025
    for r in rows:
        rate = r["per_1000_dwellings"]["2025"]
        assert r["above_target"] == (rate > 8.0)
        if r["above_target"] and r["years_to_target"] is not None:
            assert "op dit tempo over" in r["status"]
        elif not r["above_target"]:
            assert r["status"].endswith("op of onder het doel.")
    text = monitor_csv(doc)
    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert table[0][:5] == ["level", "code", "name", "category", "count_2022"]
    assert len(table) == 1 + len(rows)


def test_cli(demo_db: Path, capsys: pytest.CaptureFixture) -> None:
    base = ["--db", str(demo_db), "monitor", "--municipality", "GM1783"]
    assert main([*base, "--target", "jeugdoverlast=20", "--years", "3"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {r["category"] for r in doc["rows"]} == {"jeugdoverlast", "woninginbraak"}
    assert all(r["target"] is None for r in doc["rows"] if r["category"] == "woninginbraak")
    assert main([*base, "--target", "jeugdoverlast=veel"]) == 2
    assert "category=number" in capsys.readouterr().err
    with pytest.raises(InvalidParameterError, match="years"):
        MonitorParams(years=1)
