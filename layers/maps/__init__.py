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

The package is split by job: :mod:`.styles` (colours, panes, formatting), :mod:`.hexcells`
(Gi* and KDE cells), :mod:`.areas` (outlines, cameras), :mod:`.chrome` (legend, caption,
base map) and :mod:`.emerging`; this module is their public face.
"""

from __future__ import annotations

from layers.maps.areas import (
    areas_layer,
    as_day,
    camera_period_text,
    cameras_layer,
)
from layers.maps.chrome import (
    MAP_CSS,
    MapChrome,
    base_map,
    finish_map,
    legend,
    message_box,
)
from layers.maps.emerging import (
    EMERGING_COLOURS,
    emerging_cells,
    emerging_layer,
    emerging_legend,
    emerging_names,
)
from layers.maps.hexcells import (
    GI_NEUTRAL_STYLE,
    CellPayload,
    HexLayer,
    gistar_cells,
    gistar_layer,
    kde_breaks,
    kde_cells,
    kde_class_labels,
    kde_layer,
)
from layers.maps.styles import (
    CAMERA_STYLE,
    GI_BIN_STYLE,
    KDE_COLOURS,
    KDE_MIN_SHARE,
    NEUTRAL_OUTLINE,
    PANE_CAMERAS,
    PANE_CELLS,
    PANE_OUTLINES,
    PANES,
    count_text,
)

__all__ = [
    "CAMERA_STYLE",
    "EMERGING_COLOURS",
    "GI_BIN_STYLE",
    "GI_NEUTRAL_STYLE",
    "KDE_COLOURS",
    "KDE_MIN_SHARE",
    "MAP_CSS",
    "NEUTRAL_OUTLINE",
    "PANES",
    "PANE_CAMERAS",
    "PANE_CELLS",
    "PANE_OUTLINES",
    "CellPayload",
    "HexLayer",
    "MapChrome",
    "areas_layer",
    "as_day",
    "base_map",
    "camera_period_text",
    "cameras_layer",
    "count_text",
    "emerging_cells",
    "emerging_layer",
    "emerging_legend",
    "emerging_names",
    "finish_map",
    "gistar_cells",
    "gistar_layer",
    "kde_breaks",
    "kde_cells",
    "kde_class_labels",
    "kde_layer",
    "legend",
    "message_box",
]
