"""Hotspot layers: Getis-Ord Gi* classes and kernel density per H3 cell."""

from __future__ import annotations

from typing import Literal

from geo_service.store import Store
from geo_service.web.privacy import viewer_gistar_table, viewer_kde_table
from geo_service.web.published.base import FeatureCollection, Layer, LayerQuery
from layers.cells import CellTable


def hotspot_table(store: Store, query: LayerQuery, method: Literal["gistar", "kde"]) -> CellTable:
    """Compute the hotspot layer for ``query`` as a per-cell table (exact values)."""
    from geo_service.analyses.hotspots import HotspotParams, compute_hotspots

    params = HotspotParams(
        incidents=query.incidents.replace(
            category=store.resolve_category(query.incidents.category)
        ),
        method=method,
        res=query.res,
        permutations=query.permutations,
        max_cells=query.max_cells,
        disclosure=query.disclosure,
    )
    return compute_hotspots(store, params).table()


def hotspot_collection(
    store: Store, query: LayerQuery, method: Literal["gistar", "kde"]
) -> FeatureCollection:
    """Compute the hotspot FeatureCollection for ``query`` (exact values)."""
    return hotspot_table(store, query, method).to_geojson()


def _gistar_table(store: Store, query: LayerQuery) -> CellTable:
    return hotspot_table(store, query, "gistar")


def _kde_table(store: Store, query: LayerQuery) -> CellTable:
    return hotspot_table(store, query, "kde")


def _gistar(store: Store, query: LayerQuery) -> FeatureCollection:
    return hotspot_collection(store, query, "gistar")


def _kde(store: Store, query: LayerQuery) -> FeatureCollection:
    return hotspot_collection(store, query, "kde")


GISTAR = Layer(
    id="hotspots-gistar",
    title="Hotspots (Getis-Ord Gi*)",
    description=(
        "Statistisch significante clusters van incidenten per H3-zeshoek (Getis-Ord Gi*, "
        "gecorrigeerd voor meervoudig toetsen met FDR). Klasse 3/2/1 = hotspot met 99/95/90% "
        "betrouwbaarheid, -1/-2/-3 = coldspot, 0 = niet significant."
    ),
    min_role="viewer",
    features=_gistar,
    table=_gistar_table,
    viewer_table_filter=viewer_gistar_table,
    temporal=True,
    cells=True,
    per_category=True,
)

KDE = Layer(
    id="hotspots-kde",
    title="Dichtheid incidenten (kerndichtheid)",
    description=(
        "Geschatte dichtheid van incidenten per H3-zeshoek (kernel density), in incidenten per km2 "
        "over de hele gekozen periode (geen jaarcijfer)."
    ),
    min_role="viewer",
    features=_kde,
    table=_kde_table,
    viewer_table_filter=viewer_kde_table,
    temporal=True,
    cells=True,
    per_category=True,
)
