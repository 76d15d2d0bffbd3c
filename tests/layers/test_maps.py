"""Map layers: which cells are drawn, colours, Dutch popups, local assets only."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest

from layers import maps

CELL = h3.latlng_to_cell(52.07, 4.30, 10)
RING = h3.grid_ring(CELL, 1)


def _hex(cell: str, cls: int, count: Any = 7, **extra: Any) -> dict[str, Any]:
    props = {"h3": cell, "count": count, "gi_class": cls, "gi_class_fdr": cls}
    props.update(extra)
    return {"type": "Feature", "geometry": None, "properties": props}


def _fc(*feats: dict[str, Any], res: int = 10) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": list(feats),
        "metadata": {"h3_resolution": res},
    }


def _luminance(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_class_colours_are_rdbu_three_reds_three_blues_clearly_apart() -> None:
    # ColorBrewer RdBu (8 classes) without its two palest colours (colorbrewer2.org).
    reds = [maps.GI_BIN_STYLE[c][0] for c in (3, 2, 1)]
    blues = [maps.GI_BIN_STYLE[c][0] for c in (-3, -2, -1)]
    assert reds == ["#b2182b", "#d6604d", "#f4a582"]
    assert blues == ["#2166ac", "#4393c3", "#92c5de"]
    for ramp in (reds, blues):
        lum = [_luminance(c) for c in ramp]
        assert all(b - a > 0.12 for a, b in itertools.pairwise(lum))  # dark -> light


def test_not_significant_cells_are_outline_only_and_drawn_below() -> None:
    layer = maps.gistar_layer(_fc(_hex(CELL, 0, 6), _hex(RING[0], 3, 12)))
    options = json.loads(layer.options_js)
    neutral = options["styles"][layer.payload.style[0]]
    assert "fill" not in neutral and neutral["stroke"] == maps.NEUTRAL_OUTLINE
    hot = options["styles"][layer.payload.style[1]]
    assert hot["fill"] == "#b2182b"
    order = options["order"]
    assert order.index(layer.payload.style[0]) < order.index(layer.payload.style[1])


def test_only_cells_that_say_something_are_sent() -> None:
    fc = _fc(
        _hex(CELL, 0, 0),  # empty, not significant: left out
        _hex(RING[0], 0, None, suppressed=True, min_count=5),  # viewer: like empty, left out
        _hex(RING[1], 2, None, suppressed=True, min_count=5),  # significant: kept, "<5"
        _hex(RING[2], 0, 10),  # incidents shown: kept as an outline
        _hex(RING[3], -1, 0),  # cold spot: kept
    )
    payload = maps.gistar_cells(fc)
    assert payload.ids == [RING[1], RING[2], RING[3]]
    assert payload.columns["n"] == [None, 10, 0]
    assert payload.n_study_cells == 5
    heads = [payload.heads[i] for i in payload.head]
    assert "Aantal incidenten in deze zeshoek: <b>&lt;5</b>" in heads[0]
    assert heads[0].startswith("<b>Hotspot, 95% betrouwbaar</b>")
    assert "Niet significant" in heads[1] and "<b>10</b>" in heads[1]
    assert "Coldspot, 90% betrouwbaar" in heads[2]


def test_popup_heads_are_shared_not_one_per_cell() -> None:
    cells = [CELL, *h3.grid_disk(CELL, 3)[1:]]
    fc = _fc(*[_hex(c, 3, 10) for c in cells])
    payload = maps.gistar_cells(fc)
    assert len(payload.ids) == len(cells) == 37
    assert len(payload.heads) == 1


def test_analyst_popups_carry_z_and_p_viewer_popups_do_not() -> None:
    exact = maps.gistar_layer(_fc(_hex(CELL, 3, 3, gi_z=4.25, gi_p_sim=0.001)))
    assert exact.payload.columns["z"] == [4.25]
    assert "Gi*-z-score" in exact.options_js
    # The p-value is explained, including why isolated cells never get a small one.
    notes = " ".join(json.loads(exact.options_js)["popup"]["notes"])
    assert "p-waarde: de kans" in notes and "geen kleine p" in notes
    viewer = maps.gistar_layer(_fc(_hex(CELL, 3, None, suppressed=True, min_count=5)))
    assert "z" not in viewer.payload.columns
    assert "z-score" not in viewer.options_js
    assert "<5" in json.loads(viewer.options_js)["small"]


def test_popups_show_the_period() -> None:
    layer = maps.gistar_layer(_fc(_hex(CELL, 3, 10)), period="jan t/m mrt 2026")
    rows = json.loads(layer.options_js)["popup"]["rows"]
    assert ["Periode", None, "text", "jan t/m mrt 2026"] in rows


def test_kde_breaks_are_quintiles() -> None:
    # numpy's default (linear) quantile of 1..10: q=0.2 -> 1 + 0.2*9 = 2.8, etc. (hand-computed)
    assert maps.kde_breaks([float(v) for v in range(1, 11)] + [0.0]) == pytest.approx(
        [2.8, 4.6, 6.4, 8.2]
    )
    assert maps.kde_breaks([0.0, 0.0]) == []


def test_kde_leaves_out_the_faint_tail() -> None:
    dens = [100.0, 50.0, 10.0, 1.0, 0.5, 0.0]
    cells = h3.grid_disk(CELL, 1)[: len(dens)]
    fc = _fc(*[_hex(c, 0, 5, kde_density=d) for c, d in zip(cells, dens, strict=True)])
    payload, breaks = maps.kde_cells(fc)
    # 2 % of the peak (100) is 2.0: 1.0, 0.5 and 0 are not drawn
    assert payload.columns["d"] == [100.0, 50.0, 10.0]
    assert breaks == pytest.approx(list(np.quantile([100.0, 50.0, 10.0], [0.2, 0.4, 0.6, 0.8])))
    assert maps.kde_class_labels([1.0, 2.5, 4.0, 10.0])[0] == "tot 1,0"


@pytest.mark.parametrize(
    ("start", "end", "text"),
    [
        (None, None, "actief (periode onbekend)"),
        (pd.NaT, pd.NaT, "actief (periode onbekend)"),
        (np.datetime64("NaT"), float("nan"), "actief (periode onbekend)"),
        (pd.Timestamp("2024-03-01"), pd.NaT, "actief sinds 1-3-2024"),
        ("2024-03-01", "2025-02-28", "actief van 1-3-2024 t/m 28-2-2025"),
    ],
)
def test_camera_periods_never_read_nat(start: Any, end: Any, text: str) -> None:
    assert maps.camera_period_text(start, end) == text


def _cameras() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "camera_id": ["a", "b"],
            "kind": ["fixed", "flexible"],
            "name": ["Plein", None],
            "active_from": [pd.NaT, pd.Timestamp("2025-01-01")],
            "active_to": [pd.NaT, pd.NaT],
        },
        geometry=gpd.points_from_xy([4.30, 4.31], [52.05, 52.06]),
        crs="EPSG:4326",
    )


def test_rendered_map_loads_only_local_assets_and_has_its_chrome() -> None:
    fc = _fc(_hex(CELL, 3, 12, gi_z=4.0, kde_density=3.0), _hex(RING[0], -2, 0, kde_density=1.0))
    areas = gpd.GeoDataFrame(
        {"name": ["Centrum"]},
        geometry=gpd.GeoSeries.from_wkt(["POLYGON((4.29 52.06,4.31 52.06,4.31 52.08,4.29 52.06))"]),
        crs="EPSG:4326",
    )
    m = maps.base_map((4.2, 52.0, 4.4, 52.1))
    maps.finish_map(
        m,
        [
            maps.gistar_layer(fc),
            maps.kde_layer(fc),
            maps.areas_layer(areas, name="Wijkgrenzen"),
            maps.cameras_layer(_cameras(), kind="fixed"),
            maps.cameras_layer(_cameras(), kind="flexible"),
        ],
        maps.legend(k=5, method="gistar"),
        caption_html="<div id='map-caption'>Periode</div>",
        message="Geen hotspots",
    )
    html = m.get_root().render()
    assert re.findall(r"https?://[^\s\"')]+", html) == []
    assert "/static/vendor/leaflet/leaflet.js" in html
    assert "/static/vendor/h3-js/h3-js.umd.js" in html
    assert "/static/js/hexlayer.js" in html
    assert "jquery" not in html  # not needed by these maps
    assert "L.hexLayer(" in html and "L.control.layers" in html
    assert "L.control.scale({imperial: false" in html
    assert "window.mapReady = true" in html
    assert "Coldspot, 99% betrouwbaar" in html  # legend
    assert 'id="map-message"' in html and "Geen hotspots" in html
    assert "map-caption" in html
    # outlines never take a click; cameras start switched off, small, above the cells
    assert '"interactive": false' in html
    assert html.count('"pane": "cameras"') >= 2
    assert "Plein\\u003cbr\\u003eactief (periode onbekend)" in html  # JSON-escaped <br>
    assert "NaT" not in html


def test_cameras_are_off_by_default_and_one_layer_per_kind() -> None:
    group = maps.cameras_layer(_cameras(), kind="fixed")
    assert group.show is False
    assert len(group._children) == 1
