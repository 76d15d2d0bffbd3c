"""Small geometry helpers shared by the analyses and the importers."""

from __future__ import annotations

import shapely
from shapely.geometry.base import BaseGeometry

__all__ = ["polygonal"]


def polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Return only the (Multi)Polygon part of a geometry (unions may hold stray lines).

    Examples
    --------
    >>> from shapely.geometry import GeometryCollection, LineString, box
    >>> polygonal(GeometryCollection([box(0, 0, 1, 1), LineString([(2, 2), (3, 3)])])).wkt
    'POLYGON ((1 0, 1 1, 0 1, 0 0, 1 0))'
    >>> polygonal(LineString([(0, 0), (1, 1)])).is_empty
    True
    """
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()
