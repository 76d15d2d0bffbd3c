"""The one description of "which incidents": :class:`IncidentFilter`.

Times are local wall-clock times, the convention of the store (see :mod:`geo_service.store`):
a date means that whole local day, a date-time an instant on the local clock.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from spatial.errors import InvalidParameterError

BBox = tuple[float, float, float, float]

#: Dates outside this range are refused with a clear error (year 9999 + 1 day overflows).
MIN_YEAR = 1900
MAX_YEAR = 2200


def _check_year(value: date | None, name: str) -> None:
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        raise InvalidParameterError(
            f"{name} must lie between {MIN_YEAR} and {MAX_YEAR}, got {value.isoformat()} "
            "/ datum buiten het toegestane bereik"
        )


@dataclass(frozen=True)
class IncidentFilter:
    """Which incidents an analysis or a layer uses; validated on construction.

    Attributes
    ----------
    category
        Category key (``woninginbraak``), or None for all.
    municipality
        CBS code (``GM0518``), or None for all.
    start
        First local day (a :class:`~datetime.date`, inclusive) or instant (a naive
        :class:`~datetime.datetime` in local wall-clock time, inclusive).
    end
        Last local day (a date: the whole day is included) or instant (a datetime, inclusive).
    bbox
        ``(minlon, minlat, maxlon, maxlat)`` in WGS84.

    Raises
    ------
    InvalidParameterError
        ``start`` after ``end``, a year outside 1900-2200, a malformed bbox.

    Examples
    --------
    >>> IncidentFilter(start=date(2024, 3, 1), end=date(2024, 3, 31)).time_bounds()
    (datetime.datetime(2024, 3, 1, 0, 0), datetime.datetime(2024, 4, 1, 0, 0))
    """

    category: str | None = None
    municipality: str | None = None
    start: date | None = None
    end: date | None = None
    bbox: BBox | None = None

    def __post_init__(self) -> None:
        _check_year(self.start, "start")
        _check_year(self.end, "end")
        lo, hi = self.time_bounds()
        if lo is not None and hi is not None and lo >= hi:
            raise InvalidParameterError(
                f"start {self.start} is after end {self.end} / begindatum na einddatum"
            )
        if self.bbox is not None:
            if len(self.bbox) != 4:
                raise InvalidParameterError(f"bbox needs 4 numbers, got {self.bbox!r}")
            x0, y0, x1, y1 = self.bbox
            if x0 > x1 or y0 > y1:
                raise InvalidParameterError(f"bbox min greater than max, got {self.bbox!r}")

    def time_bounds(self) -> tuple[datetime | None, datetime | None]:
        """Return ``[from, to)`` as naive local datetimes (None = open)."""
        lo: datetime | None = None
        hi: datetime | None = None
        if self.start is not None:
            lo = (
                self.start
                if isinstance(self.start, datetime)
                else datetime.combine(self.start, datetime.min.time())
            )
        if self.end is not None:
            if isinstance(self.end, datetime):
                hi = self.end + timedelta(microseconds=1)
            else:
                hi = datetime.combine(self.end + timedelta(days=1), datetime.min.time())
        return lo, hi

    def replace(self, **changes: object) -> IncidentFilter:
        """Return a copy with some fields changed (validated again)."""
        from dataclasses import replace

        return replace(self, **changes)  # type: ignore[arg-type]

    def describe(self) -> dict[str, str | None]:
        """Return the filter as JSON-ready request metadata (category, municipality, period).

        Examples
        --------
        >>> IncidentFilter("woninginbraak", start=date(2024, 1, 1)).describe()
        {'category': 'woninginbraak', 'municipality': None, 'start': '2024-01-01', 'end': None}
        """
        return {
            "category": self.category,
            "municipality": self.municipality,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }

    def data_window(self, first: datetime | None, last: datetime | None) -> dict[str, str | None]:
        """Return the requested period and the local days of the first and last incident used.

        Examples
        --------
        >>> w = IncidentFilter(end=date(2024, 12, 31)).data_window(datetime(2024, 2, 3, 4), None)
        >>> w["requested_end"], w["first_incident"], w["last_incident"]
        ('2024-12-31', '2024-02-03', None)
        """
        return {
            "requested_start": self.start.isoformat() if self.start else None,
            "requested_end": self.end.isoformat() if self.end else None,
            "first_incident": first.date().isoformat() if first is not None else None,
            "last_incident": last.date().isoformat() if last is not None else None,
        }


def analysis_parameters(params: Any) -> dict[str, Any]:
    """Return an analysis' parameters as metadata: its fields, with ``incidents`` spelt out.

    ``params`` is a parameter dataclass with an ``incidents`` :class:`IncidentFilter`.
    """
    out = {k: v for k, v in asdict(params).items() if k != "incidents"}
    out.update(params.incidents.describe())
    return out
