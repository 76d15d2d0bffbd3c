"""covrate: no look-ahead in the target nor the covariates, history cap, the gain it is for."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from spatial.errors import InvalidParameterError
from spatial.forecast.covrate import covariate_rate, label_days
from spatial.forecast.evaluation import top_share_cells
from spatial.forecast.methods import (
    EventSet,
    StudyCells,
    make_cells,
    make_events,
    multiscale_rate,
    naive_counts,
)

from .test_forecast import T0, concat, subset, synthetic


@pytest.fixture(scope="module")
def covariates() -> dict[str, EventSet]:
    return {
        "assault": synthetic(np.random.default_rng(2), n=3000),
        "robbery": synthetic(np.random.default_rng(3), n=600),
    }


def shifted(ev: EventSet, days: float) -> EventSet:
    assert ev.x is not None and ev.y is not None
    return make_events(ev.cell, ev.t_days + days, ev.x, ev.y)


def test_no_incident_at_or_after_the_origin_is_used(cells, events, covariates) -> None:
    """Replacing every target AND covariate incident at or after t0 changes nothing."""
    method = covariate_rate(14.0, covariates)
    before = method(events, cells)(T0)
    past = {k: subset(v, v.t_days < T0) for k, v in covariates.items()}
    future = synthetic(np.random.default_rng(99), n=2000)
    future = shifted(subset(future, future.t_days < 400), T0)  # into [T0, T0 + 400)
    after = covariate_rate(14.0, {k: concat(v, future) for k, v in past.items()})(
        concat(subset(events, events.t_days < T0), future), cells
    )(T0)
    np.testing.assert_array_equal(before, after)
    # A covariate incident exactly at t0 is the future too.
    at_t0 = make_events([70], [T0], [700.0], [1000.0])
    covs = {**covariates, "assault": concat(covariates["assault"], at_t0)}
    np.testing.assert_array_equal(before, covariate_rate(14.0, covs)(events, cells)(T0))
    # ... while the scores react to the covariates' past (the test could fail).
    fewer = subset(covariates["assault"], covariates["assault"].cell != 30)
    covs = {**covariates, "assault": fewer}
    assert not np.array_equal(before, covariate_rate(14.0, covs)(events, cells)(T0))


def test_train_days_cap_covers_the_covariates(cells, events, covariates) -> None:
    method = covariate_rate(14.0, covariates)
    capped = method(events, cells)(T0, train_days=300.0)
    recent = {k: subset(v, v.t_days >= T0 - 300.0) for k, v in covariates.items()}
    again = covariate_rate(14.0, recent)(subset(events, events.t_days >= T0 - 300.0), cells)
    np.testing.assert_array_equal(capped, again(T0, train_days=300.0))
    assert not np.array_equal(capped, method(events, cells)(T0))


def test_deterministic_and_finite(cells, events, covariates) -> None:
    a = covariate_rate(7.0, covariates)(events, cells)(T0)
    b = covariate_rate(7.0, covariates)(events, cells)(T0)
    assert a.shape == (cells.n,) and np.isfinite(a).all() and (a >= 0).all()
    np.testing.assert_array_equal(a, b)


def test_falls_back_to_the_whole_record_count_without_training_history(cells) -> None:
    ev = make_events([5, 5, 7], [1.0, 2.0, 3.0])
    s = covariate_rate(14.0)(ev, cells)(10.0)
    np.testing.assert_array_equal(s, naive_counts(100.0)(ev, cells)(10.0))
    assert not covariate_rate(14.0)(ev, cells)(0.5).any()  # no record yet: all zero


def test_label_length_rule() -> None:
    assert label_days(14.0, 5000.0) == 98.0  # 7 horizons, nearest to 91 days
    assert label_days(28.0, 5000.0) == 84.0
    assert label_days(30.0, 120.0) == 90.0  # month clock: 4 months of record
    assert label_days(30.0, 59.0) == 0.0  # under two horizons: nothing to fit


def exposure_world(seed: int) -> tuple[StudyCells, EventSet, EventSet]:
    """A 40 x 40 lattice where burglary AND assault follow one hidden exposure per cell.

    Burglary is sparse (~1.5 per cell over the record), assault 25 times denser, both
    stationary Poisson with a rate proportional to the cell's exposure (Gamma, shape 0.5).
    Ranking by the burglary count alone is noisy; the assaults reveal the exposure.
    """
    rng = np.random.default_rng(seed)
    side = 40
    ii, jj = np.divmod(np.arange(side * side), side)
    w = sp.csr_matrix(
        (np.abs(ii[:, None] - ii[None, :]) <= 1)
        & (np.abs(jj[:, None] - jj[None, :]) <= 1)
        & (np.arange(side * side)[:, None] != np.arange(side * side)[None, :])
    ).astype(float)
    cells = make_cells(ii * 100.0, jj * 100.0, neighbours=w, crs="EPSG:32631")
    exposure = rng.gamma(0.5, 2.0, cells.n)
    t_end = 1600.0

    def draw(per_day: float) -> EventSet:
        k = rng.poisson(exposure * per_day * t_end)
        return make_events(np.repeat(np.arange(cells.n), k), rng.uniform(0.0, t_end, k.sum()))

    return cells, draw(0.001), draw(0.025)


def mean_pai(scorer, events: EventSet, n: int, origins: np.ndarray) -> float:
    out = []
    for t0 in origins:
        y = np.bincount(events.cell[events.window(t0, t0 + 14.0)], minlength=n)
        top = top_share_cells(scorer(t0), 0.05)
        out.append(y[top].sum() / max(y.sum(), 1) / (top.size / n))
    return float(np.mean(out))


def test_covariates_beat_the_burglary_count_where_exposure_drives_both() -> None:
    """Over three simulated cities (seeds 5-7: +15, +12, +9 % on the whole-record count)."""
    origins = np.arange(1200.0, 1580.0, 14.0)
    naive = alone = helped = 0.0
    for seed in (5, 6, 7):
        cells, burglary, assault = exposure_world(seed)
        n = cells.n
        naive += mean_pai(naive_counts(np.inf)(burglary, cells), burglary, n, origins)
        alone += mean_pai(covariate_rate(14.0)(burglary, cells), burglary, n, origins)
        with_assault = covariate_rate(14.0, {"assault": assault})(burglary, cells)
        helped += mean_pai(with_assault, burglary, n, origins)
    assert helped > 1.08 * naive
    assert helped > 1.08 * alone


def test_validation(cells, events) -> None:
    with pytest.raises(InvalidParameterError):
        covariate_rate(0.0)
    for bad in (0, -3, True, 2.5):
        with pytest.raises(InvalidParameterError, match="train_origins"):
            covariate_rate(14.0, train_origins=bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidParameterError, match="train_origins"):
            multiscale_rate(14.0, train_origins=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError):
        covariate_rate(14.0, {"x": np.zeros(3)})  # type: ignore[dict-item]
    with pytest.raises(InvalidParameterError):
        covariate_rate(14.0, {"x": make_events([cells.n], [1.0])})(events, cells)
    with pytest.raises(InvalidParameterError):
        covariate_rate(14.0)(events, make_cells(cells.x, cells.y))
