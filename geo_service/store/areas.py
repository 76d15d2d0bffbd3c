"""Areas (buurt, wijk, ... polygons with dwellings) and cameras."""

from __future__ import annotations

from geo_service.store.core import StoreBase


class AreaStore(StoreBase):
    """Store methods: Areas (buurt, wijk, ... polygons with dwellings) and cameras."""
