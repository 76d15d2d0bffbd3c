"""FastAPI dependencies: settings, a per-request store cursor, the caller, validated queries.

Query parameters are validated here (bbox ranges, H3 resolution 8..11, date order)
so handlers receive clean values.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Header, Query, Request

from geo_service.config import Settings
from geo_service.errors import GeoServiceError
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.web.auth import Principal, authenticate, authenticate_session, extract_secret
from geo_service.web.cache import ResponseCache
from geo_service.web.pages.errors import is_page
from geo_service.web.session import session_id
from spatial.errors import InvalidParameterError
from spatial.grid.h3grid import MAX_RES, MIN_RES


class InvalidQueryError(GeoServiceError, ValueError):
    """A query parameter with a value outside its domain (400)."""


def get_settings(request: Request) -> Settings:
    """Return the settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> Iterator[Store]:
    """Yield a store on a cursor of the app's DuckDB connection.

    DuckDB connections are not safe to share between threads; a cursor is a cheap,
    independent connection to the same database, so each request gets its own.
    """
    root: Store = request.app.state.store
    store = root.cursor()
    try:
        yield store
    finally:
        store.close()


def get_cache(request: Request) -> ResponseCache:
    """Return the app's response cache."""
    cache: ResponseCache = request.app.state.cache
    return cache


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
CacheDep = Annotated[ResponseCache, Depends(get_cache)]


def get_principal(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    x_api_key: Annotated[str | None, Header(include_in_schema=False)] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    """Return the caller (anonymous role if no key; 401 on a wrong key).

    A header key always wins. Without one, the HTML pages (:func:`is_page`) accept the
    session cookie of ``/inloggen``; an ended or expired session counts as no key. The
    principal is kept on ``request.state`` for the page header.
    """
    secret = extract_secret(x_api_key, authorization)
    principal = None
    if secret is None and is_page(request.url.path):
        sid = session_id(request)
        if sid is not None:
            principal = authenticate_session(store, sid, path=request.url.path)
            if principal is not None:
                request.state.session_id = sid
    if principal is None:
        principal = authenticate(store, settings, secret, path=request.url.path)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_read_store(store: StoreDep, principal: PrincipalDep) -> Iterator[Store]:
    """Yield the request's store pinned to one snapshot (:meth:`Store.pinned`), for GET pages.

    The caller is authenticated first (its audit row is a write, before the snapshot), then
    the snapshot is taken at once (its first read is the data version), so every figure of
    one page -- caption, tables, places, map -- comes from one commit even while another
    process ingests. The handler may not write.
    """
    del principal  # resolved first: authentication may write the audit log
    with store.pinned():
        store.data_version()  # the snapshot is the one current now, not at a later first read
        yield store


ReadStoreDep = Annotated[Store, Depends(get_read_store)]


def parse_bbox(bbox: str | None) -> tuple[float, float, float, float] | None:
    """Parse ``minlon,minlat,maxlon,maxlat`` (WGS84) and check its ranges.

    Raises
    ------
    InvalidQueryError
        Not four numbers, outside -180..180 / -90..90, or min > max.
    """
    if bbox is None or bbox == "":
        return None
    try:
        parts = tuple(float(p) for p in bbox.split(","))
    except ValueError:
        raise InvalidQueryError(
            f"bbox must be minlon,minlat,maxlon,maxlat / ongeldige bbox, got {bbox!r}"
        ) from None
    if len(parts) == 6:  # OGC allows 3D boxes: drop the heights
        parts = (parts[0], parts[1], parts[3], parts[4])
    if len(parts) != 4 or any(p != p for p in parts):
        raise InvalidQueryError(f"bbox needs 4 numbers / bbox heeft 4 getallen nodig, got {bbox!r}")
    x0, y0, x1, y1 = parts
    if not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
        raise InvalidQueryError(f"bbox outside WGS84 ranges / bbox buiten bereik, got {bbox!r}")
    if x0 > x1 or y0 > y1:
        raise InvalidQueryError(f"bbox min greater than max / bbox min > max, got {bbox!r}")
    return (x0, y0, x1, y1)


BBoxQuery = Annotated[
    str | None,
    Query(
        description="minlon,minlat,maxlon,maxlat in WGS84 (EPSG:4326)",
        pattern=r"^[-+0-9.eE]+(,[-+0-9.eE]+){3}(,[-+0-9.eE]+){0,2}$",
    ),
]


def bbox_dep(bbox: BBoxQuery = None) -> tuple[float, float, float, float] | None:
    """Dependency: the validated bbox."""
    return parse_bbox(bbox)


BBoxDep = Annotated[tuple[float, float, float, float] | None, Depends(bbox_dep)]

ResQuery = Annotated[
    int,
    Query(
        ge=MIN_RES, le=MAX_RES, description=f"H3 resolution ({MIN_RES}..{MAX_RES}; 10 = ~0.015 km2)"
    ),
]

#: Largest ``offset`` of any paged route. Unbounded, 2**63 reached DuckDB as an INT128 and
#: failed (500); no client pages one by one through ten million features.
MAX_OFFSET = 10_000_000
#: Largest page (``limit``) of any paged route. OGC items are lowered further to
#: ``Settings.max_features``, as OGC API Features requires (a larger limit is not an error).
MAX_LIMIT = 100_000

#: Paging parameters of every route that takes them (out of range: 400 problem+json).
OffsetQuery = Annotated[
    int, Query(ge=0, le=MAX_OFFSET, description=f"features to skip (0..{MAX_OFFSET:_})")
]
LimitQuery = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"features per page (1..{MAX_LIMIT:_})")
]


def check_period(start: date | None, end: date | None) -> None:
    """Raise InvalidQueryError if ``start`` is after ``end`` or a date is out of range."""
    try:
        IncidentFilter(start=start, end=end)
    except InvalidParameterError as exc:
        raise InvalidQueryError(str(exc)) from None


def parse_datetime_interval(
    value: str | None, tz: str = "Europe/Amsterdam"
) -> tuple[date | None, date | None]:
    """Parse an OGC API ``datetime`` (RFC 3339) into local bounds for the store.

    * ``2024-03-31`` (full-date): that whole local day.
    * ``2024-03-31T22:30:00Z`` / ``...+02:00`` (date-time): that instant, converted to local
      wall-clock time in ``tz`` (``2024-03-31T22:30Z`` is 00:30 on 1 April in Amsterdam);
      an instant filters exactly that instant, it is not widened to a day.
    * ``a/b``, ``../b``, ``a/..``: intervals, both ends inclusive, open ends allowed.

    A date-time without an offset is not RFC 3339; it is read as local time in ``tz``.

    Raises
    ------
    InvalidQueryError
        Unparseable values, a year outside 1900-2200, or start after end.

    Examples
    --------
    >>> parse_datetime_interval("2024-03-31T22:30:00Z")
    (datetime.datetime(2024, 4, 1, 0, 30), datetime.datetime(2024, 4, 1, 0, 30))
    >>> parse_datetime_interval("2024-03-01/..")
    (datetime.date(2024, 3, 1), None)
    """
    if value is None or value.strip() == "":
        return None, None
    zone = ZoneInfo(tz)

    def one(text: str) -> date | None:
        text = text.strip()
        if text in ("", ".."):
            return None
        try:
            if "T" not in text.upper() and " " not in text:
                return date.fromisoformat(text)
            instant = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
        except (ValueError, OverflowError):
            raise InvalidQueryError(
                f"datetime must be RFC 3339 (e.g. 2024-01-01, 2024-01-01T00:00:00Z or a/b) / "
                f"ongeldige datum, got {value!r}"
            ) from None
        if instant.tzinfo is not None:
            try:
                instant = instant.astimezone(zone).replace(tzinfo=None)
            except OverflowError:
                raise InvalidQueryError(
                    f"datetime out of range / datum buiten bereik: {value!r}"
                ) from None
        return instant

    if "/" in value:
        a, _, b = value.partition("/")
        start, end = one(a), one(b)
    else:
        start = end = one(value)
    check_period(start, end)
    return start, end


#: Parameters every route accepts: OGC clients add the output format ``f`` (we serve JSON).
ALWAYS_ALLOWED_PARAMS = frozenset({"f"})


def _declared_params(dependant: Any) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _declared_params(sub)
    return names


def unknown_params(request: Request) -> tuple[list[str], set[str]]:
    """Return the query parameters the matched route does not declare, and those it does.

    ``f`` (OGC's output format) is always allowed.
    """
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return [], set()
    allowed = _declared_params(dependant) | ALWAYS_ALLOWED_PARAMS
    return sorted(set(request.query_params) - allowed), allowed


def reject_unknown_params(request: Request) -> None:
    """Refuse query parameters a route does not declare (400, as OGC API Features requires).

    A misspelt parameter silently ignored gives the wrong map; unknown parameters in the cache
    key let anyone fill the cache with copies of one answer.

    Raises
    ------
    InvalidQueryError
    """
    unknown, allowed = unknown_params(request)
    if unknown:
        raise InvalidQueryError(
            f"unknown query parameter(s) {', '.join(unknown)}; allowed: "
            f"{', '.join(sorted(allowed))} / onbekende parameter(s)"
        )
