"""Emerging hot spots: ArcGIS's space-time patterns per H3 cell (monthly bins; viewers quarterly).

Viewers (the privacy model, :mod:`geo_service.web.policy`): the space-time cube is built from
*published* counts -- calendar quarters, the finest slice of the viewer lattice, each cell-
quarter perturbed by the cell key method exactly as the quarter's hotspot layer shows it -- so
the patterns and the numbers of hot and cold quarters are computed from values a viewer may
see anyway and say nothing more. The cell's total is published the same way. The pattern is
shown only where the cell's neighbourhood (the cell and its k-ring) holds at least ``k``
published incidents; the trend scores (``tau``, ``trend_p``, ``z_last``) are never shown to
viewers. Analysts get monthly bins from exact counts. OGC clients cannot ask for weeks.
"""

from __future__ import annotations

from typing import Any

from geo_service.store import Store
from geo_service.web.policy import ViewerPolicy
from geo_service.web.privacy import suppress_counts, suppress_props
from geo_service.web.published.base import FeatureCollection, Layer, LayerQuery

#: Exact scores viewers never get.
EMERGING_HIDDEN = ("tau", "trend_p", "z_last")
#: What a viewer sees of a cell only where its neighbourhood held at least k incidents.
PATTERN_FIELDS = ("pattern", "patroon", "pattern_code", "n_hot_bins", "n_cold_bins")


def _emerging(store: Store, query: LayerQuery) -> FeatureCollection:
    from geo_service.analyses.emerging import EmergingParams, emerging_geojson

    category = store.resolve_category(query.incidents.category)
    params = EmergingParams(
        incidents=query.incidents.replace(category=category),
        res=query.res,
        # viewers: quarters, the finest slice of the lattice (module docstring)
        time_bin="month" if query.disclosure is None else "quarter",
        max_cells=query.max_cells,
        disclosure=query.disclosure,
    )
    return emerging_geojson(store, params)


def suppress_emerging(fc: FeatureCollection, policy: ViewerPolicy) -> FeatureCollection:
    """Return a copy of an emerging hot spot collection safe for viewers (module docstring)."""
    out = suppress_counts({k: v for k, v in fc.items() if k != "features"}, policy, ())
    meta = fc.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("time_bins"), dict):
        # Whole months of the (snapped) period: the request's calendar, not incident dates.
        out["metadata"]["time_bins"] = meta["time_bins"]
        out["metadata"]["patterns"] = meta.get("patterns")
    feats: list[dict[str, Any]] = []
    for feat in fc.get("features", []):
        raw = dict(feat.get("properties") or {})
        hood = raw.pop("n_neighbourhood", None)
        for name in EMERGING_HIDDEN:
            raw.pop(name, None)
        if "suppressed" in raw:  # published by the cell key method in the adapter
            props = {**raw, "min_count": policy.min_count}
        else:
            props = suppress_props(raw, ("count",), policy)
        if hood is None or hood < policy.min_count:
            for name in PATTERN_FIELDS:
                props[name] = None
        feats.append({**feat, "properties": props})
    # Cells with a shown count first (stable), so that GDAL types `count` as a number.
    feats.sort(key=lambda f: bool(f["properties"].get("suppressed")))
    out["features"] = feats
    return out


EMERGING = Layer(
    id="emerging-hotspots",
    title="Opkomende hotspots (ruimte-tijdpatronen)",
    description=(
        "Ruimte-tijdpatroon per H3-zeshoek over hele maanden (Emerging Hot Spot Analysis: "
        "Getis-Ord Gi* per maand, gecorrigeerd met FDR, en de Mann-Kendall-trend). patroon: "
        "nieuwe, opeenvolgende, toenemende, aanhoudende, afnemende, sporadische, oscillerende "
        "of historische hotspot/coldspot, of geen patroon; leeg waar te weinig incidenten in "
        "de omgeving zijn om te tonen."
    ),
    min_role="viewer",
    features=_emerging,
    viewer_filter=suppress_emerging,
    temporal=True,
    cells=True,
    per_category=True,
)
