"""The FastAPI service: JSON/GeoJSON API, OGC API - Features and the Dutch map pages."""

from __future__ import annotations

from geo_service.web.app import create_app

__all__ = ["create_app"]
