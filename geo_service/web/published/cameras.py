"""Camera locations: fixed cameras and flexible (mobile) cameras."""

from __future__ import annotations

from geo_service.store import Store
from geo_service.web.published.areas import frame_to_collection
from geo_service.web.published.base import FeatureCollection, Layer, LayerQuery


def _cameras(store: Store, query: LayerQuery) -> FeatureCollection:
    gdf = store.cameras_frame(municipality=query.incidents.municipality)
    bbox = query.incidents.bbox
    if bbox is not None and len(gdf):
        gdf = gdf.cx[bbox[0] : bbox[2], bbox[1] : bbox[3]]
    return frame_to_collection(gdf, gdf["camera_id"].astype(str).tolist())


CAMERAS = Layer(
    id="cameras",
    title="Camera's (vast en flexibel)",
    description="Locaties van vaste en flexibele (verplaatsbare) camera's met hun actieve periode.",
    min_role="viewer",
    features=_cameras,
)
