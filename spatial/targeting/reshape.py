r"""Reshaping an area of grid cells by single cell swaps (the IHA proposals' last step).

A pure graph algorithm: cells are nodes, a sparse adjacency matrix their edges
(:func:`spatial.targeting.iha.cell_neighbours` for H3). :func:`refine_area` climbs to a
local optimum of single swaps that hold more of one value and lose none of another, keeping
the area connected and without holes or spikes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from spatial.errors import InvalidParameterError

IntArray = npt.NDArray[np.int64]

__all__ = ["refine_area"]


def _connected(members: set[int], neighbours: sp.csr_matrix) -> bool:
    """Whether ``members`` (non-empty) form one connected piece of the adjacency."""
    start = next(iter(members))
    seen = {start}
    stack = [start]
    indptr, indices = neighbours.indptr, neighbours.indices
    while stack:
        c = stack.pop()
        for nb in indices[indptr[c] : indptr[c + 1]]:
            nb = int(nb)
            if nb in members and nb not in seen:
                seen.add(nb)
                stack.append(nb)
    return len(seen) == len(members)


def refine_area(
    cells: npt.ArrayLike,
    value: npt.ArrayLike,
    index: npt.ArrayLike,
    neighbours: sp.csr_matrix,
    *,
    allowed: npt.ArrayLike | None = None,
    cell_km2: npt.ArrayLike | None = None,
    min_km2: float = 0.0,
    max_km2: float = float("inf"),
    min_touch: int = 2,
    max_swaps: int | None = None,
) -> IntArray:
    r"""Reshape a connected area by single cell swaps that hold more and lose no index.

    A swap takes a cell :math:`r` on the area's edge out (one with a neighbour outside the
    area: no holes are punched) and a cell :math:`a` outside it in. It is
    *improving* when :math:`v_a > v_r` (more incidents: ``value``) and :math:`Z_a \ge Z_r`
    (no lower index: ``index``), and *feasible* when the area stays connected, :math:`a` is
    ``allowed`` and touches at least ``min_touch`` cells of the area left after taking
    :math:`r` out (no one-cell spikes into a street), and the area's size stays in
    ``[min_km2, max_km2]``. Each step makes the improving feasible swap of the largest
    :math:`v_a - v_r` (ties: the larger :math:`Z_a - Z_r`, then the lowest cell indices), until
    none is left or after ``max_swaps`` (default four times the area's cells): a local
    optimum of single swaps. The number of cells never changes.

    Parameters
    ----------
    cells
        Grid indices of a connected area.
    value, index
        Per grid cell: what the area should hold (weighted incidents) and the index that
        must not fall (the composite Z).
    neighbours
        Cell adjacency (:func:`cell_neighbours`).
    allowed
        Per grid cell: may be taken in (default all).
    cell_km2, min_km2, max_km2
        Cell areas and the size range (default: no size check).
    min_touch
        Least neighbours inside the area of a cell taken in.
    max_swaps
        Upper bound on the swaps.

    Returns
    -------
    numpy.ndarray
        The area's grid indices, sorted.

    Raises
    ------
    InvalidParameterError
        An empty or disconnected area, or arrays of the wrong length.

    Examples
    --------
    A row of five cells 0-4 (a path); the area {1, 2} moves to where the incidents are:

    >>> import scipy.sparse as sp
    >>> path = sp.csr_matrix(([1.0] * 8, ([0, 1, 1, 2, 2, 3, 3, 4], [1, 0, 2, 1, 3, 2, 4, 3])))
    >>> refine_area([1, 2], [0, 1, 2, 5, 9], [0, 0, 0, 0, 0], path, min_touch=1).tolist()
    [3, 4]
    """
    if min_touch < 1:
        raise InvalidParameterError(f"min_touch must be >= 1, got {min_touch!r}")
    v = np.asarray(value, dtype=np.float64)
    z = np.asarray(index, dtype=np.float64)
    n = neighbours.shape[0]
    if v.shape != (n,) or z.shape != (n,):
        raise InvalidParameterError(f"value and index must have {n} values")
    ok = np.ones(n, dtype=bool) if allowed is None else np.asarray(allowed, dtype=bool)
    km2 = np.zeros(n) if cell_km2 is None else np.asarray(cell_km2, dtype=np.float64)
    area = {int(c) for c in np.asarray(cells, dtype=np.int64).ravel()}
    if not area or not _connected(area, neighbours):
        raise InvalidParameterError("the area must be a non-empty connected set of cells")
    indptr, indices = neighbours.indptr, neighbours.indices

    def nbrs(c: int) -> list[int]:
        return [int(x) for x in indices[indptr[c] : indptr[c + 1]]]

    size = float(km2[list(area)].sum())
    limit = 4 * len(area) if max_swaps is None else max_swaps
    for _ in range(limit):
        if len(area) < 2:
            break
        touch: dict[int, int] = {}
        for c in area:
            for nb in nbrs(c):
                if nb not in area:
                    touch[nb] = touch.get(nb, 0) + 1
        adds = [a for a in touch if ok[a] and touch[a] >= min_touch]
        edge = [r for r in area if any(nb not in area for nb in nbrs(r))]
        if not adds or not edge:
            break
        adds.sort(key=lambda a: (-v[a], -z[a], a))
        edge.sort(key=lambda r: (v[r], z[r], r))
        cut_ok: dict[int, bool] = {}
        best: tuple[float, float, int, int] | None = None
        for a in adds:
            if best is not None and v[a] - v[edge[0]] < best[0]:
                break  # adds are sorted: no later one can beat the best gain
            a_nb = set(nbrs(a))
            for r in edge:
                gain = v[a] - v[r]
                if gain <= 0 or (best is not None and gain < best[0]):
                    break
                if z[a] < z[r]:
                    continue
                new_size = size - km2[r] + km2[a]
                if not min_km2 - 1e-12 <= new_size <= max_km2 + 1e-12:
                    continue
                if len(a_nb & area) - (r in a_nb) < min_touch:
                    continue
                if r not in cut_ok:
                    cut_ok[r] = _connected(area - {r}, neighbours)
                if not cut_ok[r]:
                    continue
                key = (gain, float(z[a] - z[r]), -a, -r)
                if best is None or key > (best[0], best[1], -best[2], -best[3]):
                    best = (gain, float(z[a] - z[r]), a, r)
                break  # edge is sorted by value: the first feasible r is a's best
        if best is None:
            break
        _, _, a, r = best
        area.remove(r)
        area.add(a)
        size += float(km2[a] - km2[r])
    return np.asarray(sorted(area), dtype=np.int64)
