"""Forecast accuracy measures against a hand-computed case (working and provenance in the JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spatial.forecast.evaluation import evaluate_forecast, pai, pooled_hit_rate, rri

CASE = json.loads((Path(__file__).parent / "data" / "evaluation_hand_case.json").read_text())


@pytest.mark.parametrize("case", CASE["cases"], ids=lambda c: f"coverage={c['coverage']}")
def test_hand_computed_case(case: dict) -> None:
    ev = evaluate_forecast(
        CASE["scores"],
        CASE["test_counts"],
        case["coverage"],
        reference_counts=CASE["reference_counts"],
    )
    assert ev.selected.tolist() == case["selected"]
    assert ev.n_events == case["n_events"]
    assert ev.hits == case["hits"]
    assert ev.best_hits == case["best_hits"]
    assert ev.n_reference == case["n_reference"]
    assert ev.hits_reference == case["hits_reference"]
    for field in ("hit_rate", "area_share", "pai", "pei", "rri"):
        assert getattr(ev, field) == pytest.approx(case[field], rel=1e-12), field


def test_hand_computed_area_weighted() -> None:
    aw = CASE["area_weighted"]
    ev = evaluate_forecast(
        CASE["scores"], CASE["test_counts"], aw["coverage"], cell_area=aw["cell_area"]
    )
    assert ev.area_share == pytest.approx(aw["area_share"], rel=1e-12)
    assert ev.pai == pytest.approx(aw["pai"], rel=1e-12)


def test_hand_computed_pooled_hit_rate() -> None:
    p = CASE["pooled"]
    assert pooled_hit_rate(p["hits"], p["n_events"]) == pytest.approx(p["hit_rate"], rel=1e-12)


def test_vectorised_functions_agree_with_the_case() -> None:
    first = CASE["cases"][0]
    assert pai([first["hits"]], [first["n_events"]], [first["area_share"]])[0] == pytest.approx(
        first["pai"]
    )
    got = rri(
        [first["hits"]], [first["n_events"]], [first["hits_reference"]], [first["n_reference"]]
    )
    assert got[0] == pytest.approx(first["rri"])
