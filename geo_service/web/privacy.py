"""Viewer filters: what of an exact layer a caller below analyst may see.

The thresholds come from :class:`geo_service.web.policy.ViewerPolicy` (the privacy model, in
one place); see the README section "Privacy model". The hotspot layers are filtered as typed
per-cell tables (:class:`layers.cells.CellTable`, column by column); the others as GeoJSON
dicts, feature by feature. Per layer:

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

from typing import Any

import numpy as np
import numpy.typing as npt

from geo_service.web.policy import ViewerPolicy
from layers.cells import CellTable

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
    >>> p = ViewerPolicy(min_count=5, round_to=5, disclosure="rounding")
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
    # a value published already (cell key method, in the adapter) keeps its flag
    out["suppressed"] = hidden or bool(props.get("suppressed", False))
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
    kept["privacy"] = (
        {
            "method": "cell key (ABS/Eurostat)",
            "min_count": policy.min_count,
            "max_noise": policy.max_noise,
            "period": "een kalenderkwartaal, een kalenderjaar of alle gegevens (hele kwartalen)",
            "max_res": policy.max_res,
        }
        if policy.disclosure == "cellkey"
        else {
            "method": "rounding",
            "min_count": policy.min_count,
            "rounded_to": policy.round_to,
            "period": "hele maanden, minimaal " + str(policy.min_period_months),
            "max_res": policy.max_res,
        }
    )
    kept["min_count_k"] = policy.min_count
    kept["suppressed"] = True
    return kept


def _floats(values: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Return a column as floats, NaN where it is masked (a withheld count)."""
    return np.ma.filled(np.ma.asarray(values, dtype=np.float64), np.nan)


def viewer_counts(
    table: CellTable, policy: ViewerPolicy, *, drop: tuple[str, ...] = ()
) -> CellTable:
    """Return ``table`` with the viewer count rule applied and the columns ``drop`` removed.

    ``count`` becomes an integer column with nulls (a masked array) holding
    :meth:`ViewerPolicy.counts`; ``suppressed`` (bool) and ``min_count`` (``k``) are
    appended to every row, as :func:`suppress_props` does per feature. The metadata is the
    viewer whitelist. Rows keep their order.

    Examples
    --------
    >>> ring = [[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]]
    >>> t = CellTable.from_cells(["a", "b"], [ring] * 2, {"count": [3, 8], "x": [1, 2]})
    >>> old = ViewerPolicy(min_count=5, round_to=5, disclosure="rounding")
    >>> out = viewer_counts(t, old, drop=("x",))
    >>> for feature in out.to_geojson()["features"]:
    ...     print(feature["properties"])
    {'h3': 'a', 'count': None, 'suppressed': True, 'min_count': 5}
    {'h3': 'b', 'count': 10, 'suppressed': False, 'min_count': 5}
    """
    n = len(table)
    kept = table.drop(*drop)
    columns: dict[str, npt.ArrayLike] = {}
    suppressed = np.zeros(n, dtype=bool)
    if "suppressed" in kept.properties:
        # Published already (cell key method, in the adapter): counts are kept as they are.
        suppressed = np.asarray(kept.properties["suppressed"], dtype=bool)
    elif "count" in kept.properties:
        shown, suppressed = policy.counts(kept.properties["count"])
        # Integers with nulls, as the scalar rule gives: GDAL types the column as a number.
        columns["count"] = np.ma.MaskedArray(
            np.where(suppressed, 0, shown).astype(np.int64), mask=suppressed
        )
    columns["suppressed"] = suppressed
    columns["min_count"] = np.full(n, policy.min_count, dtype=np.int64)
    return kept.with_columns(columns).with_metadata(_viewer_metadata(table.metadata, policy))


def viewer_gistar_table(table: CellTable, policy: ViewerPolicy) -> CellTable:
    """Return a Gi* table as a viewer may see it (see the module docstring).

    Counts by the viewer rule; z-scores, p-values and ``n_neighbourhood`` dropped; classes 0
    and not significant where the neighbourhood holds fewer than ``k`` incidents (all rows,
    when the table has no ``n_neighbourhood``). Rows with a shown count come first, in their
    order, then the withheld ones.
    """
    hood = table.properties.get("n_neighbourhood")
    # NaN compares False: an unknown neighbourhood is a thin one.
    thin = np.ones(len(table), dtype=bool) if hood is None else ~(_floats(hood) >= policy.min_count)
    out = viewer_counts(table, policy, drop=("n_neighbourhood", *GISTAR_HIDDEN))
    # Too few incidents around a thin cell for its class to say anything safely.
    quiet = {
        name: np.where(thin, blank, out.properties[name])
        for name, blank in (("gi_class", 0), ("gi_class_fdr", 0), ("gi_significant_fdr", False))
        if name in out.properties
    }
    suppressed = out.properties["suppressed"]
    # Cells with a shown count first (stable): clients that type columns from the first page,
    # as GDAL's OAPIF driver does, then read `count` as a number, not as text.
    return out.with_columns(quiet).take(np.argsort(suppressed, kind="stable"))


def viewer_kde_table(table: CellTable, policy: ViewerPolicy) -> CellTable:
    """Return a KDE table as a viewer may see it: only cells holding at least ``k`` incidents.

    A density bump is centred on an isolated incident, so thinner cells are left out; the
    kept ones get the viewer count rule and lose ``n_neighbourhood``.
    """
    count = table.properties.get("count")
    if count is None:
        enough = np.zeros(len(table), dtype=bool)
    else:
        # NaN compares False: a cell of unknown count is left out.
        enough = _floats(count) >= policy.min_count
    return viewer_counts(table.take(enough), policy, drop=("n_neighbourhood",))


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
