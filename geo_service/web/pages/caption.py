"""What a map or page shows, in one place: the caption every page and map carries.

:func:`build_caption` makes a :class:`Caption` from the query a page answered; the Jinja2
partial ``_caption.html`` renders it (on screen, in print, and inside the map document).
The period is the one actually used: for viewers the privacy policy snaps it to whole months
(at least three), so the caption reads it from the layer's metadata (``parameters.start`` /
``end``) or from :meth:`ViewerPolicy.period`, never from the request.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from geo_service.store import Store
from layers.maps import as_day

MONTHS_NL = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")

METHOD_LABELS = {
    "gistar": "Hotspots: Getis-Ord Gi*, gecorrigeerd voor meervoudig toetsen (FDR)",
    "kde": "Dichtheid: kerndichtheid (KDE), incidenten per km² over de hele periode",
    "emerging": "Opkomende hotspots (Emerging Hot Spot Analysis, maandelijks)",
    # viewers: quarterly bins of published counts (the privacy lattice)
    "emerging-quarter": "Opkomende hotspots (Emerging Hot Spot Analysis, per kwartaal)",
}
#: H3 resolution -> Dutch description of the hexagon size (average area, H3 v4).
RES_LABELS = {
    8: "zeshoeken van ~0,74 km² (H3-resolutie 8)",
    9: "zeshoeken van ~0,11 km² (H3-resolutie 9)",
    10: "zeshoeken van ~0,015 km², ~130 m breed (H3-resolutie 10)",
    11: "zeshoeken van ~0,002 km², ~50 m breed (H3-resolutie 11)",
}
SOURCE = (
    "Bron: incidentregistratie in deze dienst; gebiedsindeling: de ingelezen wijken en buurten."
)


def month_label(day: date) -> str:
    """Return ``"okt 2026"``.

    Examples
    --------
    >>> month_label(date(2026, 10, 31))
    'okt 2026'
    """
    return f"{MONTHS_NL[day.month - 1]} {day.year}"


def month_end(day: date) -> date:
    """Return the last day of ``day``'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def period_label(start: date, end: date) -> str:
    """Return a Dutch period label; whole months read as months, other days as dates.

    Examples
    --------
    >>> period_label(date(2026, 1, 1), date(2026, 3, 31))
    'jan t/m mrt 2026'
    >>> period_label(date(2021, 11, 1), date(2026, 10, 31))
    'nov 2021 t/m okt 2026'
    >>> period_label(date(2026, 3, 5), date(2026, 3, 9))
    '5-3-2026 t/m 9-3-2026'
    """
    if start.day == 1 and end == month_end(end):
        if start.year == end.year:
            if start.month == end.month:
                return month_label(start)
            return f"{MONTHS_NL[start.month - 1]} t/m {month_label(end)}"
        return f"{month_label(start)} t/m {month_label(end)}"
    return f"{start.day}-{start.month}-{start.year} t/m {end.day}-{end.month}-{end.year}"


@dataclass(frozen=True)
class DataWindow:
    """What the store holds: the first and last month with incidents, and the last ingest.

    Months, not days: the caption never tells when the newest incident happened.
    """

    first: date | None
    last: date | None
    ingested: date | None
    #: The store's clock (:meth:`Store.today`): a demo's "as of" date, else today.
    today: date | None = None

    @classmethod
    def of(cls, store: Store) -> DataWindow:
        """Read the window of the whole store (all categories and municipalities)."""
        first_day, last_day = (as_day(d) for d in store.data_window())
        batches = store.batches()
        ingested = None
        if len(batches) and "finished_at" in batches:
            ingested = as_day(pd.to_datetime(batches["finished_at"]).max())
        return cls(
            first=first_day.replace(day=1) if first_day else None,
            last=month_end(last_day) if last_day else None,
            ingested=ingested,
            today=store.today(),
        )

    def partial_year(self, year: int) -> str | None:
        """Return how a year the data covers only in part is labelled, or None if whole.

        Examples
        --------
        >>> w = DataWindow(date(2021, 11, 1), date(2026, 10, 31), None)
        >>> [w.partial_year(y) for y in (2021, 2024, 2026)]
        ['2021 vanaf nov', None, '2026 t/m okt']
        """
        if self.first is None or self.last is None:
            return None
        first_m = 1 if self.first.year < year else self.first.month
        last_m = 12 if self.last.year > year else self.last.month
        if first_m == 1 and last_m == 12:
            return None
        if first_m == 1:
            return f"{year} t/m {MONTHS_NL[last_m - 1]}"
        if last_m == 12:
            return f"{year} vanaf {MONTHS_NL[first_m - 1]}"
        return f"{year} {MONTHS_NL[first_m - 1]} t/m {MONTHS_NL[last_m - 1]}"


@dataclass(frozen=True)
class Caption:
    """What a page or map shows, as a person reads it (Dutch).

    Attributes
    ----------
    title
        The heading (``"Woninginbraak in 's-Gravenhage"``).
    period
        The period actually used (``"jan 2022 t/m okt 2026"``).
    period_note
        Why the period differs from the request, or that part of it has no data yet.
    category, method, resolution
        The category, the method and the hexagon size, or None where a page has none.
    data_note
        Which months the store holds and when it was last ingested.
    synthetic
        Whether the (partly synthetic) demo data is present.
    privacy
        What viewers do not see (None for analysts).
    """

    title: str
    period: str
    period_note: str | None
    category: str | None
    method: str | None
    resolution: str | None
    data_note: str
    synthetic: bool
    privacy: str | None
    source: str = SOURCE

    def as_text(self) -> str:
        """Return the caption on one line (for downloads and ``title`` attributes)."""
        parts = [self.title, f"periode {self.period}"]
        parts += [p for p in (self.category, self.method, self.resolution) if p]
        parts.append(self.data_note)
        if self.period_note:
            parts.append(self.period_note)
        if self.synthetic:
            parts.append("deels synthetische demogegevens")
        if self.privacy:
            parts.append(self.privacy)
        return "; ".join(parts)


def used_period(meta: Any) -> tuple[date | None, date | None]:
    """Return the period a layer was computed for, from its ``metadata``.

    ``parameters.start/end`` first, else ``data_window.requested_start/end`` (both are the
    snapped period for viewers).

    Examples
    --------
    >>> used_period({"parameters": {"start": "2026-01-01", "end": "2026-03-31"}})
    (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))
    >>> used_period({"data_window": {"requested_start": "2026-01-01", "requested_end": None}})
    (datetime.date(2026, 1, 1), None)
    """
    if not isinstance(meta, dict):
        return None, None
    params = meta.get("parameters")
    if isinstance(params, dict) and ("start" in params or "end" in params):
        return as_day(params.get("start")), as_day(params.get("end"))
    window = meta.get("data_window")
    if isinstance(window, dict):
        return as_day(window.get("requested_start")), as_day(window.get("requested_end"))
    return None, None


def build_caption(
    *,
    title: str,
    window: DataWindow,
    start: date | None,
    end: date | None,
    requested: tuple[date | None, date | None] = (None, None),
    category: str | None = None,
    method: str | None = None,
    res: int | None = None,
    synthetic: bool = False,
    viewer: bool = True,
    min_count: int = 5,
    round_to: int = 5,
    privacy_text: str | None = None,
    snap_note: str = "afgerond op hele maanden (privacy)",
) -> Caption:
    """Build the caption of a page or map from the query it answered.

    Parameters
    ----------
    title
        The heading.
    window
        The store's data window (:meth:`DataWindow.of`).
    start, end
        The period actually used (after the privacy policy); None = open.
    requested
        The period as asked, to say when the policy changed it.
    category, method, res
        What the map shows; None where the page has no such choice.
    synthetic
        Whether the demo data is present.
    viewer
        Whether the caller sees privacy-filtered figures.
    min_count, round_to
        The viewer policy's thresholds (for the privacy line).
    privacy_text
        The privacy line itself (:meth:`ViewerPolicy.describe`), instead of one built from
        ``min_count`` and ``round_to``.
    snap_note
        What the caption says when the policy changed the requested period.

    Examples
    --------
    >>> w = DataWindow(date(2021, 11, 1), date(2026, 10, 31), date(2026, 11, 20))
    >>> c = build_caption(title="Kaart", window=w, start=date(2026, 1, 1),
    ...                   end=date(2026, 12, 31), requested=(date(2026, 1, 14), None))
    >>> c.period
    'jan t/m dec 2026'
    >>> c.period_note
    'afgerond op hele maanden (privacy); gegevens lopen t/m okt 2026: de periode is onvolledig'
    """
    lo = start or window.first
    hi = end or window.last
    period = period_label(lo, hi) if lo and hi else "geen gegevens"
    req_start, req_end = requested
    if lo and hi and ((start is None and end is None) or (viewer and requested == (None, None))):
        period += " (alle gegevens)"
    notes = []
    if viewer and ((req_start and req_start != start) or (req_end and req_end != end)):
        notes.append(snap_note)
    if (
        viewer
        and privacy_text
        and end
        and window.last
        and end < window.last
        and (req_end is None or req_end > end)
    ):
        # The viewer lattice holds the running quarter back: say which months are missing.
        after = end + timedelta(days=1)
        notes.append(
            f"{period_label(after, window.last)} nog niet getoond: dat kwartaal is niet compleet "
            "(privacy)"
        )
    if hi and window.last and hi > window.last:
        notes.append(f"gegevens lopen t/m {month_label(window.last)}: de periode is onvolledig")
    if lo and window.first and lo < window.first:
        notes.append(f"gegevens beginnen in {month_label(window.first)}")
    if window.first and window.last:
        data_note = f"Gegevens: {period_label(window.first, window.last)}"
    else:
        data_note = "Nog geen gegevens"
    if window.ingested:
        d = window.ingested
        data_note += f", laatst ingelezen {d.day}-{d.month}-{d.year}"
    privacy = (
        privacy_text
        or (
            f"Aantallen onder {min_count} tonen we als <{min_count}, de rest afgerond op "
            f"{round_to}; periodes in hele maanden (privacy)."
        )
        if viewer
        else None
    )
    return Caption(
        title=title,
        period=period,
        period_note="; ".join(notes) or None,
        category=f"Soort: {category}" if category else None,
        method=METHOD_LABELS.get(method or "") if method else None,
        resolution=RES_LABELS.get(res) if res is not None else None,
        data_note=data_note,
        synthetic=synthetic,
        privacy=privacy,
    )
