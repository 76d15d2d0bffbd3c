"""Fixtures shared by the forecast tests: the study lattice and its synthetic incidents."""

from __future__ import annotations

import numpy as np
import pytest

from spatial.forecast.methods import EventSet, StudyCells

from .test_forecast import lattice, synthetic


@pytest.fixture(scope="module")
def cells() -> StudyCells:
    """The 12 x 12 lattice of 100 m cells (:func:`tests.spatial.forecast.test_forecast.lattice`)."""
    return lattice()


@pytest.fixture(scope="module")
def events() -> EventSet:
    """Synthetic incidents on it (seed 1)."""
    return synthetic(np.random.default_rng(1))
