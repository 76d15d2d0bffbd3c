"""Coordinate reference systems: detect what incoming coordinates are, choose a metric CRS.

Dutch incident data arrive either in RD New (EPSG:28992, metres) or in WGS84
(EPSG:4326, degrees), sometimes with latitude and longitude swapped. Detection
uses the value ranges, which do not overlap:

* WGS84: ``|lon| <= 180`` and ``|lat| <= 90``;
* RD New: ``-7,000 <= x <= 300,000`` and ``289,000 <= y <= 629,000`` (the
  projection's published bounds for the Netherlands).

A *swapped* row is one whose two values only make sense the other way round:
``|lat| > 90`` while ``|lon| <= 90``, or, for data around the Netherlands, a
"longitude" in the Dutch latitude band and a "latitude" in the Dutch longitude
band.

Metric work uses RD New inside the Netherlands and the local UTM zone
(EPSG:326zz north, 327zz south) elsewhere.

References
----------
.. [1] EPSG Geodetic Parameter Dataset, EPSG:28992 "Amersfoort / RD New" (area of use).
.. [2] Snyder, J. P. (1987). Map Projections: A Working Manual. USGS PP 1395 (UTM zones).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
from pyproj import CRS, Transformer

from spatial.errors import CRSError

WGS84: Final = "EPSG:4326"
RD_NEW: Final = "EPSG:28992"

#: RD New bounds (EPSG area of use, rounded outward).
RD_X_RANGE = (-7_000.0, 300_000.0)
RD_Y_RANGE = (289_000.0, 629_000.0)
#: A WGS84 box around the Netherlands (incl. territorial waters).
NL_LON_RANGE = (3.0, 7.6)
NL_LAT_RANGE = (50.6, 53.8)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Detected = Literal["EPSG:4326", "EPSG:28992"]


@dataclass(frozen=True)
class CRSDetection:
    """Outcome of :func:`detect_crs`.

    Attributes
    ----------
    crs
        The CRS the file as a whole is in (``"EPSG:4326"`` or ``"EPSG:28992"``).
    assumed
        True when detected from the values (no CRS was given).
    columns_swapped
        True when most rows have lat/lon the wrong way round: the columns are
        mislabelled and the whole file is read swapped.
    swapped
        Per row: this row (alone) has its two coordinates swapped.
    valid
        Per row: the coordinates are finite and within range of ``crs``
        (after the column swap, if any). Swapped rows are not valid.
    note
        One sentence for the user (English / Dutch) saying what was assumed.
    """

    crs: Detected
    assumed: bool
    columns_swapped: bool
    swapped: BoolArray
    valid: BoolArray
    note: str


def _in(values: FloatArray, bounds: tuple[float, float]) -> BoolArray:
    return (values >= bounds[0]) & (values <= bounds[1])


def _wgs84_ok(lon: FloatArray, lat: FloatArray) -> BoolArray:
    return (np.abs(lon) <= 180.0) & (np.abs(lat) <= 90.0)


def _rd_ok(x: FloatArray, y: FloatArray) -> BoolArray:
    return _in(x, RD_X_RANGE) & _in(y, RD_Y_RANGE)


def _wgs84_swapped(lon: FloatArray, lat: FloatArray) -> BoolArray:
    """Rows whose (lon, lat) only make sense as (lat, lon)."""
    impossible = (np.abs(lat) > 90.0) & (np.abs(lat) <= 180.0) & (np.abs(lon) <= 90.0)
    dutch = _in(lon, NL_LAT_RANGE) & _in(lat, NL_LON_RANGE)
    return impossible | dutch


def detect_crs(first: npt.ArrayLike, second: npt.ArrayLike, crs: str | None = None) -> CRSDetection:
    """Detect the CRS of coordinate pairs and flag rows that are swapped or out of range.

    Parameters
    ----------
    first, second
        The coordinate columns as given: (lon, lat) or (x, y). NaN marks a
        missing value; such rows are neither valid nor swapped.
    crs
        A CRS the caller knows (e.g. ``"EPSG:28992"``); skips detection but still
        validates ranges for RD New and WGS84.

    Returns
    -------
    CRSDetection

    Raises
    ------
    CRSError
        If ``crs`` is given and is not WGS84 or RD New.

    Examples
    --------
    >>> d = detect_crs([4.30, 155000.0], [52.08, 463000.0])
    >>> d.crs, d.valid.tolist()
    ('EPSG:4326', [True, False])
    >>> detect_crs([155000.0], [463000.0]).crs
    'EPSG:28992'
    """
    a = np.asarray(first, dtype=np.float64)
    b = np.asarray(second, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise CRSError(
            f"coordinate arrays must be 1-d and equally long, got {a.shape} and {b.shape}"
        )
    finite = np.isfinite(a) & np.isfinite(b)
    n_finite = int(finite.sum())

    if crs is not None:
        code = normalise_crs(crs)
        if code == RD_NEW:
            valid = finite & _rd_ok(a, b)
            swapped = finite & ~valid & _rd_ok(b, a)
            return CRSDetection(RD_NEW, False, False, swapped, valid, f"CRS given: {RD_NEW}")
        if code == WGS84:
            return _wgs84_detection(a, b, finite, assumed=False)
        raise CRSError(
            f"only {WGS84} and {RD_NEW} can be read directly, got {crs!r}; "
            "give x/y in RD New or lon/lat in WGS84"
        )

    if n_finite == 0:
        return CRSDetection(
            WGS84,
            True,
            False,
            np.zeros_like(finite),
            np.zeros_like(finite),
            "no coordinates at all / geen enkele coördinaat",
        )
    n_rd = int((finite & _rd_ok(a, b)).sum())
    n_wgs = int((finite & _wgs84_ok(a, b)).sum())
    if n_rd == 0 and n_wgs == 0:
        swapped = finite & _wgs84_swapped(b, a) & _wgs84_ok(b, a)
        return CRSDetection(
            WGS84,
            True,
            False,
            swapped,
            np.zeros_like(finite),
            "coordinates fit neither WGS84 (lon/lat) nor RD New (x/y) "
            "/ coördinaten passen niet bij WGS84 of RD New",
        )
    if n_rd > n_wgs:
        valid = finite & _rd_ok(a, b)
        swapped = finite & ~valid & _rd_ok(b, a)
        note = (
            f"assumed {RD_NEW} (RD New) from the value ranges ({n_rd} of {n_finite} rows fit) "
            f"/ aangenomen: RD New"
        )
        return CRSDetection(RD_NEW, True, False, swapped, valid, note)
    return _wgs84_detection(a, b, finite, assumed=True)


def _wgs84_detection(
    a: FloatArray, b: FloatArray, finite: BoolArray, *, assumed: bool
) -> CRSDetection:
    swapped = finite & _wgs84_swapped(a, b)
    plain = finite & _wgs84_ok(a, b) & ~swapped
    columns_swapped = int(swapped.sum()) > int(plain.sum())
    if columns_swapped:
        # The columns are mislabelled: read the whole file the other way round.
        a, b = b, a
        swapped = finite & _wgs84_swapped(a, b)
        plain = finite & _wgs84_ok(a, b) & ~swapped
    prefix = (
        f"assumed {WGS84} (lon/lat) from the value ranges" if assumed else f"CRS given: {WGS84}"
    )
    note = prefix + ("; aangenomen: WGS84" if assumed else "")
    if columns_swapped:
        note += (
            "; most rows had latitude and longitude swapped, so the columns were read the "
            "other way round / lat en lon waren verwisseld en zijn omgedraaid"
        )
    return CRSDetection(WGS84, assumed, columns_swapped, swapped, plain, note)


def normalise_crs(crs: str | int) -> str:
    """Return ``"EPSG:n"`` for a CRS given as ``28992``, ``"epsg:28992"``, a WKT or a PROJ string.

    Raises
    ------
    CRSError
        If pyproj does not know it or it has no EPSG code.
    """
    try:
        parsed = CRS.from_user_input(crs)
    except Exception as exc:  # pyproj raises its own CRSError subclass hierarchy
        raise CRSError(f"unknown CRS {crs!r}: {exc}") from exc
    epsg = parsed.to_epsg()
    if epsg is None:
        raise CRSError(f"CRS {crs!r} has no EPSG code")
    return f"EPSG:{epsg}"


def utm_crs(lon: float, lat: float) -> str:
    """Return the WGS84 / UTM zone CRS (EPSG:326zz or 327zz) containing ``(lon, lat)``.

    Examples
    --------
    >>> utm_crs(-2.98, 53.41)  # Liverpool: zone 30N
    'EPSG:32630'
    >>> utm_crs(151.2, -33.9)  # Sydney: zone 56S
    'EPSG:32756'
    """
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise CRSError(f"not a WGS84 position: lon={lon!r}, lat={lat!r}")
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def metric_crs_for(lon: npt.ArrayLike, lat: npt.ArrayLike) -> str:
    """Choose the metric CRS for WGS84 points: RD New in the Netherlands, else local UTM.

    The choice uses the median position, so a few outliers do not move it.

    Examples
    --------
    >>> metric_crs_for([4.3, 4.31], [52.07, 52.08])
    'EPSG:28992'
    >>> metric_crs_for([-2.98], [53.41])
    'EPSG:32630'
    """
    lo = np.asarray(lon, dtype=np.float64)
    la = np.asarray(lat, dtype=np.float64)
    ok = np.isfinite(lo) & np.isfinite(la)
    if not ok.any():
        raise CRSError("no finite coordinates to choose a metric CRS from")
    mlon, mlat = float(np.median(lo[ok])), float(np.median(la[ok]))
    if _in(np.array([mlon]), NL_LON_RANGE)[0] and _in(np.array([mlat]), NL_LAT_RANGE)[0]:
        return RD_NEW
    return utm_crs(mlon, mlat)


@lru_cache(maxsize=32)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def transform(
    x: npt.ArrayLike, y: npt.ArrayLike, src: str, dst: str
) -> tuple[FloatArray, FloatArray]:
    """Transform coordinate arrays between CRSs (vectorised, always x/lon first).

    Examples
    --------
    >>> lon, lat = transform([155000.0], [463000.0], RD_NEW, WGS84)
    >>> round(float(lon[0]), 4), round(float(lat[0]), 4)
    (5.3872, 52.1552)
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    if src == dst:
        return xs.copy(), ys.copy()
    tx, ty = _transformer(src, dst).transform(xs, ys)
    return np.asarray(tx, dtype=np.float64), np.asarray(ty, dtype=np.float64)
