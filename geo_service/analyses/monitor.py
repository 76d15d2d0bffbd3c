"""Adapter: the policy monitor (``geo-service monitor``).

Per municipality and per wijk, per category and full calendar year: the count, incidents per
1,000 inhabitants and per 1,000 dwellings, and -- with a target per category (per 1,000
dwellings or inhabitants per year) -- whether the last year is above it, the trend and, at
that pace, when the target is reached (:func:`spatial.targeting.monitor.rates_against_target`).
Municipalities count the incidents ingestion assigned to them; wijken count by
point-in-polygon at analysis time (as :mod:`geo_service.analyses.priorities` does). A population
that
is not stored gives no rate (``null``), never a guess.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd

from geo_service import __version__
from geo_service.analyses.targeting import covered_years, full_years, incidents_text, nl
from geo_service.errors import NotFoundError
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from spatial.errors import InvalidParameterError
from spatial.targeting.monitor import MonitorResult, rates_against_target
from spatial.targeting.priorities import counts_by_year, points_in_areas

Basis = Literal["dwellings", "inhabitants"]
BASIS_NL = {"dwellings": "woningen", "inhabitants": "inwoners"}


@dataclass(frozen=True)
class MonitorParams:
    """Parameters of the monitor; validated on construction.

    Attributes
    ----------
    incidents
        Municipality (optional); category and period must be empty.
    categories
        Categories (default: all stored).
    targets
        Target per category, incidents per 1,000 of ``basis`` per year.
    basis
        What the targets are per: ``dwellings`` or ``inhabitants``.
    years
        Full calendar years (2-20).
    as_of
        Reference day (default: the last stored incident).
    """

    incidents: IncidentFilter = field(default_factory=IncidentFilter)
    categories: tuple[str, ...] = ()
    targets: tuple[tuple[str, float], ...] = ()
    basis: Basis = "dwellings"
    years: int = 5
    as_of: date | None = None

    def __post_init__(self) -> None:
        if self.incidents.category or self.incidents.start or self.incidents.end:
            raise InvalidParameterError("use categories, years and as_of / gebruik --categories")
        if self.basis not in BASIS_NL:
            raise InvalidParameterError(f"basis must be dwellings or inhabitants: {self.basis!r}")
        if isinstance(self.years, bool) or not 2 <= self.years <= 20:
            raise InvalidParameterError(f"years must be from 2 to 20, got {self.years!r}")
        for cat, value in self.targets:
            if not np.isfinite(value) or value < 0:
                raise InvalidParameterError(f"target for {cat} must be >= 0, got {value!r}")


def _status(
    name: str, category: str, year: int, m: MonitorResult, i: int, target: float | None, basis: str
) -> str:
    rate = m.rate[-1, i]
    if not np.isfinite(rate):
        return f"{name}: geen aantal {BASIS_NL[basis]} bekend, dus geen cijfer per 1.000."
    what = incidents_text(2, category).split(" ", 1)[1]
    head = f"{name}: {nl(rate, 1)} {what} per 1.000 {BASIS_NL[basis]} in {year}"
    if target is None:
        return head + " (geen doel gesteld)."
    head += f" (doel {nl(target, 1)})"
    if not m.above[i]:
        return head + ": op of onder het doel."
    ratio = float(m.trend.rate_ratio[i]) if m.trend is not None else np.nan
    if np.isfinite(m.years_to_target[i]):
        return (
            head + f": boven het doel; daalt gemiddeld {nl((1 - ratio) * 100)}% per jaar, op dit "
            f"tempo over {int(m.years_to_target[i])} jaar op het doel."
        )
    return head + ": boven het doel en niet dalend."


def compute_monitor(store: Store, params: MonitorParams) -> dict[str, Any]:
    """Return ``{"metadata": {...}, "rows": [...]}``: one row per area and category.

    Raises
    ------
    NotFoundError
        Unknown categories, no incidents, no areas.
    """
    cats = store.resolve_categories(params.categories, every=True)
    muni = params.incidents.municipality
    as_of = params.as_of
    if as_of is None:
        ends = [store.data_window(IncidentFilter(category=c, municipality=muni))[1] for c in cats]
        known = [e for e in ends if e is not None]
        if not known:
            raise NotFoundError("no incidents / geen incidenten")
        as_of = max(known)
    wanted = full_years(as_of, params.years)
    firsts = [store.data_window(IncidentFilter(category=c, municipality=muni))[0] for c in cats]
    years = covered_years(wanted, min((f for f in firsts if f is not None), default=None))
    if not years:
        raise NotFoundError("no full calendar year of data / geen heel kalenderjaar aan gegevens")
    gemeenten = store.areas_frame(level="gemeente", municipality=muni).reset_index(drop=True)
    wijken = store.areas_frame(level="wijk", municipality=muni).reset_index(drop=True)
    if gemeenten.empty and wijken.empty:
        raise NotFoundError("no areas stored / geen gebieden; importeer ze eerst")
    targets = dict(params.targets)
    rows: list[dict[str, Any]] = []
    for cat in cats:  # a few categories
        pts = store.incident_points(
            IncidentFilter(cat, muni, date(years[0], 1, 1), date(years[-1], 12, 31))
        )
        year_idx = pd.DatetimeIndex(pts["occurred_from"]).year.to_numpy() - years[0]
        for level, areas in (("gemeente", gemeenten), ("wijk", wijken)):
            if areas.empty:
                continue
            if level == "gemeente":
                lookup = {c: i for i, c in enumerate(areas["code"].astype(str))}
                idx = np.array([lookup.get(str(m), -1) for m in pts["municipality"]], dtype=int)
            else:
                idx = points_in_areas(pts["lon"], pts["lat"], areas.geometry.to_numpy())
            counts = counts_by_year(idx, year_idx, len(areas), len(years))
            pops = {
                b: pd.to_numeric(areas[b], errors="coerce").to_numpy(dtype=np.float64)
                for b in ("dwellings", "inhabitants")
            }
            target = targets.get(cat)
            m = rates_against_target(counts, pops[params.basis], target or 0.0)
            other = "inhabitants" if params.basis == "dwellings" else "dwellings"
            m_other = rates_against_target(counts, pops[other], 0.0)
            per = {params.basis: m.rate, other: m_other.rate}
            for i in range(len(areas)):  # areas of one level: tens of rows
                name = str(areas["name"].iloc[i] or areas["code"].iloc[i])
                trend = m.trend
                rows.append(
                    {
                        "level": level,
                        "code": str(areas["code"].iloc[i]),
                        "name": name,
                        "category": cat,
                        "counts": {str(y): int(counts[k, i]) for k, y in enumerate(years)},
                        "per_1000_dwellings": _rates(per["dwellings"][:, i], years),
                        "per_1000_inhabitants": _rates(per["inhabitants"][:, i], years),
                        "target": target,
                        "target_basis": params.basis,
                        "above_target": bool(m.above[i]) if target is not None else None,
                        "fell_every_year": bool(trend.strictly_decreasing[i]) if trend else None,
                        "rate_ratio": _num(trend.rate_ratio[i], 4) if trend else None,
                        "years_to_target": _num(m.years_to_target[i], 0) if target else None,
                        "status": _status(name, cat, years[-1], m, i, target, params.basis),
                    }
                )
    metadata = {
        "parameters": {
            "municipality": muni,
            "categories": cats,
            "targets": targets,
            "basis": params.basis,
            "years": params.years,
            "as_of": as_of.isoformat(),
        },
        "window": {
            "start": f"{years[0]}-01-01",
            "end": f"{years[-1]}-12-31",
            "years": years,
            "left_out": [y for y in wanted if y not in years],
        },
        "populations_known": {
            b: bool(
                pd.to_numeric(wijken.get(b, pd.Series(dtype=float)), errors="coerce").notna().any()
            )
            for b in ("dwellings", "inhabitants")
        },
        "software": f"geo-service {__version__}",
        "data_version": store.data_version(),
    }
    return {"metadata": metadata, "rows": rows}


def _num(value: float, digits: int) -> float | None:
    return round(float(value), digits) if np.isfinite(value) else None


def _rates(values: np.ndarray, years: list[int]) -> dict[str, float | None]:
    return {str(y): _num(v, 2) for y, v in zip(years, values, strict=True)}


def monitor_csv(doc: dict[str, Any]) -> str:
    """Return the monitor rows as CSV for Dutch spreadsheets (``;``, decimal commas)."""
    years = [str(y) for y in doc["metadata"]["window"]["years"]]

    def dec(v: float | None) -> str:
        return "" if v is None else f"{v}".replace(".", ",")

    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\n")
    w.writerow(
        ["level", "code", "name", "category"]
        + [f"count_{y}" for y in years]
        + [f"per_1000_dwellings_{y}" for y in years]
        + [f"per_1000_inhabitants_{y}" for y in years]
        + ["target", "target_basis", "above_target", "years_to_target", "status"]
    )
    for r in doc["rows"]:
        w.writerow(
            [r["level"], r["code"], r["name"], r["category"]]
            + [r["counts"][y] for y in years]
            + [dec(r["per_1000_dwellings"][y]) for y in years]
            + [dec(r["per_1000_inhabitants"][y]) for y in years]
            + [
                dec(r["target"]),
                r["target_basis"],
                "" if r["above_target"] is None else ("ja" if r["above_target"] else "nee"),
                dec(r["years_to_target"]),
                r["status"],
            ]
        )
    return buf.getvalue()
