"""Meldingen are never summed into police counts (issue 23).

A melding (a resident's report to the municipality) is not a crime. The demo copy gets 600
extra meldingen of a new category, ``geluidsoverlast``, ingested with ``kind="melding"`` in the
centre of Den Haag over the report's years; then

* every police figure of the Veiligheidskaart (counts, rates, trend, rank, per area) is
  exactly what it was without them -- the independent reference is the report computed on
  the same store before the ingest;
* the new category has its own rows, in the meldingen table of the page, never in the
  police one;
* the IHA proposals take the meldingen as input (residents' signals) and report a total per
  kind, never one sum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from geo_service.analyses.iha import IHAParams, compute_iha, iha_geojson
from geo_service.analyses.veiligheidskaart import VeiligheidskaartParams, compute_veiligheidskaart
from geo_service.demo.dataset import CENTRE_WIJKEN
from geo_service.filters import IncidentFilter
from geo_service.ingest import ingest_frame
from geo_service.store import Store
from geo_service.web.app import create_app
from tests.clock import DemoClock
from tests.web_fixtures import DemoDB, demo_clock, demo_copy, demo_db, web_settings

__all__ = ["demo_clock", "demo_copy", "demo_db"]

pytestmark = pytest.mark.clock
GM = "GM0518"


def _meldingen(store: Store, clock: DemoClock, n: int = 600) -> pd.DataFrame:
    """``n`` meldingen at random points of the centre wijken, spread over the data's years."""
    wijken = store.areas_frame(level="wijk", municipality=GM)
    centre = shapely.union_all(wijken[wijken["code"].isin(CENTRE_WIJKEN)].geometry.to_numpy())
    rng = np.random.default_rng(23)
    lo, la, hi, ha = centre.bounds
    pts: list[tuple[float, float]] = []
    while len(pts) < n:
        lon, lat = rng.uniform(lo, hi), rng.uniform(la, ha)
        if centre.contains(shapely.Point(lon, lat)):
            pts.append((lon, lat))
    days = (clock.last - clock.first).days
    when = [clock.first + pd.Timedelta(days=int(d)) for d in rng.integers(0, days, n)]
    return pd.DataFrame(
        {
            "incident_id": [f"MELD-{i}" for i in range(n)],
            "lon": [f"{p[0]:.6f}" for p in pts],
            "lat": [f"{p[1]:.6f}" for p in pts],
            "occurred_from": [d.isoformat() for d in when],
            "category": ["geluidsoverlast"] * n,
        }
    )


def _ingest_meldingen(store: Store, clock: DemoClock, n: int = 600) -> int:
    """Ingest :func:`_meldingen` as residents' reports (``kind="melding"``); return how many."""
    frame = _meldingen(store, clock, n)
    report = ingest_frame(store, frame, file_name="meldingen.csv", kind="melding", today=clock.last)
    assert report.stored == len(frame)
    return report.stored


def _figures(store: Store, level: str) -> dict[tuple[str, str], tuple[object, ...]]:
    r = compute_veiligheidskaart(store, VeiligheidskaartParams(level=level))  # type: ignore[arg-type]
    return {
        (a.code, row.category): (row.counts, row.rates, row.rate_ratio, row.rank, row.rank_before)
        for a in r.areas
        for row in a.rows
    }


def test_meldingen_never_change_a_police_figure(demo_copy: DemoDB, demo_clock: DemoClock) -> None:
    with Store.open(demo_copy.path) as s:
        before = {lv: _figures(s, lv) for lv in ("stadsdeel", "wijk")}
        stored = _ingest_meldingen(s, demo_clock)
        assert s.category_kinds()["geluidsoverlast"] == "melding"
        assert s.count_incidents(IncidentFilter(category="geluidsoverlast")) == stored
        r = compute_veiligheidskaart(s, VeiligheidskaartParams(level="stadsdeel"))
        after = {lv: _figures(s, lv) for lv in ("stadsdeel", "wijk")}
    # Police rows first, then the meldingen (sorted), each category on its own row.
    assert r.categories == ("woninginbraak", "geluidsoverlast", "jeugdoverlast")
    assert r.kinds == {
        "woninginbraak": "politie",
        "geluidsoverlast": "melding",
        "jeugdoverlast": "melding",
    }
    for level in ("stadsdeel", "wijk"):
        police = {k: v for k, v in after[level].items() if k[1] == "woninginbraak"}
        assert police == {k: v for k, v in before[level].items() if k[1] == "woninginbraak"}
        # The other melding category is untouched too; the new one has rows of its own.
        youth = {k: v for k, v in after[level].items() if k[1] == "jeugdoverlast"}
        assert youth == {k: v for k, v in before[level].items() if k[1] == "jeugdoverlast"}
        new = {k: v for k, v in after[level].items() if k[1] == "geluidsoverlast"}
        total = sum(c for v in new.values() for c in v[0] if c)  # type: ignore[attr-defined]
        assert total > 0
    centrum = next(a for a in r.areas if a.name == "Centrum")
    assert sum(next(x for x in centrum.rows if x.category == "geluidsoverlast").counts) > 0  # type: ignore[arg-type]


def test_page_puts_meldingen_in_their_own_table(demo_copy: DemoDB, demo_clock: DemoClock) -> None:
    with Store.open(demo_copy.path) as s:
        _ingest_meldingen(s, demo_clock, 200)
    app = create_app(web_settings(demo_copy.path))
    with TestClient(app) as c:
        resp = c.get("/veiligheidskaart", headers={"X-API-Key": demo_copy.analyst})
    assert resp.status_code == 200
    doc = BeautifulSoup(resp.text, "html.parser")
    sections = doc.select("section.area")
    assert len(sections) == 8
    for sec in sections:
        police = [
            tr["data-category"] for tr in sec.select('table[data-kind="politie"] tr[data-category]')
        ]
        meld = [
            tr["data-category"] for tr in sec.select('table[data-kind="melding"] tr[data-category]')
        ]
        assert police == ["woninginbraak"]
        assert meld == ["geluidsoverlast", "jeugdoverlast"]
        caption = sec.select_one('table[data-kind="melding"] caption')
        assert caption is not None
        assert caption.get_text().startswith("Meldingen bij de gemeente (geen misdrijven")


def test_iha_takes_meldingen_as_input_with_totals_per_kind(
    demo_copy: DemoDB, demo_clock: DemoClock
) -> None:
    with Store.open(demo_copy.path) as s:
        _ingest_meldingen(s, demo_clock, 300)
        result = compute_iha(s, IHAParams(incidents=IncidentFilter(municipality=GM), count=4))
    fc = iha_geojson(result)
    assert result.categories == ["woninginbraak", "jeugdoverlast", "geluidsoverlast"]
    assert fc["metadata"]["category_kinds"]["geluidsoverlast"] == "melding"
    for f in fc["features"]:
        p = f["properties"]
        assert p["total_politie"] == p["incidents_woninginbraak"]
        assert p["total_melding"] == p["incidents_jeugdoverlast"] + p["incidents_geluidsoverlast"]
