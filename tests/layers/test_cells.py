"""CellTable: typed per-cell tables, row selection, columns, GeoJSON at the edge."""

from __future__ import annotations

import h3
import numpy as np
import orjson
import pytest
import shapely

from layers.cells import CellTable, object_array
from layers.geojson import cells_feature_collection, polygon_rings

CELLS = sorted(h3.grid_disk(h3.latlng_to_cell(51.44, 5.47, 9), 1))  # 7 cells, Eindhoven


def _rings() -> list[list[list[list[float]]]]:
    polys = np.array(
        [shapely.Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(c)]) for c in CELLS]
    )
    return polygon_rings(polys)


def _props() -> dict[str, np.ndarray]:
    n = len(CELLS)
    return {
        "count": np.arange(n, dtype=np.int64),
        "z": np.linspace(-1.0, 1.0, n),
        "cls": np.array([3, 0, -1, 0, 2, 0, 1], dtype=np.int8),
        "flag": np.arange(n) % 2 == 0,
    }


def _table(metadata: dict | None = None) -> CellTable:
    return CellTable.from_cells(CELLS, _rings(), _props(), metadata)


def test_to_geojson_is_the_feature_collection_of_the_columns() -> None:
    meta = {"n": np.int64(7), "x": np.float64(np.nan), "s": "a"}
    rings = _rings()
    expected = cells_feature_collection(CELLS, rings, _props(), meta)
    got = CellTable.from_cells(CELLS, rings, _props(), meta).to_geojson()
    assert got == expected
    # Same key order and the same JSON types (ints stay ints, bools stay bools).
    assert orjson.dumps(got) == orjson.dumps(expected)
    assert got["features"][0]["id"] == CELLS[0] == got["features"][0]["properties"]["h3"]
    assert got["features"][0]["geometry"]["coordinates"] is rings[0]  # shared, not copied
    assert "metadata" not in CellTable.from_cells(CELLS, rings, _props()).to_geojson()


def test_take_by_positions_and_mask() -> None:
    t = _table({"k": 1})
    order = np.array([6, 0, 3])
    sub = t.take(order)
    assert sub.ids.tolist() == [CELLS[i] for i in order]
    assert sub.rings.tolist() == [t.rings[i] for i in order]
    for name, col in t.properties.items():
        assert sub.properties[name].tolist() == col[order].tolist()
        assert sub.properties[name].dtype == col.dtype
    assert sub.metadata == {"k": 1}
    mask = t.properties["count"] >= 4
    assert t.take(mask).ids.tolist() == CELLS[4:]
    assert len(t.take([])) == 0 and len(t.take(np.zeros(7, dtype=bool))) == 0
    assert t.take([]).to_geojson()["features"] == []
    assert len(t) == 7  # the original is unchanged


def test_take_rejects_bad_rows() -> None:
    t = _table()
    with pytest.raises(ValueError, match="mask"):
        t.take(np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="integer"):
        t.take(np.array([0.5, 1.0]))


def test_columns_replace_in_place_append_and_drop() -> None:
    t = _table()
    out = t.with_columns({"z": np.zeros(7), "new": np.ones(7, dtype=np.int64)}).drop("cls", "nope")
    assert out.columns == ("count", "z", "flag", "new")
    assert out.properties["z"].tolist() == [0.0] * 7
    assert t.columns == ("count", "z", "cls", "flag")  # the original is unchanged
    assert t.properties["z"][0] == -1.0
    with pytest.raises(ValueError, match="'bad'"):
        t.with_columns({"bad": np.zeros(6)})


def test_masked_columns_are_integers_with_nulls() -> None:
    counts = np.ma.MaskedArray(np.arange(7, dtype=np.int64) * 5, mask=np.arange(7) < 2)
    t = _table().with_columns({"count": counts})
    shown = [f["properties"]["count"] for f in t.to_geojson()["features"]]
    assert shown == [None, None, 10, 15, 20, 25, 30]
    assert all(type(v) is int for v in shown[2:])
    # The mask travels with the rows.
    back = t.take([3, 1, 0])
    assert [f["properties"]["count"] for f in back.to_geojson()["features"]] == [15, None, None]


def test_validation_and_no_aliasing() -> None:
    props = _props()
    with pytest.raises(ValueError, match="rings"):
        CellTable.from_cells(CELLS, _rings()[:3], props)
    with pytest.raises(ValueError, match="'count'"):
        CellTable.from_cells(CELLS, _rings(), {"count": np.zeros(3)})
    with pytest.raises(ValueError, match="'grid'"):
        CellTable.from_cells(CELLS, _rings(), {"grid": np.zeros((7, 2))})
    t = CellTable.from_cells(CELLS, _rings(), props)
    props["later"] = np.zeros(7)
    assert "later" not in t.properties


def test_object_array_keeps_nested_lists_whole() -> None:
    rings = _rings()
    arr = object_array(rings)
    assert arr.shape == (7,) and arr.dtype == object
    assert all(a is r for a, r in zip(arr, rings, strict=True))
    assert object_array(arr) is arr
