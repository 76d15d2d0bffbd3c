"""The figures of the pages: trend chart, counts per year, hotspots as places.

Every figure a viewer reads passes the privacy policy: layers come from
:func:`~geo_service.web.service.layer_collection`, periods from
:meth:`~geo_service.web.policy.ViewerPolicy.period` and counts from
:meth:`~geo_service.web.policy.ViewerPolicy.count` -- the same functions the API uses.
The pages, their CSV downloads and the comparison view all read these objects, so a figure
is never computed twice in two ways.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import pandas as pd
from fastapi import Request

from geo_service.analyses.places import compute_hotspot_clusters, hot_cells
from geo_service.errors import DomainError
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.web.auth import Principal
from geo_service.web.pages.caption import MONTHS_NL, DataWindow, used_period
from geo_service.web.policy import ViewerPolicy
from geo_service.web.published.base import LayerQuery
from geo_service.web.published.registry import get_layer
from geo_service.web.service import layer_table
from spatial.privacy.disclosure import combine_keys

#: Below this many (estimated) dwellings a rate per 1,000 dwellings says more about the
#: estimate than about the place (dunes, harbours, parks): it is left out.
MIN_DWELLINGS = 250


@dataclass(frozen=True)
class Shown:
    """How the page shows counts: exact for analysts, the viewer policy for the rest.

    ``first`` and ``last`` are the store's data window: the viewer lattice of periods is
    laid over it (:meth:`ViewerPolicy.period`).
    """

    policy: ViewerPolicy
    viewer: bool
    first: date | None = None
    last: date | None = None

    def count(self, value: float | None, key: int | None = None) -> int | None:
        """Return the count as shown (None = withheld, for viewers).

        ``key`` is the cell key of the records counted (the cell key method needs it).
        """
        if value is None:
            return None
        return self.policy.count(float(value), key) if self.viewer else int(value)

    def text(self, value: float | None, key: int | None = None) -> str:
        """Return the count as text: ``"<5"`` when hidden (the template escapes it)."""
        shown = self.count(value, key)
        return f"<{self.policy.min_count}" if shown is None else f"{shown}"

    def flt(self, flt: IncidentFilter) -> IncidentFilter:
        """Return the filter the figures are computed for (the lattice period for viewers)."""
        return self.policy.period(flt, self.first, self.last) if self.viewer else flt


# -- trend ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One month of the trend chart (SVG coordinates)."""

    x: float
    y: float
    width: float
    height: float
    label: str
    text: str
    hidden: bool


@dataclass(frozen=True)
class TrendChart:
    """A bar chart of incidents per month, laid out for the ``_trend.html`` partial."""

    width: int
    height: int
    left: int
    bottom: int
    bars: list[Bar]
    ticks: list[tuple[float, str]]
    month_labels: list[tuple[float, str]]
    year_labels: list[tuple[float, str]]
    rows: list[tuple[str, str]] = field(default_factory=list)
    k: int = 5

    @property
    def empty(self) -> bool:
        """Whether there is nothing to draw."""
        return not self.bars


def monthly_series(
    store: Store, flt: IncidentFilter, window: DataWindow
) -> list[tuple[date, int, int]]:
    """Return ``(month, count, cell key)`` for every month of the filter's period (zeros too).

    Open ends are closed by the store's data window.
    """
    df = store.monthly_counts(flt)
    counts: dict[date, tuple[int, int]] = {}
    if not df.empty:
        df = df.assign(cell_key=df["cell_key"].astype(np.uint64))
        grouped = df.groupby("month").agg(
            count=("count", "sum"), cell_key=("cell_key", lambda k: int(combine_keys(k)))
        )
        months = pd.to_datetime(grouped.index)
        counts = {
            m.date().replace(day=1): (int(c), int(k))
            for m, c, k in zip(
                months, grouped["count"].to_numpy(), grouped["cell_key"].to_numpy(), strict=True
            )
        }
    lo = flt.start or window.first or (min(counts) if counts else None)
    hi = flt.end or window.last or (max(counts) if counts else None)
    if lo is None or hi is None:
        return []
    first = date(lo.year, lo.month, 1)
    last = date(hi.year, hi.month, 1)
    months = pd.date_range(first, last, freq="MS")
    return [(m.date(), *counts.get(m.date(), (0, 0))) for m in months]


def trend_chart(
    series: list[tuple[date, int, int]], shown: Shown, *, width: int = 900, height: int = 200
) -> TrendChart:
    """Lay out the monthly bars: hidden months (below k, viewers) marked, month labels."""
    k = shown.policy.min_count
    left, bottom, top_pad = 44, 38, 12
    if not series:
        return TrendChart(width, height, left, bottom, [], [], [], [], [], k)
    values = [shown.count(c, key) for _, c, key in series]
    top = max([1] + [v for v in values if v is not None])
    n = len(series)
    bar_w = (width - left - 8) / n
    plot_h = height - bottom - top_pad
    bars = []
    rows = []
    month_labels = []
    year_labels = []
    step = 1 if n <= 18 else 3 if n <= 48 else 6
    for i, ((month, _, _), value) in enumerate(zip(series, values, strict=True)):
        x = left + i * bar_w
        label = f"{MONTHS_NL[month.month - 1]} {month.year}"
        text = f"<{k}" if value is None else str(value)
        h = 0.0 if value is None else value / top * plot_h
        bars.append(
            Bar(
                x=round(x + 1, 1),
                y=round(height - bottom - h, 1),
                width=round(max(1.0, bar_w - 2), 1),
                height=round(h, 1),
                label=label,
                text=text,
                hidden=value is None,
            )
        )
        rows.append((month.isoformat()[:7], "" if value is None else str(value)))
        if (month.month - 1) % step == 0:
            month_labels.append((round(x + bar_w / 2, 1), MONTHS_NL[month.month - 1]))
        # The first bar names its year too, unless a January follows within four bars.
        if month.month == 1 or (i == 0 and month.month < 10):
            year_labels.append((round(x + 1, 1), str(month.year)))
    ticks = [
        (round(height - bottom - frac * plot_h, 1), f"{top * frac:.0f}") for frac in (0, 0.5, 1)
    ]
    return TrendChart(width, height, left, bottom, bars, ticks, month_labels, year_labels, rows, k)


# -- counts per year -------------------------------------------------------------------------


@dataclass(frozen=True)
class YearRow:
    """One row of the year table: its label, whether it is partial, the shown counts."""

    label: str
    partial: bool
    values: list[str]
    comparison: bool = False


@dataclass(frozen=True)
class YearTable:
    """Counts per year and category, partial years marked, with a like-for-like row."""

    categories: list[str]
    rows: list[YearRow]
    note: str | None
    #: Kind of each category (``politie`` / ``melding``): meldingen get their own column,
    #: marked, after the police registrations; the table has no total.
    kinds: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """Whether the table has no rows."""
        return not self.rows


def year_table(
    store: Store, municipality: str | None, shown: Shown, window: DataWindow
) -> YearTable:
    """Count incidents per year; label the years the data covers in part.

    When the last year is partial (``2026 t/m okt``), a row with the same months of the year
    before (``2025 jan t/m okt``) is added, so the comparison is like for like.
    """
    monthly = store.monthly_counts(IncidentFilter(municipality=municipality))
    if monthly.empty:
        return YearTable([], [], None)
    monthly = monthly.assign(
        month=pd.to_datetime(monthly["month"]), cell_key=monthly["cell_key"].astype(np.uint64)
    )
    monthly["year"] = monthly["month"].dt.year
    kinds = store.category_kinds()
    cats = sorted(
        monthly["category"].unique().tolist(),
        key=lambda c: (kinds.get(c, "politie") == "melding", c),
    )
    pivot = monthly.pivot_table(
        index="year", columns="category", values="count", aggfunc="sum", fill_value=0
    ).reindex(columns=cats, fill_value=0)
    # the cell key of a year's count: the sum of its months' keys modulo 2**32
    keys = (
        monthly.groupby(["year", "category"])["cell_key"]
        .agg(lambda k: int(combine_keys(k)))
        .unstack()
        .reindex(index=pivot.index, columns=cats)
        .fillna(0)
    )
    rows = []
    note = None
    for year in pivot.index:
        partial = window.partial_year(int(year))
        rows.append(
            YearRow(
                label=partial or str(int(year)),
                partial=partial is not None,
                values=[
                    shown.text(v, int(k))
                    for v, k in zip(pivot.loc[year], keys.loc[year], strict=True)
                ],
            )
        )
    last = window.last
    if last is not None and last.month < 12 and (last.year - 1) in pivot.index:
        prev = monthly[
            (monthly["year"] == last.year - 1) & (monthly["month"].dt.month <= last.month)
        ]
        same = prev.groupby("category")["count"].sum().reindex(cats, fill_value=0)
        same_keys = (
            prev.groupby("category")["cell_key"]
            .agg(lambda k: int(combine_keys(k)))
            .reindex(cats, fill_value=0)
        )
        months = "jan" if last.month == 1 else f"jan t/m {MONTHS_NL[last.month - 1]}"
        rows.append(
            YearRow(
                label=f"{last.year - 1} {months}",
                partial=True,
                values=[shown.text(v, int(k)) for v, k in zip(same, same_keys, strict=True)],
                comparison=True,
            )
        )
        note = (
            f"{last.year} loopt t/m {MONTHS_NL[last.month - 1]}: vergelijk het met de rij "
            f"'{last.year - 1} {months}', niet met een heel jaar."
        )
    return YearTable(cats, rows, note, {c: kinds.get(c, "politie") for c in cats})


# -- hotspots as places ----------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """One hotspot cluster: contiguous significant cells, named by the areas it lies in."""

    rank: int
    wijk: str
    buurten: str
    strength: str
    cells: int
    area_km2: float
    incidents: str
    count: int | None
    #: Incidents per 1,000 dwellings per year of the period (formatted; "-" unknown).
    per_1000_dwellings: str
    centre: tuple[float, float]
    hidden: bool


@dataclass(frozen=True)
class Places:
    """The hotspot places of one category, or the sentence that replaces them."""

    category: str
    places: list[Place]
    sentence: str | None
    n_clusters: int
    period: tuple[date | None, date | None]
    cells: list[str] = field(default_factory=list)


def period_years(period: tuple[date | None, date | None]) -> float | None:
    """Return the length of a period of whole days in years (days / 365.25); None if open.

    Examples
    --------
    >>> period_years((date(2021, 1, 1), date(2025, 12, 31)))
    4.999315537303217
    >>> period_years((None, date(2025, 12, 31))) is None
    True
    """
    start, end = period
    if start is None or end is None:
        return None
    return ((end - start).days + 1) / 365.25


def hotspot_places(
    request: Request,
    store: Store,
    principal: Principal,
    query: LayerQuery,
    shown: Shown,
    *,
    place_name: str,
    limit: int = 8,
) -> Places:
    """Hot clusters of one category as places: areas, size, incidents, rate per dwellings.

    Clusters are the connected components of the FDR-significant hot cells (H3 neighbours)
    of the Gi* layer *as the caller may see it* (:func:`~geo_service.web.service.layer_table`),
    counted and named by :func:`geo_service.analyses.places.compute_hotspot_clusters` from the
    incidents of the same (for viewers: lattice) period, larger clusters split into places of
    at most 1 km²; counts are shown through the policy and the rate is computed from the
    *shown* count, so it reveals nothing the count does not. The rate is per 1,000 dwellings
    per year: ``1000 * count / dwellings / years``, ``years`` = the period's days / 365.25.

    Raises
    ------
    DomainError
        When the layer cannot be computed (the page shows the Dutch message).
    """
    category = query.incidents.category or ""
    table = layer_table(request, store, get_layer("hotspots-gistar"), query, principal)
    period = used_period(table.metadata)
    hot, classes = hot_cells(table)
    flt = replace(query.incidents, start=period[0], end=period[1])
    total = shown.count(*store.count_and_key(flt))
    sentence: str | None
    if not hot:
        if total is None:
            sentence = (
                f"In {place_name} waren in deze periode minder dan {shown.policy.min_count} "
                f"incidenten ({category}): te weinig voor hotspots."
            )
        else:
            sentence = (
                f"Geen significante hotspots: de {total} incidenten ({category}) in "
                f"{place_name} liggen niet opvallend dicht bij elkaar."
            )
        return Places(category, [], sentence, 0, period)
    clusters = compute_hotspot_clusters(
        store, hot, classes, query.res, flt, record_keys=shown.viewer
    )
    prof = clusters.profile
    n_clusters = prof.n_clusters
    years = period_years(period)
    places = []
    for c in range(n_clusters):
        names = clusters.buurten[c]
        buurt_text = ", ".join(names[:2]) + (f" en {len(names) - 2} meer" if len(names) > 2 else "")
        key = int(prof.keys[c])
        count = shown.count(prof.incidents[c], key)
        rate = "-"
        known = prof.dwellings_known[c] and prof.dwellings[c] >= MIN_DWELLINGS
        if count is not None and known and years is not None:
            rate = f"{count / prof.dwellings[c] / years * 1000:.1f}".replace(".", ",")
        lat, lon = prof.centre[c]
        places.append(
            Place(
                rank=0,
                wijk=clusters.wijk[c],
                buurten=buurt_text or "-",
                strength={3: "99%", 2: "95%", 1: "90%"}[int(prof.strongest[c])],
                cells=int(prof.cells[c]),
                area_km2=round(float(prof.area_km2[c]), 3),
                incidents=shown.text(prof.incidents[c], key),
                count=count,
                per_1000_dwellings=rate,
                centre=(round(float(lat), 5), round(float(lon), 5)),
                hidden=count is None,
            )
        )
    strength_rank = {"99%": 3, "95%": 2, "90%": 1}
    places.sort(
        key=lambda p: (not p.hidden, strength_rank[p.strength], p.count or 0, p.cells),
        reverse=True,
    )
    visible = [p for p in places if not p.hidden]
    small = len(places) - len(visible)
    sentence = None
    if not visible:
        sentence = (
            f"In {place_name} zijn {len(places)} kleine clusters gevonden, elk met minder dan "
            f"{shown.policy.min_count} incidenten ({category}): te weinig om als hotspot te "
            "duiden of te tonen."
        )
    elif small:
        sentence = (
            f"Daarnaast {small} kleine cluster(s) met minder dan {shown.policy.min_count} "
            "incidenten, niet in de tabel."
        )
    ranked = [replace(p, rank=i + 1) for i, p in enumerate(visible[:limit])]
    return Places(category, ranked, sentence, n_clusters, period, hot)


def places_or_error(
    request: Request,
    store: Store,
    principal: Principal,
    query: LayerQuery,
    shown: Shown,
    *,
    place_name: str,
) -> tuple[Places | None, Exception | None]:
    """Return :func:`hotspot_places`, or the domain error it raised (shown as a sentence)."""
    try:
        return hotspot_places(request, store, principal, query, shown, place_name=place_name), None
    except DomainError as exc:
        return None, exc
