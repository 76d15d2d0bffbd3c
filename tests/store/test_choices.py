"""The one place a request's category and municipality are checked and defaulted."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from geo_service.analyses import default_of
from geo_service.analyses.camera_plan import CameraPlanParams
from geo_service.analyses.iha import IHAParams
from geo_service.analyses.priorities import PriorityParams
from geo_service.errors import NotFoundError
from geo_service.filters import IncidentFilter
from geo_service.ingest.pipeline import ingest_frame
from geo_service.store import Store


def _ingest(store: Store, categories: list[str]) -> None:
    n = len(categories)
    df = pd.DataFrame(
        {
            "incident_id": [f"i{i}" for i in range(n)],
            "lon": ["4.30"] * n,
            "lat": ["52.07"] * n,
            "occurred_from": ["2026-01-05"] * n,
            "category": categories,
        }
    )
    ingest_frame(store, df, file_name="x.csv", municipality="GM0518", today=date(2026, 2, 1))


def test_category_checked_and_defaulted(store: Store) -> None:
    with pytest.raises(NotFoundError, match="geen incidenten"):
        store.resolve_category(None)
    _ingest(store, ["jeugdoverlast", "woninginbraak", "fietsendiefstal"])
    # default: the first stored (alphabetical) unless a preferred one is stored
    assert store.resolve_category(None) == "fietsendiefstal"
    assert store.resolve_category("", prefer=("woninginbraak",)) == "woninginbraak"
    assert store.resolve_category(None, prefer=("drugs", "jeugdoverlast")) == "jeugdoverlast"
    assert store.resolve_category("jeugdoverlast", prefer=("woninginbraak",)) == "jeugdoverlast"
    with pytest.raises(NotFoundError, match="'Woninginbraak' is niet bekend") as info:
        store.resolve_category("Woninginbraak")  # case matters: codes are lower case
    assert info.value.known == ("fietsendiefstal", "jeugdoverlast", "woninginbraak")


def test_categories_checked_and_defaulted(store: Store) -> None:
    _ingest(store, ["jeugdoverlast", "woninginbraak", "fietsendiefstal"])
    assert store.resolve_categories(()) == ["fietsendiefstal"]
    assert store.resolve_categories((), every=True) == [
        "fietsendiefstal",
        "jeugdoverlast",
        "woninginbraak",
    ]
    prefer = ("woninginbraak", "jeugdoverlast")
    assert store.resolve_categories((), prefer=prefer, every=True) == list(prefer)
    assert store.resolve_categories(("woninginbraak", "woninginbraak")) == ["woninginbraak"]
    with pytest.raises(NotFoundError, match="'drugs'"):
        store.resolve_categories(("woninginbraak", "drugs"))


def test_municipality_checked(store: Store) -> None:
    _ingest(store, ["woninginbraak"])
    assert store.check_municipality(None) is None
    assert store.check_municipality("GM0518") == "GM0518"
    with pytest.raises(NotFoundError, match="'GM9999' is niet bekend") as info:
        store.check_municipality("GM9999")
    assert info.value.known == ("GM0518",)


def test_each_default_lives_in_its_params_class() -> None:
    # The values the README and the API document; read from the dataclass fields.
    assert default_of(CameraPlanParams, "count") == CameraPlanParams().count == 22
    assert default_of(CameraPlanParams, "radius_m") == 75.0
    assert default_of(IHAParams, "count") == IHAParams().count == 10
    flt = IncidentFilter(category="woninginbraak")
    assert default_of(PriorityParams, "years") == PriorityParams(incidents=flt).years == 3
    assert default_of(CameraPlanParams, "incidents") == IncidentFilter()  # a default_factory
    with pytest.raises(KeyError, match="no default"):
        default_of(PriorityParams, "incidents")
    with pytest.raises(KeyError):
        default_of(PriorityParams, "nope")


def test_backtest_records_of_a_postgres_store_live_in_its_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geo_service.store.evaluations import evaluations_path, latest_backtest, record_backtest
    from spatial.errors import InvalidParameterError

    spec = "postgres:dbname=geo host=/nowhere"
    monkeypatch.delenv("GEO_SERVICE_DATA_PATH", raising=False)
    with pytest.raises(InvalidParameterError, match="GEO_SERVICE_DATA_PATH"):
        evaluations_path(spec)
    monkeypatch.setenv("GEO_SERVICE_DATA_PATH", str(tmp_path / "data"))
    doc = {"metadata": {"parameters": {"category": "woninginbraak", "municipality": None}}}
    assert record_backtest(spec, doc) == tmp_path / "data" / "backtest.json"
    assert latest_backtest(spec, "woninginbraak") == doc
    assert evaluations_path(tmp_path / "h.duckdb") == tmp_path / "h.duckdb.backtest.json"
