"""The differencing attack (issue 18) against the viewer API, and that the protection bites.

The attacker asks, anonymously, for hotspot layers of many periods. Each shown count bounds
the true number of incidents of its cell in that period to an interval; an interval on a
period ``[a, b]`` of months is a *difference constraint* on the cell's cumulative monthly
counts, ``lo <= S(b + 1) - S(a) <= hi``, and with ``S`` non-decreasing the tightest bounds on
every single month follow from shortest paths in the constraint graph (Floyd-Warshall here;
the system is totally unimodular, so the bounds are integer and tight). A month whose lower
bound is at least 1 places that many incidents in that cell and month.

* With the old rule (``viewer_disclosure="rounding"``: counts rounded to 5 on any period of
  whole months) overlapping windows place many burglaries exactly: the attack is real.
* With the cell key method on the lattice of quarters and years, every period a viewer can
  get is a quarter, a year or all data; the same attack at res 9 and 10, both categories,
  Gi* and KDE places at most 0.5 % (measured: none) and pins no count below ``k``.
* Priorities: per area and year the same solver over every ``years``/``as_of`` a viewer can
  ask for pins no small count, and areas whose total is withheld get no rank.

The true counts come from the store, never from the service's answers.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import Any

import h3
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.web import create_app
from geo_service.web.auth import Principal
from geo_service.web.published.base import LayerQuery
from geo_service.web.published.registry import get_layer
from geo_service.web.service import CollectionCache, layer_collection
from spatial.privacy.disclosure import CellKeyPerturbation
from tests.clock import DemoClock, add_months, month_end
from tests.web_fixtures import DemoDB, demo_clock, demo_db, web_settings

__all__ = ["demo_clock", "demo_db"]

pytestmark = [pytest.mark.clock, pytest.mark.slow]

GM = "GM0518"
K, NOISE = 5, 2  # Settings defaults
#: The issue's bound: at most this share of the incidents placed in their cell and month.
MAX_PLACED = 0.005


def _idx(d: date) -> int:
    return d.year * 12 + d.month - 1


@dataclass
class Attack:
    """Intervals per cell: ``(first month, last month, lo, hi)``, month indices relative."""

    m0: int  # month index of the first month of data
    months: int
    obs: dict[str, list[tuple[int, int, int, int]]]

    def add(self, cell: str, start: date, end: date, lo: int, hi: int) -> None:
        a, b = max(_idx(start) - self.m0, 0), min(_idx(end) - self.m0, self.months - 1)
        if a <= b:
            self.obs.setdefault(cell, []).append((a, b, lo, hi))

    def bounds(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Tightest lower and upper bounds of every cell's monthly counts (cells x months)."""
        cells = sorted(self.obs)
        n = self.months + 1
        lo_all, hi_all = [], []
        for chunk in range(0, len(cells), 400):
            part = cells[chunk : chunk + 400]
            d = np.full((len(part), n, n), np.inf)
            d[:, np.arange(n), np.arange(n)] = 0.0
            d[:, np.arange(1, n), np.arange(n - 1)] = 0.0  # S(t) - S(t+1) <= 0
            for c, cell in enumerate(part):
                for a, b, lo, hi in self.obs[cell]:
                    d[c, a, b + 1] = min(d[c, a, b + 1], hi)
                    d[c, b + 1, a] = min(d[c, b + 1, a], -lo)
            for k in range(n):  # Floyd-Warshall, all cells at once
                np.minimum(d, d[:, :, k, None] + d[:, None, k, :], out=d)
            assert (d[:, np.arange(n), np.arange(n)] >= 0).all(), "inconsistent intervals"
            t = np.arange(n - 1)
            lo_all.append(-d[:, t + 1, t])
            hi_all.append(d[:, t, t + 1])
        return cells, np.vstack(lo_all), np.vstack(hi_all)


def _truth(path: Any, category: str, res: int, m0: int, months: int) -> dict[str, np.ndarray]:
    with Store.open(path) as store:  # same configuration as the app's connection
        pts = store.incident_points(IncidentFilter(category, GM))
    cells = [h3.latlng_to_cell(la, lo, res) for lo, la in zip(pts["lon"], pts["lat"], strict=True)]
    month = pd.DatetimeIndex(pts["occurred_from"])
    rel = month.year.to_numpy() * 12 + month.month.to_numpy() - 1 - m0
    frame = pd.DataFrame({"cell": cells, "m": rel})
    out: dict[str, np.ndarray] = {}
    for cell, group in frame.groupby("cell"):
        v = np.bincount(group["m"].to_numpy(), minlength=months)[:months]
        out[str(cell)] = v
    return out


def _interval_rounding(count: int | None) -> tuple[int, int]:
    """The old rule: withheld 0-4, 5 = 5-7, N >= 10 = N-2 .. N+2 (round half up to 5)."""
    if count is None:
        return 0, K - 1
    return (5, 7) if count == 5 else (count - 2, count + 2)


def _run(
    client: TestClient | LocalViewer,
    attack: Attack,
    params: dict[str, Any],
    periods: list[tuple[date, date]],
    interval: Any,
) -> int:
    """Ask for every period; record each cell's interval on the period answered."""
    answered = set()
    for start, end in periods:
        r = client.get("/api/v1/hotspots", params={**params, "start": start, "end": end})
        assert r.status_code == 200, r.text
        body = r.json()
        window = body["metadata"]["data_window"]
        got = (window["requested_start"], window["requested_end"])
        if got in answered:
            continue  # the same answer again adds nothing
        answered.add(got)
        a, b = date.fromisoformat(got[0]), date.fromisoformat(got[1])
        seen = set()
        for f in body["features"]:
            p = f["properties"]
            seen.add(p["h3"])
            attack.add(p["h3"], a, b, *interval(p["count"]))
        del seen  # KDE leaves out thin cells: nothing learnt about them beyond "few"
    return len(answered)


def _placed(
    attack: Attack, truth: dict[str, np.ndarray], month_range: range | None = None
) -> tuple[int, int, int]:
    """(placed incidents, incidents in scope, cell-months with 1..k-1 pinned exactly)."""
    cells, lo, hi = attack.bounds()
    months = month_range or range(attack.months)
    placed = pinned = 0
    for cell, lo_c, hi_c in zip(cells, lo, hi, strict=True):
        true = truth.get(cell, np.zeros(attack.months, dtype=int))
        assert (lo_c <= true + 1e-9).all() and (true <= hi_c + 1e-9).all(), "wrong interval"
        for m in months:
            if lo_c[m] >= 1:
                placed += int(min(lo_c[m], true[m]))
            if 0 < true[m] < K and lo_c[m] == hi_c[m]:
                pinned += 1
    total = int(sum(v[list(months)].sum() for v in truth.values()))
    return placed, total, pinned


class LocalViewer:
    """The viewer path of the service without HTTP: ``layer_collection`` as an anonymous caller.

    The same function every viewer route calls; used for the unprotected run, whose 295
    windows would take minutes through a test client on two cores.
    """

    def __init__(self, settings: Any, store: Store) -> None:
        self.request = SimpleNamespace(
            app=SimpleNamespace(
                state=SimpleNamespace(settings=settings, collections=CollectionCache())
            )
        )
        self.store = store
        self.settings = settings

    def get(self, path: str, params: dict[str, Any]) -> Any:
        assert path == "/api/v1/hotspots"
        query = LayerQuery.with_settings(
            self.settings,
            incidents=IncidentFilter(
                params["category"], params["municipality"], params["start"], params["end"]
            ),
            res=params["res"],
        )
        layer = get_layer("hotspots-gistar" if params["method"] == "gistar" else "hotspots-kde")
        fc = layer_collection(self.request, self.store, layer, query, VIEWER)
        return SimpleNamespace(status_code=200, json=lambda: fc, text="")


VIEWER = Principal(actor="anoniem", role="viewer")


@pytest.fixture(scope="module")
def rounding_viewer(demo_db: DemoDB) -> Iterator[LocalViewer]:
    """The service's viewer path with the protection switched off: the old rounding rule."""
    settings = web_settings(demo_db.path, permutations=0, viewer_disclosure="rounding")
    with Store.open(demo_db.path) as store:  # same configuration as the app's connection
        yield LocalViewer(settings, store)


@pytest.fixture(scope="module")
def protected_client(demo_db: DemoDB) -> Iterator[TestClient]:
    with TestClient(create_app(web_settings(demo_db.path, permutations=0))) as c:
        yield c


def _windows(last: date, months_back: int, lengths: range) -> list[tuple[date, date]]:
    """Every month-aligned window of the given lengths in the last ``months_back`` months."""
    first = add_months(last, -(months_back - 1))
    out = []
    for length in lengths:
        for s in range(months_back - length + 1):
            a = add_months(first, s)
            out.append((a, month_end(add_months(a, length - 1))))
    return out


def test_the_attack_is_real_without_the_protection(
    rounding_viewer: LocalViewer, demo_db: DemoDB, demo_clock: DemoClock
) -> None:
    m0 = _idx(demo_clock.first)
    months = _idx(demo_clock.last) - m0 + 1
    attack = Attack(m0, months, {})
    periods = _windows(demo_clock.last, 36, range(3, 13))  # 295 windows of 3-12 months
    params = {"category": "woninginbraak", "municipality": GM, "res": 10, "method": "gistar"}
    assert _run(rounding_viewer, attack, params, periods, _interval_rounding) == len(periods)
    truth = _truth(demo_db.path, "woninginbraak", 10, m0, months)
    placed, total, _ = _placed(attack, truth, range(months - 36, months))
    print(f"rounding rule: {placed} of {total} burglaries placed ({placed / total:.1%})")
    # the probe with all 1,711 windows of five years placed 37 %
    assert placed / total > 10 * MAX_PLACED, (placed, total)


def _lattice_periods(clock: DemoClock) -> list[tuple[date, date]]:
    """Every quarter and calendar year of the data, all data, and a few arbitrary windows."""
    months = _idx(clock.last) - _idx(clock.first) + 1
    q0 = -((clock.first.month - 1) % 3)  # the calendar quarter holding the first month
    quarters = [
        (add_months(clock.first, i), month_end(add_months(clock.first, i + 2)))
        for i in range(q0, months, 3)
    ]
    years = [(date(y, 1, 1), date(y, 12, 31)) for y in range(clock.first.year, clock.last.year + 1)]
    arbitrary = _windows(clock.last, 24, range(3, 13))[::37]
    return [*quarters, *years, (clock.first, month_end(clock.last)), *arbitrary]


@pytest.mark.parametrize("category", ["woninginbraak", "jeugdoverlast"])
@pytest.mark.parametrize("res", [9, 10])
def test_the_attack_fails_on_the_lattice_with_the_cell_key(
    protected_client: TestClient, demo_db: DemoDB, demo_clock: DemoClock, category: str, res: int
) -> None:
    m0 = _idx(demo_clock.first)
    months = _idx(demo_clock.last) - m0 + 1
    ck = CellKeyPerturbation(max_noise=NOISE, min_count=K)
    attack = Attack(m0, months, {})
    periods = _lattice_periods(demo_clock)
    params = {"category": category, "municipality": GM, "res": res, "method": "gistar"}
    asked = _run(protected_client, attack, params, periods, ck.interval)
    # a quarter, a year or all data: the arbitrary windows got one of those
    n_years = demo_clock.last.year - demo_clock.first.year + 1
    assert asked <= (months + 4) // 3 + 1 + n_years + 1
    truth = _truth(demo_db.path, category, res, m0, months)
    placed, total, pinned = _placed(attack, truth)
    print(f"cell key, {category}, res {res}: {placed} of {total} placed, {pinned} pinned")
    assert total > 1000
    assert placed / total <= MAX_PLACED, (placed, total)
    assert pinned == 0


def test_kde_shows_the_same_published_counts_as_gistar(
    protected_client: TestClient, demo_clock: DemoClock
) -> None:
    """The same records show the same value in every output: KDE adds no observation."""
    shown = 0
    years = [
        (date(y, 1, 1), date(y, 12, 31))
        for y in range(demo_clock.first.year, demo_clock.last.year + 1)
    ]
    for start, end in [*_lattice_periods(demo_clock)[:4], *years]:
        seen = {}
        for method in ("gistar", "kde"):
            r = protected_client.get(
                "/api/v1/hotspots",
                params={
                    "category": "woninginbraak",
                    "municipality": GM,
                    "res": 10,
                    "method": method,
                    "start": start,
                    "end": end,
                },
            )
            assert r.status_code == 200, r.text
            seen[method] = {
                f["properties"]["h3"]: f["properties"]["count"] for f in r.json()["features"]
            }
        # KDE shows only cells with a shown count (none in a quarter at res 10, often)
        assert all(seen["gistar"][c] == n for c, n in seen["kde"].items())
        shown += len(seen["kde"])
    assert shown > 100


def test_priorities_pin_no_small_count_and_rank_no_withheld_area(
    protected_client: TestClient, demo_db: DemoDB, demo_clock: DemoClock
) -> None:
    ck = CellKeyPerturbation(max_noise=NOISE, min_count=K)
    last_year = demo_clock.last.year - (0 if demo_clock.last.month == 12 else 1)
    first_year = demo_clock.first.year + (0 if demo_clock.first.month == 1 else 1)
    y0, n_years = first_year, last_year - first_year + 1
    # every window of whole years a viewer can ask for: years x as_of
    obs: dict[str, list[tuple[int, int, int, int]]] = {}
    ranked_withheld = 0
    for years, end in itertools.product(range(1, n_years + 1), range(first_year, last_year + 1)):
        if end - years + 1 < first_year:
            continue
        r = protected_client.get(
            "/api/v1/priorities",
            params={"municipality": GM, "years": years, "as_of": f"{end + 1}-01-01"},
        )
        assert r.status_code == 200, r.text
        for f in r.json()["features"]:
            p = f["properties"]
            code = p["code"]
            for key, value in p.items():
                if key.startswith("count_") and key[6:].isdigit():
                    y = int(key[6:]) - y0
                    obs.setdefault(code, []).append((y, y, *ck.interval(value)))
            if p["count_total"] is None and p.get("rank") is not None:
                ranked_withheld += 1
    assert ranked_withheld == 0  # no rank where the count is withheld
    attack = Attack(0, n_years, obs)
    codes, lo, hi = attack.bounds()
    with Store.open(demo_db.path) as store:
        pts = store.incident_points(IncidentFilter("woninginbraak", GM))
    year = pd.DatetimeIndex(pts["occurred_from"]).year.to_numpy()
    true = pd.crosstab(pts["wijk_code"], year)
    small_pinned = 0
    for code, lo_c, hi_c in zip(codes, lo, hi, strict=True):
        for y in range(n_years):
            n = int(true.at[code, y0 + y]) if code in true.index and y0 + y in true else 0
            assert lo_c[y] <= n <= hi_c[y]
            if 0 < n < K and lo_c[y] == hi_c[y]:
                small_pinned += 1
    assert small_pinned == 0
