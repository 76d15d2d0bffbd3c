"""Incident points: personal and police data, analysts and admins only."""

from __future__ import annotations

from typing import Any

import pandas as pd

from geo_service.store import Store
from geo_service.web.published.base import FeatureCollection, Layer, LayerQuery

PROPERTIES = (
    "category",
    "subtype",
    "occurred_from",
    "occurred_to",
    "municipality",
    "wijk_code",
    "buurt_code",
)


def _iso(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value).isoformat()


def points_to_collection(df: pd.DataFrame) -> FeatureCollection:
    """Turn ``Store.incident_points`` rows into GeoJSON point features."""
    cols = {name: df[name].tolist() for name in (*PROPERTIES, "incident_id", "lon", "lat")}
    feats = []
    for i in range(len(df)):
        props = {name: cols[name][i] for name in PROPERTIES}
        props["occurred_from"] = _iso(props["occurred_from"])
        props["occurred_to"] = _iso(props["occurred_to"])
        for name in ("subtype", "municipality", "wijk_code", "buurt_code"):
            if props[name] is not None and not isinstance(props[name], str):
                props[name] = None
        feats.append(
            {
                "type": "Feature",
                "id": str(cols["incident_id"][i]),
                "geometry": {"type": "Point", "coordinates": [cols["lon"][i], cols["lat"][i]]},
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def _incidents(store: Store, query: LayerQuery) -> FeatureCollection:
    return points_to_collection(store.incident_points(query.incidents))


def _page(
    store: Store, query: LayerQuery, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of incidents, paged in SQL (LIMIT/OFFSET), and the number matching."""
    df = store.incident_points(query.incidents, limit=limit, offset=offset)
    features: list[dict[str, Any]] = points_to_collection(df)["features"]
    return features, store.count_incidents(query.incidents)


INCIDENTS = Layer(
    id="incidents",
    title="Incidenten (punten)",
    description=(
        "Afzonderlijke incidenten als punt. Alleen voor analisten (politie- en persoonsgegevens)."
    ),
    min_role="analyst",
    features=_incidents,
    temporal=True,
    page=_page,
)
