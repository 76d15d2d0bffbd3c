"""The demo's clock as the tests see it: derived from the store, never from today's calendar.

The demo ends with the last full month before its "as of" date (``geo-service demo --as-of``,
default today), so its window moves every month. Tests that check a caption, a period or a
partial year take their expectations from :class:`DemoClock` (read from the store's
``meta``), so they hold on any date; ``make test`` runs them at three clock dates
(``tests/run_dated.sh``).

The Dutch month abbreviations are written out here, independently of ``geo_service``'s own
table, so a wrong label in the product still fails a test.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from geo_service.store import Store

MONTHS = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")


def label(d: date) -> str:
    """``'okt 2026'``."""
    return f"{MONTHS[d.month - 1]} {d.year}"


def add_months(d: date, n: int) -> date:
    """The first day of the month ``n`` months after ``d``'s."""
    i = d.year * 12 + d.month - 1 + n
    return date(i // 12, i % 12 + 1, 1)


def month_end(d: date) -> date:
    """The last day of ``d``'s month."""
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


@dataclass(frozen=True)
class DemoClock:
    """The demo store's clock and data window (first days of the first and last month)."""

    as_of: date
    first: date
    last: date

    @classmethod
    def of(cls, path: Path) -> DemoClock:
        """Read the clock a demo store records."""
        with Store.open(path, read_only=True) as store:
            values = {
                k: store.meta(k) for k in ("demo_as_of", "demo_first_month", "demo_last_month")
            }
        missing = [k for k, v in values.items() if v is None]
        if missing:
            raise LookupError(f"not a demo store (no {', '.join(missing)}): {path}")
        return cls(*(date.fromisoformat(str(values[k])) for k in values))

    @property
    def window(self) -> str:
        """``'nov 2021 t/m okt 2026'``: the data window as the caption writes it."""
        return f"{label(self.first)} t/m {label(self.last)}"

    @property
    def viewer_first(self) -> date:
        """First month of the viewers' "all data": the first complete quarter's first month."""
        if self.first.month % 3 == 1:
            return self.first
        return add_months(date(self.first.year, 3 * ((self.first.month - 1) // 3) + 1, 1), 3)

    @property
    def viewer_last(self) -> date:
        """Last month of the viewers' "all data": the end of the last complete quarter."""
        if self.last.month % 3 == 0:
            return self.last
        return add_months(date(self.last.year, 3 * ((self.last.month - 1) // 3) + 1, 1), -1)

    @property
    def viewer_window(self) -> str:
        """The viewers' default period as the caption writes it (whole quarters)."""
        return months(self.viewer_first, self.viewer_last)

    def month(self, back: int) -> date:
        """The first day of the month ``back`` months before the last month of data."""
        return add_months(self.last, -back)

    def partial_first_year(self) -> str | None:
        """The label of the first year when the data start after January."""
        return (
            None
            if self.first.month == 1
            else f"{self.first.year} vanaf {MONTHS[self.first.month - 1]}"
        )

    def partial_last_year(self) -> str | None:
        """The label of the last year when the data end before December."""
        return (
            None if self.last.month == 12 else f"{self.last.year} t/m {MONTHS[self.last.month - 1]}"
        )


def months(first: date, last: date) -> str:
    """``'jan t/m mrt 2026'`` / ``'nov 2021 t/m okt 2026'``: whole months as captions write them."""
    if first.year == last.year:
        if first.month == last.month:
            return label(first)
        return f"{MONTHS[first.month - 1]} t/m {label(last)}"
    return f"{label(first)} t/m {label(last)}"


def quarter_end_before(d: date, at_least: int) -> date:
    """First day of the latest quarter-end month (mar, jun, sep, dec) ``at_least`` months back."""
    m = add_months(d, -at_least)
    return add_months(m, -(m.month % 3))
