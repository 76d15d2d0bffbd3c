"""covrate's covariates in the product backtest: a monthly category never leaks into an origin.

A category recorded per month (every ``occurred_from`` on the 1st at 00:00) says only that
its incidents fell somewhere in that month. Under the day clock of a daily category it must
be dated when the month is over, or an origin on the 15th would read the whole month's
count, half of it from the future.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geo_service.analyses.backtesting import BacktestParams, _covariate_events, run_backtest
from geo_service.filters import IncidentFilter
from geo_service.ingest import ingest_frame
from geo_service.store import Store
from spatial.forecast.origins import day_clock
from spatial.grid.h3grid import cells_of_points

RNG = np.random.default_rng(7)
LON0, LAT0 = 4.30, 52.07


def _points(n: int) -> tuple[np.ndarray, np.ndarray]:
    return LON0 + RNG.normal(0, 0.004, n), LAT0 + RNG.normal(0, 0.003, n)


def _store(tmp_path: Path) -> Path:
    db = tmp_path / "s.duckdb"
    n = 1500
    lon, lat = _points(n)
    days = RNG.uniform(0, 730, n)
    daily = pd.DataFrame(
        {
            "incident_id": [f"w{i}" for i in range(n)],
            "occurred_from": pd.Timestamp("2023-01-01") + pd.to_timedelta(days, unit="D"),
            "lon": lon,
            "lat": lat,
        }
    )
    m = 900
    lon, lat = _points(m)
    months = pd.period_range("2023-01", "2024-12", freq="M")
    monthly = pd.DataFrame(
        {
            "incident_id": [f"m{i}" for i in range(m)],
            "occurred_from": months[RNG.integers(0, months.size, m)].to_timestamp(),
            "lon": lon,
            "lat": lat,
        }
    )
    with Store.open(db) as s:
        for frame, cat in ((daily, "woninginbraak"), (monthly, "overlast")):
            report = ingest_frame(
                s,
                frame,
                file_name=f"{cat}.csv",
                category=cat,
                today=pd.Timestamp("2025-06-01").date(),
            )
            assert report.stored == len(frame)
    return db


def test_a_monthly_covariate_is_dated_when_its_month_is_over(tmp_path: Path) -> None:
    db = _store(tmp_path)
    params = BacktestParams(
        incidents=IncidentFilter(category="woninginbraak"), methods=("naive_365d", "covrate")
    )
    with Store.open(db, read_only=True) as s:
        report = run_backtest(s, params)
        [row] = report.metadata["covariates"]["categories"]
        assert row["category"] == "overlast"
        assert row["dating"].startswith("per maand, gedateerd op de eerste dag van de volgende")
        from geo_service.analyses.hotspots import study_area

        grid = study_area(s, IncidentFilter(category="woninginbraak"), 10).grid
        events, _ = _covariate_events(s, params, grid, "day", np.inf)
        pts = s.incident_points(IncidentFilter(category="overlast"))
    inside = grid.index_of(cells_of_points(pts["lon"].to_numpy(), pts["lat"].to_numpy(), 10)) >= 0
    assert inside.mean() > 0.9  # a few fall outside the study cells
    month = pd.DatetimeIndex(pts["occurred_from"]).to_period("M")
    # Each incident of month M sits at the first day of M + 1 (local midnight), never earlier:
    # an origin inside the month cannot see it.
    expected = day_clock(pd.Series((month + 1).to_timestamp()))[inside]
    np.testing.assert_array_equal(np.sort(events["overlast"].t_days), np.sort(expected))
    assert report.metadata["comparison"]["method"] == "covrate"
