"""Shared pieces of the targeting analyses (priorities, camera plan, IHA proposals).

Dutch wording of numbers and categories, the full calendar years and the default window of
an analysis, GeoJSON geometry output and the equity check's metadata (the statistics of it
are in :mod:`spatial.targeting.equity`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo_service.errors import NotFoundError
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from layers.geojson import COORD_DECIMALS
from spatial.errors import InvalidParameterError
from spatial.targeting.equity import equity_table
from spatial.targeting.priorities import points_in_areas

#: Dutch singular and plural of the known categories; others read "incident(en) <category>".
CATEGORY_NOUNS: dict[str, tuple[str, str]] = {
    "woninginbraak": ("woninginbraak", "woninginbraken"),
    "jeugdoverlast": ("melding jeugdoverlast", "meldingen jeugdoverlast"),
}


def nl(value: float | None, digits: int = 0) -> str:
    """Format a number the Dutch way: ``12.345`` and ``1,5`` (empty for None or NaN).

    Examples
    --------
    >>> nl(12345), nl(1.25, 1), nl(float("nan")), nl(-0.04, 1)
    ('12.345', '1,2', '', '0,0')
    """
    if value is None or not np.isfinite(value):
        return ""
    rounded = round(float(value), digits) + 0.0  # -0.0 + 0.0 is 0.0: no "-0,0"
    text = f"{rounded:,.{digits}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def incidents_text(n: float, category: str) -> str:
    """Return ``"3 woninginbraken"`` / ``"1 woninginbraak"`` (counts as Dutch numbers).

    Examples
    --------
    >>> incidents_text(1, "woninginbraak"), incidents_text(1200, "fietsdiefstal")
    ('1 woninginbraak', '1.200 incidenten fietsdiefstal')
    """
    one, many = CATEGORY_NOUNS.get(category, (f"incident {category}", f"incidenten {category}"))
    return f"{nl(n)} {one if n == 1 else many}"


def kind_totals(counts: Mapping[str, float], kinds: Mapping[str, str]) -> dict[str, int]:
    """Sum per-category counts per kind of category, never across kinds.

    A melding (residents' report) is not a crime, so no total adds meldingen to police
    registrations: the caller gets one total per kind (see
    :data:`geo_service.store.incidents.CATEGORY_KINDS`). A category missing from ``kinds``
    is a police registration.

    Returns
    -------
    dict
        ``{"total_politie": n, "total_melding": m}``, both keys always present.

    Examples
    --------
    >>> kind_totals({"woninginbraak": 3, "jeugdoverlast": 5, "diefstal": 1},
    ...             {"jeugdoverlast": "melding"})
    {'total_politie': 4, 'total_melding': 5}
    """
    out = {"total_politie": 0, "total_melding": 0}
    for category, n in counts.items():
        out[f"total_{kinds.get(category, 'politie')}"] += int(n)
    return out


def full_years(as_of: date, years: int) -> list[int]:
    """Return the last ``years`` full calendar years on or before ``as_of``, oldest first.

    A year is full when ``as_of`` is its 31 December or later.

    Raises
    ------
    InvalidParameterError
        ``years`` outside 1-20.

    Examples
    --------
    >>> full_years(date(2026, 10, 31), 3), full_years(date(2025, 12, 31), 2)
    ([2023, 2024, 2025], [2024, 2025])
    """
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= 20:
        raise InvalidParameterError(f"years must be an integer from 1 to 20, got {years!r}")
    last = as_of.year if (as_of.month, as_of.day) == (12, 31) else as_of.year - 1
    return list(range(last - years + 1, last + 1))


def covered_years(years: list[int], first_day: date | None) -> list[int]:
    """Keep the years the data cover from January on (a partial first year would fake a rise).

    Examples
    --------
    >>> covered_years([2021, 2022, 2023], date(2021, 11, 1))
    [2022, 2023]
    >>> covered_years([2021, 2022], date(2021, 1, 4))
    [2021, 2022]
    """
    if first_day is None:
        return years
    return [y for y in years if (first_day.year, first_day.month) <= (y, 1)]


def geometry_json(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON geometry of a WGS84 shapely geometry, coordinates rounded (RFC 7946 rings)."""
    fixed = shapely.orient_polygons(shapely.set_precision(geom, 10**-COORD_DECIMALS))
    out: dict[str, Any] = shapely.geometry.mapping(fixed)
    return out


def names_of(codes: npt.ArrayLike, names: dict[str, str]) -> list[str]:
    """Names for codes (the code where no name is known)."""
    return [names.get(str(c), str(c)) for c in np.asarray(codes, dtype=object).tolist()]


def recent_window(
    store: Store, flt: IncidentFilter, categories: list[str], days: int = 365
) -> tuple[date, date]:
    """Return ``flt``'s period as days, by default the ``days`` up to the last incident.

    The end defaults to the day of the last stored incident of ``categories`` (so a result
    does not change with the wall clock), the start to ``days - 1`` days before the end.

    Raises
    ------
    NotFoundError
        No incident of these categories (in the municipality).
    """
    end = flt.end
    if end is None:
        ends = [store.data_window(flt.replace(category=c, start=None))[1] for c in categories]
        known = [e for e in ends if e is not None]
        if not known:
            raise NotFoundError(
                "no incidents of these categories / geen incidenten van deze soorten"
                + (f" in {flt.municipality}" if flt.municipality else "")
            )
        end = max(known)
    end_day = end.date() if isinstance(end, datetime) else end
    start = flt.start
    start_day = start.date() if isinstance(start, datetime) else start
    return (start_day or end_day - timedelta(days=days - 1)), end_day


def per_wijk(
    wijken: gpd.GeoDataFrame,
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
) -> npt.NDArray[np.float64]:
    """Count (or sum ``weights`` of) points per wijk, by point-in-polygon (WGS84)."""
    idx = points_in_areas(lon, lat, wijken.geometry.to_numpy())
    w = None if weights is None else np.asarray(weights, dtype=np.float64)[idx >= 0]
    return np.bincount(idx[idx >= 0], weights=w, minlength=len(wijken)).astype(np.float64)


def _pct(share: float) -> str:
    return f"{nl(share * 100)}%" if share >= 0.005 or share == 0 else "minder dan 1%"


def equity_metadata(
    wijken: gpd.GeoDataFrame,
    effort: npt.ArrayLike,
    incidents: npt.ArrayLike,
    unit: tuple[str, str],
) -> dict[str, Any]:
    """Return the equity check of a proposal set for ``metadata.equity`` (targeting.equity).

    Parameters
    ----------
    wijken
        The wijken of the study (EPSG:4326) with ``code``, ``name``, ``dwellings``.
    effort
        Effort per wijk (aligned with ``wijken``): proposals, or shares of proposals.
    incidents
        Incidents per wijk that the proposals answer (:func:`per_wijk`).
    unit
        Dutch singular and plural of one unit of effort (``"cameraplek"``, ...).

    Returns
    -------
    dict
        ``unit``, ``rule``, ``wijken`` (a small table: wijken with effort or at least 5 % of
        the incidents), ``sentences`` (one per wijk that gets more than its share) and
        ``summary``; only a ``note`` when no wijken are stored. The text compares shares
        with shares: a wijk's (or the flagged wijken's summed) share of the effort against
        its share of the incidents and of the dwellings, never a number of units against a
        share.
    """
    if wijken.empty:
        return {"note": "geen wijken opgeslagen: geen verdeling over wijken"}
    counts = np.asarray(incidents, dtype=np.float64)
    dwellings = pd.to_numeric(wijken["dwellings"], errors="coerce").to_numpy(dtype=np.float64)
    t = equity_table(effort, counts, dwellings)
    names = wijken["name"].astype(str).to_numpy()
    codes = wijken["code"].astype(str).to_numpy()
    show = np.flatnonzero((t.effort > 0) | (t.incident_share >= 0.05))
    show = show[np.lexsort((-t.incident_share[show], -t.effort_share[show]))]
    total = float(t.effort.sum())
    rows = [
        {
            "code": str(codes[i]),
            "name": str(names[i]),
            "effort": round(float(t.effort[i]), 3),
            "effort_share": round(float(t.effort_share[i]), 3),
            "incident_share": round(float(t.incident_share[i]), 3),
            "dwelling_share": round(float(t.dwelling_share[i]), 3),
            "more_than_share": bool(t.over[i]),
        }
        for i in show.tolist()
    ]
    sentences = [
        f"{names[i]}: {_pct(t.effort_share[i])} van de {unit[1]} "
        f"({nl(t.effort[i], 1)} van {nl(total)}), tegenover {_pct(t.incident_share[i])} van de "
        f"incidenten en {_pct(t.dwelling_share[i])} van de woningen."
        for i in np.flatnonzero(t.over)[np.argsort(-t.effort_share[t.over], kind="stable")]
    ]
    n, k = len(wijken), len(sentences)
    if k:
        over = t.over
        summary = (
            f"{k} van de {n} wijken {'krijgt' if k == 1 else 'krijgen samen'} "
            f"{_pct(float(t.effort_share[over].sum()))} van de {unit[1]}, tegenover "
            f"{_pct(float(t.incident_share[over].sum()))} van de incidenten en "
            f"{_pct(float(t.dwelling_share[over].sum()))} van de woningen: "
            f"{'meer' if k == 1 else 'elk meer'} dan 1,5 x het eigen aandeel in de incidenten."
        )
    else:
        summary = (
            f"Geen van de {n} wijken krijgt een duidelijk groter aandeel van de {unit[1]} dan "
            "het eigen aandeel in de incidenten."
        )
    return {
        "unit": unit[1],
        "total_effort": round(total, 3),
        "rule": "meer dan het eigen aandeel: aandeel inzet > 1,5 x aandeel incidenten en "
        "minstens 2 procentpunt meer",
        "wijken": rows,
        "sentences": sentences,
        "summary": summary,
    }
