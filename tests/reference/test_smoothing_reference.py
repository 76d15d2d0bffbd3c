"""Empirical Bayes rates against a hand-worked case, esda's documented example and esda itself."""

from __future__ import annotations

import json
from pathlib import Path

import libpysal
import numpy as np
import pandas as pd
from esda.smoothing import Empirical_Bayes

from spatial.targeting.smoothing import eb_rates, empirical_bayes

DATA = Path(__file__).parent / "data"


def test_hand_computed_case() -> None:
    ref = json.loads((DATA / "eb_hand_computed.json").read_text())
    r = empirical_bayes(ref["events"], ref["dwellings"])
    assert r.prior_mean == np.float64(ref["prior_mean"])
    np.testing.assert_allclose(r.prior_variance, ref["prior_variance"], rtol=1e-12)
    np.testing.assert_allclose(r.shrinkage_weight, ref["shrinkage_weight"], rtol=1e-12)
    np.testing.assert_allclose(r.eb_rate, ref["eb_rate"], rtol=1e-12)
    # The story of the file: the 10-dwelling area is not the highest after smoothing.
    assert np.argmax(r.raw_rate) == 0 and np.argmax(r.eb_rate) == 2


def _stl() -> tuple[np.ndarray, np.ndarray]:
    path = libpysal.examples.get_path("stl_hom.csv")
    df = pd.read_csv(path)
    return df["HC7984"].to_numpy(float), df["PO7984"].to_numpy(float)


def test_esda_documented_example() -> None:
    ref = pd.read_csv(DATA / "esda_eb_doc_example.csv", comment="#")
    e, b = _stl()
    # Printed to 9 significant digits in esda's docstring.
    np.testing.assert_allclose(empirical_bayes(e, b).eb_rate[:10], ref["eb_rate"], rtol=5e-9)


def test_equals_esda_on_all_stl_columns() -> None:
    path = libpysal.examples.get_path("stl_hom.csv")
    df = pd.read_csv(path)
    for ev, pop in (("HC7984", "PO7984"), ("HC8488", "PO8488"), ("HC8893", "PO8893")):
        e, b = df[ev].to_numpy(float), df[pop].to_numpy(float)
        ours = empirical_bayes(e, b)
        assert ours.prior_variance_unclamped > 0  # esda does not clamp; compare where it is moot
        np.testing.assert_allclose(ours.eb_rate, Empirical_Bayes(e, b).r.ravel(), rtol=1e-12)


def test_equals_esda_with_real_den_haag_dwellings(shared_data: Path) -> None:
    """Real dwelling counts of 89 Den Haag neighbourhoods (Bernasco & Nieuwbeerta 2005) with
    Poisson burglary counts around a heterogeneous risk: the rows smoothed together (as the
    rank intervals do) equal esda run one row at a time."""
    nb = pd.read_csv(shared_data / "nl" / "denhaag_neighbourhoods_1996_2001_bernasco.csv")
    b = np.round(nb["RESUNITS"].to_numpy() * 1000)
    rng = np.random.default_rng(5)
    risk = rng.gamma(4, 0.005, b.size)
    e = rng.poisson(risk * b, size=(20, b.size)).astype(float)
    ours = eb_rates(e, b)
    for i in range(e.shape[0]):
        np.testing.assert_allclose(ours[i], Empirical_Bayes(e[i], b).r.ravel(), rtol=1e-12)
