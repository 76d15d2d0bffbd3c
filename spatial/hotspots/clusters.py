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

import numpy as np
import numpy.typing as npt
from scipy.sparse.csgraph import connected_components

from spatial.errors import InvalidParameterError
from spatial.grid.h3grid import CellArray, H3Grid, check_resolution, neighbours


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
