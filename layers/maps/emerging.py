"""Emerging hot spot layer: pattern per cell, its colours and legend."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from branca.element import Element

from layers.maps.hexcells import (
    CellPayload,
    HexLayer,
    _cell_res,
    _head_html,
    _Heads,
    _number,
    _period_row,
)
from layers.maps.styles import _legend_tail

#: Fill per pattern code 1..16 (ArcGIS order: new, consecutive, intensifying, persistent,
#: diminishing, sporadic, oscillating, historical): hot in reds/oranges, cold in blues.
EMERGING_COLOURS = (
    "#fc9272",
    "#ef3b2c",
    "#a50f15",
    "#cb181d",
    "#fdae6b",
    "#fd8d3c",
    "#e6550d",
    "#f7c59f",
    "#9ecae1",
    "#4292c6",
    "#08306b",
    "#2171b5",
    "#c6dbef",
    "#6baed6",
    "#3182bd",
    "#deebf7",
)


def emerging_cells(fc: Mapping[str, Any]) -> CellPayload:
    """Select and encode the cells with an emerging hot/cold spot pattern (code 1..16).

    Cells with "no pattern" or a withheld pattern (viewers, too few incidents around) are
    not drawn. Style index = pattern code - 1.

    Examples
    --------
    >>> fc = {"features": [
    ...     {"properties": {"h3": "8a1969053247fff", "count": 12, "pattern_code": 3,
    ...                     "patroon": "toenemende hotspot"}},
    ...     {"properties": {"h3": "8a196905324ffff", "count": 2, "pattern_code": 0}},
    ...     {"properties": {"h3": "8a1969053257fff", "count": None, "pattern_code": None}}]}
    >>> p = emerging_cells(fc)
    >>> p.ids, p.style, p.columns["n"]
    (['8a1969053247fff'], [2], [12])
    """
    feats = fc.get("features", [])
    ids: list[str] = []
    style: list[int] = []
    head: list[int] = []
    heads = _Heads()
    counts: list[Any] = []
    for feat in feats:
        props = feat.get("properties") or {}
        code = props.get("pattern_code")
        if not isinstance(code, int) or not 1 <= code <= len(EMERGING_COLOURS):
            continue
        ids.append(str(props.get("h3") or props.get("cell") or feat.get("id")))
        style.append(code - 1)
        count = props.get("count")
        counts.append(None if count is None else _number(count))
        name = str(props.get("patroon") or "")
        head.append(
            heads.of(
                (code, count, bool(props.get("suppressed"))),
                lambda p=props, t=name: _head_html(t[:1].upper() + t[1:], p),
            )
        )
    return CellPayload(_cell_res(fc, ids), ids, style, head, heads.html, {"n": counts}, len(feats))


def emerging_names(fc: Mapping[str, Any]) -> dict[int, str]:
    """Return the Dutch pattern name per code from the collection's legend (metadata)."""
    meta = fc.get("metadata") or {}
    out: dict[int, str] = {}
    for row in meta.get("patterns") or []:
        if isinstance(row, Mapping) and isinstance(row.get("pattern_code"), int):
            out[int(row["pattern_code"])] = str(row.get("patroon") or "")
    return out


def emerging_layer(
    fc: Mapping[str, Any],
    *,
    name: str = "Opkomende hotspots (trend)",
    show: bool = True,
    period: str | None = None,
    k: int = 5,
) -> HexLayer:
    """Return the emerging hot spot cells coloured by pattern (Dutch popups).

    ``legend_labels``: ``"code|colour|patroon"`` of the patterns present, in code order.
    """
    payload = emerging_cells(fc)
    names = emerging_names(fc)
    styles = [{"fill": c, "stroke": "#ffffff", "weight": 0.4} for c in EMERGING_COLOURS]
    titles = [names.get(i + 1, "") for i in range(len(EMERGING_COLOURS))]
    popup = {
        "titles": titles,
        "rows": _period_row(period),
        "notes": [
            "Patroon over de maanden van de periode: Gi* per maand (FDR) en de "
            "Mann-Kendall-trend (Emerging Hot Spot Analysis).",
            f"Aantallen onder {k} tonen we als <{k}.",
        ],
    }
    present = sorted(set(payload.style))
    labels = [f"{i + 1}|{EMERGING_COLOURS[i]}|{names.get(i + 1, '')}" for i in present]
    # Cold first, hot on top.
    order = list(range(8, 16)) + list(range(0, 8))
    return HexLayer(
        payload,
        name=name,
        styles=styles,
        popup=popup,
        small=f"<{k}",
        tooltip=("n", "count", "incidenten"),
        order=order,
        show=show,
        legend_labels=labels,
        opacity=0.85,
    )


def emerging_legend(
    layer: HexLayer, *, k: int, cameras: bool = True, per: str = "maand"
) -> Element:
    """Return the Dutch legend of the emerging hot spot map: the patterns present.

    ``per`` names the time bins (``"maand"``, or ``"kwartaal"`` for viewers).
    """
    rows = []
    for label in layer.legend_labels:
        _code, colour, text = label.split("|", 2)
        rows.append(
            f'<div><i class="sw" style="background:{colour};border:1px solid #fff;'
            f'opacity:0.85"></i>{html.escape(text)}</div>'
        )
    # On a small map the patterns flow side by side (MAP_CSS): names, not a ramp.
    patterns = f'<div class="flow">{"".join(rows)}</div>' if rows else ""
    notes = [] if rows else ['<div class="fine">Geen patronen gevonden.</div>']
    notes.append('<div class="fine">Zeshoeken zonder patroon: niet getoond.</div>')
    notes.extend(_legend_tail(cameras=cameras, k=k))
    return Element(
        f'<div id="legenda" class="map-box"><b>Opkomende hotspots (trend per {per})</b>'
        f"{patterns}{''.join(notes)}</div>"
    )
