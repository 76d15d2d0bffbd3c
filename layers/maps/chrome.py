"""Legend, caption and the map's frame (base map, panes, finish)."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

import folium
from branca.element import Element, MacroElement
from folium.template import Template

from layers.maps.styles import (
    GI_BIN_STYLE,
    KDE_COLOURS,
    KDE_MIN_SHARE,
    NEUTRAL_OUTLINE,
    PANES,
    _legend_tail,
)


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
        title = "Dichtheid, incidenten per km² in de periode"
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
