"""Geospatial hotspot and area-targeting service for Dutch municipal safety policy.

The application layer: configuration, the DuckDB store (all SQL lives in
:mod:`geo_service.store`), ingestion, the CLI and the FastAPI web service.
Pure computation lives in :mod:`spatial`, map layers in :mod:`layers`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("geo-service")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
