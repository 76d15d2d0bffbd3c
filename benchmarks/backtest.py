"""Rolling-origin backtest of every forecast method on real burglary data.

Toronto (default): residential burglary (MCI "Break and Enter", premises House or
Apartment) from ``../shared/data/ca/toronto_mci_2014_2021.csv.gz``. Three years of history
(2016-01-01 ..) before an 18-month test window of 2-week origins (2019-01-01 .. 2020-06-30);
H3 resolution-10 cells (~125 m across, the CAS cell size); metric work in EPSG:32617
(UTM 17N).

``--uk``: Burglary in ``../shared/data/uk/street_full_<force>.csv.gz`` (data.police.uk,
2018-10 .. 2019-02, month resolution). Times run on a month clock: month m starts at day
30 m, so each month is one 30-day horizon and an incident is dated the first day of its
month. Origins are the starts of the months that have at least one month of history.
Metric CRS: the local UTM zone.

Study cells (both): every H3 cell within ``--k`` rings of a cell holding any recorded
incident of any crime type in the whole file (the inhabited footprint, so open water and
large parks without any incident are not counted as forecastable area). The footprint uses
the whole file, future included; it is a fixed geography shared by every method and no
method sees the incidents it is built from.

Prints the method table, the ratio of ``msrate`` to the best baseline, and the wall time.

``--ceiling`` (Toronto) adds a yardstick that is NOT a method: it ranks cells by their
incidents over the whole file (2014-2021) except the test window itself, i.e. the best
possible estimate of each cell's long-run rate, using past AND future. No forecast built
on long-run rates can expect to beat it; it shows how much room the 2-week test leaves.

Usage: ``.venv/bin/python benchmarks/backtest.py [--uk] [--coverage 0.03] [--ceiling]
[--progress]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import h3ronpy
import numpy as np
import pandas as pd
import pyarrow as pa

from spatial.forecast.backtest import BacktestResult, rolling_origin_backtest
from spatial.forecast.methods import (
    METHODS,
    EventSet,
    ForecastMethod,
    StudyCells,
    make_cells,
    make_events,
    multiscale_rate,
    window_counts,
)
from spatial.grid.crs import WGS84, metric_crs_for, transform
from spatial.grid.h3grid import H3Grid, cells_of_points, neighbours

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
EPOCH = np.datetime64("1970-01-01T00:00", "m")
DAYS_PER_MONTH_CLOCK = 30.0


def day(stamp: str) -> float:
    """Days since 1970-01-01 of an ISO date (local time)."""
    return float((np.datetime64(stamp, "m") - EPOCH).astype(np.float64) / 1440.0)


def footprint_grid(lon: np.ndarray, lat: np.ndarray, res: int, k: int) -> H3Grid:
    """Cells within ``k`` rings of any cell holding a point."""
    own = np.unique(cells_of_points(lon, lat, res))
    disks = pa.array(h3ronpy.grid_disk(pa.array(own), int(k)))
    flat = np.asarray(disks.values.to_numpy(zero_copy_only=False), dtype=np.uint64)
    return H3Grid(np.unique(flat), res)


def build(
    lon: np.ndarray,
    lat: np.ndarray,
    t_days: np.ndarray,
    grid: H3Grid,
    crs: str,
) -> tuple[EventSet, StudyCells]:
    cell = grid.index_of(cells_of_points(lon, lat, grid.res))
    if (cell < 0).any():
        raise ValueError(f"{int((cell < 0).sum())} incidents fall outside the study cells")
    x, y = transform(lon, lat, WGS84, crs)
    clon, clat = grid.centroids()
    cx, cy = transform(clon, clat, WGS84, crs)
    return make_events(cell, t_days, x, y), make_cells(cx, cy, neighbours(grid, 1), crs=crs)


def toronto(res: int, k: int, start: str, end: str) -> tuple[EventSet, StudyCells, str]:
    df = pd.read_csv(DATA / "ca" / "toronto_mci_2014_2021.csv.gz").dropna(subset=["lat", "lon"])
    grid = footprint_grid(df["lon"].to_numpy(), df["lat"].to_numpy(), res, k)
    b = df[(df["mci"] == "Break and Enter") & df["premises_type"].isin(["House", "Apartment"])]
    t = pd.to_datetime(b["occurred_at"]).to_numpy().astype("datetime64[m]")
    keep = (t >= np.datetime64(start)) & (t < np.datetime64(end))
    b, t = b[keep], t[keep]
    t_days = (t - EPOCH).astype(np.float64) / 1440.0
    ev, cells = build(b["lon"].to_numpy(), b["lat"].to_numpy(), t_days, grid, "EPSG:32617")
    return ev, cells, "EPSG:32617"


def uk(force: str, res: int, k: int) -> tuple[EventSet, StudyCells, str, np.ndarray]:
    df = pd.read_csv(
        DATA / "uk" / f"street_full_{force}.csv.gz",
        usecols=["Month", "Longitude", "Latitude", "Crime type"],
    ).dropna(subset=["Longitude", "Latitude"])
    grid = footprint_grid(df["Longitude"].to_numpy(), df["Latitude"].to_numpy(), res, k)
    b = df[df["Crime type"] == "Burglary"]
    month = pd.PeriodIndex(b["Month"], freq="M")
    m = (month.year.to_numpy() - 1970) * 12 + month.month.to_numpy() - 1
    crs = metric_crs_for(b["Longitude"], b["Latitude"])
    t_days = DAYS_PER_MONTH_CLOCK * m.astype(np.float64)
    ev, cells = build(b["Longitude"].to_numpy(), b["Latitude"].to_numpy(), t_days, grid, crs)
    origins = DAYS_PER_MONTH_CLOCK * np.arange(m.min() + 1, m.max() + 1, dtype=np.float64)
    return ev, cells, crs, origins


def stationary_ceiling(
    res: int, k: int, origins: np.ndarray, horizon: float, coverage: float
) -> float:
    """Mean PAI of ranking by all-years counts minus the test window (uses the future)."""
    ev_all, cells, _ = toronto(res, k, "2014-01-01", "2022-01-01")

    def prepare(events: EventSet, c: StudyCells) -> Any:
        total = window_counts(events, c.n, -np.inf, np.inf)

        def score(t0: float, train_days: float | None = None) -> np.ndarray:
            return total - window_counts(events, c.n, t0, t0 + horizon)

        return score

    oracle = ForecastMethod("ceiling", True, "long-run-rate oracle", prepare)
    r = rolling_origin_backtest(
        ev_all, cells, [oracle], origins=origins, horizon_days=horizon, coverage=coverage
    )
    return r.method("ceiling").mean_pai


def print_table(result: BacktestResult, own: str) -> None:
    rows = result.table()
    head = f"{'method':<16}{'baseline':>9}{'origins':>8}{'mean_pai':>10}{'median_pai':>11}"
    print(head + f"{'hit_rate':>10}{'rri':>8}{'pei':>7}{'secs':>7}")
    for r in rows:
        f: dict[str, Any] = r
        print(
            f"{f['method']:<16}{f['baseline']!s:>9}{f['origins']:>8}{f['mean_pai']:>10.3f}"
            f"{f['median_pai']:>11.3f}{f['hit_rate']:>10.3f}{f['rri']:>8.3f}{f['pei']:>7.3f}"
            f"{f['seconds']:>7.2f}"
        )
    best = result.best_baseline()
    mine = result.method(own)
    print(
        f"\n{own} mean PAI {mine.mean_pai:.3f} / best baseline {best.name} {best.mean_pai:.3f}"
        f" = {mine.mean_pai / best.mean_pai:.3f}  (target >= 1.15: "
        f"{'MET' if mine.mean_pai >= 1.15 * best.mean_pai else 'NOT MET'})"
    )
    wins = int(np.sum(mine.pai > best.pai))
    ties = int(np.sum(mine.pai == best.pai))
    print(f"{own} beats {best.name} at {wins} of {mine.pai.size} origins ({ties} ties)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--uk", action="store_true", help="run on a data.police.uk file instead")
    ap.add_argument("--force", default="merseyside", help="UK force file (default merseyside)")
    ap.add_argument("--coverage", type=float, default=0.03)
    ap.add_argument("--res", type=int, default=10)
    ap.add_argument("--k", type=int, default=2, help="rings around incident cells (footprint)")
    ap.add_argument("--ceiling", action="store_true", help="also the long-run-rate oracle")
    ap.add_argument("--progress", action="store_true", help="tqdm progress bar on stderr")
    args = ap.parse_args()

    t_start = time.perf_counter()
    if args.uk:
        ev, cells, crs, origins = uk(args.force, args.res, args.k)
        horizon = DAYS_PER_MONTH_CLOCK
        label = f"UK {args.force} burglary, month clock, {origins.size} monthly origins"
    else:
        ev, cells, crs = toronto(args.res, args.k, "2016-01-01", "2020-07-15")
        horizon = 14.0
        origins = np.arange(day("2019-01-01"), day("2020-07-01"), horizon)
        label = f"Toronto residential burglary, {origins.size} two-week origins 2019-01..2020-06"
    methods: dict[str, ForecastMethod] = dict(METHODS)
    # The registry's msrate is set up for 2-week horizons; the lags follow the horizon.
    methods["msrate"] = ForecastMethod(
        "msrate", False, METHODS["msrate"].description, multiscale_rate(horizon)
    )
    t_loaded = time.perf_counter()
    print(f"{label}: {ev.n:,} incidents, {cells.n:,} H3 res-{args.res} cells, {crs}")
    print(
        f"coverage {args.coverage:.0%} of cells per forecast area; "
        f"loading {t_loaded - t_start:.1f} s"
    )

    bar = None
    if args.progress:
        from tqdm import tqdm

        bar = tqdm(total=len(methods) * origins.size, file=sys.stderr, unit="forecast")

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.update(done - bar.n)

    result = rolling_origin_backtest(
        ev,
        cells,
        methods,
        origins=origins,
        horizon_days=horizon,
        coverage=args.coverage,
        progress=progress,
    )
    if bar is not None:
        bar.close()
    t_done = time.perf_counter()
    print()
    print_table(result, "msrate")
    print(f"backtest wall time {t_done - t_loaded:.1f} s (all methods; target < 30 s)")
    if args.ceiling and not args.uk:
        c = stationary_ceiling(args.res, args.k, origins, horizon, args.coverage)
        best = result.best_baseline()
        print(
            f"\nlong-run-rate ceiling (oracle on 2014-2021 minus each test window; uses the "
            f"future, not a method): mean PAI {c:.3f} = {c / best.mean_pai:.3f} x {best.name}, "
            f"{c / result.method('naive_730d').mean_pai:.3f} x naive_730d"
        )


if __name__ == "__main__":
    main()
