"""Domain exceptions, in one place (as h3-py does), and the root of the project's error tree.

Every error the project raises on purpose descends from :class:`DomainError`: the statistics'
errors from :class:`SpatialError` (here), the application's from
``geo_service.errors.GeoServiceError``. Each class also inherits the builtin it specialises,
so callers may catch either. The web layer maps the classes to HTTP status codes in one dict
(``geo_service.web.errors.STATUS_CODES``); the CLI prints their message.

The tree::

    DomainError
    +-- SpatialError                 (spatial/errors.py)
    |   +-- InvalidResolutionError, CRSError, EmptyStudyAreaError
    |   +-- InvalidParameterError
    |       +-- TooManyCellsError
    +-- GeoServiceError              (geo_service/errors.py)
        +-- InputFileError, NotFoundError, AuthenticationError, ...
"""

from __future__ import annotations


class DomainError(Exception):
    """Root of every error the project raises on purpose (a message written for users)."""


class SpatialError(DomainError):
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
