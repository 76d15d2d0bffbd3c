"""Rolling-origin backtest of every forecast method on real burglary data.

Toronto (default): residential burglary (MCI "Break and Enter", premises House or
Apartment) from ``../shared/data/ca/toronto_mci_2014_2021.csv.gz``. The whole record before
the origins (2014-01-01 ..; methods with a fixed window, e.g. ``naive_1095d``, look back no
further than before) and an 18-month test window of 2-week origins (2019-01-01 ..
2020-06-30); H3 resolution-10 cells (~125 m across, the CAS cell size); metric work in
EPSG:32617 (UTM 17N). ``covrate``'s covariates: every other (MCI, premises group) of the
file, the groups being the target's (House, Apartment) and all other premises.

Covariates elsewhere: Merseyside, every other crime type of the file; the demo, its
jeugdoverlast. Only their incidents before each origin are used.

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

``--demo``: the demo's woninginbraak (``geo_service.demo.generate_demo`` with its data ending
2026-10; police counts per buurt and month of Den Haag 2011-2017, the points and times within
each month SYNTHETIC, so the demo has no real near repeats). Origins every horizon over its
last 18 months; metric CRS EPSG:28992.

Prints the method table at 2 weeks / 3 %, then for every horizon (``--horizons``, default 7,
14 and 28 days; the month clock has only 30) and coverage (``--coverages``, default 1, 3 and
5 %) the best baseline, ``msrate`` and ``hawkes`` (the self-exciting point process,
:mod:`spatial.forecast.selfexciting`) with the ratio of their mean PAI to the best
baseline's and its paired bootstrap 95 % interval over origins
(:func:`spatial.forecast.backtest.paired_bootstrap_ratio`, 2000 resamples, best baseline
re-chosen in each), and, with ``--ceiling``, the long-run-rate oracle.

``--ceiling`` adds a yardstick that is NOT a method: it ranks cells by their incidents over
the whole file (Toronto 2014-2021, Merseyside's 5 months, the demo's 5 years) except the
test window itself, i.e. the best possible estimate of each cell's long-run rate from the
target's own counts, using past AND future. No forecast from those counts alone can expect
to beat it; ``covrate`` can, because it also reads the other incident categories.

Usage: ``.venv/bin/python benchmarks/backtest.py [--uk | --demo] [--ceiling] [--horizons 7,14,28]
[--coverages 0.01,0.03,0.05] [--every N] [--progress]`` (``--every N`` keeps every N-th
origin, to save time; the default keeps all).
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

from spatial.forecast.backtest import (
    BacktestResult,
    RatioInterval,
    paired_bootstrap_ratio,
    rolling_origin_backtests,
)
from spatial.forecast.methods import (
    METHODS,
    EventSet,
    ForecastMethod,
    StudyCells,
    covariate_rate,
    make_cells,
    make_events,
    multiscale_rate,
    self_exciting,
    window_counts,
)
from spatial.grid.crs import WGS84, metric_crs_for, transform
from spatial.grid.h3grid import H3Grid, cells_of_points, neighbours

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
EPOCH = np.datetime64("1970-01-01T00:00", "m")
DAYS_PER_MONTH_CLOCK = 30.0
#: The methods under test, each with its ratio to the best baseline in the summary.
OWN = ("covrate", "msrate", "hawkes")


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


RESIDENTIAL = ("House", "Apartment")


def toronto(
    res: int, k: int, start: str, end: str
) -> tuple[EventSet, StudyCells, str, dict[str, EventSet]]:
    """Residential burglary and, as covariates, every other (MCI, premises group) of the file.

    The premises groups are the target's (House, Apartment) and all others, so the
    covariates are e.g. assault at homes, assault elsewhere, break and enter elsewhere.
    """
    df = pd.read_csv(DATA / "ca" / "toronto_mci_2014_2021.csv.gz").dropna(subset=["lat", "lon"])
    grid = footprint_grid(df["lon"].to_numpy(), df["lat"].to_numpy(), res, k)
    t = pd.to_datetime(df["occurred_at"]).to_numpy().astype("datetime64[m]")
    keep = (t >= np.datetime64(start)) & (t < np.datetime64(end))
    df = df[keep].assign(t_days=(t[keep] - EPOCH).astype(np.float64) / 1440.0)
    home = df["premises_type"].isin(RESIDENTIAL).to_numpy()
    sets: dict[str, EventSet] = {}
    cells: StudyCells | None = None
    for mci in sorted(df["mci"].unique()):
        for at_home in (True, False):
            part = df[(df["mci"] == mci).to_numpy() & (home == at_home)]
            name = f"{mci} at {'home' if at_home else 'other premises'}"
            lon, lat = part["lon"].to_numpy(), part["lat"].to_numpy()
            sets[name], cells = build(lon, lat, part["t_days"].to_numpy(), grid, "EPSG:32617")
    assert cells is not None
    ev = sets.pop("Break and Enter at home")
    return ev, cells, "EPSG:32617", sets


def uk(
    force: str, res: int, k: int
) -> tuple[EventSet, StudyCells, str, np.ndarray, dict[str, EventSet]]:
    """Burglary and, as covariates, every other crime type of the file."""
    df = pd.read_csv(
        DATA / "uk" / f"street_full_{force}.csv.gz",
        usecols=["Month", "Longitude", "Latitude", "Crime type"],
    ).dropna(subset=["Longitude", "Latitude"])
    grid = footprint_grid(df["Longitude"].to_numpy(), df["Latitude"].to_numpy(), res, k)
    month = pd.PeriodIndex(df["Month"], freq="M")
    m = (month.year.to_numpy() - 1970) * 12 + month.month.to_numpy() - 1
    crs = metric_crs_for(df["Longitude"], df["Latitude"])
    t_days = DAYS_PER_MONTH_CLOCK * m.astype(np.float64)
    sets: dict[str, EventSet] = {}
    cells: StudyCells | None = None
    for kind in sorted(df["Crime type"].unique()):
        b = (df["Crime type"] == kind).to_numpy()
        lon, lat = df["Longitude"].to_numpy()[b], df["Latitude"].to_numpy()[b]
        sets[kind], cells = build(lon, lat, t_days[b], grid, crs)
    assert cells is not None
    ev = sets.pop("Burglary")
    mb = m[(df["Crime type"] == "Burglary").to_numpy()]
    origins = DAYS_PER_MONTH_CLOCK * np.arange(mb.min() + 1, mb.max() + 1, dtype=np.float64)
    return ev, cells, crs, origins, sets


def stationary_ceiling(
    ev_all: EventSet,
    cells: StudyCells,
    origins: np.ndarray,
    horizon: float,
    coverages: list[float],
) -> list[BacktestResult]:
    """Ranking by all-years counts minus the test window (uses the future), per coverage."""

    def prepare(events: EventSet, c: StudyCells) -> Any:
        total = window_counts(events, c.n, -np.inf, np.inf)

        def score(t0: float, train_days: float | None = None) -> np.ndarray:
            return total - window_counts(events, c.n, t0, t0 + horizon)

        return score

    oracle = ForecastMethod("ceiling", True, "long-run-rate oracle", prepare)
    return list(
        rolling_origin_backtests(
            ev_all, cells, [oracle], origins=origins, horizon_days=horizon, coverages=coverages
        )
    )


def demo(res: int, k: int) -> tuple[EventSet, StudyCells, str, dict[str, EventSet]]:
    """Woninginbraak and, as covariate, the demo's other category (jeugdoverlast)."""
    from datetime import date

    from geo_service.demo.dataset import generate_demo

    inc = generate_demo(end_month=date(2026, 10, 1)).incidents
    crs = "EPSG:28992"
    lon, lat = transform(inc["x"].to_numpy(), inc["y"].to_numpy(), crs, WGS84)
    grid = footprint_grid(lon, lat, res, k)
    t = inc["occurred_from"].to_numpy().astype("datetime64[m]")
    t_days = (t - EPOCH).astype(np.float64) / 1440.0
    sets: dict[str, EventSet] = {}
    cells: StudyCells | None = None
    for kind in sorted(inc["category"].unique()):
        b = (inc["category"] == kind).to_numpy()
        sets[kind], cells = build(lon[b], lat[b], t_days[b], grid, crs)
    assert cells is not None
    ev = sets.pop("woninginbraak")
    return ev, cells, crs, sets


def methods_for(
    horizon: float, covariates: dict[str, EventSet] | None = None
) -> dict[str, ForecastMethod]:
    """The registry with msrate's, covrate's and hawkes' horizon set to ``horizon``.

    ``covrate`` gets the city's other incident categories as covariates.
    """
    out: dict[str, ForecastMethod] = dict(METHODS)
    out["msrate"] = ForecastMethod(
        "msrate", False, METHODS["msrate"].description, multiscale_rate(horizon)
    )
    out["covrate"] = ForecastMethod(
        "covrate", False, METHODS["covrate"].description, covariate_rate(horizon, covariates)
    )
    out["hawkes"] = ForecastMethod(
        "hawkes", False, METHODS["hawkes"].description, self_exciting(horizon)
    )
    return out


def interval(iv: RatioInterval) -> str:
    return f"{iv.ratio:.3f} [{iv.low:.3f}, {iv.high:.3f}]{'*' if iv.clear_win else ' '}"


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
    for name in (own, "msrate", "hawkes"):
        mine = result.method(name)
        wins = int(np.sum(mine.pai > best.pai))
        ties = int(np.sum(mine.pai == best.pai))
        print(
            f"{name} mean PAI {mine.mean_pai:.3f} / best baseline {best.name} "
            f"{best.mean_pai:.3f} = {mine.mean_pai / best.mean_pai:.3f}; better at {wins} of "
            f"{mine.pai.size} origins ({ties} ties)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--uk", action="store_true", help="run on a data.police.uk file instead")
    ap.add_argument("--demo", action="store_true", help="run on the demo's woninginbraak")
    ap.add_argument("--force", default="merseyside", help="UK force file (default merseyside)")
    ap.add_argument("--horizons", default="7,14,28", help="days (the month clock uses 30)")
    ap.add_argument("--coverages", default="0.01,0.03,0.05")
    ap.add_argument("--every", type=int, default=1, help="keep every N-th origin")
    ap.add_argument("--boot", type=int, default=2000, help="bootstrap resamples")
    ap.add_argument("--res", type=int, default=10)
    ap.add_argument("--k", type=int, default=2, help="rings around incident cells (footprint)")
    ap.add_argument("--ceiling", action="store_true", help="also the long-run-rate oracle")
    ap.add_argument("--progress", action="store_true", help="tqdm progress bar on stderr")
    args = ap.parse_args()
    coverages = [float(c) for c in args.coverages.split(",")]

    t_start = time.perf_counter()
    if args.uk:
        ev, cells, crs, month_origins, covariates = uk(args.force, args.res, args.k)
        horizons = [DAYS_PER_MONTH_CLOCK]
        label = f"UK {args.force} burglary, month clock"
    elif args.demo:
        ev, cells, crs, covariates = demo(args.res, args.k)
        horizons = [float(h) for h in args.horizons.split(",")]
        label = "Demo woninginbraak (Den Haag counts, SYNTHETIC points and times)"
    else:
        ev, cells, crs, covariates = toronto(args.res, args.k, "2014-01-01", "2020-07-15")
        horizons = [float(h) for h in args.horizons.split(",")]
        label = "Toronto residential burglary, origins 2019-01..2020-06"
    if args.ceiling and not (args.uk or args.demo):
        toronto_all = toronto(args.res, args.k, "2014-01-01", "2022-01-01")
    t_loaded = time.perf_counter()
    print(f"{label}: {ev.n:,} incidents, {cells.n:,} H3 res-{args.res} cells, {crs}")
    print("covrate covariates: " + ", ".join(f"{k} ({v.n:,})" for k, v in covariates.items()))
    print(f"loading {t_loaded - t_start:.1f} s")

    summary: list[str] = []
    for horizon in horizons:
        if args.uk:
            origins = month_origins
        elif args.demo:
            last = float(np.floor(ev.t_days.max()))
            origins = np.arange(last - 548.0, last - horizon + 1e-9, horizon)
        else:
            # Data run to 2020-07-15: the last test period of each horizon ends by then.
            origins = np.arange(day("2019-01-01"), day("2020-07-01"), horizon)
        origins = origins[:: args.every]
        methods = methods_for(horizon, covariates)
        bar = None
        if args.progress:
            from tqdm import tqdm

            bar = tqdm(total=len(methods) * origins.size, file=sys.stderr, unit="forecast")

        def progress(done: int, total: int, bar: Any = bar) -> None:
            if bar is not None:
                bar.update(done - bar.n)

        began = time.perf_counter()
        results = rolling_origin_backtests(
            ev,
            cells,
            methods,
            origins=origins,
            horizon_days=horizon,
            coverages=coverages,
            progress=progress,
        )
        if bar is not None:
            bar.close()
        wall = time.perf_counter() - began
        ceilings = None
        if args.ceiling:
            # Toronto: the whole file (2014-2021); the UK and demo files are loaded whole.
            ev_all, cells_all = (ev, cells) if args.uk or args.demo else toronto_all[:2]
            ceilings = stationary_ceiling(ev_all, cells_all, origins, horizon, coverages)
        for c, result in enumerate(results):
            if horizon == horizons[len(horizons) // 2] and c == len(coverages) // 2:
                print(
                    f"\nhorizon {horizon:g} days, {origins.size} origins, coverage "
                    f"{result.coverage:.0%} (wall time of all methods, all coverages: "
                    f"{wall:.1f} s)"
                )
                print_table(result, "covrate")
            best = result.best_baseline()
            line = (
                f"{horizon:>4g} {result.coverage:>5.0%} {origins.size:>4} {best.name:<14}"
                f"{best.mean_pai:>7.2f}"
            )
            for name in OWN:
                iv = paired_bootstrap_ratio(result, name, n_boot=args.boot)
                line += f" {result.method(name).mean_pai:>7.2f} {interval(iv):<25}"
            if ceilings is not None:
                oracle = ceilings[c].method("ceiling").mean_pai
                line += f"{oracle:>7.2f} {oracle / best.mean_pai:>6.3f}"
                line += f" {result.method('covrate').mean_pai / oracle:>8.3f}"
            summary.append(line)
    head = f"{'h':>4} {'cov':>5} {'orig':>4} {'best baseline':<14}{'PAI':>7}"
    for name in OWN:
        head += f" {name:>7} {'ratio [95% CI]':<25}"
    if args.ceiling:
        head += f"{'oracle':>7} {'ratio':>6} {'cov/orc':>8}"
    print("\nmean PAI per horizon (days) and coverage; ratio to the best baseline with a paired")
    print(f"bootstrap 95 % interval over origins ({args.boot} resamples; * = interval above 1)")
    print(head)
    print("\n".join(summary))
    print(f"\ntotal wall time {time.perf_counter() - t_start:.1f} s")


if __name__ == "__main__":
    main()
