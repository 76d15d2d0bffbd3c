"""Hotspot clusters: contiguous significant H3 cells as one place.

A planner reads "the area around the station", not twelve cell ids. Cells that share an
edge (H3 grid distance 1) are joined into one cluster: the connected components of the
k-ring-1 neighbour graph restricted to the given cells.

References
----------
.. [1] Uber Technologies (2018-2024). H3: ``grid_disk`` and neighbour traversal.
       https://h3geo.org/docs/api/traversal
"""

from __future__ import annotations

from dataclasses import dataclass

import h3
import numpy as np
import numpy.typing as npt
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
