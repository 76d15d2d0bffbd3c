"""Time zones of incident data: which local clock a file's naive timestamps were written in.

Police and open-data exports write timestamps as local wall-clock time without an offset
(``2024-07-05 23:30:00.000``). Reading them as UTC moves late-evening incidents to the next
day; reading them in the wrong local zone does the same for every foreign file. The zone of
a batch is therefore: the one the user gives, else the zone at the data's location when it
lies outside the Netherlands (IANA tz database boundaries, via ``tzfpy``), else the service's
configured zone (default ``Europe/Amsterdam``).

References
----------
.. [1] IANA Time Zone Database, https://www.iana.org/time-zones.
.. [2] Evans, E. (2024). timezone-boundary-builder (the polygons ``tzfpy`` embeds).
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from spatial.errors import InvalidParameterError
from spatial.grid.crs import NL_LAT_RANGE, NL_LON_RANGE

DEFAULT_TIMEZONE = "Europe/Amsterdam"


@dataclass(frozen=True)
class ZoneChoice:
    """The time zone of a batch and how it was chosen.

    Attributes
    ----------
    zone
        IANA zone name, e.g. ``"Europe/London"``.
    source
        ``"given"``, ``"coordinates"`` (looked up at the data's median position) or
        ``"default"`` (the configured zone: data in the Netherlands, or no usable position).
    """

    zone: str
    source: str


def check_zone(zone: str) -> str:
    """Return ``zone`` if it is a known IANA time zone, else raise.

    Raises
    ------
    InvalidParameterError

    Examples
    --------
    >>> check_zone("America/Toronto")
    'America/Toronto'
    """
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidParameterError(
            f"unknown time zone {zone!r}; use an IANA name such as Europe/Amsterdam "
            "/ onbekende tijdzone"
        ) from None
    return zone


def zone_for_points(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    *,
    given: str | None = None,
    default: str = DEFAULT_TIMEZONE,
) -> ZoneChoice:
    """Choose the time zone of a batch of incidents (WGS84 positions).

    The median position decides, so a few stray points do not. Positions in the Netherlands
    keep ``default`` (the municipality's configured zone); elsewhere the IANA zone at the
    median position is used. A position at sea (``Etc/...`` zones) also falls back to
    ``default``.

    Raises
    ------
    InvalidParameterError
        If ``given`` or ``default`` is not a known zone.

    Examples
    --------
    >>> zone_for_points([-79.38], [43.65]).zone
    'America/Toronto'
    >>> zone_for_points([4.3], [52.08])
    ZoneChoice(zone='Europe/Amsterdam', source='default')
    >>> zone_for_points([-2.98], [53.41], given="UTC").source
    'given'
    """
    if given:
        return ZoneChoice(check_zone(given), "given")
    check_zone(default)
    lo = np.asarray(lon, dtype=np.float64)
    la = np.asarray(lat, dtype=np.float64)
    ok = np.isfinite(lo) & np.isfinite(la) & (np.abs(lo) <= 180) & (np.abs(la) <= 90)
    if not ok.any():
        return ZoneChoice(default, "default")
    mlon, mlat = float(np.median(lo[ok])), float(np.median(la[ok]))
    in_nl = (NL_LON_RANGE[0] <= mlon <= NL_LON_RANGE[1]) and (
        NL_LAT_RANGE[0] <= mlat <= NL_LAT_RANGE[1]
    )
    if in_nl:
        return ZoneChoice(default, "default")
    import tzfpy

    found = str(tzfpy.get_tz(mlon, mlat) or "")
    if not found or found.startswith("Etc/"):
        return ZoneChoice(default, "default")
    return ZoneChoice(found, "coordinates")
