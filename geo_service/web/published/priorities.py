"""Burglary priorities per area for the Driehoek: area polygons with the priority table.

Viewers (the privacy model, :mod:`geo_service.web.policy`): counts per year and in total go
through :func:`geo_service.web.privacy.suppress_props` (below ``k`` null, else rounded); the
raw risk is recomputed from the *shown* total (so exact counts cannot be solved back from it)
and withheld with it; the EB risk is rounded to whole numbers per 1,000 dwellings and shown
only where the area's total reaches ``k``; the score, the trend's rate ratio and p-value and
the per-wijk equity table (shares of exact counts) are analyst-only, and so is ``as_of``
(by default the day of the last incident: viewers get the end of the last full year). The
Dutch explanation is rebuilt from what a viewer may see (rank, interval, trend direction,
hot spot share). The rank itself is the point of the layer and is shown: it orders areas,
it does not count incidents. Periods are whole calendar years, longer than the viewer
minimum.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from geo_service.analyses.targeting import nl
from geo_service.filters import IncidentFilter
from geo_service.store import Store
from geo_service.web.policy import ViewerPolicy
from geo_service.web.privacy import suppress_counts
from geo_service.web.published.base import FeatureCollection, Layer, LayerQuery

#: Exact figures viewers never get.
PRIORITY_HIDDEN = ("score", "trend_rate_ratio", "risk_per_1000")


def priority_params(store: Store, query: LayerQuery) -> Any:
    """Return the :class:`~geo_service.analyses.priorities.PriorityParams` of a layer query.

    ``query.params`` may hold the caller's :class:`~geo_service.analyses.priorities.PriorityParams`
    (level, years, as_of); the category comes from the query (default
    :data:`~geo_service.analyses.priorities.DEFAULT_CATEGORY`, else the first stored one).
    """
    from geo_service.analyses.priorities import DEFAULT_CATEGORY, PriorityParams

    incidents = IncidentFilter(
        category=store.resolve_category(query.incidents.category, prefer=(DEFAULT_CATEGORY,)),
        municipality=query.incidents.municipality,
    )
    chosen = query.params_of(PriorityParams, incidents=incidents)
    return replace(chosen, incidents=incidents, disclosure=query.disclosure)


def _priorities(store: Store, query: LayerQuery) -> FeatureCollection:
    from geo_service.analyses.priorities import compute_priorities
    from geo_service.analyses.priorities_output import priorities_feature_collection

    return priorities_feature_collection(compute_priorities(store, priority_params(store, query)))


def viewer_explanation(props: dict[str, Any]) -> str:
    """Return the Dutch line of an area as a viewer may read it (no counts, no exact risk).

    Examples
    --------
    >>> viewer_explanation({"rank": 3, "rank_lo": 2, "rank_hi": 6, "count_total": 40,
    ...     "risk_per_1000_eb": 21.0, "trend_fell_every_year": True, "hotspot_share": 0.18})
    ... # doctest: +NORMALIZE_WHITESPACE
    'Rang 3 (90%-interval 2-6); ongeveer 40 incidenten; ongeveer 21 per 1.000 woningen per
    jaar; elk jaar gedaald; 18% van de zeshoeken is een hotspot.'
    >>> viewer_explanation({"rank": None, "rank_lo": None, "rank_hi": None})
    'Geen rang (te weinig incidenten om te tonen); weinig incidenten.'
    """
    if props.get("rank") is None:  # a hidden total gets no rank (was "Rang None")
        parts = ["Geen rang (te weinig incidenten om te tonen)"]
    else:
        parts = [f"Rang {props['rank']} (90%-interval {props['rank_lo']}-{props['rank_hi']})"]
    total = props.get("count_total")
    parts.append(f"ongeveer {nl(total)} incidenten" if total is not None else "weinig incidenten")
    if props.get("risk_per_1000_eb") is not None:
        parts.append(f"ongeveer {nl(props['risk_per_1000_eb'])} per 1.000 woningen per jaar")
    if props.get("trend_fell_every_year"):
        parts.append("elk jaar gedaald")
    share = props.get("hotspot_share")
    if share:
        parts.append(f"{nl(share * 100)}% van de zeshoeken is een hotspot")
    return "; ".join(parts) + "."


def suppress_priorities(fc: FeatureCollection, policy: ViewerPolicy) -> FeatureCollection:
    """Return a copy of a priorities collection safe for viewers (module docstring)."""
    fields = tuple(
        sorted(
            {k for f in fc.get("features", []) for k in f["properties"] if k.startswith("count_")}
        )
    )
    # Cell key method: the adapter published the counts already (query.disclosure).
    out = suppress_counts(fc, policy, () if policy.disclosure == "cellkey" else fields)
    year_fields = sorted(f for f in fields if f != "count_total")
    years = len(year_fields) or 1
    params = dict((out.get("metadata") or {}).get("parameters") or {})
    if params:
        # as_of defaults to the day of the last stored incident: a viewer gets the end of
        # the last full year the figures cover instead.
        params["as_of"] = f"{year_fields[-1][6:]}-12-31" if year_fields else None
        out["metadata"]["parameters"] = params
    for feat in out["features"]:
        p = feat["properties"]
        total, dwellings = p.get("count_total"), p.get("dwellings")
        shown = total is not None
        p["risk_per_1000_shown"] = (
            round(total / (dwellings * years) * 1000, 1) if shown and dwellings else None
        )
        p["risk_per_1000_eb"] = (
            round(p["risk_per_1000_eb"])
            if shown and p.get("risk_per_1000_eb") is not None
            else None
        )
        if not shown:
            p["trend_fell_every_year"] = None
            p["hotspot_share"] = None
        for name in PRIORITY_HIDDEN:
            p.pop(name, None)
        p["explanation"] = viewer_explanation(p)
    return out


PRIORITIES = Layer(
    id="prioriteiten",
    title="Prioriteiten woninginbraak per gebied (Driehoek)",
    description=(
        "Per wijk: woninginbraken per jaar (laatste 3 hele jaren), woningen, risico per "
        "1.000 woningen (ruw en Empirical-Bayes-gecorrigeerd), trend, aandeel hotspot-"
        "zeshoeken en een gecombineerde rang (aantal x risico) met 90%-interval."
    ),
    min_role="viewer",
    features=_priorities,
    viewer_filter=suppress_priorities,
)
