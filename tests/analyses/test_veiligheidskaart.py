"""The Veiligheidskaart adapter on the demo: counts, years, stadsdelen, privacy, rule, WDQ.

Expected values are recomputed here from the incident points (pandas / shapely), never from
the adapter's own per-wijk query, and the years from the demo's clock (``tests/clock.py``).
"""

from __future__ import annotations

import itertools
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_service.analyses.veiligheidskaart import (
    VeiligheidskaartParams,
    compute_veiligheidskaart,
)
from geo_service.demo.dataset import CENTRE_WIJKEN
from geo_service.errors import NotFoundError
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.web.policy import ViewerPolicy
from spatial.errors import InvalidParameterError
from tests.clock import DemoClock, add_months
from tests.web_fixtures import DemoDB, demo_clock, demo_copy, demo_db

__all__ = ["demo_clock", "demo_copy", "demo_db"]

pytestmark = pytest.mark.clock
GM = "GM0518"


def _whole_years(clock: DemoClock) -> list[int]:
    """Years the demo covers from January to December (independent of the adapter)."""
    first = clock.first.year if clock.first.month == 1 else clock.first.year + 1
    last = clock.last.year if clock.last.month == 12 else clock.last.year - 1
    return list(range(max(first, last - 5), last + 1))


@pytest.fixture(scope="module")
def points(demo_db: DemoDB) -> pd.DataFrame:
    with Store.open(demo_db.path, read_only=True) as s:
        pts = s.incident_points(IncidentFilter(municipality=GM))
    pts["year"] = pd.to_datetime(pts["occurred_from"]).dt.year
    return pts


def test_stadsdelen_counts_rates_and_ranks(
    demo_db: DemoDB, demo_clock: DemoClock, points: pd.DataFrame
) -> None:
    with Store.open(demo_db.path, read_only=True) as s:
        r = compute_veiligheidskaart(s, VeiligheidskaartParams(level="stadsdeel"))
        wijken = s.areas_frame(level="wijk", municipality=GM).set_index("code")
    assert list(r.years) == _whole_years(demo_clock)
    assert r.derived_areas and r.exact and len(r.areas) == 8
    assert {a.name for a in r.areas} >= {"Escamp", "Centrum", "Leidschenveen-Ypenburg"}
    # Every Den Haag wijk in exactly one stadsdeel.
    members = [w for a in r.areas for w in a.wijken]
    assert sorted(members) == sorted(wijken.index) and len(set(members)) == len(members)
    for area in r.areas:
        # One row per category and no total: meldingen (jeugdoverlast) are never added to
        # police counts (woninginbraak).
        assert [row.category for row in area.rows] == list(r.categories)
        assert area.dwellings == pytest.approx(wijken.loc[list(area.wijken), "dwellings"].sum())
        for row in area.rows:
            sel = points[
                (points["category"] == row.category) & points["wijk_code"].isin(area.wijken)
            ]
            expected = sel.groupby("year").size().reindex(list(r.years), fill_value=0)
            assert list(row.counts) == expected.astype(float).tolist()
            rates = [c / area.dwellings * 1000 for c in expected]
            assert row.rates == pytest.approx(rates)
            c = expected.to_numpy()
            if (c[1:] == 0).all() or (c[:-1] == 0).all():  # all in the first or last year:
                assert row.rr_low is None and row.rr_high is None  # no finite MLE, no interval
            else:
                assert row.rr_low is not None and row.rr_high is not None
                assert row.rr_low < row.rate_ratio < row.rr_high  # type: ignore[operator]
    # Rank 1 is the highest rate of the report year among the eight.
    for cat in r.categories:
        last = {a.code: next(x for x in a.rows if x.category == cat).rates[-1] for a in r.areas}
        top = max(last, key=lambda c: last[c] or 0)
        rank = {a.code: next(x for x in a.rows if x.category == cat).rank for a in r.areas}
        assert rank[top] == 1 and sorted(rank.values()) == list(range(1, 9))  # type: ignore[type-var]


def test_camera_rule_only_where_fixed_cameras_hang(demo_db: DemoDB) -> None:
    with Store.open(demo_db.path, read_only=True) as s:
        sd = compute_veiligheidskaart(s, VeiligheidskaartParams(level="stadsdeel"))
        wk = compute_veiligheidskaart(s, VeiligheidskaartParams(level="wijk"))
        n_fixed = len(s.cameras_frame(kind="fixed", municipality=GM))
    with_cams = [a for a in sd.areas if a.fixed_cameras]
    assert [a.name for a in with_cams] == ["Centrum"]  # the demo hangs them in the centre
    assert with_cams[0].fixed_cameras == n_fixed
    assert all(row.camera is not None for row in with_cams[0].rows)
    assert all(row.camera is None for a in sd.areas if not a.fixed_cameras for row in a.rows)
    assert {a.code for a in wk.areas if a.fixed_cameras} <= set(CENTRE_WIJKEN)
    assert sum(a.fixed_cameras for a in wk.areas) == n_fixed
    # The demo has fewer than six whole years: the rule cannot be met, and says why.
    for row in with_cams[0].rows:
        assert row.camera is not None and not row.camera.met
        run = row.camera.run
        rates = row.rates
        falls = [b < a for a, b in itertools.pairwise(rates)]  # type: ignore[operator]
        expected = next((i for i, f in enumerate(reversed(falls)) if not f), len(falls))
        assert run == expected
    assert any("cameraregel" in n for n in sd.notes)


def test_viewer_edition_shows_no_count_below_k(demo_db: DemoDB) -> None:
    policy = ViewerPolicy()
    with Store.open(demo_db.path, read_only=True) as s:
        r = compute_veiligheidskaart(s, VeiligheidskaartParams(level="wijk"), publish=policy.counts)
    assert not r.exact
    shown = [c for a in r.areas for row in a.rows for c in row.counts]
    assert any(c is None for c in shown)  # the demo has wijk-years below k
    assert all(c is None or c >= policy.min_count for c in shown)
    for a in r.areas:
        for row in a.rows:
            if any(c is None for c in row.counts):  # no trend from withheld counts
                assert row.rate_ratio is None and row.rr_low is None
    for e in r.effects:
        if e.result is not None:
            res = e.result
            counts = (res.a_before, res.a_after, res.b_before, res.b_after)
            assert all(c >= policy.min_count for c in (*counts, res.c_before, res.c_after))


def test_wdq_of_an_imported_iha_action(
    demo_copy: DemoDB, demo_clock: DemoClock, points: pd.DataFrame
) -> None:
    from geo_service.ingest.plans import import_iha_actions

    start = add_months(demo_clock.last, -14)
    with Store.open(demo_copy.path) as s:
        centrum = s.areas_frame(level="wijk", municipality=GM).set_index("code").loc["WK051828"]
        target = shapely.buffer(shapely.centroid(centrum.geometry), 0.004)
        gdf = gpd.GeoDataFrame({"datum": [start.isoformat()]}, geometry=[target], crs=4326)
        assert import_iha_actions(s, gdf, code_field=None, municipality=GM) == 1
        r = compute_veiligheidskaart(s, VeiligheidskaartParams(level="stadsdeel"))
    iha = [e for e in r.effects if e.kind == "iha"]
    assert [e.category for e in iha] == list(r.categories) and all(e.months == 12 for e in iha)
    # Target counts recomputed from the points (lon/lat in the WGS84 polygon).
    for e in iha:
        sel = points[points["category"] == e.category]
        day = pd.to_datetime(sel["occurred_from"]).dt.date
        inside = shapely.contains_xy(target, sel["lon"], sel["lat"])
        before = (day >= add_months(start, -12)) & (day < start)
        after = (day >= start) & (day < add_months(start, 12))
        assert e.result is not None
        # RD-New against WGS84 containment: equal but for points within cm of the border.
        assert e.result.a_before == pytest.approx(int((inside & before).sum()), abs=1)
        assert e.result.a_after == pytest.approx(int((inside & after).sum()), abs=1)
        total = int((before).sum()), int((after).sum())
        res = e.result
        assert res.a_before + res.b_before + res.c_before <= total[0]
        assert np.isfinite(res.success_measure)


def test_bad_parameters_are_refused(demo_db: DemoDB) -> None:
    with pytest.raises(InvalidParameterError):
        VeiligheidskaartParams(level="buurt")  # type: ignore[arg-type]
    with Store.open(demo_db.path, read_only=True) as s:
        with pytest.raises(NotFoundError, match="geen heel jaar"):
            compute_veiligheidskaart(s, VeiligheidskaartParams(year=date.today().year + 1))
        with pytest.raises(NotFoundError, match="geen stadsdelen"):
            compute_veiligheidskaart(s, VeiligheidskaartParams(municipality="GM1783"))


def test_iha_import_reads_iso_dates_as_iso(store: Store) -> None:
    # pandas' dayfirst=True alone read "2025-09-01" as 9 January: the WDQ windows then sat
    # eight months off. ISO dates are ISO; others are day first (Dutch).
    from geo_service.ingest.plans import import_iha_actions

    square = shapely.box(4.30, 52.07, 4.31, 52.08)
    gdf = gpd.GeoDataFrame(
        {"datum": ["2025-09-01", "1-9-2025", "15/03/2024"]}, geometry=[square] * 3, crs=4326
    )
    assert import_iha_actions(store, gdf, municipality=GM) == 3
    got = [pd.Timestamp(d).date().isoformat() for d in store.iha_actions_frame(GM)["action_date"]]
    assert sorted(got) == ["2024-03-15", "2025-09-01", "2025-09-01"]


def test_actions_too_close_to_either_end_of_the_data_get_no_wdq(
    demo_copy: DemoDB, demo_clock: DemoClock
) -> None:
    from geo_service.ingest.plans import import_iha_actions

    early = add_months(demo_clock.first, 2)  # two months of data before it
    late = add_months(demo_clock.last, -1).replace(day=15)  # 1.5 months of data after it
    square = shapely.box(4.30, 52.07, 4.31, 52.08)
    gdf = gpd.GeoDataFrame(
        {"datum": [early.isoformat(), late.isoformat()], "code": ["VROEG", "LAAT"]},
        geometry=[square, square],
        crs=4326,
    )
    with Store.open(demo_copy.path) as s:
        import_iha_actions(s, gdf, code_field="code", municipality=GM)
        r = compute_veiligheidskaart(s, VeiligheidskaartParams(level="wijk"))
    by_code = {e.code: e for e in r.effects if e.kind == "iha"}
    assert by_code["VROEG"].result is None and by_code["VROEG"].months == 0
    assert "vóór de start" in by_code["VROEG"].verdict
    assert by_code["LAAT"].result is None and "na de start" in by_code["LAAT"].verdict
