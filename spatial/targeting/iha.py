r"""IHA proposals: walkable action areas where several problems come together.

The pure core of ``geo-service iha``. An *integrale handhavingsactie* (IHA) is one
concentrated effort of municipality, police and partners in one neighbourhood for a day or
a week; it needs an area a team can walk (0.2-1.5 km\ :sup:`2`), where the problems it
targets are concentrated.

**Composite index.** Per H3 cell :math:`c` and category :math:`k` a standardised score
:math:`z_{kc}` (Getis-Ord Gi\* z of the category's counts) is combined with weights
:math:`w_k` as Stouffer's weighted Z,

.. math::

    Z_c = \frac{\sum_k w_k z_{kc}}{\sqrt{\sum_k w_k^2}},

which is again standard normal under the null of no clustering for independent
categories, so one threshold (:math:`Z_c \ge z_{hot}`, default 1.96) marks the *hot* cells
for any number of categories.

**Action areas.** Candidates are hexagonal disks of ``k`` rings (H3 ``grid_disk``, the cells
within grid distance ``k``) centred on a hot cell, for every ``k`` whose disk area lies in
``[min_km2, max_km2]`` (res 10: k = 2-5, 0.29-1.37 km\ :sup:`2`); a disk at the edge of the
study area keeps only its study cells and must still reach ``min_km2``. A disk's score is
the sum of :math:`Z_c` over its cells: hot cells add, ordinary cells (slightly negative Z)
subtract, so a disk grows only while it takes in more problem than quiet streets. It is
multiplied by :math:`(1 - \text{penalty} \cdot r)(1 + \text{bonus} \cdot d)`, with :math:`r`
the share of its cells in an area that had an IHA recently and :math:`d` the share in a
designated area.

**Shapes.** A disk is a compact start, not the best walkable area: a hot street bends, a
park or the water cuts a disk. Each chosen disk is then reshaped (:func:`refine_area`) by
swapping one cell at a time: a cell at its edge out, a neighbouring cell in, when the swap
raises the incidents held (weighted by :math:`w_k`) and does not lower the index, the area
stays connected, every cell taken in touches at least two of its cells (no spikes), the
size stays in range and the gap to the other proposals holds. Same number of cells, more
incidents: a hill climb to a local optimum of single swaps.

**Selection.** Greedy: the best disk is taken, every disk that overlaps it or has a cell
whose centre lies within ``gap_m`` plus two cell radii of one of its cells (metric CRS of the
grid) is struck out -- so the edges of two proposals are at least ``gap_m`` apart -- and so
on, ``count`` times (a handful: no loop over cells). The candidate that wins the next step
is what each proposal beat; after the last, the best remaining candidate (the *reserve*)
plays that role.

References
----------
.. [1] Stouffer, S. A. et al. (1949). The American Soldier, Vol. 1. Princeton University
       Press (combining z-scores); Whitlock, M. C. (2005). Combining probability from
       independent tests: the weighted Z-method. J. Evol. Biol. 18(5), 1368-1373.
.. [2] Ord, J. K. and Getis, A. (1995). Local spatial autocorrelation statistics:
       distributional issues and an application. Geographical Analysis 27(4), 286-306.
"""

from __future__ import annotations

from dataclasses import dataclass

import h3ronpy
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import scipy.sparse as sp
from scipy.spatial import cKDTree

from spatial.errors import InvalidParameterError
from spatial.grid.crs import WGS84, metric_crs_for, transform
from spatial.grid.h3grid import CELL_AREA_M2, CELL_EDGE_M, H3Grid, check_resolution
from spatial.targeting.reshape import refine_area

#: How far (in H3 rings) a chosen disk of ``k`` rings may reshape beyond its own ``k`` rings.
REFINE_SPREAD_RINGS = 2

#: H3 cells vary in size; a cell's radius (centre to corner = edge) is taken this much above
#: the resolution's average edge when spacing proposals.
_EDGE_SLACK = 1.15

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def composite_z(z: npt.ArrayLike, weights: npt.ArrayLike) -> FloatArray:
    r"""Stouffer's weighted Z per cell from per-category z-scores.

    Parameters
    ----------
    z
        ``(K, n)`` z-scores, one row per category.
    weights
        ``(K,)`` non-negative weights, not all zero.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` :math:`\sum_k w_k z_k / \sqrt{\sum_k w_k^2}`.

    Raises
    ------
    InvalidParameterError
        Mismatched shapes, non-finite values or invalid weights.

    Examples
    --------
    >>> composite_z([[2.0, 0.0], [2.0, -1.0]], [1, 1]).round(4).tolist()
    [2.8284, -0.7071]
    >>> composite_z([[2.0, 0.0], [2.0, -1.0]], [1, 0]).tolist()
    [2.0, 0.0]
    """
    zz = np.asarray(z, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if zz.ndim != 2 or w.shape != (zz.shape[0],):
        raise InvalidParameterError(f"z must be (K, n) and weights (K,), got {zz.shape} {w.shape}")
    if not np.isfinite(zz).all() or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise InvalidParameterError("z must be finite; weights non-negative, not all zero")
    out: FloatArray = (w @ zz) / np.sqrt((w**2).sum())
    return out


def disk_rings(
    res: int, min_km2: float, max_km2: float, cell_km2: float | None = None
) -> list[int]:
    """Ring counts ``k`` whose full H3 disk (``1 + 3k(k+1)`` cells) lies in the size range.

    ``cell_km2`` is the area of one cell (default: the resolution's global average; H3 cells
    in the Netherlands are ~15 % smaller).

    Examples
    --------
    >>> [disk_rings(r, 0.2, 1.5) for r in (8, 9, 10, 11)]
    [[0], [1], [2, 3, 4, 5], [6, 7, 8, 9, 10, 11, 12, 13, 14]]
    >>> disk_rings(10, 0.2, 1.5, cell_km2=0.0126)
    [2, 3, 4, 5]
    """
    if cell_km2 is None:
        cell_km2 = CELL_AREA_M2[check_resolution(res)] / 1e6
    if not 0 < min_km2 <= max_km2:
        raise InvalidParameterError(f"need 0 < min_km2 <= max_km2, got {min_km2!r} and {max_km2!r}")
    ks = []
    k = 0
    while (1 + 3 * k * (k + 1)) * cell_km2 <= max_km2:
        if (1 + 3 * k * (k + 1)) * cell_km2 >= min_km2:
            ks.append(k)
        k += 1
    return ks


def disk_matrix(grid: H3Grid, rows: npt.ArrayLike, k: int) -> sp.csr_matrix:
    """Binary ``(len(rows), n)`` matrix: the study cells within ``k`` rings of each row cell.

    The row cell itself is included (a disk); cells outside the study grid are left out.
    """
    r = np.asarray(rows, dtype=np.int64)
    if r.size == 0:
        return sp.csr_matrix((0, grid.n))
    if k == 0:
        return sp.csr_matrix((np.ones(r.size), (np.arange(r.size), r)), shape=(r.size, grid.n))
    disks = pa.array(h3ronpy.grid_disk(pa.array(grid.cells[r]), int(k)))
    offsets = disks.offsets.to_numpy()
    flat = np.asarray(disks.values.to_numpy(zero_copy_only=False), dtype=np.uint64)
    row = np.repeat(np.arange(r.size, dtype=np.int64), np.diff(offsets))
    col = grid.index_of(flat)
    keep = col >= 0
    m = sp.csr_matrix((np.ones(int(keep.sum())), (row[keep], col[keep])), shape=(r.size, grid.n))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


def cell_neighbours(grid: H3Grid) -> sp.csr_matrix:
    """Binary ``(n, n)`` adjacency of the study cells: H3 1-ring neighbours, not the cell itself."""
    adj = disk_matrix(grid, np.arange(grid.n, dtype=np.int64), 1).tolil()
    adj.setdiag(0)
    out = adj.tocsr()
    out.eliminate_zeros()
    return out


@dataclass(frozen=True)
class IHAProposals:
    r"""Chosen action areas and the reserve (arrays per proposal aligned, best first).

    Attributes
    ----------
    composite
        :math:`Z_c` per study cell.
    hot
        Per study cell: :math:`Z_c \ge z_{hot}`.
    centre
        Grid index of each proposal's centre cell.
    rings
        Rings ``k`` of each proposal's disk.
    cells
        Grid indices of each proposal's cells.
    score
        Adjusted score (the one ranked).
    raw_score
        Sum of :math:`Z_c` before penalty and bonus.
    recent_share, designated_share
        Share of the proposal's cells recently under an IHA / in a designated area.
    counts
        ``(K, m)`` incidents per category in each proposal.
    contribution
        ``(K, m)`` each category's part of the raw score
        (:math:`w_k \sum_c z_{kc} / \sqrt{\sum w^2}`).
    area_km2
        Area of each proposal (sum of its cells' areas).
    n_candidates
        Candidate disks considered.
    reserve
        Index into the *candidate* arrays of the best candidate left after the last pick,
        or None; its figures are in ``reserve_*``.
    """

    composite: FloatArray
    hot: BoolArray
    centre: IntArray
    rings: IntArray
    cells: list[IntArray]
    score: FloatArray
    raw_score: FloatArray
    recent_share: FloatArray
    designated_share: FloatArray
    counts: FloatArray
    contribution: FloatArray
    area_km2: FloatArray
    n_candidates: int
    reserve: dict[str, object] | None


def propose_iha_areas(
    grid: H3Grid,
    z: npt.ArrayLike,
    counts: npt.ArrayLike,
    *,
    weights: npt.ArrayLike | None = None,
    count: int = 10,
    min_km2: float = 0.2,
    max_km2: float = 1.5,
    gap_m: float = 250.0,
    z_hot: float = 1.96,
    recent: npt.ArrayLike | None = None,
    designated: npt.ArrayLike | None = None,
    penalty: float = 0.5,
    bonus: float = 0.25,
    refine: bool = True,
) -> IHAProposals:
    r"""Choose ``count`` non-overlapping, spaced action areas of walkable size.

    Parameters
    ----------
    grid
        The study grid.
    z
        ``(K, n)`` per-category z-scores per cell (e.g. Gi* z).
    counts
        ``(K, n)`` incidents per category per cell (reported per proposal).
    weights
        ``(K,)`` category weights (default all 1).
    count
        Number of proposals (fewer when fewer candidates exist).
    min_km2, max_km2
        Size range of an action area.
    gap_m
        Least distance between the edges of two proposals, in metres (0: only no overlap).
    z_hot
        Threshold of the composite index for a hot cell (a candidate centre).
    recent, designated
        Per cell: recently under an IHA (penalised) / in a designated area (bonus).
    penalty, bonus
        Score factors :math:`(1 - \text{penalty}\, r)(1 + \text{bonus}\, d)`.
    refine
        Reshape each chosen disk (:func:`refine_area`: more weighted incidents, no lower
        index, same number of cells, the gap to the others kept); the proposals are then
        ranked by their new scores. False keeps the disks.

    Returns
    -------
    IHAProposals

    Raises
    ------
    InvalidParameterError
        Invalid shapes or settings, or no disk size in the range at this resolution.

    Examples
    --------
    Two hot spots of one category in a res-10 grid; two proposals, one each:

    >>> import h3
    >>> from spatial.grid.h3grid import study_grid
    >>> from shapely.geometry import box
    >>> g = study_grid(box(4.28, 52.06, 4.34, 52.09), 10)
    >>> z = np.full((1, g.n), -0.2)
    >>> a = g.index_of(np.array([int(h3.latlng_to_cell(52.07, 4.29, 10), 16)]))[0]
    >>> b = g.index_of(np.array([int(h3.latlng_to_cell(52.08, 4.33, 10), 16)]))[0]
    >>> z[0, disk_matrix(g, [a], 2).indices] = 3.0
    >>> z[0, disk_matrix(g, [b], 1).indices] = 2.5
    >>> p = propose_iha_areas(g, z, np.zeros_like(z), count=3)
    >>> p.centre.tolist() == [a, b], p.rings.tolist(), p.score.round(1).tolist()
    (True, [2, 2], [57.0, 15.1])
    """
    res = check_resolution(grid.res)
    zz = np.asarray(z, dtype=np.float64)
    cc = np.asarray(counts, dtype=np.float64)
    if zz.ndim != 2 or zz.shape[1] != grid.n or cc.shape != zz.shape:
        raise InvalidParameterError(
            f"z and counts must be (K, {grid.n}), got {zz.shape} and {cc.shape}"
        )
    w = np.ones(zz.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    comp = composite_z(zz, w)
    norm = np.sqrt((w**2).sum())
    if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 1:
        raise InvalidParameterError(f"count must be an integer >= 1, got {count!r}")
    if not 0 <= penalty <= 1 or not 0 <= bonus <= 10 or gap_m < 0:
        raise InvalidParameterError(
            f"need 0 <= penalty <= 1, 0 <= bonus <= 10, gap_m >= 0; got {penalty}, {bonus}, {gap_m}"
        )
    # True cell areas (they shrink away from the icosahedron's faces' centres).
    cell_km2 = np.asarray(
        pa.array(h3ronpy.cells_area_km2(pa.array(grid.cells))).to_numpy(zero_copy_only=False),
        dtype=np.float64,
    )
    ks = disk_rings(res, min_km2, max_km2, float(np.median(cell_km2)) if grid.n else None)
    if not ks:
        raise InvalidParameterError(
            f"no H3 disk at resolution {res} is between {min_km2} and {max_km2} km2; choose "
            "another resolution / geen gebiedsgrootte mogelijk op deze resolutie"
        )
    rec = _mask(recent, grid.n, "recent")
    des = _mask(designated, grid.n, "designated")
    hot = comp >= z_hot
    centres = np.flatnonzero(hot).astype(np.int64)
    # Candidate (centre, k): disks as sparse rows, all scores in a few mat-vecs.
    disks = [disk_matrix(grid, centres, k) for k in ks]
    cand_m = sp.vstack(disks, format="csr") if centres.size else sp.csr_matrix((0, grid.n))
    cand_centre = np.tile(centres, len(ks))
    cand_k = np.repeat(np.asarray(ks, dtype=np.int64), centres.size)
    n_cells = np.asarray(cand_m.sum(axis=1)).ravel()
    area = cand_m @ cell_km2
    raw = cand_m @ comp
    with np.errstate(invalid="ignore", divide="ignore"):
        r_share = np.where(n_cells > 0, (cand_m @ rec.astype(float)) / n_cells, 0.0)
        d_share = np.where(n_cells > 0, (cand_m @ des.astype(float)) / n_cells, 0.0)
    score = raw * (1 - penalty * r_share) * (1 + bonus * d_share)
    alive = (area >= min_km2) & (area <= max_km2) & (raw > 0)
    # Spacing: cells whose centre lies within gap + two cell radii of a chosen cell are
    # struck out, so the edges of two proposals are at least ``gap_m`` apart.
    lon, lat = grid.centroids()
    crs = metric_crs_for([float(np.median(lon))], [float(np.median(lat))]) if grid.n else WGS84
    tree = cKDTree(np.column_stack(transform(lon, lat, WGS84, crs))) if grid.n else None
    reach = gap_m + 2 * _EDGE_SLACK * CELL_EDGE_M[res] if gap_m > 0 else 0.0
    # Ties (a hot core seen from several centres) go to the centre with the hottest 1-ring.
    core = np.tile(disk_matrix(grid, centres, 1) @ comp, len(ks))
    picks: list[int] = []
    for _ in range(count):  # a handful of proposals; each step is a few sparse products
        if not alive.any():
            break
        j = _best(score, alive, core)
        picks.append(j)
        chosen = cand_m.indices[cand_m.indptr[j] : cand_m.indptr[j + 1]]
        taken = np.zeros(grid.n)
        taken[chosen] = 1.0
        if reach > 0 and tree is not None:
            near = tree.query_ball_point(tree.data[chosen], reach, return_sorted=False)
            taken[np.concatenate([np.asarray(x, dtype=np.int64) for x in near])] = 1.0
        alive &= ~(cand_m @ taken > 0)
    reserve = None
    if alive.any():
        j = _best(score, alive, core)
        reserve = _figures(j, cand_m, cand_centre, cand_k, zz, cc, w, norm, cell_km2)
        reserve.update(
            score=float(score[j]),
            raw_score=float(raw[j]),
            recent_share=float(r_share[j]),
            designated_share=float(d_share[j]),
        )
    sel = np.asarray(picks, dtype=np.int64)
    cells = [
        cand_m.indices[cand_m.indptr[j] : cand_m.indptr[j + 1]].astype(np.int64) for j in picks
    ]
    if refine and cells:
        cells = _refined(
            grid,
            cells,
            (cand_centre[sel], cand_k[sel]),
            w @ cc,
            comp,
            cell_km2,
            tree,
            reach,
            (min_km2, max_km2),
        )
    m = len(cells)
    n_cells_sel = np.asarray([len(c) for c in cells], dtype=np.float64)
    raw_sel = np.asarray([comp[c].sum() for c in cells], dtype=np.float64)
    rec_sel = np.asarray([rec[c].sum() for c in cells], dtype=np.float64) / np.maximum(
        n_cells_sel, 1
    )
    des_sel = np.asarray([des[c].sum() for c in cells], dtype=np.float64) / np.maximum(
        n_cells_sel, 1
    )
    score_sel = raw_sel * (1 - penalty * rec_sel) * (1 + bonus * des_sel)
    # Refined areas are ranked by their own scores (a disk's rank may change).
    order = np.argsort(-score_sel, kind="stable") if refine else np.arange(m)
    cells = [cells[i] for i in order]
    k_cats = zz.shape[0]
    return IHAProposals(
        composite=comp,
        hot=hot,
        centre=cand_centre[sel][order],
        rings=cand_k[sel][order],
        cells=cells,
        score=score_sel[order],
        raw_score=raw_sel[order],
        recent_share=rec_sel[order],
        designated_share=des_sel[order],
        counts=np.asarray([cc[:, c].sum(axis=1) for c in cells], dtype=np.float64)
        .reshape(m, k_cats)
        .T,
        contribution=(
            np.asarray([zz[:, c].sum(axis=1) for c in cells], dtype=np.float64).reshape(m, k_cats)
            * w
            / norm
        ).T,
        area_km2=np.asarray([cell_km2[c].sum() for c in cells], dtype=np.float64),
        n_candidates=int(alive.size),
        reserve=reserve,
    )


def _refined(
    grid: H3Grid,
    cells: list[IntArray],
    disks: tuple[IntArray, IntArray],
    value: FloatArray,
    comp: FloatArray,
    cell_km2: FloatArray,
    tree: cKDTree | None,
    reach: float,
    size: tuple[float, float],
) -> list[IntArray]:
    """Each chosen disk through :func:`refine_area`, in order, keeping the others' gap.

    A disk of ``k`` rings may reshape within ``k + REFINE_SPREAD_RINGS`` rings of its centre,
    so the area stays as compact as a walk round it.
    """
    nbr = cell_neighbours(grid)
    out = list(cells)
    for i in range(len(out)):
        others = np.concatenate([c for j, c in enumerate(out) if j != i] or [np.zeros(0, int)])
        blocked = np.ones(grid.n, dtype=bool)
        centre, k = int(disks[0][i]), int(disks[1][i])
        blocked[disk_matrix(grid, [centre], k + REFINE_SPREAD_RINGS).indices] = False
        blocked[others] = True
        if reach > 0 and tree is not None and others.size:
            near = tree.query_ball_point(tree.data[others], reach, return_sorted=False)
            blocked[np.concatenate([np.asarray(x, dtype=np.int64) for x in near])] = True
        out[i] = refine_area(
            out[i],
            value,
            comp,
            nbr,
            allowed=~blocked,
            cell_km2=cell_km2,
            min_km2=size[0],
            max_km2=size[1],
        )
    return out


def _best(score: FloatArray, alive: BoolArray, centre_z: FloatArray) -> int:
    """Best live candidate; among equal scores the one with the largest ``centre_z``."""
    key = np.where(alive, score, -np.inf)
    top = key.max()
    ties = np.flatnonzero(key >= top - 1e-9 * max(1.0, abs(top)))
    return int(ties[np.argmax(centre_z[ties])])


def _mask(values: npt.ArrayLike | None, n: int, name: str) -> BoolArray:
    if values is None:
        return np.zeros(n, dtype=bool)
    m = np.asarray(values, dtype=bool)
    if m.shape != (n,):
        raise InvalidParameterError(f"{name} must have one value per cell ({n}), got {m.shape}")
    return m


def _figures(
    j: int,
    cand_m: sp.csr_matrix,
    centre: IntArray,
    rings: IntArray,
    z: FloatArray,
    counts: FloatArray,
    w: FloatArray,
    norm: float,
    cell_km2: FloatArray,
) -> dict[str, object]:
    cells = cand_m.indices[cand_m.indptr[j] : cand_m.indptr[j + 1]].astype(np.int64)
    return {
        "centre": int(centre[j]),
        "rings": int(rings[j]),
        "cells": cells,
        "counts": counts[:, cells].sum(axis=1),
        "contribution": z[:, cells].sum(axis=1) * w / norm,
        "area_km2": float(cell_km2[cells].sum()),
    }
