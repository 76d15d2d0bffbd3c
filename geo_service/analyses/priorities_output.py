"""The output formats of a priority list: JSON rows, the Dutch CSV, the GeoJSON of the layer.

:func:`~geo_service.analyses.priorities.compute_priorities` gives a typed
:class:`~geo_service.analyses.priorities.PriorityResult`; these render it for the CLI
(``--format json|csv``) and the published layer ``prioriteiten``.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np

from geo_service.analyses.priorities import PriorityResult
from geo_service.analyses.targeting import (
    geometry_json,
)
from spatial.grid.geometry import polygonal
from spatial.targeting.priorities import (
    PriorityTable,
)

__all__ = ["area_rows", "priorities_csv", "priorities_feature_collection", "priorities_json"]


def _trend_json(table: PriorityTable, i: int) -> dict[str, Any] | None:
    if table.trend is None:
        return None
    t = table.trend
    ratio, p = float(t.rate_ratio[i]), float(t.p_value[i])
    return {
        "fell_every_year": bool(t.strictly_decreasing[i]),
        "rose_every_year": bool((np.diff(table.counts[:, i]) > 0).all()),
        "mean_annual_change": round(float(t.mean_annual_change[i]), 2),
        "rate_ratio": round(ratio, 4) if np.isfinite(ratio) else None,
        "p_value": round(p, 6) if np.isfinite(p) else None,
    }


def _opt(value: float, digits: int) -> float | None:
    return round(float(value), digits) if np.isfinite(value) else None


def area_rows(result: PriorityResult) -> list[dict[str, Any]]:
    """Return the areas as JSON-ready rows, rank 1 first (``areas`` of the JSON output)."""
    t, r = result.table, result.table.ranking
    rows = []
    for i in result.order.tolist():
        rows.append(
            {
                "code": result.codes[i],
                "name": result.names[i],
                "municipality": result.municipalities[i],
                "rank": int(r.rank[i]),
                "rank_interval": [int(r.rank_lo[i]), int(r.rank_hi[i])],
                "p_top": round(float(r.p_top[i]), 3),
                "score": round(float(r.score[i]), 4),
                "counts": {str(y): int(t.counts[k, i]) for k, y in enumerate(result.years)},
                "dwellings": round(float(t.dwellings[i])),
                "dwellings_estimated": bool(result.dwellings_estimated[i]),
                "risk_per_1000": _opt(t.risk_per_1000[i], 2),
                "risk_per_1000_eb": _opt(t.risk_per_1000_eb[i], 2),
                "trend": _trend_json(t, i),
                "hotspot_share": _opt(t.hotspot_share[i], 3),
                "explanation": result.explanations[i],
            }
        )
    return rows


def priorities_json(result: PriorityResult) -> dict[str, Any]:
    """``{"metadata": {...}, "areas": [...]}`` (see the README, "Targeting")."""
    return {"metadata": result.metadata, "areas": area_rows(result)}


def _yes_no(value: object) -> str:
    return "" if value is None else ("ja" if value else "nee")


def priorities_csv(result: PriorityResult) -> str:
    """Return the areas as CSV for Dutch spreadsheets: ``;``-separated, decimal commas."""
    rows = area_rows(result)
    years = [str(y) for y in result.years]
    header = [
        "code", "name", "municipality", "rank", "rank_lo", "rank_hi",
        *[f"count_{y}" for y in years],
        "dwellings", "dwellings_estimated", "risk_per_1000", "risk_per_1000_eb",
        "trend_fell_every_year", "trend_rate_ratio", "hotspot_share", "score", "explanation",
    ]  # fmt: skip

    def dec(v: float | None, digits: int) -> str:
        return "" if v is None else f"{v:.{digits}f}".replace(".", ",")

    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        trend = row["trend"] or {}
        writer.writerow(
            [
                row["code"], row["name"], row["municipality"] or "", row["rank"],
                row["rank_interval"][0], row["rank_interval"][1],
                *[row["counts"][y] for y in years],
                row["dwellings"], "ja" if row["dwellings_estimated"] else "nee",
                dec(row["risk_per_1000"], 2), dec(row["risk_per_1000_eb"], 2),
                _yes_no(trend.get("fell_every_year")),
                dec(trend.get("rate_ratio"), 3), dec(row["hotspot_share"], 3),
                dec(row["score"], 4), row["explanation"],
            ]
        )  # fmt: skip
    return buf.getvalue()


def priorities_feature_collection(result: PriorityResult) -> dict[str, Any]:
    """Return the areas as a FeatureCollection (WGS84 polygons, row fields flattened)."""
    features = []
    for row, i in zip(area_rows(result), result.order.tolist(), strict=True):
        props = {k: v for k, v in row.items() if k not in ("counts", "rank_interval", "trend")}
        props["rank_lo"], props["rank_hi"] = row["rank_interval"]
        for k, (year, n) in enumerate(row["counts"].items()):
            hidden = result.withheld_years is not None and bool(result.withheld_years[k, i])
            props[f"count_{year}"] = None if hidden else n
        props["count_total"] = int(sum(row["counts"].values()))
        if result.published_total is not None and result.withheld_total is not None:
            # Published: the total's own perturbation; withheld totals get no rank at all.
            withheld = bool(result.withheld_total[i])
            props["count_total"] = None if withheld else int(result.published_total[i])
            props["suppressed"] = withheld or any(
                props[f"count_{y}"] is None for y in row["counts"]
            )
            if withheld:
                for name in ("rank", "rank_lo", "rank_hi", "p_top"):
                    props[name] = None
        trend = row["trend"] or {}
        props["trend_fell_every_year"] = trend.get("fell_every_year")
        props["trend_rate_ratio"] = trend.get("rate_ratio")
        features.append(
            {
                "type": "Feature",
                "id": row["code"],
                "geometry": geometry_json(polygonal(result.geometries[i])),
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": features, "metadata": result.metadata}
