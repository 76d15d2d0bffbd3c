"""Viewer filters: what of an exact layer a caller below analyst may see.

The thresholds come from :class:`geo_service.web.policy.ViewerPolicy` (the privacy model, in
one place); see the README section "Privacy model". Per layer:

* Counts below ``k`` become ``null`` with ``suppressed: true`` and ``min_count: k`` (the column
  stays numeric for GDAL/QGIS); counts from ``k`` up are rounded to a multiple of
  ``round_to``, the same way in every output, so differencing two outputs yields no exact
  small count.
* Gi*: no z-scores or p-values (z is linear in the neighbourhood counts: with shown counts a
  suppressed one could be solved for); classes only where the neighbourhood (the cell and its
  k-ring) holds at least ``k`` incidents -- a lone incident in a fine grid would otherwise
  light up as a ring of hot cells around it.
* KDE: a density bump is centred on an isolated incident; viewers get density only in cells
  holding at least ``k`` incidents.
* Metadata: a whitelist of request keys; no totals (total minus shown counts gives the sum of
  the suppressed ones) and no first/last incident dates.
"""

from __future__ import annotations

import copy
from typing import Any

from geo_service.web.policy import ViewerPolicy

FeatureCollection = dict[str, Any]

#: Metadata keys that describe the request, not the data; the only ones viewers keep.
VIEWER_METADATA_KEYS = frozenset(
    {
        "parameters",
        "data_window",
        "n_cells",
        "study_area",
        "h3_resolution",
        "software",
        "data_version",
        "weights",
        "bandwidth_m",
        "bandwidth_rule",
        "kde_cell_m",
        "kde_units",
        "kde_crs",
        "kde_edge_loss",
        "metric_crs",
        "time_convention",
        "p_sim_method",
    }
)

GISTAR_HIDDEN = ("gi_z", "gi_p", "gi_p_sim", "gi_p_fdr")


def small(k: int) -> str:
    """Return the label a person reads instead of a count below ``k``."""
    return f"<{k}"


def suppress_props(
    props: dict[str, Any], fields: tuple[str, ...], policy: ViewerPolicy
) -> dict[str, Any]:
    """Return a copy of ``props`` with each numeric value in ``fields`` as a viewer sees it.

    Below ``k``: None, and the feature gets ``suppressed: true``; from ``k`` up: rounded to a
    multiple of ``round_to``. ``min_count`` is always set and ``suppressed`` is always a
    boolean, so the columns keep one type.

    Examples
    --------
    >>> p = ViewerPolicy(min_count=5, round_to=5)
    >>> suppress_props({"count": 3, "x": 1}, ("count",), p)
    {'count': None, 'x': 1, 'suppressed': True, 'min_count': 5}
    >>> suppress_props({"count": 8}, ("count",), p)
    {'count': 10, 'suppressed': False, 'min_count': 5}
    """
    out = dict(props)
    hidden = False
    for name in fields:
        val = out.get(name)
        if isinstance(val, int | float) and not isinstance(val, bool):
            shown = policy.count(val)
            out[name] = shown
            hidden = hidden or shown is None
    out["suppressed"] = hidden
    out["min_count"] = policy.min_count
    return out


def _viewer_metadata(meta: Any, policy: ViewerPolicy) -> dict[str, Any]:
    kept = (
        {key: val for key, val in meta.items() if key in VIEWER_METADATA_KEYS}
        if isinstance(meta, dict)
        else {}
    )
    window = kept.get("data_window")
    if isinstance(window, dict):
        # The requested (snapped) period only: never the date of the first or last incident.
        kept["data_window"] = {
            k: v for k, v in window.items() if k in ("requested_start", "requested_end")
        }
    kept["privacy"] = {
        "min_count": policy.min_count,
        "rounded_to": policy.round_to,
        "period": "hele maanden, minimaal " + str(policy.min_period_months),
        "max_res": policy.max_res,
    }
    kept["min_count_k"] = policy.min_count
    kept["suppressed"] = True
    return kept


def suppress_gistar(fc: FeatureCollection, policy: ViewerPolicy) -> FeatureCollection:
    """Return a copy of a Gi* collection safe for viewers (see the module docstring)."""
    out = {key: val for key, val in fc.items() if key not in ("features", "metadata")}
    out["metadata"] = _viewer_metadata(fc.get("metadata"), policy)
    feats = []
    for feat in fc.get("features", []):
        raw = dict(feat.get("properties") or {})
        hood = raw.pop("n_neighbourhood", None)
        props = suppress_props(raw, ("count",), policy)
        if hood is None or hood < policy.min_count:
            # Too few incidents around this cell for its class to say anything safely.
            props["gi_class"] = 0
            props["gi_class_fdr"] = 0
            props["gi_significant_fdr"] = False
        for name in GISTAR_HIDDEN:
            props.pop(name, None)
        feats.append({**feat, "properties": props})
    # Cells with a shown count first (stable): clients that type columns from the first page,
    # as GDAL's OAPIF driver does, then read `count` as a number, not as text.
    feats.sort(key=lambda f: bool(f["properties"].get("suppressed")))
    out["features"] = feats
    return out


def suppress_kde(fc: FeatureCollection, policy: ViewerPolicy) -> FeatureCollection:
    """Return a copy of a KDE collection safe for viewers (only cells with >= k incidents)."""
    out = {key: val for key, val in fc.items() if key not in ("features", "metadata")}
    out["metadata"] = _viewer_metadata(fc.get("metadata"), policy)
    feats = []
    for feat in fc.get("features", []):
        count = (feat.get("properties") or {}).get("count")
        if isinstance(count, int | float) and count >= policy.min_count:
            kept = copy.deepcopy(feat)
            props = kept.get("properties") or {}
            props.pop("n_neighbourhood", None)
            kept["properties"] = suppress_props(props, ("count",), policy)
            feats.append(kept)
    out["features"] = feats
    return out


def suppress_counts(
    fc: FeatureCollection, policy: ViewerPolicy, fields: tuple[str, ...]
) -> FeatureCollection:
    """Apply the viewer count rule to ``fields`` of every feature; drop totals."""
    out = {key: val for key, val in fc.items() if key not in ("features", "metadata")}
    if "metadata" in fc:
        out["metadata"] = _viewer_metadata(fc["metadata"], policy)
    feats = []
    for feat in fc.get("features", []):
        props = suppress_props(dict(feat.get("properties") or {}), fields, policy)
        feats.append({**feat, "properties": props})
    out["features"] = feats
    return out
