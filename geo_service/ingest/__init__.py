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
from geo_service.ingest.pipeline import (
    DEFAULT_EARLIEST,
    REASONS,
    IngestReport,
    ingest_file,
    ingest_frame,
    new_batch_id,
)
from geo_service.ingest.readers import (
    IncidentTable,
    MalformedRow,
    ReadLimits,
    read_incident_file,
    read_incident_table,
)

__all__ = [
    "CANONICAL_COLUMNS",
    "DEFAULT_EARLIEST",
    "REASONS",
    "IncidentTable",
    "IngestReport",
    "MalformedRow",
    "ReadLimits",
    "import_areas",
    "import_cameras",
    "ingest_file",
    "ingest_frame",
    "new_batch_id",
    "normalise_category",
    "parse_dates",
    "parse_mapping",
    "read_incident_file",
    "read_incident_table",
]
