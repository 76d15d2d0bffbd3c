"""Emerging hot spots: ArcGIS's space-time patterns per H3 cell (monthly bins).

Viewers (the privacy model, :mod:`geo_service.web.policy`): counts below ``k`` are withheld
and the rest rounded (:func:`geo_service.web.privacy.suppress_props`); the pattern, its code
and the numbers of hot and cold months are shown only where the cell's neighbourhood (the cell
and its k-ring) held at least ``k`` incidents over the whole period -- a new hot spot around a
lone incident would otherwise say where and when it happened; the trend scores (``tau``,
``trend_p``, ``z_last``) are never shown to viewers (z is linear in neighbourhood counts, as
for Gi*). Bins are whole calendar months, as the viewer period is (whole months, at least
``viewer_min_period_months``); OGC clients cannot ask for weeks.
"""

from __future__ import annotations

from typing import Any

from geo_service.errors import NotFoundError
from geo_service.store import Store
from geo_service.web.policy import ViewerPolicy
from geo_service.web.privacy import suppress_counts, suppress_props
from geo_service.web.registry import FeatureCollection, Layer, LayerQuery

#: Exact scores viewers never get.
EMERGING_HIDDEN = ("tau", "trend_p", "z_last")
#: What a viewer sees of a cell only where its neighbourhood held at least k incidents.
PATTERN_FIELDS = ("pattern", "patroon", "pattern_code", "n_hot_bins", "n_cold_bins")


def _emerging(store: Store, query: LayerQuery) -> FeatureCollection:
    from geo_service.emerging import EmergingParams, emerging_geojson

    category = query.incidents.category
    if not category:
        cats = store.categories()
        if not cats:
            raise NotFoundError("no incidents stored yet / nog geen incidenten opgeslagen")
        category = cats[0]
    params = EmergingParams(
        incidents=query.incidents.replace(category=category),
        res=query.res,
        time_bin="month",
        max_cells=query.max_cells,
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
)
