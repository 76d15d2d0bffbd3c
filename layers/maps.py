"""Folium map layers for the Dutch map pages.

Pure: GeoJSON dicts / GeoDataFrames in, folium objects out; no I/O. Colours
follow ArcGIS Pro's Hot Spot Analysis ``Gi_Bin`` renderer (hot = reds, cold =
blues, not significant = light grey) so planners who know ArcGIS read them at once.

References
----------
Esri, "How Hot Spot Analysis (Getis-Ord Gi*) works", ArcGIS Pro documentation.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
from branca.element import Element

#: Gi_Bin class -> (fill colour, Dutch label). Classes 3/2/1 = 99/95/90 % confidence.
GI_BIN_STYLE: dict[int, tuple[str, str]] = {
    3: ("#d62f27", "Hotspot, 99% betrouwbaar"),
    2: ("#ed7551", "Hotspot, 95% betrouwbaar"),
    1: ("#fab984", "Hotspot, 90% betrouwbaar"),
    0: ("#d9d9d9", "Niet significant"),
    -1: ("#c0ccbe", "Coldspot, 90% betrouwbaar"),
    -2: ("#849eba", "Coldspot, 95% betrouwbaar"),
    -3: ("#4575b5", "Coldspot, 99% betrouwbaar"),
}
#: KDE quintile colours, light to dark (ColorBrewer YlOrRd, 5 classes).
KDE_COLOURS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
CAMERA_STYLE: dict[str, tuple[str, str]] = {
    "fixed": ("#1b1b1b", "Vaste camera"),
    "flexible": ("#7b2cbf", "Flexibele camera"),
}


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
    """Return the count as a person reads it: the number, or ``"<k"`` when suppressed."""
    if props.get("suppressed"):
        threshold = props.get("min_count", k)
        return f"&lt;{int(threshold)}" if threshold is not None else "verborgen"
    count = props.get("count")
    if count is None:
        return "?"
    return _fmt(int(count) if float(count).is_integer() else count)


def gistar_popup(props: Mapping[str, Any], *, fdr: bool = True) -> str:
    """Return the Dutch popup HTML that explains one Gi* cell in plain words."""
    cls = _gi_class(props, fdr)
    label = GI_BIN_STYLE[cls][1]
    lines = [f"<b>{html.escape(label)}</b>"]
    lines.append(f"Aantal incidenten in deze zeshoek: <b>{count_text(props)}</b>")
    if "gi_z" in props and props["gi_z"] is not None:
        lines.append(
            f"Gi*-z-score: <b>{_fmt(props['gi_z'])}</b> &ndash; hoeveel standaardafwijkingen het "
            "aantal incidenten in deze zeshoek en zijn buren boven (+) of onder (&minus;) het "
            "gemiddelde van het hele gebied ligt. Boven 1,96 is ongewoon hoog."
        )
    if "gi_p_sim" in props and props["gi_p_sim"] is not None:
        lines.append(
            f"p-waarde (permutaties, tweezijdig): {_fmt(props['gi_p_sim'], 3)} &ndash; de kans "
            "dat deze zeshoek en zijn buren bij toeval (incidenten willekeurig over het gebied "
            "verdeeld) minstens zo sterk van het gemiddelde afwijken, naar boven of naar "
            "beneden. Klein (onder 0,05) = waarschijnlijk geen toeval; rond 1 = heel gewoon, "
            "bijvoorbeeld een lege zeshoek tussen lege buren."
        )
    if fdr and cls != 0:  # only where it applies: the text repeats in every popup
        lines.append(
            "<i>Significant na FDR-correctie</i> betekent: ook rekening houdend met het feit dat "
            "we duizenden zeshoeken tegelijk toetsen, is dit cluster waarschijnlijk geen toeval."
        )
    if props.get("suppressed"):
        lines.append("Kleine aantallen worden om privacyredenen niet exact getoond.")
    return "<br>".join(lines)


def kde_popup(props: Mapping[str, Any]) -> str:
    """Return the Dutch popup HTML for one KDE cell."""
    dens = props.get("kde_density")
    return (
        f"<b>Dichtheid: {_fmt(dens, 1)} incidenten per km&sup2;</b><br>"
        "Een gladgestreken schatting: hoe dicht incidenten in de buurt van deze zeshoek "
        "bij elkaar liggen (kerndichtheid). Hoger = meer incidenten dichtbij.<br>"
        f"Aantal incidenten in deze zeshoek: {count_text(props)}"
    )


def _round(coords: Any, digits: int = 6) -> Any:
    """Round coordinates to ``digits`` decimals (1e-6 degree is ~0.1 m): halves the page size."""
    if isinstance(coords, float):
        return round(coords, digits)
    return [_round(c, digits) for c in coords]


def _with_popups(fc: Mapping[str, Any], popup: Any, keep: Any) -> dict[str, Any]:
    feats = []
    for feat in fc.get("features", []):
        props = dict(feat.get("properties") or {})
        if not keep(props):
            continue
        props["popup"] = popup(props)
        geom = {
            "type": feat["geometry"]["type"],
            "coordinates": _round(feat["geometry"]["coordinates"]),
        }
        feats.append({"type": "Feature", "geometry": geom, "properties": props})
    return {"type": "FeatureCollection", "features": feats}


def gistar_layer(
    fc: Mapping[str, Any], *, fdr: bool = True, name: str = "Hotspots (Gi*)", show: bool = True
) -> folium.FeatureGroup:
    """Return Gi* hexagons coloured by Gi_Bin class (FDR-corrected by default).

    Cells that are not significant and hold no incidents are left out: they carry no
    information and would only hide the basemap.
    """

    def keep(props: Mapping[str, Any]) -> bool:
        hidden = bool(props.get("suppressed"))
        return _gi_class(props, fdr) != 0 or hidden or bool(props.get("count"))

    data = _with_popups(fc, lambda p: gistar_popup(p, fdr=fdr), keep)
    group = folium.FeatureGroup(name=name, show=show)
    if data["features"]:
        folium.GeoJson(
            data,
            name=name,
            style_function=lambda f: {
                "fillColor": GI_BIN_STYLE[_gi_class(f["properties"], fdr)][0],
                "color": "#555555",
                "weight": 0.3,
                "fillOpacity": 0.65,
            },
            popup=folium.GeoJsonPopup(fields=["popup"], labels=False, max_width=360),
        ).add_to(group)
    return group


def kde_breaks(values: Sequence[float]) -> list[float]:
    """Return the 4 inner quintile breaks of the positive densities (empty if none)."""
    arr = np.asarray([v for v in values if v is not None and v > 0], dtype=float)
    if arr.size == 0:
        return []
    return [float(b) for b in np.quantile(arr, [0.2, 0.4, 0.6, 0.8])]


def kde_layer(
    fc: Mapping[str, Any], *, name: str = "Dichtheid (kerndichtheid)", show: bool = False
) -> folium.FeatureGroup:
    """Return KDE hexagons coloured by density quintile (cells with zero density left out)."""
    feats = fc.get("features", [])
    breaks = kde_breaks([(f.get("properties") or {}).get("kde_density") or 0.0 for f in feats])

    def colour(density: float) -> str:
        return (
            KDE_COLOURS[int(np.searchsorted(breaks, density, side="right"))]
            if breaks
            else KDE_COLOURS[0]
        )

    data = _with_popups(fc, kde_popup, lambda p: (p.get("kde_density") or 0) > 0)
    group = folium.FeatureGroup(name=name, show=show)
    if data["features"]:
        folium.GeoJson(
            data,
            name=name,
            style_function=lambda f: {
                "fillColor": colour(f["properties"].get("kde_density") or 0.0),
                "color": "#00000000",
                "weight": 0,
                "fillOpacity": 0.6,
            },
            popup=folium.GeoJsonPopup(fields=["popup"], labels=False, max_width=320),
        ).add_to(group)
    return group


def areas_layer(
    areas: gpd.GeoDataFrame,
    *,
    name: str,
    colour: str = "#333333",
    weight: float = 1.5,
    show: bool = True,
) -> folium.FeatureGroup:
    """Return area outlines (no fill) with the area's name as tooltip."""
    group = folium.FeatureGroup(name=name, show=show)
    if len(areas):
        cols = [c for c in ("name", "code", "dwellings", "inhabitants") if c in areas.columns]
        folium.GeoJson(
            areas[[*cols, "geometry"]].to_json(default=str),
            name=name,
            style_function=lambda f: {"color": colour, "weight": weight, "fill": False},
            tooltip=folium.GeoJsonTooltip(
                fields=[c for c in ("name", "code") if c in cols],
                aliases=["Naam", "Code"][: len([c for c in ("name", "code") if c in cols])],
            ),
        ).add_to(group)
    return group


def cameras_layer(cameras: gpd.GeoDataFrame, *, name: str = "Camera's") -> folium.FeatureGroup:
    """Return cameras as circle markers: fixed = dark filled dot, flexible = purple ring.

    CircleMarkers need no icon font, so the page loads nothing from a CDN.
    """
    group = folium.FeatureGroup(name=name, show=True)
    for row in cameras.itertuples(index=False):
        colour, label = CAMERA_STYLE.get(str(row.kind), ("#1b1b1b", str(row.kind)))
        flexible = str(row.kind) == "flexible"
        title = html.escape(str(row.name or row.camera_id))
        period = f"{row.active_from or '?'} t/m {row.active_to or 'heden'}"
        folium.CircleMarker(
            location=(row.geometry.y, row.geometry.x),
            radius=6 if flexible else 5,
            color=colour,
            weight=3 if flexible else 1,
            fill=not flexible,
            fill_color=None if flexible else colour,  # folium fills whenever a fill colour is set
            fill_opacity=0.9,
            tooltip=f"{label}: {title}",
            popup=folium.Popup(f"<b>{label}</b><br>{title}<br>Actief: {html.escape(period)}"),
        ).add_to(group)
    return group


def legend(*, k: int, method: str, fdr: bool = True) -> Element:
    """Return a Dutch legend (fixed box, bottom left) for the map."""
    rows = []
    if method == "gistar":
        title = "Gi*-hotspots" + (" (na FDR-correctie)" if fdr else "")
        for cls in (3, 2, 1, 0, -1, -2, -3):
            colour, label = GI_BIN_STYLE[cls]
            rows.append(
                f'<div><span style="background:{colour};display:inline-block;width:14px;'
                f'height:14px;margin-right:6px;border:1px solid #777"></span>{label}</div>'
            )
    else:
        title = "Dichtheid (laag &rarr; hoog)"
        for colour in KDE_COLOURS:
            rows.append(
                f'<span style="background:{colour};display:inline-block;width:22px;'
                'height:14px;border:1px solid #777"></span>'
            )
        rows = ["<div>" + "".join(rows) + "</div>"]
    for kind in ("fixed", "flexible"):
        colour, label = CAMERA_STYLE[kind]
        fill = colour if kind == "fixed" else "transparent"
        rows.append(
            f'<div><span style="display:inline-block;width:10px;height:10px;border-radius:50%;'
            f'border:3px solid {colour};background:{fill};margin-right:6px"></span>{label}</div>'
        )
    rows.append(
        f'<div style="margin-top:4px;color:#555">Aantallen onder {k} tonen we als &lt;{k}.</div>'
    )
    box = (
        '<div id="legenda" style="position:fixed;bottom:24px;left:12px;z-index:9999;'
        "background:white;padding:8px 10px;border:1px solid #888;border-radius:4px;"
        f'font:12px/1.4 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)"><b>{title}</b>'
        + "".join(rows)
        + "</div>"
    )
    return Element(box)


def base_map(
    bounds: tuple[float, float, float, float],
    *,
    static_prefix: str = "/static/vendor",
    tile_url: str = "",
    attribution: str = "",
) -> folium.Map:
    """Return a folium Map fitted to ``bounds`` (lon/lat) that loads only local assets.

    Folium's CDN defaults (Leaflet, jQuery, Bootstrap, Font Awesome) are replaced by
    the vendored Leaflet and jQuery; the layers here need nothing else. Without ``tile_url`` the
    map has a plain background and the area outlines carry the orientation.
    """
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    # folium's templates call jQuery's $(...) (popups, layer control), so it is vendored too.
    m.default_js = [
        ("leaflet", f"{static_prefix}/leaflet/leaflet.js"),
        ("jquery", f"{static_prefix}/jquery/jquery.min.js"),
    ]
    m.default_css = [("leaflet_css", f"{static_prefix}/leaflet/leaflet.css")]
    if tile_url:
        folium.TileLayer(
            tiles=tile_url, attr=attribution or " ", name="Achtergrondkaart", max_zoom=19
        ).add_to(m)
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    # Opened on its own, a browser would ask the server for /favicon.ico (a 404).
    m.get_root().header.add_child(Element('<link rel="icon" href="data:,">'))  # type: ignore[attr-defined]
    return m


def finish_map(
    m: folium.Map, groups: Sequence[folium.FeatureGroup], legend_box: Element
) -> folium.Map:
    """Add layer groups, a LayerControl and the legend to ``m`` and return it."""
    for group in groups:
        group.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    m.get_root().html.add_child(legend_box)  # type: ignore[attr-defined]  # a branca Figure
    return m
