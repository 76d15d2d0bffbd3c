"""Reshaping IHA disks (spatial.targeting.reshape.refine_area), checked by brute force.

The independent references: every single swap of the result is enumerated here and judged
with networkx's connectivity (not the module's own search) -- none may be feasible and
improving (a local optimum of single swaps); and the proposals of ``propose_iha_areas``
hold at least the incidents of the disks they grew from, keep the gap and the size range.
"""

from __future__ import annotations

import itertools

import h3
import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from shapely.geometry import box

from spatial.errors import InvalidParameterError
from spatial.grid.crs import WGS84, metric_crs_for, transform
from spatial.grid.h3grid import study_grid
from spatial.targeting.iha import cell_neighbours, disk_matrix, propose_iha_areas
from spatial.targeting.reshape import refine_area

BOX = box(4.28, 52.06, 4.33, 52.085)


def _graph(nbr: sp.csr_matrix) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(range(nbr.shape[0]))
    rows, cols = nbr.nonzero()
    g.add_edges_from(zip(rows.tolist(), cols.tolist(), strict=True))
    return g


def _improving_swaps(
    area: list[int],
    v: np.ndarray,
    z: np.ndarray,
    graph: nx.Graph,
    allowed: np.ndarray,
    km2: np.ndarray,
    lo: float,
    hi: float,
    touch: int = 2,
) -> list[tuple[int, int]]:
    """Every feasible improving single swap of ``area`` (brute force over all pairs).

    Feasible as documented in ``refine_area``: the cell out lies on the area's edge, the cell
    in is allowed and touches ``touch`` cells of the rest, the result is connected (networkx)
    and within the size range.
    """
    inside = set(area)
    found = []
    outside = [a for a in graph.nodes if a not in inside and allowed[a]]
    for r, a in itertools.product(sorted(inside), outside):
        if not (v[a] > v[r] and z[a] >= z[r]):
            continue
        if all(nb in inside for nb in graph.neighbors(r)):
            continue  # an inner cell: taking it out would punch a hole
        rest = inside - {r}
        if sum(1 for nb in graph.neighbors(a) if nb in rest) < touch:
            continue
        if not nx.is_connected(graph.subgraph(rest | {a})):
            continue
        size = km2[list(rest | {a})].sum()
        if lo - 1e-12 <= size <= hi + 1e-12:
            found.append((r, a))
    return found


@pytest.mark.parametrize("seed", range(4))
def test_result_is_a_local_optimum_of_single_swaps(seed: int) -> None:
    g = study_grid(BOX, 10)
    nbr = cell_neighbours(g)
    graph = _graph(nbr)
    rng = np.random.default_rng(seed)
    v = rng.poisson(2.0, g.n).astype(float)
    z = rng.normal(size=g.n)
    allowed = rng.random(g.n) > 0.1
    km2 = np.full(g.n, 0.013)
    centre = g.n // 2
    start = disk_matrix(g, [centre], 2).indices
    allowed[start] = True
    out = refine_area(start, v, z, nbr, allowed=allowed, cell_km2=km2, min_km2=0.2, max_km2=0.3)
    assert len(out) == len(start)  # same number of cells
    assert nx.is_connected(graph.subgraph(out.tolist()))
    new = set(out.tolist()) - set(start.tolist())
    assert all(allowed[c] for c in new)
    assert v[out].sum() >= v[start].sum() and z[out].sum() >= z[start].sum() - 1e-9
    assert v[out].sum() > v[start].sum()  # random values: a disk is never the optimum
    assert _improving_swaps(out.tolist(), v, z, graph, allowed, km2, 0.2, 0.3) == []


def test_flat_values_leave_the_disk_and_bad_input_is_refused() -> None:
    g = study_grid(BOX, 10)
    nbr = cell_neighbours(g)
    start = disk_matrix(g, [g.n // 2], 2).indices
    out = refine_area(start, np.ones(g.n), np.zeros(g.n), nbr)
    assert out.tolist() == sorted(start.tolist())  # nothing to gain: no swap
    with pytest.raises(InvalidParameterError, match="connected"):
        refine_area([0, g.n - 1], np.ones(g.n), np.zeros(g.n), nbr)
    with pytest.raises(InvalidParameterError, match="min_touch"):
        refine_area(start, np.ones(g.n), np.zeros(g.n), nbr, min_touch=0)


def test_proposals_hold_more_than_their_disks_keep_gap_and_size() -> None:
    g = study_grid(box(4.26, 52.04, 4.36, 52.10), 10)
    rng = np.random.default_rng(7)
    lon, lat = g.centroids()
    # Two categories: elongated hot streaks (a street) over a Poisson background.
    counts = rng.poisson(0.3, (2, g.n)).astype(float)
    for k, (a0, b0) in enumerate([((4.29, 52.07), (4.31, 52.072)), ((4.33, 52.08), (4.34, 52.09))]):
        t = np.clip(
            ((lon - a0[0]) * (b0[0] - a0[0]) + (lat - a0[1]) * (b0[1] - a0[1]))
            / ((b0[0] - a0[0]) ** 2 + (b0[1] - a0[1]) ** 2),
            0,
            1,
        )
        d = np.hypot(
            lon - (a0[0] + t * (b0[0] - a0[0])), (lat - (a0[1] + t * (b0[1] - a0[1]))) * 1.6
        )
        counts[k] += rng.poisson(8.0 * np.exp(-((d / 0.0015) ** 2)))
    z = (counts - counts.mean(axis=1, keepdims=True)) / counts.std(axis=1, keepdims=True)
    disks = propose_iha_areas(g, z, counts, count=4, refine=False)
    shaped = propose_iha_areas(g, z, counts, count=4)
    assert len(shaped.cells) == len(disks.cells) == 4
    assert shaped.counts.sum() > disks.counts.sum()
    assert shaped.score.tolist() == sorted(shaped.score.tolist(), reverse=True)
    assert sorted(len(c) for c in shaped.cells) == sorted(len(c) for c in disks.cells)
    assert ((shaped.area_km2 >= 0.2) & (shaped.area_km2 <= 1.5)).all()
    graph = _graph(cell_neighbours(g))
    crs = metric_crs_for([float(np.median(lon))], [float(np.median(lat))])
    x, y = transform(lon, lat, WGS84, crs)
    for a, b in itertools.combinations(shaped.cells, 2):
        assert not set(a.tolist()) & set(b.tolist())
        gap = np.hypot(x[a][:, None] - x[b][None, :], y[a][:, None] - y[b][None, :]).min()
        assert gap >= 250.0  # centre to centre; the edges are a cell radius closer each
    for cells, centre, k in zip(shaped.cells, shaped.centre, shaped.rings, strict=True):
        assert nx.is_connected(graph.subgraph(cells.tolist()))
        # Within k + 2 rings of the disk's centre (REFINE_SPREAD_RINGS): compact.
        ring = {
            g.index_of(np.array([int(c, 16)]))[0]
            for c in h3.grid_disk(format(int(g.cells[centre]), "x"), int(k) + 2)
        }
        assert set(cells.tolist()) <= ring
