"""Small-count suppression for callers below analyst.

Rules (see docs/web.md):

* A count below ``k`` is replaced by ``null`` with ``"suppressed": true`` and the threshold in
  ``"min_count"`` (the column stays numeric, so GDAL/QGIS read it as a number).
* Values from which a suppressed count could be recomputed are removed for viewers:
  Gi* z-scores and p-values (z is a linear function of neighbourhood counts, so with
  the exact counts of the other cells a small count can be solved for), and totals in
  metadata (total minus the shown counts gives the sum of the suppressed ones).
  Viewers keep the Gi* *classes*, which are coarse (7 levels) and do not allow this.
* KDE: a density surface around an isolated incident reveals its location (the bump is
  centred on it). Viewers get density only in cells holding at least ``k`` incidents.
"""

from __future__ import annotations

import copy
from typing import Any

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
    }
)

GISTAR_HIDDEN = ("gi_z", "gi_p", "gi_p_sim", "gi_p_fdr")


def small(k: int) -> str:
    """Return the label a person reads instead of a count below ``k``."""
    return f"<{k}"


def suppress_props(props: dict[str, Any], fields: tuple[str, ...], k: int) -> dict[str, Any]:
    """Return a copy of ``props`` with each numeric value in ``fields`` below ``k`` set to None.

    The feature gets ``suppressed: true`` and ``min_count: k`` when anything was hidden, and
    ``suppressed: false`` otherwise, so the columns keep one type (number or null; boolean).

    Examples
    --------
    >>> suppress_props({"count": 3, "x": 1}, ("count",), 5)
    {'count': None, 'x': 1, 'suppressed': True, 'min_count': 5}
    >>> suppress_props({"count": 7}, ("count",), 5)
    {'count': 7, 'suppressed': False, 'min_count': 5}
    """
    out = dict(props)
    hidden = False
    for name in fields:
        val = out.get(name)
        if isinstance(val, int | float) and not isinstance(val, bool) and val < k:
            out[name] = None
            hidden = True
    out["suppressed"] = hidden
    out["min_count"] = k
    return out


def _viewer_metadata(meta: Any, k: int) -> dict[str, Any]:
    if not isinstance(meta, dict):
        return {"min_count_k": k, "suppressed": True}
    kept = {key: val for key, val in meta.items() if key in VIEWER_METADATA_KEYS}
    kept["min_count_k"] = k
    kept["suppressed"] = True
    return kept


def suppress_gistar(fc: FeatureCollection, k: int) -> FeatureCollection:
    """Return a copy of a Gi* collection safe for viewers (counts < k hidden, no z/p)."""
    out = {key: val for key, val in fc.items() if key not in ("features", "metadata")}
    out["metadata"] = _viewer_metadata(fc.get("metadata"), k)
    feats = []
    for feat in fc.get("features", []):
        props = suppress_props(dict(feat.get("properties") or {}), ("count",), k)
        for name in GISTAR_HIDDEN:
            props.pop(name, None)
        feats.append({**feat, "properties": props})
    # Cells with a shown count first (stable): clients that type columns from the first page,
    # as GDAL's OAPIF driver does, then read `count` as a number, not as text.
    feats.sort(key=lambda f: bool(f["properties"].get("suppressed")))
    out["features"] = feats
    return out


def suppress_kde(fc: FeatureCollection, k: int) -> FeatureCollection:
    """Return a copy of a KDE collection safe for viewers (only cells with >= k incidents)."""
    out = {key: val for key, val in fc.items() if key not in ("features", "metadata")}
    out["metadata"] = _viewer_metadata(fc.get("metadata"), k)
    feats = []
    for feat in fc.get("features", []):
        count = (feat.get("properties") or {}).get("count")
        if isinstance(count, int | float) and count >= k:
            kept = copy.deepcopy(feat)
            kept["properties"] = suppress_props(kept.get("properties") or {}, ("count",), k)
            feats.append(kept)
    out["features"] = feats
    return out


def suppress_counts(fc: FeatureCollection, k: int, fields: tuple[str, ...]) -> FeatureCollection:
    """Set every numeric value in ``fields`` below ``k`` to null (``suppressed``); drop totals."""
    out = {key: val for key, val in fc.items() if key not in ("features", "metadata")}
    if "metadata" in fc:
        out["metadata"] = _viewer_metadata(fc["metadata"], k)
    feats = []
    for feat in fc.get("features", []):
        props = suppress_props(dict(feat.get("properties") or {}), fields, k)
        feats.append({**feat, "properties": props})
    out["features"] = feats
    return out
