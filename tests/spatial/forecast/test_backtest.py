"""Rolling-origin backtest on small synthetic cases whose answers can be checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from spatial.errors import InvalidParameterError
from spatial.forecast.backtest import (
    BacktestResult,
    MethodBacktest,
    _demo_result,
    paired_bootstrap_ratio,
    rolling_origin_backtest,
    rolling_origin_backtests,
    rolling_origins,
)
from spatial.forecast.methods import (
    METHODS,
    ForecastMethod,
    StudyCells,
    make_cells,
    make_events,
    naive_counts,
)

N_CELLS = 20


@pytest.fixture
def cells():
    chain = sp.diags([1.0, 1.0], [-1, 1], shape=(N_CELLS, N_CELLS))  # a street of 20 cells
    return make_cells(np.arange(N_CELLS) * 100.0, np.zeros(N_CELLS), neighbours=chain)


def fixed_hotspot(days: int = 400):
    """Cells 3 and 7 are burgled on alternate days (one incident a day); nothing else."""
    t = np.arange(days, dtype=float)
    return make_events(np.where(np.arange(days) % 2 == 0, 3, 7), t)


def test_fixed_hotspot_is_perfectly_predicted(cells) -> None:
    # Coverage 10 % of 20 cells = 2 cells = the two hot cells. Every test incident is a hit:
    # hit rate 1, PAI = 1 / (2/20) = 10, PEI 1; the area held every incident before the origin
    # too, so RRI = (n2/n1)/(N2/N1) = 1. Origins 100, 114, ..., 296: 15 of them.
    r = rolling_origin_backtest(
        fixed_hotspot(), cells, METHODS, start=100, end=300, horizon_days=14, coverage=0.1
    )
    assert r.n_selected == 2 and r.origins.size == 15
    for name in ("naive_90d", "naive_730d", "kde_150m_365d", "prospective", "msrate"):
        m = r.method(name)
        assert m.n_origins == 15
        np.testing.assert_allclose(m.pai, 10.0)
        assert m.mean_pai == m.median_pai == pytest.approx(10.0)
        assert m.hit_rate == 1.0 and m.mean_pei == 1.0 and m.mean_rri == pytest.approx(1.0)
        np.testing.assert_array_equal(m.n_events, 14.0)
    # Random picks 2 of 20 cells: far below the ceiling on average.
    assert r.method("random").mean_pai < 5.0


def test_moving_hotspot_short_memory_wins(cells) -> None:
    # Cell 0 daily for days 0..199, then cell 5 daily from day 200. At origin 300 (horizon
    # 10, one cell selected) the last 90 days hold only cell 5 -> PAI = 1/(1/20) = 20; the
    # 730-day count still prefers cell 0 (200 vs 100 incidents) -> PAI 0; RRI of the 90-day
    # forecast: (10/90)/(10/365) with 90 of the 365 reference incidents in cell 5.
    t = np.arange(400, dtype=float)
    ev = make_events(np.where(t < 200, 0, 5), t)
    r = rolling_origin_backtest(
        ev,
        cells,
        [METHODS["naive_90d"], METHODS["naive_730d"]],
        origins=[300.0],
        horizon_days=10,
        coverage=0.05,
    )
    assert r.method("naive_90d").pai.tolist() == [20.0]
    assert r.method("naive_730d").pai.tolist() == [0.0]
    assert r.method("naive_90d").rri[0] == pytest.approx((10 / 100) / (10 / 300))
    assert r.best_baseline().name == "naive_90d"


def test_origin_without_test_incidents_is_not_averaged(cells) -> None:
    ev = make_events([1, 1, 2], [0.0, 5.0, 30.0])
    r = rolling_origin_backtest(
        ev, cells, [METHODS["naive_90d"]], origins=[10.0, 25.0], horizon_days=10, coverage=0.05
    )
    m = r.method("naive_90d")
    assert math.isnan(m.pai[0]) and m.n_origins == 1
    assert m.pai[1] == 0.0 and m.mean_pai == 0.0  # cell 1 chosen, the incident is in cell 2


def test_progress_and_table(cells) -> None:
    calls: list[tuple[int, int]] = []
    methods = {k: METHODS[k] for k in ("naive_90d", "random")}
    r = rolling_origin_backtest(
        fixed_hotspot(),
        cells,
        methods,
        start=100,
        end=156,
        horizon_days=14,
        coverage=0.1,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(i, 8) for i in range(1, 9)]
    rows = r.table()
    assert [row["method"] for row in rows] == ["naive_90d", "random"]
    assert rows[0]["origins"] == 4 and rows[0]["mean_pai"] == pytest.approx(10.0)
    with pytest.raises(KeyError):
        r.method("nope")


def test_history_cap_is_passed_to_methods(cells) -> None:
    # Cell 0 was hot long ago, cell 9 recently; with train_days = 50 only cell 9 is seen.
    ev = make_events(
        [0] * 50 + [9] * 5 + [9] * 3,
        list(range(50)) + [150.0 + i for i in range(5)] + [200.0, 201.0, 202.0],
    )
    m = ForecastMethod("n", True, "", naive_counts(1000))
    uncapped = rolling_origin_backtest(
        ev, cells, [m], origins=[199.0], horizon_days=5, coverage=0.05
    )
    capped = rolling_origin_backtest(
        ev, cells, [m], origins=[199.0], horizon_days=5, coverage=0.05, train_days=50.0
    )
    assert uncapped.method("n").hits.tolist() == [0.0]
    assert capped.method("n").hits.tolist() == [3.0]


def test_rolling_origins_and_validation(cells) -> None:
    assert rolling_origins(0.0, 28.0, 14.0).tolist() == [0.0, 14.0]
    assert rolling_origins(0.0, 28.5, 14.0).tolist() == [0.0, 14.0, 28.0]
    ev = fixed_hotspot()
    with pytest.raises(InvalidParameterError, match="origins"):
        rolling_origin_backtest(ev, cells, METHODS, horizon_days=14)
    with pytest.raises(InvalidParameterError, match="no methods"):
        rolling_origin_backtest(ev, cells, [], origins=[100.0])
    with pytest.raises(InvalidParameterError, match="unique"):
        rolling_origin_backtest(ev, cells, [METHODS["random"]] * 2, origins=[100.0])
    with pytest.raises(InvalidParameterError, match="horizon_days"):
        rolling_origin_backtest(ev, cells, METHODS, origins=[100.0], horizon_days=0)
    with pytest.raises(InvalidParameterError, match="baseline"):
        rolling_origin_backtest(
            ev, cells, [ForecastMethod("x", False, "", naive_counts(10))], origins=[100.0]
        ).best_baseline()


# --------------------------------------------------------------------------- several coverages


def test_several_coverages_equal_separate_runs(cells: StudyCells) -> None:
    rng = np.random.default_rng(3)
    ev = make_events(rng.integers(0, N_CELLS, 600), rng.uniform(0, 600, 600))
    methods = [METHODS["naive_365d"], METHODS["kde_150m_365d"]]
    together = rolling_origin_backtests(
        ev, cells, methods, coverages=(0.05, 0.2), start=400, end=560, horizon_days=14
    )
    for res, cov in zip(together, (0.05, 0.2), strict=True):
        alone = rolling_origin_backtest(
            ev, cells, methods, start=400, end=560, horizon_days=14, coverage=cov
        )
        assert res.coverage == cov and res.n_selected == alone.n_selected
        for a, b in zip(res.methods, alone.methods, strict=True):
            np.testing.assert_array_equal(a.hits, b.hits)
            np.testing.assert_array_equal(a.pai, b.pai)


# --------------------------------------------------------------------------- bootstrap interval


def test_bootstrap_ratio_of_two_origins_by_hand() -> None:
    """Baseline PAI (1, 3), method (2, 2); ratio on all origins 2 / 2 = 1.

    A resample of 2 origins is {0, 0} with probability 1/4 (ratio 2 / 1 = 2), {1, 1} with 1/4
    (2 / 3) and mixed with 1/2 (2 / 2 = 1): the 2.5 % and 97.5 % percentiles are 2/3 and 2.
    """
    r = _demo_result([1.0, 3.0], [2.0, 2.0])
    iv = paired_bootstrap_ratio(r, "m", n_boot=4000, rng=1)
    assert iv.ratio == pytest.approx(1.0)
    assert iv.low == pytest.approx(2.0 / 3.0)
    assert iv.high == pytest.approx(2.0)
    assert not iv.clear_win and iv.n_origins == 2 and iv.best_baseline == "b"


def test_bootstrap_rechooses_the_best_baseline_in_every_resample() -> None:
    """Two baselines that take turns being best: each resample divides by the larger mean.

    b1 = (4, 0), b2 = (0, 4), method = (3, 3). All origins: 3 / 2 = 1.5. Resample {0, 0}:
    3 / max(4, 0) = 0.75, {1, 1}: 0.75, mixed: 3 / 2 = 1.5. So the interval is [0.75, 1.5],
    below the 1.5 a fixed best baseline (b1) would give in every mixed or {1, 1} resample.
    """
    o = np.arange(2.0)
    ones = np.ones(2)

    def mb(name: str, pai: list[float], baseline: bool) -> MethodBacktest:
        return MethodBacktest(
            name, baseline, name, o, ones, ones, ones, ones, np.asarray(pai), ones, ones, 0.0
        )

    r = BacktestResult(
        (mb("b1", [4.0, 0.0], True), mb("b2", [0.0, 4.0], True), mb("m", [3.0, 3.0], False)),
        o,
        1.0,
        0.1,
        1.0,
        None,
        10,
        1,
    )
    iv = paired_bootstrap_ratio(r, "m", n_boot=4000, rng=2)
    assert iv.ratio == pytest.approx(1.5)
    assert iv.low == pytest.approx(0.75) and iv.high == pytest.approx(1.5)


def test_bootstrap_drops_origins_without_test_incidents_and_validates() -> None:
    r = _demo_result([2.0, math.nan, 4.0], [3.0, math.nan, 6.0])
    iv = paired_bootstrap_ratio(r, "m", n_boot=100)
    assert iv.n_origins == 2 and iv.low == pytest.approx(1.5) and iv.high == pytest.approx(1.5)
    with pytest.raises(InvalidParameterError):
        paired_bootstrap_ratio(r, "m", n_boot=0)
    with pytest.raises(InvalidParameterError):
        paired_bootstrap_ratio(r, "m", level=1.0)
    with pytest.raises(KeyError):
        paired_bootstrap_ratio(r, "nope")
