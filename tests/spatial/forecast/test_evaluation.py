"""Forecast accuracy measures: selection, edge cases, validation, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial.errors import InvalidParameterError
from spatial.forecast.evaluation import (
    evaluate_forecast,
    hit_rate,
    n_selected,
    pai,
    pooled_hit_rate,
    rri,
    top_share_cells,
)


def test_n_selected_rounds_up_but_absorbs_float_noise() -> None:
    assert n_selected(200, 0.03) == 6  # 0.03 * 200 = 6.000000000000001 in floating point
    assert n_selected(201, 0.03) == 7
    assert n_selected(10, 0.001) == 1
    assert n_selected(10, 1.0) == 10


@pytest.mark.parametrize("coverage", [0.0, -0.1, 1.5, math.nan])
def test_bad_coverage_is_rejected(coverage: float) -> None:
    with pytest.raises(InvalidParameterError, match="coverage"):
        top_share_cells([1.0, 2.0], coverage)


def test_nan_scores_are_rejected() -> None:
    with pytest.raises(ValueError, match="NaN"):
        top_share_cells([1.0, math.nan], 0.5)


def test_ties_go_to_the_lower_index() -> None:
    assert top_share_cells([1.0, 1.0, 1.0, 1.0], 0.5).tolist() == [0, 1]
    assert top_share_cells([0.0, 2.0, 2.0, 3.0], 0.5).tolist() == [3, 1]


def test_no_test_incidents_gives_nan_not_zero() -> None:
    ev = evaluate_forecast([1.0, 0.0], [0.0, 0.0], 0.5, reference_counts=[1.0, 0.0])
    assert math.isnan(ev.pai) and math.isnan(ev.hit_rate) and math.isnan(ev.rri)
    assert math.isnan(pooled_hit_rate([0], [0]))


def test_rri_undefined_without_reference_hits() -> None:
    assert math.isnan(rri([1], [2], [0], [5])[0])
    assert rri([1], [2], [1], [2])[0] == 1.0


def test_perfect_forecast_reaches_the_pai_ceiling() -> None:
    y = np.zeros(50)
    y[[4, 9]] = [3.0, 1.0]
    ev = evaluate_forecast(y, y, 0.04)
    assert ev.hits == 4.0 and ev.pei == 1.0
    assert ev.pai == pytest.approx(1 / 0.04)


def test_validation_of_lengths_and_values() -> None:
    with pytest.raises(InvalidParameterError, match="one value per cell"):
        evaluate_forecast([1.0, 2.0], [1.0], 0.5)
    with pytest.raises(InvalidParameterError, match="non-negative"):
        evaluate_forecast([1.0, 2.0], [1.0, -1.0], 0.5)
    with pytest.raises(InvalidParameterError, match="cell_area"):
        evaluate_forecast([1.0, 2.0], [1.0, 1.0], 0.5, cell_area=[1.0, 0.0])
    with pytest.raises(InvalidParameterError, match="area_share"):
        pai([1], [2], [0.0])


def test_vectorised_over_origins() -> None:
    np.testing.assert_allclose(hit_rate([1, 2, 0], [4, 4, 0]), [0.25, 0.5, np.nan])
    np.testing.assert_allclose(pai([1, 2], [4, 4], [0.5, 0.25]), [0.5, 2.0])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 5), min_size=5, max_size=60),
    st.floats(0.01, 1.0),
    st.integers(0, 2**31 - 1),
)
def test_properties(counts: list[int], coverage: float, seed: int) -> None:
    y = np.asarray(counts, dtype=float)
    s = np.random.default_rng(seed).random(y.size)
    ev = evaluate_forecast(s, y, coverage)
    assert ev.selected.size == n_selected(y.size, coverage)
    assert np.unique(ev.selected).size == ev.selected.size
    assert 0 <= ev.hits <= ev.best_hits <= ev.n_events
    if ev.n_events > 0:
        # PAI can never beat a perfect forecast of the same size.
        assert ev.pai <= 1 / ev.area_share + 1e-9
        # Taking more cells never loses hits.
        more = evaluate_forecast(s, y, min(1.0, coverage * 2))
        assert more.hits >= ev.hits
    # The whole study area captures everything: PAI = hit rate = 1.
    full = evaluate_forecast(s, y, 1.0)
    if full.n_events > 0:
        assert full.pai == pytest.approx(1.0) and full.hit_rate == pytest.approx(1.0)
