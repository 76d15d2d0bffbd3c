"""PolygonGrid against an independent reference: GEOS's STRtree ``intersects`` per point.

The reference answer for a point is the lowest index of a polygon whose closed set holds it
(``shapely.STRtree.query(points, predicate="intersects")``, then the minimum per point) — no
grid, no look-up table. Cases that a grid gets wrong first: points on shared borders and on
vertices, points exactly on cell edges, overlapping polygons, holes, multipolygons, a grid
capped to very few cells, and real municipal polygons.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon, box

from spatial.errors import InvalidParameterError
from spatial.grid.pip import BORDER, PolygonGrid


def reference(polygons: list, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Lowest index of a polygon covering each point (GEOS intersects), else -1."""
    out = np.full(len(x), -1, dtype=np.int64)
    polys = np.asarray(polygons, dtype=object)
    keep = np.flatnonzero(~shapely.is_missing(polys) & ~shapely.is_empty(polys))
    if keep.size == 0:
        return out
    tree = shapely.STRtree(polys[keep])
    pt, poly = tree.query(shapely.points(x, y), predicate="intersects")
    order = np.lexsort((keep[poly], pt))
    pt, poly = pt[order], keep[poly][order]
    first = np.unique(pt, return_index=True)[1]
    out[pt[first]] = poly[first]
    return out


def voronoi_tiles(seed: int, n: int) -> list[Polygon]:
    """A tiling of the unit square with shared borders (what buurten are)."""
    rng = np.random.default_rng(seed)
    sites = shapely.multipoints(rng.uniform(0, 1, (n, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(sites, extend_to=box(-1, -1, 2, 2)))
    return [c for c in shapely.intersection(cells, box(0, 0, 1, 1)) if not c.is_empty]


def on_boundaries(polygons: list) -> tuple[np.ndarray, np.ndarray]:
    """Every vertex and every edge midpoint of the polygons: points exactly on a border."""
    xy = shapely.get_coordinates(list(polygons))
    rings = shapely.get_coordinates(shapely.segmentize(list(polygons), 1e9))
    mid = (rings[:-1] + rings[1:]) / 2
    pts = np.vstack([xy, mid])
    return pts[:, 0], pts[:, 1]


def check(polygons: list, x: np.ndarray, y: np.ndarray, **kw: int) -> PolygonGrid:
    grid = PolygonGrid.build(polygons, **kw)
    np.testing.assert_array_equal(grid.locate(x, y), reference(polygons, x, y))
    return grid


def test_docstring_case_border_point_goes_to_first_polygon() -> None:
    grid = PolygonGrid.build([box(0, 0, 2, 2), box(2, 0, 4, 2)])
    # x = 2 lies on both boxes: the first wins; x = 4 is on the far edge of the grid.
    assert grid.locate([2.0, 4.0, 4.0 + 1e-9, -1e-12], [1.0, 2.0, 1.0, 0.0]).tolist() == [
        0,
        1,
        -1,
        -1,
    ]


def test_voronoi_tiling_random_and_boundary_points() -> None:
    tiles = voronoi_tiles(1, 150)
    rng = np.random.default_rng(2)
    x, y = rng.uniform(-0.05, 1.05, 200_000), rng.uniform(-0.05, 1.05, 200_000)
    bx, by = on_boundaries(tiles)
    grid = check(tiles, np.concatenate([x, bx]), np.concatenate([y, by]))
    # The look-up must answer most points, or the grid is only overhead.
    assert (grid.table == BORDER).mean() < 0.25


def test_points_on_cell_edges_and_corners() -> None:
    tiles = voronoi_tiles(3, 40)
    grid = PolygonGrid.build(tiles)
    (x0, y0), (dx, dy), (ny, nx) = grid.origin, grid.cell, grid.shape
    ix, iy = np.meshgrid(np.arange(0, nx + 1, 7), np.arange(0, ny + 1, 7))
    x = np.concatenate([x0 + ix.ravel() * dx, x0 + (ix.ravel() + 0.5) * dx])
    y = np.concatenate([y0 + iy.ravel() * dy, y0 + iy.ravel() * dy])
    # and one ulp either side of those edges
    x = np.concatenate([x, np.nextafter(x, np.inf), np.nextafter(x, -np.inf)])
    y = np.concatenate([y, np.nextafter(y, -np.inf), np.nextafter(y, np.inf)])
    np.testing.assert_array_equal(grid.locate(x, y), reference(tiles, x, y))


def test_overlaps_holes_and_multipolygons() -> None:
    ring = box(0, 0, 10, 10).difference(box(3, 3, 7, 7))  # a hole
    inner = box(4, 4, 6, 6)  # inside the hole
    overlap = box(8, 8, 14, 14)  # overlaps the ring: the ring (index 0) wins
    multi = MultiPolygon([box(20, 0, 22, 2), box(25, 0, 27, 2)])
    tri = Polygon([(0, 12), (10, 12), (5, 20)])
    polys = [ring, inner, overlap, multi, tri]
    rng = np.random.default_rng(4)
    x, y = rng.uniform(-2, 30, 100_000), rng.uniform(-2, 22, 100_000)
    bx, by = on_boundaries(polys)
    check(polys, np.concatenate([x, bx]), np.concatenate([y, by]))


def test_grid_capped_to_few_cells_stays_exact() -> None:
    tiles = voronoi_tiles(5, 60)
    rng = np.random.default_rng(6)
    x, y = rng.uniform(0, 1, 20_000), rng.uniform(0, 1, 20_000)
    for cap in (1, 4, 100):
        grid = check(tiles, x, y, max_cells=cap)
        assert grid.table.size <= cap


def test_missing_empty_and_degenerate_geometries() -> None:
    polys = [None, Polygon(), box(0, 0, 1, 1), shapely.Point(5, 5), None]
    x = np.array([0.5, 1.0, 5.0, 5.0 + 1e-9, np.nan, 0.5])
    y = np.array([0.5, 1.0, 5.0, 5.0, 0.5, np.nan])
    assert PolygonGrid.build(polys).locate(x, y).tolist() == [2, 2, 3, -1, -1, -1]
    assert PolygonGrid.build([]).locate([0.0], [0.0]).tolist() == [-1]
    assert PolygonGrid.build([None]).locate([], []).tolist() == []


def test_invalid_arguments() -> None:
    with pytest.raises(InvalidParameterError, match="max_cells"):
        PolygonGrid.build([box(0, 0, 1, 1)], max_cells=0)
    with pytest.raises(InvalidParameterError, match="same length"):
        PolygonGrid.build([box(0, 0, 1, 1)]).locate([0.0, 1.0], [0.0])


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(2, 80),
    scale=st.sampled_from([1e-3, 1.0, 1e5]),
    offset=st.sampled_from([0.0, 4.3, 155_000.0]),
)
def test_property_equals_reference(seed: int, n: int, scale: float, offset: float) -> None:
    """Any tiling, any scale (degrees to RD metres), points inside, outside and on borders."""
    tiles = [shapely.affinity.scale(t, scale, scale, origin=(0, 0)) for t in voronoi_tiles(seed, n)]
    tiles = [shapely.affinity.translate(t, offset, offset) for t in tiles]
    rng = np.random.default_rng(seed)
    x = offset + scale * rng.uniform(-0.1, 1.1, 3_000)
    y = offset + scale * rng.uniform(-0.1, 1.1, 3_000)
    bx, by = on_boundaries(tiles)
    check(tiles, np.concatenate([x, bx]), np.concatenate([y, by]))


@pytest.mark.parametrize(
    "name", ["haaglanden_wijken_2018.geojson", "amsterdam_buurten_2022.geojson"]
)
def test_real_municipal_polygons(shared_data: Path, name: str) -> None:
    """Real wijk / buurt polygons (../shared/data/nl, see SOURCES.md), lon/lat points."""
    areas = gpd.read_file(shared_data / "nl" / name).to_crs("EPSG:4326")
    polys = list(areas.geometry)
    minx, miny, maxx, maxy = areas.total_bounds
    rng = np.random.default_rng(7)
    x, y = rng.uniform(minx, maxx, 200_000), rng.uniform(miny, maxy, 200_000)
    bx, by = on_boundaries(polys)
    grid = check(polys, np.concatenate([x, bx]), np.concatenate([y, by]))
    assert (grid.table == BORDER).mean() < 0.15


def test_more_polygons_than_int16_holds() -> None:
    """Above 32,766 polygons the table switches to int32 and still answers exactly."""
    ix, iy = np.meshgrid(np.arange(200), np.arange(165))
    boxes = list(shapely.box(ix.ravel(), iy.ravel(), ix.ravel() + 0.9, iy.ravel() + 0.9))
    assert len(boxes) > np.iinfo(np.int16).max
    rng = np.random.default_rng(8)
    x, y = rng.uniform(-1, 201, 50_000), rng.uniform(-1, 166, 50_000)
    grid = check(boxes, np.concatenate([x, [199.9, 0.0]]), np.concatenate([y, [164.9, 0.0]]))
    assert grid.table.dtype == np.int32
    assert PolygonGrid.build(boxes[:100]).table.dtype == np.int16
