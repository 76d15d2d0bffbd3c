"""The DuckDB store. All SQL of the project lives in this package.

:class:`Store` composes one mixin per concern, each in its own module:
incidents and ingest batches (:mod:`.incidents`), areas and cameras
(:mod:`.areas`), API keys and the audit log (:mod:`.auth`), past IHA actions
(:mod:`.targeting`).
"""

from __future__ import annotations

from geo_service.store.areas import AreaStore
from geo_service.store.auth import AuthStore
from geo_service.store.core import (
    SCHEMA_VERSION,
    StoreBase,
    connect,
    spatial_extension_path,
    utc_now,
)
from geo_service.store.incidents import IncidentStore
from geo_service.store.targeting import TargetingStore


class Store(IncidentStore, AreaStore, AuthStore, TargetingStore, StoreBase):
    """The service's DuckDB store (see :meth:`StoreBase.open`)."""


__all__ = [
    "SCHEMA_VERSION",
    "Store",
    "StoreBase",
    "connect",
    "spatial_extension_path",
    "utc_now",
]
