"""Meldingen (residents' reports) are their own categories, never mixed with police registrations.

Issue 23: a melding is not a crime. A category's kind is recorded by the batch that first
stores it (``ingest --kind``, the upload's ``kind``); a file of the other kind cannot add to
it, and the refusal stores nothing.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from geo_service.errors import InputFileError
from geo_service.ingest import ingest_frame
from geo_service.store import Store

TODAY = date(2026, 11, 22)


def _frame(prefix: str, category: str, n: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "incident_id": [f"{prefix}{i}" for i in range(n)],
            "lon": ["4.30"] * n,
            "lat": ["52.07"] * n,
            "occurred_from": [f"2026-01-{i + 1:02d}" for i in range(n)],
            "category": [category] * n,
        }
    )


def test_kinds_are_recorded_and_default_to_police(store: Store) -> None:
    ingest_frame(store, _frame("p", "woninginbraak"), file_name="politie.csv", today=TODAY)
    r = ingest_frame(
        store, _frame("m", "jeugdoverlast"), file_name="meld.csv", kind="melding", today=TODAY
    )
    assert r.stored == 4
    assert store.category_kinds() == {"jeugdoverlast": "melding", "woninginbraak": "politie"}
    # A later file without --kind adds to the category as the kind it has.
    ingest_frame(store, _frame("m2-", "jeugdoverlast"), file_name="meld2.csv", today=TODAY)
    assert store.category_kinds()["jeugdoverlast"] == "melding"


@pytest.mark.parametrize(
    ("first", "second"), [(None, "melding"), ("politie", "melding"), ("melding", "politie")]
)
def test_other_kind_is_refused_and_stores_nothing(
    store: Store, first: str | None, second: str
) -> None:
    ingest_frame(store, _frame("a", "jeugdoverlast"), file_name="a.csv", kind=first, today=TODAY)
    batches = len(store.batches())
    with pytest.raises(InputFileError, match="al opgeslagen als"):
        ingest_frame(
            store, _frame("b", "jeugdoverlast"), file_name="b.csv", kind=second, today=TODAY
        )
    assert store.count_incidents() == 4
    assert len(store.batches()) == batches
    assert store.category_kinds() == {"jeugdoverlast": first or "politie"}


def test_unknown_kind_is_refused(store: Store) -> None:
    with pytest.raises(InputFileError, match="politie of melding"):
        ingest_frame(store, _frame("a", "x"), file_name="a.csv", kind="klacht", today=TODAY)
    assert store.count_incidents() == 0
