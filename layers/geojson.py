"""GeoJSON (RFC 7946) documents from spatial results. Pure: no I/O."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

#: Decimal places of output coordinates: 1e-6 deg is ~0.1 m, finer than any H3 cell edge.
COORD_DECIMALS = 6


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        f = float(v)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _column(values: npt.ArrayLike | Sequence[Any]) -> list[Any]:
    """One property column as JSON-ready Python values (vectorised; NaN/inf/masked -> None).

    A masked array is a typed column with nulls: an integer column stays integers where it
    is not masked (``np.asarray`` would silently drop the mask).
    """
    if isinstance(values, np.ma.MaskedArray):
        data, null = np.ma.getdata(values), np.ma.getmaskarray(values)
        if data.dtype.kind not in "iubf":  # text/objects: converted one by one anyway
            return [None if m else v for v, m in zip(_column(data), null.tolist(), strict=True)]
        if data.dtype.kind == "f":
            null = null | ~np.isfinite(data)
        # An object array holds Python ints/floats/bools, so None goes in without a loop.
        cells = data.astype(object)
        cells[null] = None
        masked: list[Any] = cells.tolist()
        return masked
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        out: list[Any] = arr.tolist()
        bad = np.flatnonzero(~np.isfinite(arr))
        for i in bad:
            out[i] = None
        return out
    if arr.dtype.kind in "iub":
        return list(arr.tolist())
    return [_jsonable(v) for v in arr.astype(object).tolist()]


def polygon_rings(polygons: npt.NDArray[np.object_]) -> list[list[list[list[float]]]]:
    """Return GeoJSON ``Polygon.coordinates`` (exterior ring only) of polygons, vectorised."""
    if len(polygons) == 0:
        return []
    # RFC 7946 section 3.1.6: exterior rings counter-clockwise.
    rings = shapely.get_exterior_ring(shapely.orient_polygons(polygons))
    coords, idx = shapely.get_coordinates(rings, return_index=True)
    coords = np.round(coords, COORD_DECIMALS)
    splits = np.flatnonzero(np.diff(idx)) + 1
    return [[part.tolist()] for part in np.split(coords, splits)]


def cells_feature_collection(
    ids: Sequence[str],
    polygons: npt.NDArray[np.object_] | list[list[list[list[float]]]],
    properties: Mapping[str, npt.ArrayLike | Sequence[Any]],
    metadata: Mapping[str, Any] | None = None,
    id_property: str = "h3",
) -> dict[str, Any]:
    """Build a FeatureCollection of cell polygons (WGS84) with per-cell properties.

    Parameters
    ----------
    ids
        One id per cell (the H3 index string); also written as property ``id_property``.
    polygons
        Shapely polygons in WGS84 (lon/lat), aligned with ``ids``, or their GeoJSON rings
        already made by :func:`polygon_rings` (a list; reused across layers of one grid).
    properties
        Column name -> one value per cell. NaN, infinities and masked values become ``null``.
    metadata
        Written as the top-level foreign member ``metadata`` (RFC 7946 section 6.1).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> fc = cells_feature_collection(["a"], np.array([box(0, 0, 1, 1)]), {"count": [3]})
    >>> fc["features"][0]["properties"]
    {'h3': 'a', 'count': 3}
    """
    rings = polygon_rings(polygons) if not isinstance(polygons, list) else polygons
    names = [id_property, *properties]
    columns = [list(ids), *(_column(vals) for vals in properties.values())]
    features = [
        {
            "type": "Feature",
            "id": row[0],
            "geometry": {"type": "Polygon", "coordinates": ring},
            "properties": dict(zip(names, row, strict=True)),
        }
        for ring, row in zip(rings, zip(*columns, strict=True), strict=True)
    ]
    fc: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if metadata is not None:
        fc["metadata"] = {k: _jsonable(v) for k, v in metadata.items()}
    return fc
