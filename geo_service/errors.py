"""Application-level exceptions (I/O, input files, the store, access).

Like :mod:`spatial.errors`, each class inherits the project base and the builtin it
specialises. The CLI prints their message and exits non-zero; the web layer maps
the classes to HTTP status codes in one dict.
"""

from __future__ import annotations


class GeoServiceError(Exception):
    """Base class of every error raised by :mod:`geo_service`."""


class InputFileError(GeoServiceError, ValueError):
    """A file that cannot be read or understood (format, encoding, columns)."""


class InputTooLargeError(InputFileError):
    """A file that expands past the configured limits when read (bytes or rows; 413)."""


class UnknownColumnError(InputFileError):
    """A column mapping names a column the file does not have."""


class NotFoundError(GeoServiceError, LookupError):
    """A requested object (area, municipality, layer, key) does not exist."""


class AuthenticationError(GeoServiceError, PermissionError):
    """No or an invalid API key."""


class AuthorizationError(GeoServiceError, PermissionError):
    """A valid key whose role may not do this."""


class BusyError(GeoServiceError, RuntimeError):
    """The store is busy with another write; try again shortly (409 with Retry-After)."""


class StoreUnavailableError(GeoServiceError, ConnectionError):
    """The store's catalog or data files cannot be reached (503); the message names no secret."""


class StaleDemoError(GeoServiceError, ValueError):
    """The store holds a demo of another period; it is replaced only when asked to."""
