"""Hotspot clusters: connected components of H3 neighbours (hand-built cell sets)."""

from __future__ import annotations

import h3
import numpy as np
import pytest

from spatial.errors import InvalidParameterError
from spatial.hotspots.clusters import cell_clusters, cluster_profile, cluster_sums, split_clusters


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


def test_cluster_profile_matches_a_loop_over_points() -> None:
    """Counts, keys, sizes, areas, dwellings and strength against plain Python loops."""
    rng = np.random.default_rng(7)
    centre = h3.latlng_to_cell(52.07, 4.30, 10)
    pool = sorted(h3.grid_disk(centre, 6))
    hot = [pool[i] for i in rng.choice(len(pool), size=40, replace=False)]
    ids = np.array([int(c, 16) for c in hot], dtype=np.uint64)
    classes = rng.integers(1, 4, size=len(hot))
    # points in hot cells, in other cells of the pool, and far away
    point_cells = np.array(
        [int(pool[i], 16) for i in rng.integers(0, len(pool), size=500)], dtype=np.uint64
    )
    keys = rng.integers(0, 2**32, size=len(point_cells), dtype=np.uint64)
    density = rng.uniform(0.001, 0.01, size=len(hot))
    density[3] = np.nan

    prof = cluster_profile(ids, classes, 10, point_cells, record_keys=keys, density_per_m2=density)
    labels = cell_clusters(ids, 10)
    assert prof.labels.tolist() == labels.tolist()
    for c in range(prof.n_clusters):
        members = [i for i in range(len(hot)) if labels[i] == c]
        member_ids = {int(ids[i]) for i in members}
        inside = [j for j, pc in enumerate(point_cells) if int(pc) in member_ids]
        assert prof.incidents[c] == len(inside)
        assert int(prof.keys[c]) == sum(int(keys[j]) for j in inside) % 2**32
        assert prof.cells[c] == len(members)
        areas = [h3.cell_area(hot[i], unit="m^2") for i in members]
        assert prof.area_km2[c] == pytest.approx(sum(areas) / 1e6, rel=1e-12)
        dw = sum(
            0.0 if np.isnan(density[i]) else density[i] * a
            for i, a in zip(members, areas, strict=True)
        )
        assert prof.dwellings[c] == pytest.approx(dw, rel=1e-12)
        assert bool(prof.dwellings_known[c]) == (3 not in members)
        assert prof.strongest[c] == max(classes[i] for i in members)
        lat = np.mean([h3.cell_to_latlng(hot[i])[0] for i in members])
        assert prof.centre[c, 0] == pytest.approx(lat, abs=1e-12)
    assert prof.incidents.sum() < len(point_cells)  # some points lie outside the hot cells


def test_cluster_profile_without_keys_or_points() -> None:
    a = int(h3.latlng_to_cell(52.07, 4.30, 9), 16)
    prof = cluster_profile(np.array([a], dtype=np.uint64), [2], 9, np.array([], dtype=np.uint64))
    assert prof.n_clusters == 1
    assert prof.incidents.tolist() == [0.0]
    assert prof.keys.tolist() == [0]
    assert not prof.dwellings_known[0]


def _area(cells: np.ndarray) -> float:
    return float(sum(h3.cell_area(h3.int_to_str(int(c)), unit="km^2") for c in cells))


def _check_parts(ids: np.ndarray, labels: np.ndarray, res: int, cap: float) -> None:
    for part in range(int(labels.max()) + 1):
        members = ids[labels == part]
        assert len(members) > 0
        # contiguous: the part is one connected component on its own
        assert set(cell_clusters(members, res).tolist()) == {0}
        assert _area(members) <= cap or len(members) == 1


def test_a_large_disk_is_bisected_into_eight_walkable_parts() -> None:
    # grid_disk(k=10) at res 10 is 331 cells of ~0.0126 km² at 52.08 N: 4.17 km². Bisection
    # at half the area: 2.09 km² halves and 1.04 km² quarters are still above 1 km², the
    # eighths (41 or 42 cells, ~0.52 km²) are not -- so exactly 8 parts (hand-derived).
    centre = h3.latlng_to_cell(52.08, 4.30, 10)
    ids = _ids(list(h3.grid_disk(centre, 10)))
    assert abs(_area(ids) - 4.17) < 0.01
    labels = split_clusters(ids, cell_clusters(ids, 10), 10, max_area_km2=1.0)
    assert int(labels.max()) + 1 == 8
    assert sorted(np.bincount(labels).tolist()) == [41] * 5 + [42] * 3
    _check_parts(ids, labels, 10, 1.0)


def test_a_ring_is_split_into_contiguous_arcs_and_small_clusters_are_kept() -> None:
    # A ring is the case a straight cut splits in two pieces per side: each side's
    # components become parts, so no part jumps the hole in the middle.
    centre = h3.latlng_to_cell(52.08, 4.30, 10)
    ring = list(h3.grid_ring(centre, 20))  # 120 cells, 1.51 km²
    far = h3.grid_disk(h3.latlng_to_cell(52.00, 4.20, 10), 1)  # 7 cells, far below the cap
    ids = _ids([*ring, *far])
    before = cell_clusters(ids, 10)
    labels = split_clusters(ids, before, 10, max_area_km2=1.0)
    assert int(labels.max()) + 1 >= 3
    _check_parts(ids, labels, 10, 1.0)
    small = labels[len(ring) :]
    assert len(set(small.tolist())) == 1  # the small cluster stays whole
    assert not set(small.tolist()) & set(labels[: len(ring)].tolist())
    # Within the cap nothing changes: the labels are cell_clusters' own.
    assert split_clusters(ids, before, 10, max_area_km2=2.0).tolist() == before.tolist()


def test_profile_with_a_cap_keeps_every_incident() -> None:
    centre = h3.latlng_to_cell(52.08, 4.30, 10)
    ids = _ids(list(h3.grid_disk(centre, 10)))
    rng = np.random.default_rng(1)
    points = ids[rng.integers(0, len(ids), 500)]
    whole = cluster_profile(ids, np.ones(len(ids)), 10, points)
    parts = cluster_profile(ids, np.ones(len(ids)), 10, points, max_area_km2=1.0)
    assert whole.n_clusters == 1 and parts.n_clusters == 8
    assert parts.incidents.sum() == whole.incidents.sum() == 500
    assert (parts.area_km2 <= 1.0).all()
    assert abs(parts.area_km2.sum() - whole.area_km2[0]) < 1e-9


def test_split_rejects_a_non_positive_cap() -> None:
    ids = _ids([h3.latlng_to_cell(52.08, 4.30, 10)])
    with pytest.raises(InvalidParameterError):
        split_clusters(ids, [0], 10, max_area_km2=0.0)
