"""Per-cell tables: one row per H3 cell, one numpy array per column. Pure: no I/O.

Stages hand a :class:`CellTable` to each other (the viewer filters of the hotspot layers work
on it, column by column) and turn it into a GeoJSON dict only at the edge, with
:meth:`CellTable.to_geojson`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from layers.geojson import cells_feature_collection


def object_array(values: Sequence[Any]) -> npt.NDArray[np.object_]:
    """Return ``values`` as a 1-D object array holding the same objects (never copied).

    ``np.asarray`` would turn a list of equally shaped nested lists (GeoJSON rings) into a
    multi-dimensional array of floats; this keeps one element per item.

    Examples
    --------
    >>> rings = [[[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]]] * 2
    >>> arr = object_array(rings)
    >>> arr.shape, arr[1] is rings[1]
    ((2,), True)
    """
    if isinstance(values, np.ndarray) and values.dtype == object and values.ndim == 1:
        return values
    return np.fromiter(values, dtype=object, count=len(values))


@dataclass(frozen=True, eq=False)
class CellTable:
    """A typed per-cell table: cell ids, their polygons and one array per property column.

    Tables are never modified: every method returns a new table that shares the unchanged
    columns, ids and rings with this one. ``eq=False``: equality of array columns is not a
    boolean; compare ``to_geojson()`` or the columns instead.

    Attributes
    ----------
    ids
        One id per cell (the H3 index string), a 1-D object array.
    rings
        GeoJSON ``Polygon.coordinates`` of each cell (from
        :func:`layers.geojson.polygon_rings`), a 1-D object array aligned with ``ids``. The
        ring lists are shared, never copied: made once per study area.
    properties
        Column name -> 1-D array, one value per cell, in output order. NaN, infinities and
        masked values (:class:`numpy.ma.MaskedArray`: an integer column with nulls) become
        ``null`` in GeoJSON.
    metadata
        The top-level foreign member ``metadata`` of the GeoJSON; None leaves it out.
    id_property
        Property name the id is also written under.

    Raises
    ------
    ValueError
        If ``ids``, ``rings`` or a column is not 1-D or differs in length from ``ids``.

    Examples
    --------
    >>> ring = [[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]]
    >>> t = CellTable.from_cells(["a", "b", "c"], [ring] * 3, {"count": [4, 0, 9]}, {"k": 5})
    >>> len(t), t.columns
    (3, ('count',))
    >>> big = t.take(t.properties["count"] >= 4)
    >>> big.ids.tolist(), big.properties["count"].tolist()
    (['a', 'c'], [4, 9])
    >>> big.with_columns({"big": [True, True]}).to_geojson()["features"][1]["properties"]
    {'h3': 'c', 'count': 9, 'big': True}
    """

    ids: npt.NDArray[np.object_]
    rings: npt.NDArray[np.object_]
    properties: Mapping[str, npt.NDArray[Any]]
    metadata: Mapping[str, Any] | None = None
    id_property: str = "h3"

    def __post_init__(self) -> None:
        n = len(self.ids)
        if self.ids.ndim != 1 or self.rings.ndim != 1:
            raise ValueError(
                f"ids and rings must be 1-D, got shapes {self.ids.shape} and {self.rings.shape}"
            )
        if len(self.rings) != n:
            raise ValueError(f"{len(self.rings)} rings for {n} cells")
        for name, col in self.properties.items():
            if col.ndim != 1 or len(col) != n:
                raise ValueError(f"column {name!r} has shape {col.shape}, expected ({n},)")
        # A private copy of the mapping: a caller's dict changed later cannot change the table.
        object.__setattr__(self, "properties", dict(self.properties))

    @classmethod
    def from_cells(
        cls,
        ids: Sequence[str],
        rings: Sequence[Any],
        properties: Mapping[str, npt.ArrayLike],
        metadata: Mapping[str, Any] | None = None,
        *,
        id_property: str = "h3",
    ) -> CellTable:
        """Build a table from a list of ids, their GeoJSON rings and array-like columns.

        Masked arrays keep their mask (``np.asanyarray``); ``metadata=None`` gives a table
        whose GeoJSON has no ``metadata`` member.

        Raises
        ------
        ValueError
            If the lengths differ.
        """
        return cls(
            ids=object_array(ids),
            rings=object_array(rings),
            properties={name: np.asanyarray(col) for name, col in properties.items()},
            metadata=metadata,
            id_property=id_property,
        )

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def columns(self) -> tuple[str, ...]:
        """Names of the property columns, in output order."""
        return tuple(self.properties)

    def take(self, rows: npt.ArrayLike) -> CellTable:
        """Return the rows ``rows``: integer positions (in that order) or a boolean mask.

        Raises
        ------
        ValueError
            If a mask's length differs from the table's, or ``rows`` is neither.
        """
        idx = np.asarray(rows)
        if idx.dtype.kind == "b":
            if idx.shape != (len(self),):
                raise ValueError(f"mask has shape {idx.shape}, expected ({len(self)},)")
            idx = np.flatnonzero(idx)
        elif idx.size == 0:
            idx = np.zeros(0, dtype=np.intp)
        elif idx.dtype.kind not in "iu" or idx.ndim != 1:
            raise ValueError(f"rows must be 1-D integer positions or a mask, got {idx.dtype}")
        return replace(
            self,
            ids=self.ids[idx],
            rings=self.rings[idx],
            properties={name: col[idx] for name, col in self.properties.items()},
        )

    def with_columns(self, columns: Mapping[str, npt.ArrayLike]) -> CellTable:
        """Return a table with ``columns`` replaced where they exist (same position), else added.

        Raises
        ------
        ValueError
            If a column's length differs from the table's.
        """
        props = dict(self.properties)
        props.update({name: np.asanyarray(col) for name, col in columns.items()})
        return replace(self, properties=props)

    def drop(self, *names: str) -> CellTable:
        """Return a table without the columns ``names`` (names it does not have are ignored)."""
        gone = set(names)
        return replace(self, properties={k: v for k, v in self.properties.items() if k not in gone})

    def with_metadata(self, metadata: Mapping[str, Any] | None) -> CellTable:
        """Return a table with ``metadata`` instead of this one's."""
        return replace(self, metadata=metadata)

    def to_geojson(self) -> dict[str, Any]:
        """Return the table as an RFC 7946 FeatureCollection of cell polygons.

        One feature per row, in row order, with ``id`` and the property ``id_property`` set to
        the cell id, then the columns in order (see
        :func:`layers.geojson.cells_feature_collection`).
        """
        return cells_feature_collection(
            self.ids.tolist(),
            self.rings.tolist(),
            self.properties,
            self.metadata,
            id_property=self.id_property,
        )
