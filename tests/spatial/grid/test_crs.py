"""CRS detection and transforms against independent reference values."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer

from spatial.errors import CRSError
from spatial.grid.crs import (
    PARALLEL_MIN_POINTS,
    RD_NEW,
    WGS84,
    detect_crs,
    metric_crs_for,
    transform,
    utm_crs,
)

# Reference: the RD New projection's origin at the Onze Lieve Vrouwetoren in Amersfoort,
# x=155000 m, y=463000 m <-> 52 deg 09' 22.178" N, 5 deg 23' 15.500" E (Bessel) as published by
# Kadaster ("Referentiesystemen", RD definition); in ETRS89/WGS84 ~ 52.15517 N, 5.38721 E
# (value given in issue 2). PROJ without the RDNAPTRANS grid is accurate to ~1 m, so 1e-4 deg.
AMERSFOORT_RD = (155_000.0, 463_000.0)
AMERSFOORT_WGS84 = (5.38721, 52.15517)


def test_rd_to_wgs84_amersfoort_reference() -> None:
    lon, lat = transform([AMERSFOORT_RD[0]], [AMERSFOORT_RD[1]], RD_NEW, WGS84)
    assert lon[0] == pytest.approx(AMERSFOORT_WGS84[0], abs=1e-4)
    assert lat[0] == pytest.approx(AMERSFOORT_WGS84[1], abs=1e-4)


def test_wgs84_to_rd_amersfoort_reference() -> None:
    x, y = transform([AMERSFOORT_WGS84[0]], [AMERSFOORT_WGS84[1]], WGS84, RD_NEW)
    # 1e-4 deg is ~7-11 m here.
    assert x[0] == pytest.approx(AMERSFOORT_RD[0], abs=12)
    assert y[0] == pytest.approx(AMERSFOORT_RD[1], abs=12)


def test_utm_central_meridian_hand_computed() -> None:
    # On a zone's central meridian the UTM easting is the false easting, 500,000 m, exactly;
    # at the equator the northing is 0 (Snyder 1987, ch. 8).
    x, y = transform([-3.0], [0.0], WGS84, "EPSG:32630")
    assert x[0] == pytest.approx(500_000.0, abs=1e-6)
    assert y[0] == pytest.approx(0.0, abs=1e-6)


def test_detect_rd() -> None:
    d = detect_crs([80_000.0, 81_000.0, np.nan], [455_000.0, 456_000.0, 455_000.0])
    assert d.crs == RD_NEW and d.assumed
    assert d.valid.tolist() == [True, True, False]
    assert "RD New" in d.note


def test_detect_wgs84() -> None:
    d = detect_crs([4.30, 4.31], [52.07, 52.08])
    assert d.crs == WGS84 and d.assumed and not d.columns_swapped
    assert d.valid.all() and not d.swapped.any()


def test_detect_single_swapped_rows_are_flagged_not_fixed() -> None:
    d = detect_crs([4.30, 52.08, 4.32], [52.07, 4.31, 52.09])
    assert d.crs == WGS84 and not d.columns_swapped
    assert d.swapped.tolist() == [False, True, False]
    assert d.valid.tolist() == [True, False, True]


def test_detect_whole_file_swapped() -> None:
    d = detect_crs([52.07, 52.08, 52.09], [4.30, 4.31, 4.32])
    assert d.columns_swapped
    assert d.valid.all()
    assert "verwisseld" in d.note


def test_impossible_latitude_is_swapped_anywhere() -> None:
    # (lon=-33.9, lat=151.2) can only be Sydney written lat, lon.
    d = detect_crs([4.3, -33.9], [52.0, 151.2])
    assert d.swapped.tolist() == [False, True]


def test_detect_given_crs_validates_range() -> None:
    d = detect_crs([80_000.0, 4.3], [455_000.0, 52.0], crs="EPSG:28992")
    assert not d.assumed and d.valid.tolist() == [True, False]


def test_nonsense_coordinates_are_invalid_not_fatal() -> None:
    d = detect_crs([1e9, 300.0], [1e9, 200.0])
    assert not d.valid.any()
    assert "neither" in d.note


def test_unsupported_given_crs_raises() -> None:
    with pytest.raises(CRSError, match="only"):
        detect_crs([1.0], [1.0], crs="EPSG:3857")


def test_metric_crs_choice() -> None:
    assert metric_crs_for([4.3], [52.07]) == RD_NEW
    assert metric_crs_for([-2.98, -2.9], [53.4, 53.41]) == "EPSG:32630"  # Liverpool, zone 30N
    assert utm_crs(-0.1, 51.5) == "EPSG:32630"
    assert utm_crs(0.1, 51.5) == "EPSG:32631"
    assert utm_crs(151.2, -33.9) == "EPSG:32756"


def test_round_trip_rd_wgs84() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(20_000, 270_000, 1000)
    y = rng.uniform(320_000, 600_000, 1000)
    lon, lat = transform(x, y, RD_NEW, WGS84)
    x2, y2 = transform(lon, lat, WGS84, RD_NEW)
    np.testing.assert_allclose(x2, x, atol=1e-3)
    np.testing.assert_allclose(y2, y, atol=1e-3)


def test_parallel_transform_equals_one_thread() -> None:
    """Large arrays go through PROJ in threads (one Transformer each): same numbers, same order."""
    rng = np.random.default_rng(11)
    n = PARALLEL_MIN_POINTS + 12_345
    x, y = rng.uniform(10_000, 280_000, n), rng.uniform(300_000, 620_000, n)
    lon, lat = transform(x, y, RD_NEW, WGS84)
    ref_lon, ref_lat = Transformer.from_crs(RD_NEW, WGS84, always_xy=True).transform(x, y)
    np.testing.assert_array_equal(lon, ref_lon)
    np.testing.assert_array_equal(lat, ref_lat)
    assert lon.shape == (n,) and lon.dtype == np.float64
