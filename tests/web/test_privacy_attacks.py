"""Attacks on viewer privacy (issue 8), run as automated tests.

Each attack is run twice: as an anonymous viewer, where it must fail (at most 5 % of incidents
located within 30 m, or no daily count recovered), and with an analyst key on exact data,
where it succeeds -- so the test shows the attack is real and would catch a regression.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import h3
import numpy as np
import pytest
from fastapi.testclient import TestClient

from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.store.core import copy_store
from geo_service.web import create_app
from tests.clock import DemoClock, label, month_end, quarter_end_before
from tests.web_fixtures import DemoDB, demo_clock, demo_db, web_settings

__all__ = ["demo_clock", "demo_db"]

# The attacks read the demo's clock: make test runs them at three dates.
pytestmark = pytest.mark.clock

GM = "GM0518"
CAT = "woninginbraak"


@pytest.fixture(scope="module")
def month(demo_clock: DemoClock) -> date:
    """The last month of a quarter well inside the demo's data (a March in 2026)."""
    return quarter_end_before(demo_clock.last, 6)


@pytest.fixture(scope="module")
def days(month: date) -> list[date]:
    """Ten days of that month."""
    return [month + timedelta(days=i) for i in range(0, 28, 3)]


@pytest.fixture(scope="module")
def fast_client(demo_db: DemoDB) -> Iterator[TestClient]:
    with TestClient(create_app(web_settings(demo_db.path, permutations=0))) as c:
        yield c


def _metres(lon1: np.ndarray, lat1: np.ndarray, lon2: float, lat2: float) -> np.ndarray:
    kx = 111_320.0 * np.cos(np.radians(lat2))
    return np.hypot((lon1 - lon2) * kx, (lat1 - lat2) * 110_540.0)


def _day_incidents(path: Path, day: date) -> tuple[np.ndarray, np.ndarray]:
    with Store.open(path) as store:  # same configuration as the app's connection
        pts = store.incident_points(IncidentFilter(CAT, GM, start=day, end=day))
    return pts["lon"].to_numpy(), pts["lat"].to_numpy()


def _cluster_centres(features: list[dict]) -> list[tuple[float, float]]:
    """Centroids of connected groups of hot cells (the attacker's guesses)."""
    hot = {
        f["properties"]["h3"] for f in features if (f["properties"].get("gi_class_fdr") or 0) > 0
    }
    seen: set[str] = set()
    centres = []
    for cell in hot:
        if cell in seen:
            continue
        group, todo = [], [cell]
        seen.add(cell)
        while todo:
            c = todo.pop()
            group.append(c)
            for nb in h3.grid_disk(c, 1):
                if nb in hot and nb not in seen:
                    seen.add(nb)
                    todo.append(nb)
        lat, lon = np.mean([h3.cell_to_latlng(c) for c in group], axis=0)
        centres.append((float(lon), float(lat)))
    return centres


def _ring_attack(
    client: TestClient, path: Path, res: int, headers: dict[str, str], days: list[date]
) -> float:
    """Share of the days' burglaries that one-day hotspot maps locate within 30 m."""
    located = total = 0
    for day in days:
        lon, lat = _day_incidents(path, day)
        total += lon.size
        r = client.get(
            "/api/v1/hotspots",
            params={"category": CAT, "municipality": GM, "res": res, "start": day, "end": day},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        guesses = _cluster_centres(r.json()["features"])
        for x, y in zip(lon, lat, strict=True):
            if any(_metres(np.array([x]), np.array([y]), gx, gy)[0] <= 30 for gx, gy in guesses):
                located += 1
    assert total > 20
    return located / total


def test_one_day_ring_attack_fails_for_viewers(
    fast_client: TestClient, demo_db: DemoDB, days: list[date]
) -> None:
    # The fine grid itself is refused without an analyst key...
    refused = fast_client.get(
        "/api/v1/hotspots",
        params={"category": CAT, "municipality": GM, "res": 11, "start": days[0], "end": days[0]},
    )
    assert refused.status_code == 400
    assert "analist" in refused.json()["detail"]
    # ...and at the finest allowed resolution one-day windows locate (almost) nothing.
    assert _ring_attack(fast_client, demo_db.path, 10, {}, days) <= 0.05
    # The same attack on exact data (analyst, res 11) does locate incidents: it is real.
    analyst = {"X-API-Key": demo_db.analyst}
    assert _ring_attack(fast_client, demo_db.path, 11, analyst, days) >= 0.5


@pytest.fixture(scope="module")
def no_polygons(demo_db: DemoDB, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store without any area polygon: study areas come from the incidents."""
    path = tmp_path_factory.mktemp("attack") / "nopoly.duckdb"
    copy_store(demo_db.path, path)
    with Store.open(path) as store:
        store.con.execute("DELETE FROM areas")
        store.bump_data_version()
    return path


def test_study_grid_footprint_attack_fails(no_polygons: Path, days: list[date]) -> None:
    """Old code: the grid was the hull of the window's incidents + 250 m, so a one-incident
    day gave a disc centred on the incident (centroid 0-7 m off)."""
    with TestClient(create_app(web_settings(no_polygons, permutations=0))) as client:
        grids, located, total = set(), 0, 0
        for day in days[:5]:
            lon, lat = _day_incidents(no_polygons, day)
            r = client.get(
                "/api/v1/hotspots",
                params={"category": CAT, "municipality": GM, "res": 9, "start": day, "end": day},
            )
            assert r.status_code == 200, r.text
            cells = [f["properties"]["h3"] for f in r.json()["features"]]
            grids.add(frozenset(cells))
            clat, clon = np.mean([h3.cell_to_latlng(c) for c in cells], axis=0)
            total += lon.size
            located += int((_metres(lon, lat, float(clon), float(clat)) <= 30).sum())
        assert len(grids) == 1  # the study area does not depend on the window
        assert located / total <= 0.05


def _bars(page: str) -> dict[str, int]:
    return {m: int(v) for m, v in re.findall(r"<title>(\w+ \d{4}): (\d+)</title>", page)}


def test_cumulative_window_differencing_on_the_trend_chart(
    fast_client: TestClient, demo_db: DemoDB, month: date
) -> None:
    """Old code: cumulative windows start..d on /kaart gave exact daily counts by differencing."""

    def march(headers: dict[str, str], day: int) -> int | None:
        page = fast_client.get(
            "/kaart",
            params={
                "category": CAT,
                "municipality": GM,
                "start": month.isoformat(),
                "end": month.replace(day=day).isoformat(),
            },
            headers=headers,
        ).text
        return _bars(page).get(label(month))

    viewer = [march({}, d) for d in range(1, 11)]
    assert all(v is not None for v in viewer)  # the whole month is shown from day 1
    daily = {b - a for a, b in itertools.pairwise(viewer)}  # type: ignore[operator]
    assert daily == {0}  # whole months only: nothing to difference
    analyst = [march({"X-API-Key": demo_db.analyst}, d) or 0 for d in range(1, 11)]
    assert len({b - a for a, b in itertools.pairwise(analyst)}) > 1  # real attack


def test_viewer_metadata_has_no_incident_dates_and_counts_are_perturbed(
    fast_client: TestClient, month: date
) -> None:
    day = month.replace(day=21)
    r = fast_client.get(
        "/api/v1/hotspots",
        params={"category": CAT, "municipality": GM, "res": 9, "start": day, "end": day},
    )
    meta = r.json()["metadata"]
    assert set(meta["data_window"]) == {"requested_start", "requested_end"}
    # snapped to the quarter that holds the day (the viewer lattice)
    assert (
        meta["data_window"]["requested_start"] == month.replace(month=month.month - 2).isoformat()
    )
    assert meta["data_window"]["requested_end"] == day.replace(day=month_end(day).day).isoformat()
    assert meta["privacy"]["min_count"] == 5 and meta["privacy"]["max_noise"] == 2
    counts = [f["properties"]["count"] for f in r.json()["features"]]
    shown = [c for c in counts if c is not None]
    assert shown and all(c >= 5 for c in shown)
