"""Domain exceptions, in one place (as h3-py does).

Each inherits the project base :class:`SpatialError` and the builtin it
specialises, so callers may catch either. The web layer maps these classes to
HTTP status codes in one dict (``geo_service.errors``).
"""

from __future__ import annotations


class SpatialError(Exception):
    """Base class of every error raised by :mod:`spatial`."""


class InvalidResolutionError(SpatialError, ValueError):
    """An H3 resolution outside the supported range."""


class CRSError(SpatialError, ValueError):
    """A coordinate reference system that is missing, unknown or mismatched."""


class EmptyStudyAreaError(SpatialError, ValueError):
    """A study area (or data set) with nothing to analyse."""


class InvalidParameterError(SpatialError, ValueError):
    """A parameter value outside its documented domain."""


class TooManyCellsError(InvalidParameterError):
    """A study grid larger than the caller may request (a coarser resolution or smaller area)."""
