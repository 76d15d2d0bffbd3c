"""The published layers: what the API, OGC API - Features and the map pages serve.

Each layer lives in one module of :mod:`geo_service.web.published` (their types in
:mod:`geo_service.web.published.base`) and is published by ONE line in :func:`_published`.
This module imports the layers; a layer never imports it.
"""

from __future__ import annotations

from geo_service.errors import NotFoundError
from geo_service.web.published import (
    areas,
    camera_plan,  # targeting
    cameras,
    emerging,
    hotspots,
    iha,  # targeting
    incidents,
    priorities,  # targeting
)
from geo_service.web.published.base import Layer


def _published() -> dict[str, Layer]:
    layers = (
        hotspots.GISTAR,
        hotspots.KDE,
        emerging.EMERGING,
        areas.WIJKEN,
        areas.BUURTEN,
        cameras.CAMERAS,
        incidents.INCIDENTS,
        priorities.PRIORITIES,
        iha.IHA,
        camera_plan.CAMERA_PLAN,
    )
    return {layer.id: layer for layer in layers}


_LAYERS: dict[str, Layer] | None = None


def layers() -> dict[str, Layer]:
    """Return the published layers by id (built on first use, not at import)."""
    global _LAYERS
    if _LAYERS is None:
        _LAYERS = _published()
    return _LAYERS


def get_layer(layer_id: str) -> Layer:
    """Return the layer with this id.

    Raises
    ------
    NotFoundError
        If no layer has this id.
    """
    try:
        return layers()[layer_id]
    except KeyError:
        # The list of layers is per role (/ogc/collections): an error names none of them, so a
        # caller without access does not learn which restricted layers exist.
        raise NotFoundError(f"no layer {layer_id!r} / onbekende kaartlaag") from None
