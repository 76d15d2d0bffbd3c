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
