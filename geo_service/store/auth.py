"""API keys (stored hashed) and the audit log."""

from __future__ import annotations

from geo_service.store.core import StoreBase


class AuthStore(StoreBase):
    """Store methods: API keys (stored hashed) and the audit log."""
