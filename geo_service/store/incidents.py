"""Incidents, ingest batches and the quarantine."""

from __future__ import annotations

from geo_service.store.core import StoreBase


class IncidentStore(StoreBase):
    """Store methods: Incidents, ingest batches and the quarantine."""
