"""Hotspot places: the clusters of a Gi* layer, named by the areas they lie in.

Store -> spatial -> typed result: the incident points of the period and the areas come from
the store, :func:`spatial.hotspots.clusters.cluster_profile` joins the hot cells into clusters
and counts, measures and keys them; the result names each cluster by the buurten and wijk its
cells' centres lie in. The pages (``/overzicht``) format it for the caller (the privacy
policy decides what a viewer reads of the counts).

A place is at most :data:`~spatial.hotspots.clusters.MAX_PLACE_KM2` (1 km²): larger clusters
are split into contiguous parts (:func:`spatial.hotspots.clusters.split_clusters`), each a
place of its own, so a team is never sent to "a place" of three km² and nineteen buurten.

Dwellings per cluster are estimated by areal weighting: each cell takes the dwelling density
of the buurt (else the wijk) its centre lies in, times its area.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo_service.filters import IncidentFilter
from geo_service.store import Store
from layers.cells import CellTable
from spatial.grid.h3grid import area_m2, cells_of_points
from spatial.hotspots.clusters import MAX_PLACE_KM2, ClusterProfile, cluster_profile

__all__ = ["HotspotClusters", "compute_hotspot_clusters", "hot_cells"]


@dataclass(frozen=True)
class HotspotClusters:
    """The clusters of the hot cells of one Gi* layer, with the areas they lie in.

    Attributes
    ----------
    cells
        The hot cells (H3 strings), in the layer's order.
    profile
        Counts, keys, sizes, dwellings and strength per cluster.
    wijk
        Per cluster: the name of the wijk most of its cells lie in ("buiten de wijken").
    buurten
        Per cluster: the buurt names its cells lie in, most cells first.
    """

    cells: list[str]
    profile: ClusterProfile
    wijk: list[str]
    buurten: list[list[str]]


def hot_cells(table: CellTable, column: str = "gi_class_fdr") -> tuple[list[str], list[int]]:
    """Return the cells of a Gi* table with a positive class, and their classes."""
    classes = np.asarray(table.properties[column], dtype=float)
    keep = np.flatnonzero(np.nan_to_num(classes) > 0)
    return [str(table.ids[i]) for i in keep], [int(classes[i]) for i in keep]


def _names(store: Store, level: str) -> dict[str, str]:
    frame = store.areas_frame(level=level)
    return dict(zip(frame["code"].astype(str), frame["name"].astype(str), strict=True))


def _dwelling_density(store: Store, level: str, municipality: str | None) -> dict[str, float]:
    """Dwellings per m² of each area of ``level`` with known dwellings."""
    areas = store.areas_frame(level=level, municipality=municipality)
    out: dict[str, float] = {}
    if "dwellings" not in areas:
        return out
    for code, dwellings, geom in zip(
        areas["code"].astype(str), areas["dwellings"], areas.geometry, strict=True
    ):
        if dwellings is None or pd.isna(dwellings) or geom is None:
            continue
        area = area_m2(geom)
        if area > 0:
            out[code] = float(dwellings) / area
    return out


def compute_hotspot_clusters(
    store: Store,
    cells: list[str],
    classes: list[int],
    res: int,
    incidents: IncidentFilter,
    *,
    record_keys: bool = False,
    max_area_km2: float | None = MAX_PLACE_KM2,
) -> HotspotClusters:
    """Cluster the hot ``cells`` and count the ``incidents`` of each cluster.

    Parameters
    ----------
    cells, classes
        Hot cells at ``res`` and their Gi* class (:func:`hot_cells`).
    incidents
        The incidents of the layer's period (the one actually used).
    record_keys
        Also key each cluster's count (the cell key method, for viewers).
    max_area_km2
        Largest place: larger clusters are split into contiguous parts; None: never split.
    """
    ids = np.array([int(c, 16) for c in cells], dtype=np.uint64)
    pts = store.incident_points(incidents, record_keys=record_keys)
    point_cells = cells_of_points(pts["lon"].to_numpy(), pts["lat"].to_numpy(), res)
    centres = np.array([_centre(c) for c in cells], dtype=float).reshape(-1, 2)
    found = store.areas_for_points(centres[:, 1], centres[:, 0])
    per_buurt = _dwelling_density(store, "buurt", incidents.municipality)
    per_wijk = _dwelling_density(store, "wijk", incidents.municipality)
    density = np.array(
        [
            per_buurt.get(str(b), per_wijk.get(str(w), np.nan))
            for b, w in zip(found["buurt_code"], found["wijk_code"], strict=True)
        ],
        dtype=float,
    )
    profile = cluster_profile(
        ids,
        classes,
        res,
        point_cells,
        record_keys=pts["record_key"].to_numpy(dtype=np.uint64) if record_keys else None,
        density_per_m2=density,
        max_area_km2=max_area_km2,
    )
    wijk_names, buurt_names = _names(store, "wijk"), _names(store, "buurt")
    wijk: list[str] = []
    buurten: list[list[str]] = []
    for c in range(profile.n_clusters):
        members = np.flatnonzero(profile.labels == c)
        wijken = Counter(str(found["wijk_code"][i]) for i in members if found["wijk_code"][i])
        in_buurt = Counter(str(found["buurt_code"][i]) for i in members if found["buurt_code"][i])
        wijk.append(
            wijk_names.get(wijken.most_common(1)[0][0], "-") if wijken else "buiten de wijken"
        )
        buurten.append([buurt_names.get(b, b) for b, _ in in_buurt.most_common()])
    return HotspotClusters(cells=list(cells), profile=profile, wijk=wijk, buurten=buurten)


def _centre(cell: str) -> tuple[float, float]:
    import h3

    lat, lon = h3.cell_to_latlng(cell)
    return lat, lon
