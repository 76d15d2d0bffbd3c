"""Hexagon layers: the cells' payload for the browser (h3-js draws them) and the folium layers."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import folium
import h3
import numpy as np
from folium.template import Template

from layers.maps.styles import (
    GI_BIN_STYLE,
    KDE_COLOURS,
    KDE_MIN_SHARE,
    NEUTRAL_OUTLINE,
    PANE_CELLS,
    _fmt,
    _gi_class,
    _js,
    count_text,
)


@dataclass(frozen=True)
class CellPayload:
    """The cells a hexagon layer draws: ids, a style and a popup head each, popup values.

    Attributes
    ----------
    res
        H3 resolution of the cells.
    ids
        H3 cell ids (strings).
    style
        Index into the layer's style list, one per cell.
    head
        Index into :attr:`heads`, one per cell.
    heads
        The distinct popup heads (HTML: class and number of incidents), rendered here in
        Python so every Dutch text and every count a person reads is made server-side; a
        few dozen at most for viewers (classes x rounded counts).
    columns
        Further popup values by name, one per cell (``n``: the count, ``None`` = suppressed).
    n_study_cells
        Cells in the study area (the collection), of which ``len(ids)`` are drawn.
    """

    res: int
    ids: list[str]
    style: list[int]
    head: list[int]
    heads: list[str]
    columns: dict[str, list[Any]] = field(default_factory=dict)
    n_study_cells: int = 0

    def to_js(self) -> str:
        """Return the payload as JSON for the browser (``{res, h, s, p, cols}``)."""
        return _js(
            {"res": self.res, "h": self.ids, "s": self.style, "p": self.head, "cols": self.columns}
        )


class _Heads:
    """Distinct popup heads, numbered in order of first use."""

    def __init__(self) -> None:
        self.index: dict[tuple[Any, ...], int] = {}
        self.html: list[str] = []

    def of(self, key: tuple[Any, ...], render: Any) -> int:
        at = self.index.get(key)
        if at is None:
            at = self.index[key] = len(self.html)
            self.html.append(render())
        return at


def _head_html(title: str, props: Mapping[str, Any]) -> str:
    return (
        f"<b>{html.escape(title)}</b><br>"
        f"Aantal incidenten in deze zeshoek: <b>{count_text(props)}</b>"
    )


def _cell_res(fc: Mapping[str, Any], ids: Sequence[str]) -> int:
    meta = fc.get("metadata") or {}
    res = meta.get("h3_resolution")
    if isinstance(res, int):
        return res
    # A collection without the metadata (a caller's own GeoJSON): ask H3.
    return int(h3.get_resolution(ids[0])) if ids else 10


#: Style order of the Gi* layer: index = 3 - class (3 .. -3).
_GI_ORDER = (3, 2, 1, 0, -1, -2, -3)
#: Style index of not-significant Gi* cells (drawn as outlines).
GI_NEUTRAL_STYLE = _GI_ORDER.index(0)


def gistar_cells(fc: Mapping[str, Any], *, fdr: bool = True) -> CellPayload:
    """Select and encode the Gi* cells worth drawing.

    Kept: significant cells (hot or cold), and not-significant cells with a *shown* count
    above zero (drawn as an outline). Left out: empty cells and, for viewers, cells whose
    count is suppressed and that are not significant -- a viewer could not tell them from
    empty ones anyway.

    Examples
    --------
    >>> fc = {"features": [
    ...     {"properties": {"h3": "8a1969053247fff", "count": 12, "gi_class_fdr": 3}},
    ...     {"properties": {"h3": "8a196905324ffff", "count": 0, "gi_class_fdr": 0}},
    ...     {"properties": {"h3": "8a1969053257fff", "count": None, "suppressed": True,
    ...                     "gi_class_fdr": 0}}]}
    >>> p = gistar_cells(fc)
    >>> p.ids, p.style, p.columns["n"]
    (['8a1969053247fff'], [0], [12])
    >>> p.heads
    ['<b>Hotspot, 99% betrouwbaar</b><br>Aantal incidenten in deze zeshoek: <b>12</b>']
    """
    feats = fc.get("features", [])
    ids: list[str] = []
    style: list[int] = []
    head: list[int] = []
    heads = _Heads()
    counts: list[Any] = []
    zs: list[Any] = []
    ps: list[Any] = []
    exact = False
    for feat in feats:
        props = feat.get("properties") or {}
        cls = _gi_class(props, fdr)
        count = props.get("count")
        shown = isinstance(count, int | float) and count > 0
        if cls == 0 and not shown:
            continue
        ids.append(str(props.get("h3") or feat.get("id")))
        style.append(_GI_ORDER.index(cls))
        counts.append(None if count is None else _number(count))
        suppressed = bool(props.get("suppressed"))
        head.append(
            heads.of(
                (cls, count, suppressed),
                lambda p=props, c=cls: _head_html(GI_BIN_STYLE[c][1], p),
            )
        )
        if "gi_z" in props:
            exact = True
            zs.append(_number(props.get("gi_z")))
            ps.append(_number(props.get("gi_p_sim")))
    columns: dict[str, list[Any]] = {"n": counts}
    if exact:
        columns.update(z=zs, p=ps)
    return CellPayload(_cell_res(fc, ids), ids, style, head, heads.html, columns, len(feats))


def _number(value: Any) -> Any:
    if value is None:
        return None
    f = float(value)
    if math.isnan(f) or math.isinf(f):
        return None
    return int(f) if f.is_integer() else round(f, 4)


def kde_breaks(values: Sequence[float]) -> list[float]:
    """Return the 4 inner quintile breaks of the positive densities (empty if none).

    Examples
    --------
    >>> [round(b, 2) for b in kde_breaks([1.0, 2.0, 3.0, 4.0, 5.0, 0.0])]
    [1.8, 2.6, 3.4, 4.2]
    """
    arr = np.asarray([v for v in values if v is not None and v > 0], dtype=float)
    if arr.size == 0:
        return []
    return [float(b) for b in np.quantile(arr, [0.2, 0.4, 0.6, 0.8])]


def kde_cells(
    fc: Mapping[str, Any], *, min_share: float = KDE_MIN_SHARE
) -> tuple[CellPayload, list[float]]:
    """Select and encode the KDE cells worth drawing; return them with the quintile breaks.

    Cells below ``min_share`` of the highest density are left out (a smooth surface is above
    zero almost everywhere; its faint tail would only hide the basemap). The quintile breaks
    are those of the kept cells.
    """
    feats = fc.get("features", [])
    dens = np.array(
        [float((f.get("properties") or {}).get("kde_density") or 0.0) for f in feats], dtype=float
    )
    top = float(dens.max()) if dens.size else 0.0
    keep = np.flatnonzero(dens > max(top * min_share, 0.0)) if top > 0 else np.empty(0, int)
    breaks = kde_breaks(dens[keep].tolist())
    classes = np.searchsorted(np.asarray(breaks), dens[keep], side="right") if breaks else None
    style = classes.astype(int).tolist() if classes is not None else [0] * int(keep.size)
    titles = [f"Dichtheid: {label}" for label in kde_class_labels(breaks)] or ["Dichtheid"]
    ids: list[str] = []
    counts: list[Any] = []
    head: list[int] = []
    heads = _Heads()
    for i, s in zip(keep.tolist(), style, strict=True):
        props = feats[i].get("properties") or {}
        ids.append(str(props.get("h3") or feats[i].get("id")))
        count = props.get("count")
        counts.append(_number(count))
        title = titles[min(s, len(titles) - 1)]
        head.append(
            heads.of(
                (s, count, bool(props.get("suppressed"))),
                lambda p=props, t=title: _head_html(t, p),
            )
        )
    columns = {"d": np.round(dens[keep], 2).tolist(), "n": counts}
    payload = CellPayload(_cell_res(fc, ids), ids, style, head, heads.html, columns, len(feats))
    return payload, breaks


class HexLayer(folium.map.Layer):
    """A folium layer drawing H3 cells in the browser (``L.hexLayer``, canvas, h3-js).

    Parameters
    ----------
    payload
        The cells (:class:`CellPayload`).
    styles
        Canvas style per style index: ``fill``, ``fillOpacity``, ``stroke``, ``weight``.
    popup
        ``titles`` (per style index, for the hover text), ``rows`` (``[label, column, format,
        text]``, after the head), ``notes``. The heads come with the payload.
    small
        What a suppressed count reads as (``"<5"``).
    tooltip
        ``(column, format, unit)`` shown on hover after the title, or None.
    order
        Style indexes in drawing order (later on top); default: as listed.
    legend_labels
        Labels of the styles for the legend (KDE: the density classes), if any.
    opacity
        Of the layer as a whole (styles are painted opaque unless they say otherwise).
    """

    _template = Template(
        """
        {% macro html(this, kwargs) %}
            <div hidden id="{{ this.get_name() }}_heads" data-cells="{{ this.n_cells }}">
            {%- for head in this.payload.heads %}<p>{{ head }}</p>{% endfor -%}
            </div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.hexLayer(
                {{ this.payload.to_js() }}, {{ this.options_js }}
            );
        {% endmacro %}
        """
    )

    def __init__(
        self,
        payload: CellPayload,
        *,
        name: str,
        styles: Sequence[Mapping[str, Any]],
        popup: Mapping[str, Any],
        small: str,
        tooltip: tuple[str, str, str] | None = None,
        order: Sequence[int] | None = None,
        show: bool = True,
        legend_labels: Sequence[str] = (),
        opacity: float = 0.75,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "HexLayer"
        self.payload = payload
        self.legend_labels = list(legend_labels)
        self.options_js = _js(
            {
                "heads": f"{self.get_name()}_heads",
                "pane": PANE_CELLS,
                "opacity": opacity,
                "styles": list(styles),
                "order": list(order) if order is not None else None,
                "popup": dict(popup),
                "small": small,
                "tooltip": list(tooltip) if tooltip else None,
            }
        )

    @property
    def n_cells(self) -> int:
        """Number of cells drawn."""
        return len(self.payload.ids)


def _period_row(period: str | None) -> list[list[Any]]:
    return [["Periode", None, "text", period]] if period else []


def gistar_layer(
    fc: Mapping[str, Any],
    *,
    fdr: bool = True,
    name: str = "Hotspots (Gi*)",
    show: bool = True,
    period: str | None = None,
    k: int = 5,
) -> HexLayer:
    """Return the Gi* cells coloured by Gi_Bin class (FDR-corrected by default).

    Popups (Dutch): the class, the number of incidents (``<k`` when suppressed) and the
    period; for analysts also the z-score and the pseudo p-value.
    """
    payload = gistar_cells(fc, fdr=fdr)
    styles = []
    for cls in _GI_ORDER:
        colour = GI_BIN_STYLE[cls][0]
        if cls == 0:
            styles.append({"stroke": NEUTRAL_OUTLINE, "weight": 0.5, "opacity": 0.75})
        else:
            styles.append({"fill": colour, "stroke": "#ffffff", "weight": 0.4})
    rows = _period_row(period)
    notes = []
    if "z" in payload.columns:
        rows += [["Gi*-z-score", "z", "dec2", None], ["p-waarde (permutaties)", "p", "dec3", None]]
        notes.append(
            "z: standaardafwijkingen boven (+) of onder (-) het gemiddelde van het gebied, "
            "voor deze zeshoek met zijn buren; boven 1,96 is ongewoon hoog."
        )
        notes.append(
            "p-waarde: de kans op een even extreme waarde als de incidenten willekeurig over "
            "de zeshoeken verdeeld waren (permutaties, tweezijdig, gelijke uitkomsten half "
            "geteld). Een zeshoek zonder incidenten in de buurt krijgt dus geen kleine p."
        )
    notes.append(
        "Een hotspot is een groep zeshoeken met samen ongewoon veel incidenten, ook na "
        "correctie voor het tegelijk toetsen van alle zeshoeken (FDR)."
        if fdr
        else "Significantie zonder correctie voor meervoudig toetsen."
    )
    if "z" not in payload.columns:
        notes.append(f"Aantallen onder {k} tonen we als <{k}; de rest is afgerond op 5.")
    popup = {"titles": [GI_BIN_STYLE[c][1] for c in _GI_ORDER], "rows": rows, "notes": notes}
    # Draw the outlines first, then cold, then hot on top.
    order = [3, 4, 5, 6, 2, 1, 0]
    return HexLayer(
        payload,
        name=name,
        styles=styles,
        popup=popup,
        small=f"<{k}",
        tooltip=("n", "count", "incidenten"),
        order=order,
        show=show,
        opacity=0.8,
    )


def kde_layer(
    fc: Mapping[str, Any],
    *,
    name: str = "Dichtheid (kerndichtheid)",
    show: bool = False,
    period: str | None = None,
    k: int = 5,
) -> HexLayer:
    """Return the KDE cells coloured by density quintile (the faint tail left out)."""
    payload, breaks = kde_cells(fc)
    # A hairline of the fill colour closes the antialiasing gaps between neighbouring cells.
    styles = [{"fill": c, "stroke": c, "weight": 0.5} for c in KDE_COLOURS]
    titles = [f"Dichtheid: {label}" for label in kde_class_labels(breaks)]
    rows: list[list[Any]] = [
        ["Incidenten per km² in de periode (geschat)", "d", "dec1", None],
        *_period_row(period),
    ]
    notes = [
        "Een gladgestreken schatting (kerndichtheid) van hoe dicht incidenten in de buurt "
        "van deze zeshoek bij elkaar liggen. Hoger = meer incidenten dichtbij."
    ]
    popup = {"titles": titles or ["Dichtheid"], "rows": rows, "notes": notes}
    return HexLayer(
        payload,
        name=name,
        styles=styles,
        popup=popup,
        small=f"<{k}",
        tooltip=("d", "dec1", "per km²"),
        show=show,
        legend_labels=kde_class_labels(breaks),
        opacity=0.65,
    )


def kde_class_labels(breaks: Sequence[float]) -> list[str]:
    """Return the five Dutch class labels of the quintile breaks (per km², decimal comma).

    Examples
    --------
    >>> kde_class_labels([1.0, 2.5, 4.0, 10.0])
    ['tot 1,0', '1,0 - 2,5', '2,5 - 4,0', '4,0 - 10,0', '10,0 en meer']
    """
    if len(breaks) != 4:
        return []
    b = [_fmt(float(x), 1) for x in breaks]
    return [
        f"tot {b[0]}",
        f"{b[0]} - {b[1]}",
        f"{b[1]} - {b[2]}",
        f"{b[2]} - {b[3]}",
        f"{b[3]} en meer",
    ]
