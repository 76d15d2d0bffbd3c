"""H3 study grids: polyfill, vectorised point-to-cell assignment, k-ring neighbours.

A study grid is the set of H3 cells whose centroid lies in the study area (a municipality or
other area polygon), so cells without incidents are present with a count of zero. Without a
polygon the study area is a *footprint*: the cells that ever held an incident plus a k-ring
buffer (:func:`footprint_grid`) -- never the bare convex hull, whose sea and fields would add
zeros that inflate every hotspot, and never a footprint of one query's incidents, which
would draw their outline.
Neighbours are the cells within grid distance ``k`` (the k-ring, Uber's ``grid_disk``),
restricted to the study cells, with binary weights.

Resolution 10 has cells of about 15,000 m2 (average edge 75.9 m in H3 v4, ~150 m across), about
the size used by Dutch police forecasting (CAS); 8 (~0.74 km2) to 11 (~2,150 m2) are supported.

References
----------
.. [1] Uber Technologies (2018-2024). H3: a hexagonal hierarchical geospatial indexing system.
       https://h3geo.org/docs/core-library/restable (cell areas per resolution).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import h3ronpy
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import scipy.sparse as sp
import shapely
from h3ronpy.vector import (
    ContainmentMode,
    cells_to_coordinates,
    cells_to_wkb_polygons,
    coordinates_to_cells,
    geometry_to_cells,
)
from shapely.geometry.base import BaseGeometry

from spatial.errors import (
    EmptyStudyAreaError,
    InvalidParameterError,
    InvalidResolutionError,
    TooManyCellsError,
)

MIN_RES: Final = 8
MAX_RES: Final = 11

#: H3 v4 average hexagon area (m²) and edge length (m) per resolution (``h3.average_hexagon_*``).
CELL_AREA_M2: Final = {8: 737_327.598, 9: 105_332.513, 10: 15_047.502, 11: 2_149.643}
CELL_EDGE_M: Final = {8: 531.414, 9: 200.786, 10: 75.864, 11: 28.664}

CellArray = npt.NDArray[np.uint64]


def check_resolution(res: int) -> int:
    """Return ``res`` if it is a supported H3 resolution (8-11), else raise.

    Raises
    ------
    InvalidResolutionError
    """
    if (
        isinstance(res, bool)
        or not isinstance(res, int | np.integer)
        or not MIN_RES <= res <= MAX_RES
    ):
        raise InvalidResolutionError(
            f"H3 resolution must be an integer from {MIN_RES} to {MAX_RES}, got {res!r}"
        )
    return int(res)


@dataclass(frozen=True)
class H3Grid:
    """A study grid: sorted, unique H3 cells at one resolution.

    Attributes
    ----------
    cells
        H3 indexes (uint64), sorted ascending.
    res
        The H3 resolution.
    """

    cells: CellArray
    res: int

    @property
    def n(self) -> int:
        """Number of cells."""
        return int(self.cells.size)

    def index_of(self, cells: CellArray) -> npt.NDArray[np.int64]:
        """Return the position of each cell in the grid, or -1 where it is not a study cell."""
        c = np.asarray(cells, dtype=np.uint64)
        pos = np.searchsorted(self.cells, c)
        pos_clipped = np.minimum(pos, max(self.n - 1, 0))
        found = (
            (pos < self.n) & (self.cells[pos_clipped] == c) if self.n else np.zeros(c.shape, bool)
        )
        return np.where(found, pos_clipped, -1).astype(np.int64)

    def hex_ids(self) -> list[str]:
        """Return the cells as H3 strings (e.g. ``'8a1969...'``)."""
        return [format(int(c), "x") for c in self.cells]

    def centroids(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Return cell centroids as ``(lon, lat)`` arrays (WGS84)."""
        if self.n == 0:
            return np.empty(0), np.empty(0)
        batch = pa.record_batch(cells_to_coordinates(pa.array(self.cells)))
        lat = batch.column("lat").to_numpy()
        lng = batch.column("lng").to_numpy()
        return np.asarray(lng, dtype=np.float64), np.asarray(lat, dtype=np.float64)

    def polygons(self) -> npt.NDArray[np.object_]:
        """Return the cell boundaries as shapely polygons (WGS84, lon/lat)."""
        if self.n == 0:
            return np.empty(0, dtype=object)
        wkb = pa.array(cells_to_wkb_polygons(pa.array(self.cells))).to_pylist()
        return np.asarray(shapely.from_wkb(wkb), dtype=object)


def cells_of_points(lon: npt.ArrayLike, lat: npt.ArrayLike, res: int) -> CellArray:
    """Assign points (WGS84) to H3 cells, vectorised (h3ronpy; no Python loop).

    Examples
    --------
    >>> import h3
    >>> c = cells_of_points([4.3], [52.08], 10)
    >>> format(int(c[0]), "x") == h3.latlng_to_cell(52.08, 4.3, 10)
    True
    """
    res = check_resolution(res)
    lo = np.ascontiguousarray(lon, dtype=np.float64)
    la = np.ascontiguousarray(lat, dtype=np.float64)
    if lo.shape != la.shape:
        raise InvalidParameterError(f"lon and lat differ in length: {lo.shape} vs {la.shape}")
    if lo.size == 0:
        return np.empty(0, dtype=np.uint64)
    return np.asarray(
        pa.array(coordinates_to_cells(la, lo, res)).to_numpy(zero_copy_only=False), dtype=np.uint64
    )


def area_m2(area: BaseGeometry) -> float:
    """Geodesic area (m²) of a WGS84 polygon on the WGS84 ellipsoid.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> round(area_m2(box(4.0, 52.0, 4.01, 52.01)) / 1e4, 1)  # hectares
    76.4
    """
    from pyproj import Geod

    return abs(float(Geod(ellps="WGS84").geometry_area_perimeter(area)[0]))


def check_cell_budget(n_cells: float, max_cells: int | None, res: int) -> None:
    """Raise :class:`TooManyCellsError` if a grid of ``n_cells`` exceeds ``max_cells``."""
    if max_cells is not None and n_cells > max_cells:
        raise TooManyCellsError(
            f"the study area holds about {int(n_cells):,} H3 cells at resolution {res}, more "
            f"than the {max_cells:,} allowed per request; choose a coarser resolution or a "
            "smaller area / te veel cellen: kies een grovere resolutie of een kleiner gebied"
        )


def study_grid(
    area: BaseGeometry,
    res: int,
    *,
    mask: BaseGeometry | None = None,
    max_cells: int | None = None,
) -> H3Grid:
    """Polyfill a study area (WGS84) with the H3 cells whose centroid lies inside it.

    Parameters
    ----------
    area
        Polygon or MultiPolygon in WGS84 (lon/lat).
    res
        H3 resolution, 8-11.
    mask
        Optional area where the phenomenon cannot occur (water, no dwellings): cells whose
        centroid lies in it are left out.
    max_cells
        Refuse (before filling) an area whose estimated cell count exceeds this.

    Raises
    ------
    InvalidResolutionError, EmptyStudyAreaError, TooManyCellsError
    """
    res = check_resolution(res)
    if area is None or area.is_empty:
        raise EmptyStudyAreaError("the study area is empty / het studiegebied is leeg")
    # Estimate first: filling 4.7 million cells takes half a minute (a cheap denial of service).
    check_cell_budget(area_m2(area) / CELL_AREA_M2[res], max_cells, res)
    cells = np.asarray(
        pa.array(
            geometry_to_cells(area, res, containment_mode=ContainmentMode.ContainsCentroid)
        ).to_numpy(zero_copy_only=False),
        dtype=np.uint64,
    )
    cells = np.unique(cells)
    if mask is not None and not mask.is_empty and cells.size:
        lon, lat = H3Grid(cells, res).centroids()
        cells = cells[~shapely.contains_xy(mask, lon, lat)]
    if cells.size == 0:
        raise EmptyStudyAreaError(
            f"no H3 cell of resolution {res} has its centre in the study area; "
            "use a finer resolution / kies een fijnere resolutie"
        )
    return H3Grid(cells, res)


def buffer_rings(res: int, buffer_m: float) -> int:
    r"""Return the number of k-rings that reach about ``buffer_m`` beyond a cell (at least 1).

    Neighbouring H3 centres are :math:`\sqrt{3}` edge lengths apart.

    Examples
    --------
    >>> [buffer_rings(r, 250.0) for r in (8, 9, 10, 11)]
    [1, 1, 2, 5]
    """
    step = CELL_EDGE_M[check_resolution(res)] * np.sqrt(3.0)
    return max(1, round(buffer_m / step))


def footprint_grid(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    res: int,
    *,
    k_ring: int = 1,
    max_cells: int | None = None,
) -> H3Grid:
    """Study grid for data without a polygon: cells holding points plus ``k_ring`` rings.

    Use it with *all* stored incidents (any category, any period), not one query's: then the
    grid does not depend on, and cannot reveal, the incidents being analysed.

    Raises
    ------
    EmptyStudyAreaError, InvalidParameterError, TooManyCellsError

    Examples
    --------
    >>> g = footprint_grid([4.3], [52.08], 10, k_ring=1)
    >>> g.n  # one cell and its six neighbours
    7
    """
    res = check_resolution(res)
    if isinstance(k_ring, bool) or not isinstance(k_ring, int | np.integer) or k_ring < 0:
        raise InvalidParameterError(f"k_ring must be an integer >= 0, got {k_ring!r}")
    lo = np.asarray(lon, dtype=np.float64)
    la = np.asarray(lat, dtype=np.float64)
    if lo.size == 0:
        raise EmptyStudyAreaError("no points to build a study area from / geen punten")
    core = np.unique(cells_of_points(lo, la, res))
    check_cell_budget(core.size * (3 * k_ring * (k_ring + 1) + 1), max_cells, res)
    if k_ring == 0:
        return H3Grid(core, res)
    disks = pa.array(h3ronpy.grid_disk(pa.array(core), int(k_ring)))
    cells = np.unique(np.asarray(disks.values.to_numpy(zero_copy_only=False), dtype=np.uint64))
    check_cell_budget(cells.size, max_cells, res)
    return H3Grid(cells, res)


def grid_from_points(
    lon: npt.ArrayLike, lat: npt.ArrayLike, res: int, buffer_m: float = 0.0
) -> H3Grid:
    """Convex hull of the points as a study grid (reference tests on point sets only).

    Services use :func:`footprint_grid` or :func:`study_grid`: a hull takes in sea and fields,
    and a hull of one query's incidents draws their outline. ``buffer_m`` widens the hull
    (approximately, in degrees at the data's latitude).
    """
    lo = np.asarray(lon, dtype=np.float64)
    la = np.asarray(lat, dtype=np.float64)
    if lo.size == 0:
        raise EmptyStudyAreaError("no points to build a study area from / geen punten")
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([lo, la])))
    deg = buffer_m / 111_320.0
    area = hull.buffer(max(deg, 1e-6)) if hull.geom_type != "Polygon" or deg > 0 else hull
    cells = study_grid(area, res).cells
    # Every point's own cell belongs to the study area, even at the hull's edge.
    cells = np.union1d(cells, cells_of_points(lo, la, res))
    return H3Grid(cells, res)


def count_in_cells(
    grid: H3Grid,
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
) -> tuple[npt.NDArray[np.float64], int]:
    """Count (or sum ``weights`` of) points per study cell.

    Returns
    -------
    counts
        One value per grid cell (zeros included), float64.
    outside
        Number of points that fell outside the study grid.
    """
    cells = cells_of_points(lon, lat, grid.res)
    idx = grid.index_of(cells)
    inside = idx >= 0
    w = None if weights is None else np.asarray(weights, dtype=np.float64)[inside]
    counts = np.bincount(idx[inside], weights=w, minlength=grid.n).astype(np.float64)
    return counts, int((~inside).sum())


def neighbours(grid: H3Grid, k: int = 1) -> sp.csr_matrix:
    """Binary k-ring neighbour matrix of the study cells, WITHOUT the diagonal.

    ``W[i, j] = 1`` when cell ``j`` is within grid distance ``k`` of cell ``i`` (and ``j != i``)
    and both are study cells. Built vectorised with h3ronpy's ``grid_disk``.

    Raises
    ------
    InvalidParameterError
        If ``k`` is not an integer >= 1.
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InvalidParameterError(f"k must be an integer >= 1, got {k!r}")
    n = grid.n
    disks = pa.array(h3ronpy.grid_disk(pa.array(grid.cells), int(k)))
    offsets = disks.offsets.to_numpy()
    flat = np.asarray(disks.values.to_numpy(zero_copy_only=False), dtype=np.uint64)
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets))
    cols = grid.index_of(flat)
    keep = (cols >= 0) & (cols != rows)
    data = np.ones(int(keep.sum()), dtype=np.float64)
    w = sp.csr_matrix((data, (rows[keep], cols[keep])), shape=(n, n))
    w.sum_duplicates()
    return w
