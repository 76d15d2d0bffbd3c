"""Ingestion of incident files that loses nothing, and import of areas and cameras.

``readers`` reads files, ``parsing`` turns text into values, ``pipeline`` validates, attributes
and stores one atomic batch, ``areas`` imports polygons and camera points.
"""

from geo_service.ingest.areas import import_areas, import_cameras
from geo_service.ingest.parsing import (
    CANONICAL_COLUMNS,
    normalise_category,
    parse_dates,
    parse_mapping,
)
from geo_service.ingest.pipeline import REASONS, IngestReport, ingest_file, ingest_frame
from geo_service.ingest.readers import read_incident_file

__all__ = [
    "CANONICAL_COLUMNS",
    "REASONS",
    "IngestReport",
    "import_areas",
    "import_cameras",
    "ingest_file",
    "ingest_frame",
    "normalise_category",
    "parse_dates",
    "parse_mapping",
    "read_incident_file",
]
