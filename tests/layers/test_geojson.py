"""GeoJSON building: RFC 7946 orientation, nulls for NaN, metadata."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import Polygon

from layers.geojson import cells_feature_collection


def test_rings_are_counter_clockwise_and_nan_is_null() -> None:
    clockwise = Polygon([(0, 0), (0, 1), (1, 1), (1, 0)])
    fc = cells_feature_collection(
        ["a"], np.array([clockwise]), {"v": [np.nan], "n": [np.int64(3)]}, {"k": np.float64(1.5)}
    )
    ring = fc["features"][0]["geometry"]["coordinates"][0]
    assert shapely.is_ccw(shapely.LinearRing(ring))
    assert fc["features"][0]["properties"] == {"h3": "a", "v": None, "n": 3}
    assert fc["metadata"] == {"k": 1.5}


def test_masked_values_are_null_and_integers_stay_integers() -> None:
    square = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])
    counts = np.ma.MaskedArray(np.array([5, 7]), mask=[True, False])
    dens = np.ma.MaskedArray(np.array([0.5, np.nan]), mask=[False, False])
    fc = cells_feature_collection(
        ["a", "b"], np.array([square, square]), {"count": counts, "d": dens}
    )
    assert [f["properties"] for f in fc["features"]] == [
        {"h3": "a", "count": None, "d": 0.5},
        {"h3": "b", "count": 7, "d": None},
    ]
    assert type(fc["features"][1]["properties"]["count"]) is int


def test_masked_text_and_infinite_values_are_null() -> None:
    square = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])
    names = np.ma.MaskedArray(np.array(["x", "y"]), mask=[False, True])
    vals = np.ma.MaskedArray(np.array([np.inf, 2.0]))  # no mask at all
    fc = cells_feature_collection(
        ["a", "b"], np.array([square, square]), {"name": names, "v": vals}
    )
    assert [f["properties"] for f in fc["features"]] == [
        {"h3": "a", "name": "x", "v": None},
        {"h3": "b", "name": None, "v": 2.0},
    ]
