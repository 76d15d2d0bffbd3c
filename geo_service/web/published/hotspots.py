"""Hotspot layers: Getis-Ord Gi* classes and kernel density per H3 cell."""

from __future__ import annotations

from typing import Literal

from geo_service.errors import NotFoundError
from geo_service.store import Store
from geo_service.web.privacy import suppress_gistar, suppress_kde
from geo_service.web.registry import FeatureCollection, Layer, LayerQuery


def _default_category(store: Store, query: LayerQuery) -> str:
    if query.incidents.category:
        return query.incidents.category
    cats = store.categories()
    if not cats:
        raise NotFoundError("no incidents stored yet / nog geen incidenten opgeslagen")
    return cats[0]


def hotspot_collection(
    store: Store, query: LayerQuery, method: Literal["gistar", "kde"]
) -> FeatureCollection:
    """Compute the hotspot FeatureCollection for ``query`` (exact values)."""
    from geo_service.hotspots import HotspotParams, hotspots_geojson

    params = HotspotParams(
        incidents=query.incidents.replace(category=_default_category(store, query)),
        method=method,
        res=query.res,
        permutations=query.permutations,
        max_cells=query.max_cells,
    )
    fc = hotspots_geojson(store, params)
    for feat in fc.get("features", []):
        feat.setdefault("id", (feat.get("properties") or {}).get("h3"))
    return fc


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
    viewer_filter=suppress_gistar,
    temporal=True,
    cells=True,
)

KDE = Layer(
    id="hotspots-kde",
    title="Dichtheid incidenten (kerndichtheid)",
    description=(
        "Geschatte dichtheid van incidenten per H3-zeshoek (kernel density), in incidenten per km2."
    ),
    min_role="viewer",
    features=_kde,
    viewer_filter=suppress_kde,
    temporal=True,
    cells=True,
)
