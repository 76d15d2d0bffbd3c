"""Hotspot clusters: contiguous significant H3 cells as one place.

A planner reads "the area around the station", not twelve cell ids. Cells that share an
edge (H3 grid distance 1) are joined into one cluster: the connected components of the
k-ring-1 neighbour graph restricted to the given cells.

A cluster can be far larger than a team can walk (a 3 km² "place" named after nineteen
buurten). :func:`split_clusters` cuts every cluster above a maximum area into contiguous
parts by recursive bisection: the cells are split across the principal axis of their centres
at the half of their area, each half's connected components are the new parts, and parts
still too large are split again (recursive coordinate bisection, [2]_).

References
----------
.. [1] Uber Technologies (2018-2024). H3: ``grid_disk`` and neighbour traversal.
       https://h3geo.org/docs/api/traversal
.. [2] Berger, M. J. & Bokhari, S. H. (1987). A partitioning strategy for nonuniform
       problems on multiprocessors. IEEE Transactions on Computers C-36(5), 570-580.
"""

from __future__ import annotations

from dataclasses import dataclass

import h3
import h3ronpy
import numpy as np
import numpy.typing as npt
import pyarrow as pa
from scipy.sparse.csgraph import connected_components

from spatial.errors import InvalidParameterError
from spatial.grid.h3grid import CellArray, H3Grid, check_resolution, neighbours
from spatial.privacy.disclosure import cell_keys


def cell_clusters(cells: npt.ArrayLike, res: int) -> npt.NDArray[np.int64]:
    """Label contiguous cells: one integer per cell, equal for cells of one cluster.

    Parameters
    ----------
    cells
        H3 indexes (uint64) at resolution ``res``, in any order, without duplicates.
    res
        Their H3 resolution.

    Returns
    -------
    numpy.ndarray
        Cluster label per input cell (0, 1, ...), numbered by decreasing cluster size and,
        between clusters of equal size, by their smallest cell index, so labels are stable.

    Raises
    ------
    InvalidParameterError
        If a cell occurs twice.

    Examples
    --------
    >>> import h3
    >>> a = h3.latlng_to_cell(52.08, 4.30, 10)
    >>> b = h3.grid_ring(a, 1)[0]          # a neighbour of a
    >>> far = h3.latlng_to_cell(52.10, 4.35, 10)
    >>> cell_clusters([int(a, 16), int(far, 16), int(b, 16)], 10).tolist()
    [0, 1, 0]
    """
    arr: CellArray = np.asarray(cells, dtype=np.uint64)
    res = check_resolution(res)
    if arr.size == 0:
        return np.empty(0, dtype=np.int64)
    order = np.argsort(arr, kind="stable")
    sorted_cells = arr[order]
    if np.any(sorted_cells[1:] == sorted_cells[:-1]):
        raise InvalidParameterError("cells must be unique / dubbele cellen")
    grid = H3Grid(sorted_cells, res)
    n_comp, raw = connected_components(neighbours(grid, 1), directed=False)
    sizes = np.bincount(raw, minlength=n_comp)
    first = np.full(n_comp, grid.n, dtype=np.int64)
    np.minimum.at(first, raw, np.arange(grid.n))
    # Largest first; ties by the position of the smallest cell (the grid is sorted).
    rank = np.lexsort((first, -sizes))
    relabel = np.empty(n_comp, dtype=np.int64)
    relabel[rank] = np.arange(n_comp)
    labels = np.empty(arr.size, dtype=np.int64)
    labels[order] = relabel[raw]
    return labels


#: Largest hotspot place, km²: about 1 km by 1 km, a block a team can walk in a shift.
MAX_PLACE_KM2 = 1.0


def _relabel(
    arr: npt.NDArray[np.uint64], parts: list[npt.NDArray[np.int64]]
) -> npt.NDArray[np.int64]:
    """Label ``parts`` (index arrays into ``arr``) largest first, ties by their smallest cell."""
    rank = sorted(range(len(parts)), key=lambda p: (-len(parts[p]), int(arr[parts[p]].min())))
    labels = np.empty(arr.size, dtype=np.int64)
    for new, p in enumerate(rank):
        labels[parts[p]] = new
    return labels


def split_clusters(
    cells: npt.ArrayLike,
    labels: npt.ArrayLike,
    res: int,
    max_area_km2: float = MAX_PLACE_KM2,
) -> npt.NDArray[np.int64]:
    """Split every cluster larger than ``max_area_km2`` into contiguous parts.

    Recursive bisection (module docstring): a part whose summed cell area ``A`` exceeds
    ``max_area_km2`` is cut across the principal axis of its cell centres (local
    equirectangular metres, ``x = lon cos(lat0)``, ``y = lat``) where the cumulative cell
    area along that axis reaches ``A / 2``; the connected components of each side are the new
    parts. A single cell is never split, so a part exceeds the maximum only when one cell does.

    Parameters
    ----------
    cells
        H3 indexes (uint64) at ``res``, without duplicates.
    labels
        Cluster label per cell (:func:`cell_clusters`); cells of one label are contiguous.
    res
        Their H3 resolution.
    max_area_km2
        Largest area of a part (> 0).

    Returns
    -------
    numpy.ndarray
        New labels (0, 1, ...): every part is contiguous, no larger than ``max_area_km2``
        unless it is one cell, and lies inside one input cluster; numbered as
        :func:`cell_clusters` numbers clusters (largest first, ties by smallest cell index).
        A cluster within the maximum keeps its cells together.

    Raises
    ------
    InvalidParameterError
        A non-positive maximum, or labels and cells of different lengths.

    Examples
    --------
    >>> import h3
    >>> disk = [int(c, 16) for c in h3.grid_disk(h3.latlng_to_cell(52.08, 4.30, 10), 2)]
    >>> split_clusters(disk, cell_clusters(disk, 10), 10, max_area_km2=1.0).max()  # 0.28 km²
    np.int64(0)
    >>> int(split_clusters(disk, cell_clusters(disk, 10), 10, max_area_km2=0.1).max()) + 1 >= 3
    True
    """
    arr: CellArray = np.asarray(cells, dtype=np.uint64)
    lab = np.asarray(labels, dtype=np.int64)
    if lab.shape != arr.shape:
        raise InvalidParameterError(f"cells and labels differ in length: {arr.shape} {lab.shape}")
    if not max_area_km2 > 0:
        raise InvalidParameterError(f"max_area_km2 must be > 0, got {max_area_km2}")
    res = check_resolution(res)
    if arr.size == 0:
        return lab.copy()
    # Areas and centres of all cells at once (h3ronpy, vectorised), as the study grid has them.
    area = np.asarray(
        pa.array(h3ronpy.cells_area_km2(pa.array(arr))).to_numpy(zero_copy_only=False),
        dtype=np.float64,
    )
    lon, lat = H3Grid(cells=arr, res=res).centroids()
    latlon = np.column_stack([lat, lon])
    parts: list[npt.NDArray[np.int64]] = []
    stack = [np.flatnonzero(lab == v) for v in np.unique(lab)]
    while stack:
        part = stack.pop()
        if len(part) < 2 or area[part].sum() <= max_area_km2:
            parts.append(part)
            continue
        lat0 = np.deg2rad(latlon[part, 0].mean())
        xy = np.column_stack([latlon[part, 1] * np.cos(lat0), latlon[part, 0]])
        xy -= xy.mean(axis=0)
        axis = np.linalg.svd(xy, full_matrices=False)[2][0]
        order = np.argsort(xy @ axis, kind="stable")
        half = np.searchsorted(np.cumsum(area[part][order]), area[part].sum() / 2)
        cut = int(np.clip(half, 1, len(part) - 1))
        for side in (part[order[:cut]], part[order[cut:]]):
            comp = cell_clusters(arr[side], res)
            stack += [side[comp == v] for v in range(int(comp.max()) + 1)]
    return _relabel(arr, parts)


def cluster_sums(
    labels: npt.ArrayLike, values: npt.ArrayLike, n_clusters: int | None = None
) -> npt.NDArray[np.float64]:
    """Sum ``values`` per cluster label (vectorised).

    Examples
    --------
    >>> cluster_sums([0, 1, 0], [2.0, 3.0, 4.0]).tolist()
    [6.0, 3.0]
    """
    lab = np.asarray(labels, dtype=np.int64)
    val = np.asarray(values, dtype=np.float64)
    if lab.shape != val.shape:
        raise InvalidParameterError(f"labels and values differ in length: {lab.shape} {val.shape}")
    size = int(lab.max()) + 1 if lab.size else 0
    return np.bincount(lab, weights=val, minlength=max(size, n_clusters or 0)).astype(np.float64)


@dataclass(frozen=True)
class ClusterProfile:
    """What a planner is told of each hotspot cluster; arrays of length ``n_clusters``.

    Attributes
    ----------
    labels
        Cluster label per hot cell (input order; :func:`cell_clusters`).
    n_clusters
        Number of clusters.
    incidents
        Points inside each cluster's cells.
    keys
        Cell key of each cluster's points (sum of record keys mod 2**32,
        :func:`spatial.privacy.disclosure.cell_keys`); zeros when no record keys were given.
    cells
        Cells per cluster.
    area_km2
        Summed H3 cell area (geodesic) per cluster.
    dwellings
        Estimated dwellings per cluster by areal weighting: sum over its cells of
        ``density x cell area`` (unknown densities count 0).
    dwellings_known
        Whether every cell of the cluster had a known dwelling density.
    strongest
        Highest Gi* class (1, 2, 3 for 90, 95, 99 %) among the cluster's cells.
    centre
        ``(n_clusters, 2)`` lat/lon: mean of the cluster's cell centres.
    """

    labels: npt.NDArray[np.int64]
    n_clusters: int
    incidents: npt.NDArray[np.float64]
    keys: npt.NDArray[np.uint64]
    cells: npt.NDArray[np.int64]
    area_km2: npt.NDArray[np.float64]
    dwellings: npt.NDArray[np.float64]
    dwellings_known: npt.NDArray[np.bool_]
    strongest: npt.NDArray[np.int64]
    centre: npt.NDArray[np.float64]


def cluster_profile(
    cells: npt.ArrayLike,
    classes: npt.ArrayLike,
    res: int,
    point_cells: npt.ArrayLike,
    *,
    record_keys: npt.ArrayLike | None = None,
    density_per_m2: npt.ArrayLike | None = None,
    max_area_km2: float | None = None,
) -> ClusterProfile:
    """Join hot cells into clusters and count, measure and key each one (vectorised).

    Parameters
    ----------
    cells
        Hot H3 cells (uint64) at ``res``, without duplicates.
    classes
        Their Gi* class (> 0).
    res
        H3 resolution of ``cells`` and ``point_cells``.
    point_cells
        The cell of every incident point of the period (uint64; points outside ``cells``
        are ignored).
    record_keys
        One record key per point (uint64) for the cell key of each cluster; None: zeros.
    density_per_m2
        Dwellings per m² at each hot cell (NaN: unknown); None: all unknown.
    max_area_km2
        Split clusters larger than this into contiguous parts (:func:`split_clusters`);
        None: whole connected components, however large.

    Returns
    -------
    ClusterProfile

    Examples
    --------
    >>> import h3
    >>> a = h3.latlng_to_cell(52.08, 4.30, 10)
    >>> b = h3.grid_ring(a, 1)[0]
    >>> far = h3.latlng_to_cell(52.00, 4.20, 10)
    >>> ids = np.array([int(c, 16) for c in (a, b, far)], dtype=np.uint64)
    >>> prof = cluster_profile(ids, [3, 1, 2], 10, ids[[0, 0, 1, 2]], record_keys=[1, 2, 3, 4])
    >>> prof.n_clusters, prof.incidents.tolist(), prof.keys.tolist(), prof.strongest.tolist()
    (2, [3.0, 1.0], [6, 4], [3, 2])
    """
    ids = np.asarray(cells, dtype=np.uint64)
    cls = np.asarray(classes, dtype=np.int64)
    if ids.shape != cls.shape:
        raise InvalidParameterError(f"cells and classes differ in length: {ids.shape} {cls.shape}")
    pts = np.asarray(point_cells, dtype=np.uint64)
    labels = cell_clusters(ids, res)
    if max_area_km2 is not None:
        labels = split_clusters(ids, labels, res, max_area_km2)
    n = int(labels.max()) + 1 if labels.size else 0
    # Points per hot cell: binary search of each point's cell among the sorted hot cells.
    order = np.argsort(ids)
    pos = np.minimum(np.searchsorted(ids[order], pts), max(len(ids) - 1, 0))
    inside = ids[order][pos] == pts if len(ids) else np.zeros(len(pts), dtype=bool)
    cell_of_point = order[pos[inside]]
    per_cell = np.bincount(cell_of_point, minlength=len(ids)).astype(np.float64)
    incidents = cluster_sums(labels, per_cell, n)
    if record_keys is None:
        keys = np.zeros(n, dtype=np.uint64)
    else:
        rk = np.asarray(record_keys, dtype=np.uint64)
        keys = cell_keys(rk[inside], labels[cell_of_point], n)
    hexes = [h3.int_to_str(int(c)) for c in ids]
    cell_area = np.array([h3.cell_area(c, unit="m^2") for c in hexes], dtype=np.float64)
    dens = (
        np.full(len(ids), np.nan)
        if density_per_m2 is None
        else np.asarray(density_per_m2, dtype=np.float64)
    )
    centres = np.array([h3.cell_to_latlng(c) for c in hexes], dtype=np.float64).reshape(-1, 2)
    sizes = np.bincount(labels, minlength=n).astype(np.int64)
    strongest = np.zeros(n, dtype=np.int64)
    np.maximum.at(strongest, labels, cls)
    return ClusterProfile(
        labels=labels,
        n_clusters=n,
        incidents=incidents,
        keys=keys,
        cells=sizes,
        area_km2=cluster_sums(labels, cell_area, n) / 1e6,
        dwellings=cluster_sums(labels, np.nan_to_num(dens) * cell_area, n),
        dwellings_known=cluster_sums(labels, np.isfinite(dens).astype(float), n) == sizes,
        strongest=strongest,
        centre=np.stack(
            [cluster_sums(labels, centres[:, i], n) / np.maximum(sizes, 1) for i in (0, 1)],
            axis=1,
        )
        if n
        else np.zeros((0, 2)),
    )
