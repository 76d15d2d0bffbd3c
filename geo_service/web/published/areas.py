"""Area outlines (CBS wijken and buurten) with their dwellings and inhabitants."""

from __future__ import annotations

import json

import geopandas as gpd
import shapely

from geo_service.store import Store
from geo_service.web.published.base import FeatureCollection, Layer, LayerQuery


def frame_to_collection(gdf: gpd.GeoDataFrame, ids: list[str]) -> FeatureCollection:
    """Return a GeoDataFrame (EPSG:4326) as a FeatureCollection with the given feature ids."""
    if len(gdf) == 0:
        return {"type": "FeatureCollection", "features": []}
    fc: FeatureCollection = json.loads(gdf.to_json(default=str, drop_id=True))
    for feat, fid in zip(fc["features"], ids, strict=True):
        feat["id"] = fid
    return fc


def area_collection(store: Store, query: LayerQuery, level: str) -> FeatureCollection:
    """Areas of one level, optionally of one municipality."""
    gdf = store.areas_frame(level=level, municipality=query.incidents.municipality)
    bbox = query.incidents.bbox
    if bbox is not None and len(gdf):
        gdf = gdf.cx[bbox[0] : bbox[2], bbox[1] : bbox[3]]
    gdf = gdf.set_geometry(polygonal(gdf.geometry))
    return frame_to_collection(gdf, gdf["code"].astype(str).tolist())


def polygonal(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Return geometries as (Multi)Polygons, dropping points/lines from GeometryCollections.

    Some stored areas are GeometryCollections after a union; many clients (QGIS, GDAL
    layers with one geometry type) want one polygonal type per collection.
    """
    fixed = [
        shapely.MultiPolygon(
            [
                p
                for part in g.geoms
                for p in getattr(part, "geoms", [part])
                if p.geom_type == "Polygon"
            ]
        )
        if g is not None and g.geom_type == "GeometryCollection"
        else g
        for g in geoms
    ]
    return gpd.GeoSeries(fixed, index=geoms.index, crs=geoms.crs)


def _wijken(store: Store, query: LayerQuery) -> FeatureCollection:
    return area_collection(store, query, "wijk")


def _buurten(store: Store, query: LayerQuery) -> FeatureCollection:
    return area_collection(store, query, "buurt")


WIJKEN = Layer(
    id="wijken",
    title="Wijken",
    description="Wijkgrenzen met aantal woningen en inwoners (zoals geïmporteerd; "
    "dwellings_estimated geeft aan of het aantal woningen een schatting is).",
    min_role="viewer",
    features=_wijken,
)

BUURTEN = Layer(
    id="buurten",
    title="Buurten",
    description="Buurtgrenzen met aantal woningen en inwoners (zoals geïmporteerd).",
    min_role="viewer",
    features=_buurten,
)
