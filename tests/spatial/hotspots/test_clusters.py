"""Hotspot clusters: connected components of H3 neighbours (hand-built cell sets)."""

from __future__ import annotations

import h3
import numpy as np
import pytest

from spatial.errors import InvalidParameterError
from spatial.hotspots.clusters import cell_clusters, cluster_sums


def _ids(cells: list[str]) -> np.ndarray:
    return np.array([int(c, 16) for c in cells], dtype=np.uint64)


def test_a_disk_and_a_far_cell_are_two_clusters_largest_first() -> None:
    centre = h3.latlng_to_cell(52.08, 4.30, 10)
    disk = h3.grid_disk(centre, 1)  # 7 cells sharing edges
    far = h3.latlng_to_cell(52.10, 4.35, 10)
    labels = cell_clusters(_ids([far, *disk]), 10)
    assert labels.tolist() == [1, 0, 0, 0, 0, 0, 0, 0]


def test_cells_two_apart_are_not_joined() -> None:
    a = h3.latlng_to_cell(52.08, 4.30, 11)
    b = h3.grid_ring(a, 2)[0]  # grid distance 2: no shared edge
    assert sorted(cell_clusters(_ids([a, b]), 11).tolist()) == [0, 1]


def test_a_chain_is_one_cluster_whatever_the_order() -> None:
    a = h3.latlng_to_cell(52.08, 4.30, 9)
    path = h3.grid_path_cells(a, h3.grid_ring(a, 4)[0])  # 5 cells in a row
    rng = np.random.default_rng(0)
    ids = _ids(list(path))
    for _ in range(3):
        assert set(cell_clusters(rng.permutation(ids), 9).tolist()) == {0}


def test_empty_and_duplicate_input() -> None:
    assert cell_clusters(np.empty(0, dtype=np.uint64), 10).size == 0
    a = h3.latlng_to_cell(52.08, 4.30, 10)
    with pytest.raises(InvalidParameterError):
        cell_clusters(_ids([a, a]), 10)


def test_cluster_sums() -> None:
    assert cluster_sums([1, 0, 1], [1.0, 2.0, 3.0]).tolist() == [2.0, 4.0]
    assert cluster_sums([0], [1.0], n_clusters=3).tolist() == [1.0, 0.0, 0.0]
