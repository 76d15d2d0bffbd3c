"""Application-level exceptions (I/O, input files, the store, access, pages).

Like :mod:`spatial.errors`, each class inherits the project base and the builtin it
specialises; :class:`GeoServiceError` and :class:`spatial.errors.SpatialError` share the root
:class:`spatial.errors.DomainError` (the tree is drawn there). The CLI prints their message
and exits non-zero; the web layer maps the classes to HTTP status codes in one dict.
"""

from __future__ import annotations

from spatial.errors import DomainError

__all__ = [
    "AuthenticationError",
    "AuthorizationError",
    "BusyError",
    "CsrfError",
    "DomainError",
    "GeoServiceError",
    "InputFileError",
    "InputTooLargeError",
    "NotFoundError",
    "PageInputError",
    "PageNotFoundError",
    "StaleDemoError",
    "UnknownColumnError",
]


class GeoServiceError(DomainError):
    """Base class of every error raised by :mod:`geo_service`."""


class InputFileError(GeoServiceError, ValueError):
    """A file that cannot be read or understood (format, encoding, columns)."""


class InputTooLargeError(InputFileError):
    """A file that expands past the configured limits when read (bytes or rows; 413)."""


class UnknownColumnError(InputFileError):
    """A column mapping names a column the file does not have."""


class NotFoundError(GeoServiceError, LookupError):
    """A requested object (area, municipality, category, layer, key) does not exist.

    ``known`` lists the values that do exist where there is a short list of them (the
    categories, the municipalities); the API returns it with the 404 so a caller can correct
    a misspelling.
    """

    def __init__(self, message: str, *, known: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.known = known


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


class PageInputError(GeoServiceError, ValueError):
    """A page parameter a person can correct (400); the message is Dutch, for the page."""


class CsrfError(AuthorizationError):
    """A form sent without this site's CSRF token (403); Dutch message, for the page."""


class PageNotFoundError(NotFoundError):
    """A municipality or other choice that does not exist (404); Dutch message."""
