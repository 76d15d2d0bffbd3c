"""Folium map layers for the Dutch map pages.

Pure: GeoJSON dicts / GeoDataFrames in, folium objects out; no I/O.

Hexagon layers are not folium GeoJSON: a map of a city at H3 resolution 11 holds ~50,000
cells, ~40 MB as GeoJSON polygons with a popup string each. Instead :func:`gistar_layer` and
:func:`kde_layer` keep only the cells that say something (significant, or holding shown
incidents; KDE above a small share of the peak), and send their ids, a style index and the
popup values; the browser draws the hexagons from the ids with h3-js on one canvas
(``geo_service/static/js/hexlayer.js``).

Colours: ArcGIS Pro's Hot Spot Analysis renderer has three reds, a neutral class and three
blues (``Gi_Bin``); we keep that reading order but take the colours from ColorBrewer's
diverging RdBu scheme (8 classes, without its two palest), which stays distinguishable for
the common forms of colour blindness. Cells that are not significant get no fill, only a thin
outline, so hot and cold clusters stand out.

References
----------
Esri, "How Hot Spot Analysis (Getis-Ord Gi*) works", ArcGIS Pro documentation.
Brewer, C. A., Hatchard, G. W. & Harrower, M. A. (2003). ColorBrewer in print: a catalog of
color schemes for maps. *Cartography and Geographic Information Science* 30(1), 5-32.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import folium
import geopandas as gpd
import h3
import numpy as np
import orjson
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.template import Template

#: Gi_Bin class -> (fill colour, Dutch label). Classes 3/2/1 = 99/95/90 % confidence.
#: ColorBrewer RdBu (8 classes) without its two palest colours; 0 is drawn as outline only.
GI_BIN_STYLE: dict[int, tuple[str, str]] = {
    3: ("#b2182b", "Hotspot, 99% betrouwbaar"),
    2: ("#d6604d", "Hotspot, 95% betrouwbaar"),
    1: ("#f4a582", "Hotspot, 90% betrouwbaar"),
    0: ("#ffffff", "Niet significant"),
    -1: ("#92c5de", "Coldspot, 90% betrouwbaar"),
    -2: ("#4393c3", "Coldspot, 95% betrouwbaar"),
    -3: ("#2166ac", "Coldspot, 99% betrouwbaar"),
}
#: Outline of cells that are not significant (no fill).
NEUTRAL_OUTLINE = "#707070"
#: KDE quintile colours, light to dark (ColorBrewer YlOrRd, 5 classes).
KDE_COLOURS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
#: KDE cells below this share of the highest cell density are left out of the map.
KDE_MIN_SHARE = 0.02
CAMERA_STYLE: dict[str, tuple[str, str]] = {
    "fixed": ("#1b1b1b", "Vaste camera"),
    "flexible": ("#7b2cbf", "Flexibele camera"),
}
#: Leaflet panes, bottom to top (tiles are at 200, Leaflet's overlay pane at 400).
PANE_CELLS, PANE_OUTLINES, PANE_CAMERAS = "zeshoeken", "grenzen", "cameras"
PANES: tuple[tuple[str, int, bool], ...] = (
    (PANE_CELLS, 380, False),  # events reach the map, which finds the cell with h3-js
    (PANE_OUTLINES, 420, False),  # outlines never catch a click meant for a hotspot
    (PANE_CAMERAS, 450, True),
)


def _legend_tail(*, cameras: bool, k: int) -> list[str]:
    """Legend rows every map ends with: the camera symbols (if drawn) and the small-count rule."""
    rows = []
    if cameras:
        for kind in ("fixed", "flexible"):
            colour, label = CAMERA_STYLE[kind]
            fill = colour if kind == "fixed" else "transparent"
            rows.append(
                f'<div class="cam"><i class="sw dot" style="border:2px solid {colour};'
                f'background:{fill}"></i>{label} (aan te zetten)</div>'
            )
    rows.append(f'<div class="fine">Aantallen onder {k} tonen we als &lt;{k}.</div>')
    return rows


def _gi_class(props: Mapping[str, Any], fdr: bool) -> int:
    raw = props.get("gi_class_fdr" if fdr else "gi_class")
    try:
        value = int(raw) if raw is not None else 0
    except (TypeError, ValueError):
        value = 0
    return max(-3, min(3, value))


def _fmt(value: Any, digits: int = 2) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}".replace(".", ",")
    return html.escape(str(value))


def count_text(props: Mapping[str, Any], k: int | None = None) -> str:
    """Return the count as a person reads it: the number, or ``"<k"`` when suppressed.

    The result is HTML (``&lt;5``).

    Examples
    --------
    >>> count_text({"count": 10})
    '10'
    >>> count_text({"count": None, "suppressed": True, "min_count": 5})
    '&lt;5'
    """
    if props.get("suppressed"):
        threshold = props.get("min_count", k)
        return f"&lt;{int(threshold)}" if threshold is not None else "verborgen"
    count = props.get("count")
    if count is None:
        return "?"
    return _fmt(int(count) if float(count).is_integer() else count)


def _js(value: Any) -> str:
    """JSON for inside a ``<script>``: ``<``, ``>``, ``&`` escaped so no text closes it."""
    text = orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


# -- hexagon cells --------------------------------------------------------------------------


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
        ["Incidenten per km² (geschat)", "d", "dec1", None],
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


# -- areas and cameras ----------------------------------------------------------------------


def _rounded(areas: gpd.GeoDataFrame, decimals: int = 5) -> gpd.GeoSeries:
    """Geometries with coordinates rounded to ``decimals`` (1e-5 degree is ~1 m)."""
    geoms = shapely.transform(areas.geometry.to_numpy(), lambda xy: np.round(xy, decimals))
    return gpd.GeoSeries(geoms, index=areas.index, crs=areas.crs)


def areas_layer(
    areas: gpd.GeoDataFrame,
    *,
    name: str,
    colour: str = "#333333",
    weight: float = 1.5,
    show: bool = True,
) -> folium.FeatureGroup:
    """Return area outlines: no fill, not interactive, in a pane above the cells.

    Not interactive: an outline would otherwise take the click meant for the hotspot inside
    it (Leaflet's canvas hit test counts the inside of an unfilled polygon).
    """
    group = folium.FeatureGroup(name=name, show=show)
    if len(areas):
        frame = gpd.GeoDataFrame(
            {"name": areas["name"].astype(str)} if "name" in areas.columns else {},
            geometry=_rounded(areas),
        )
        folium.GeoJson(
            frame.to_json(drop_id=True),
            name=name,
            style_function=lambda f: {"color": colour, "weight": weight, "fill": False},
            interactive=False,
            pane=PANE_OUTLINES,
        ).add_to(group)
    return group


def as_day(value: Any) -> date | None:
    """Return the local day of a date, datetime, Timestamp or ISO text; None when there is none.

    Examples
    --------
    >>> as_day("2026-03-01T10:00"), as_day(pd.NaT), as_day("onbekend")
    (datetime.date(2026, 3, 1), None, None)
    """
    if value is None or value is pd.NaT:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, datetime | pd.Timestamp):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _nl_day(day: date) -> str:
    return f"{day.day}-{day.month}-{day.year}"


def camera_period_text(active_from: Any, active_to: Any) -> str:
    """Return the Dutch text of a camera's active period; unknown dates never read "NaT".

    Examples
    --------
    >>> camera_period_text(None, float("nan"))
    'actief (periode onbekend)'
    >>> camera_period_text("2024-03-01", None)
    'actief sinds 1-3-2024'
    >>> camera_period_text(pd.Timestamp("2024-03-01"), pd.NaT)
    'actief sinds 1-3-2024'
    >>> camera_period_text("2024-03-01", "2024-06-30")
    'actief van 1-3-2024 t/m 30-6-2024'
    """
    start, end = as_day(active_from), as_day(active_to)
    if start and end:
        return f"actief van {_nl_day(start)} t/m {_nl_day(end)}"
    if start:
        return f"actief sinds {_nl_day(start)}"
    if end:
        return f"actief tot en met {_nl_day(end)}"
    return "actief (periode onbekend)"


def cameras_layer(
    cameras: gpd.GeoDataFrame, *, name: str | None = None, kind: str = "fixed", show: bool = False
) -> folium.FeatureGroup:
    """Return the cameras of one kind as small dots (fixed: filled, flexible: ring).

    Off by default (``show``): a hundred dots on top would hide the hotspots; the layer
    control turns them on. One GeoJSON layer, not a marker object per camera.
    """
    colour, label = CAMERA_STYLE.get(kind, ("#1b1b1b", kind))
    group = folium.FeatureGroup(name=name or f"{label}s", show=show)
    subset = cameras[cameras["kind"].astype(str) == kind] if len(cameras) else cameras
    if len(subset):
        names = [
            html.escape(str(n if isinstance(n, str) and n else c))
            for n, c in zip(subset["name"], subset["camera_id"], strict=True)
        ]
        periods = [
            camera_period_text(a, b)
            for a, b in zip(subset["active_from"], subset["active_to"], strict=True)
        ]
        frame = gpd.GeoDataFrame(
            {
                "popup": [
                    f"<b>{label}</b><br>{n}<br>{html.escape(p)}"
                    for n, p in zip(names, periods, strict=True)
                ],
                "tip": [f"{label}: {n}" for n in names],
            },
            geometry=_rounded(subset),
        )
        flexible = kind == "flexible"
        folium.GeoJson(
            frame.to_json(drop_id=True),
            name=group.layer_name,
            marker=folium.CircleMarker(
                radius=3.5,
                color=colour,
                weight=2 if flexible else 1,
                fill=not flexible,
                fill_color=colour,
                fill_opacity=0.0 if flexible else 0.9,
                bubbling_mouse_events=False,
            ),
            # folium merges the style into each marker's options: the only way to give the
            # markers (not just their group) the cameras pane.
            style_function=lambda f: {"pane": PANE_CAMERAS},
            popup=folium.GeoJsonPopup(fields=["popup"], labels=False),
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
            pane=PANE_CAMERAS,
        ).add_to(group)
    return group


# -- legend, caption, map chrome ------------------------------------------------------------


def _ramp(
    swatches: Sequence[tuple[str, str]],
    low: str,
    high: str,
    under: Sequence[str] = (),
    unit: str = "",
) -> str:
    """Return a one-line colour ramp: ``low``, the swatches (style, tooltip), ``high``.

    ``under``: a short label under each swatch (e.g. the confidence level), if any, followed
    by ``unit`` under ``high``.
    """
    cells = [f'<span class="end">{html.escape(low)}</span>']
    cells += [
        f'<i class="sw" style="{style}" title="{html.escape(tip)}"></i>' for style, tip in swatches
    ]
    cells.append(f'<span class="end">{html.escape(high)}</span>')
    if under:
        cells.append("<span></span>")
        cells += [f'<span class="n">{html.escape(text)}</span>' for text in under]
        cells.append(f'<span class="n unit">{html.escape(unit)}</span>')
    return (
        f'<div class="ramp" style="grid-template-columns:auto repeat({len(swatches)},auto) auto">'
        f"{''.join(cells)}</div>"
    )


def legend(
    *,
    k: int,
    method: str,
    fdr: bool = True,
    kde_labels: Sequence[str] = (),
    cameras: bool = True,
    viewer: bool = False,
) -> Element:
    """Return the Dutch legend for the map (a Leaflet control bottom left, also printed).

    ``viewer``: the map is privacy-filtered (KDE: only cells with at least ``k`` incidents).

    The legend has two forms. The full one lists every class with its meaning. On a small
    map (the two maps of ``/vergelijk``, the maps of ``/overzicht``; see :data:`MAP_CSS`) the
    list would cover a large part of the map, so the map shows a one-line colour ramp instead
    (the full label of each colour is its tooltip); the page around a small map carries the
    caption with the method.
    """
    rows = []
    swatches: list[tuple[str, str]] = []  # (style, full label) for the compact ramp
    levels: list[str] = []
    if method == "gistar":
        title = "Hotspots (Gi*)" + (", na FDR-correctie" if fdr else "")
        for cls in (3, 2, 1, 0, -1, -2, -3):
            colour, label = GI_BIN_STYLE[cls]
            swatch = (
                f"border:1.5px solid {NEUTRAL_OUTLINE};background:transparent"
                if cls == 0
                else f"background:{colour};border:1px solid #fff;opacity:0.8"
            )
            text = label + (" (alleen omlijnd)" if cls == 0 else "")
            rows.append(f'<div><i class="sw" style="{swatch}"></i>{html.escape(text)}</div>')
            swatches.append((swatch, text))
            level = re.search(r"(\d+)%", label)
            levels.append(level.group(1) if level else "-")  # 99 95 90 - 90 95 99
        compact = _ramp(swatches, "Hotspot", "Coldspot", levels, "% betrouwbaar")
    else:
        title = "Dichtheid, incidenten per km²"
        labels = list(kde_labels) or ["laag", "", "", "", "hoog"]
        for colour, label in zip(KDE_COLOURS, labels, strict=True):
            rows.append(
                f'<div><i class="sw" style="background:{colour};opacity:0.65"></i>'
                f"{html.escape(label)}</div>"
            )
            swatches.append((f"background:{colour};opacity:0.65", label))
        rows.append(
            f'<div class="fine">Onder {int(KDE_MIN_SHARE * 100)}% van de top: niet getoond.</div>'
        )
        if viewer:
            rows.append(
                f'<div class="fine">Zeshoeken met minder dan {k} incidenten: niet getoond '
                "(privacy).</div>"
            )
        compact = _ramp(swatches, "laag", "hoog")
        if kde_labels:
            ends = f"{html.escape(labels[0])} … {html.escape(labels[-1])}"
            compact += f'<div class="fine">{ends}</div>'
    rows.extend(_legend_tail(cameras=cameras, k=k))
    head = f"<b>{html.escape(title)}</b>"
    return Element(
        f'<div id="legenda" class="map-box"><div class="full">{head}{"".join(rows)}</div>'
        f'<div class="compact">{head}{compact}</div></div>'
    )


MAP_CSS = """
.map-box{background:#fff;padding:6px 9px;border:1px solid #888;border-radius:4px;
 font:12px/1.4 system-ui,sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:340px}
.map-box .sw{display:inline-block;width:13px;height:13px;margin-right:6px;vertical-align:-2px}
.map-box .sw.dot{width:7px;height:7px;border-radius:50%}
.map-box .fine{color:#555;margin-top:3px}
#map-caption{position:absolute;top:10px;left:56px;z-index:800;max-width:calc(100% - 330px)}
#map-caption h2{font-size:14px;margin:0 0 2px}
#map-caption p{margin:2px 0}
#map-caption .synth{color:#8a1c00;font-weight:600}
#map-message{position:absolute;top:10px;left:50%;transform:translateX(-50%);z-index:801;
 background:#fff4ce;border:1px solid #b88a00;padding:8px 12px;border-radius:4px;
 font:14px/1.4 system-ui,sans-serif;max-width:60%}
.embedded #map-caption{display:none}
.hex-note{color:#555;font-size:11px}
.leaflet-popup-content{font:13px/1.45 system-ui,sans-serif}
#legenda .compact{display:none}
.ramp{display:grid;align-items:center;column-gap:1px;margin-top:2px}
.ramp .end{padding:0 4px}
.ramp .n{text-align:center;font-size:9px;color:#555}
.ramp .unit{text-align:left;padding-left:4px;white-space:nowrap}
/* Small maps (overview, comparison; print keeps the frame's size): no layer list, and the
   legend's one-line ramp instead of its list, which covered a large part of the map. */
@media (max-width:700px),(max-height:360px){
 .leaflet-control-layers{display:none}
 .map-box{font-size:10px;line-height:1.25;padding:3px 6px}
 .map-box .sw{width:10px;height:10px}
 .ramp .sw{margin:0;width:14px}
 #legenda .cam,#legenda .fine{display:none}
 #legenda .full{display:none}
 #legenda .compact,#legenda .compact .fine{display:block}
 #legenda .flow{max-width:250px}
 #legenda .flow>div{display:inline-block;margin-right:8px}
}
@page{size:A4 landscape;margin:8mm}
@media print{
 .leaflet-control-zoom,.leaflet-control-layers{display:none!important}
 #map-caption{left:10px;max-width:75%}
 html,body{width:100%;height:100%}
 .map-box{box-shadow:none}
}
"""


class MapChrome(MacroElement):
    """Everything around the layers: panes, metric scale bar, legend, caption, message.

    Sets ``window.mapReady = true`` (and fires a ``mapready`` event) once the layers are
    added, for the browser tests and the benchmark. When the document is shown in an
    iframe, its own caption is hidden (the page around it shows the same caption).
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}
            <style>{{ this.css }}</style>
        {% endmacro %}
        {% macro html(this, kwargs) %}
            {{ this.caption_html }}{{ this.legend_html }}{{ this.message_html }}
        {% endmacro %}
        {% macro script(this, kwargs) %}
            (function (map) {
                if (window.self !== window.top) {
                    document.documentElement.classList.add('embedded');
                }
                L.control.scale({imperial: false, maxWidth: 160}).addTo(map);
                var box = L.control({position: 'bottomleft'});
                box.onAdd = function () {
                    var el = document.getElementById('legenda');
                    L.DomEvent.disableClickPropagation(el);
                    return el;
                };
                if (document.getElementById('legenda')) { box.addTo(map); }
                var resize = function () { map.invalidateSize({animate: false}); };
                window.addEventListener('beforeprint', resize);
                window.addEventListener('afterprint', resize);
                if (window.matchMedia) {
                    window.matchMedia('print').addEventListener('change', resize);
                }
                window.geoMap = map;
                window.mapReady = true;
                document.dispatchEvent(new Event('mapready'));
            })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, legend_html: str, caption_html: str = "", message_html: str = "") -> None:
        super().__init__()
        self._name = "MapChrome"
        self.css = MAP_CSS
        self.legend_html = legend_html
        self.caption_html = caption_html
        self.message_html = message_html


def message_box(text: str) -> str:
    """Return the HTML of a map message (e.g. "no hotspots"), shown above the map."""
    return f'<div id="map-message" role="status">{html.escape(text)}</div>'


def base_map(
    bounds: tuple[float, float, float, float],
    *,
    static_prefix: str = "/static",
    tile_url: str = "",
    attribution: str = "",
    jquery: bool = False,
) -> folium.Map:
    """Return a folium Map fitted to ``bounds`` (lon/lat) that loads only local assets.

    Folium's CDN defaults (Leaflet, jQuery, Bootstrap, Font Awesome) are replaced by the
    vendored Leaflet and h3-js and the project's ``hexlayer.js``. jQuery (vendored too) is
    loaded only with ``jquery=True``: folium needs it for ``folium.Popup`` with HTML elements
    and for GeoJSON that is not embedded, which these maps do not use (88 kB less to parse).
    The map draws on canvas (``preferCanvas``), has the panes of :data:`PANES` and a metric
    scale bar (added by :class:`MapChrome`). Without ``tile_url`` the map has a plain
    background and the area outlines carry the orientation.
    """
    m = folium.Map(tiles=None, control_scale=False, prefer_canvas=True, zoom_snap=0.25)
    vendor = f"{static_prefix}/vendor"
    m.default_js = [
        ("leaflet", f"{vendor}/leaflet/leaflet.js"),
        *([("jquery", f"{vendor}/jquery/jquery.min.js")] if jquery else []),
        ("h3", f"{vendor}/h3-js/h3-js.umd.js"),
        ("hexlayer", f"{static_prefix}/js/hexlayer.js"),
    ]
    m.default_css = [("leaflet_css", f"{vendor}/leaflet/leaflet.css")]
    for name, z_index, events in PANES:
        folium.map.CustomPane(name, z_index=z_index, pointer_events=events).add_to(m)
    if tile_url:
        folium.TileLayer(
            tiles=tile_url, attr=attribution or " ", name="Achtergrondkaart", max_zoom=19
        ).add_to(m)
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    # Opened on its own, a browser would ask the server for /favicon.ico (a 404).
    m.get_root().header.add_child(Element('<link rel="icon" href="data:,">'))  # type: ignore[attr-defined]
    return m


def finish_map(
    m: folium.Map,
    groups: Sequence[folium.map.Layer],
    legend_box: Element,
    *,
    caption_html: str = "",
    message: str | None = None,
) -> folium.Map:
    """Add the layers, a LayerControl, the legend, caption and message to ``m``; return it."""
    for group in groups:
        group.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    chrome = MapChrome(
        legend_html=legend_box.render(),
        caption_html=caption_html,
        message_html=message_box(message) if message else "",
    )
    chrome.add_to(m)
    return m


# -- emerging hot spots ---------------------------------------------------------------------

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
