"""Folium layers: Gi_Bin colours, popups in Dutch, local assets only."""

from __future__ import annotations

import re
from typing import Any

import folium
import geopandas as gpd
import pytest

from layers import maps


def _hex(cls: int, cls_fdr: int, count: Any = 7, **extra: Any) -> dict[str, Any]:
    ring = [[4.30, 52.05], [4.31, 52.05], [4.31, 52.06], [4.30, 52.06], [4.30, 52.05]]
    props = {"h3": f"c{cls}{cls_fdr}", "count": count, "gi_class": cls, "gi_class_fdr": cls_fdr}
    props.update(extra)
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": props,
    }


def _styles(group: folium.FeatureGroup) -> list[dict[str, Any]]:
    (geojson,) = [c for c in group._children.values() if isinstance(c, folium.GeoJson)]
    return [geojson.style_function(f) for f in geojson.data["features"]]


def test_gi_bin_colours_follow_arcgis_and_fdr_by_default() -> None:
    fc = {
        "type": "FeatureCollection",
        "features": [_hex(3, 3), _hex(2, 0), _hex(-3, -3), _hex(0, 0)],
    }
    fdr = [s["fillColor"] for s in _styles(maps.gistar_layer(fc))]
    # ArcGIS Pro Gi_Bin renderer: +3 dark red, -3 dark blue, 0 light grey.
    assert fdr == ["#d62f27", "#d9d9d9", "#4575b5", "#d9d9d9"]
    raw = [s["fillColor"] for s in _styles(maps.gistar_layer(fc, fdr=False))]
    assert raw[1] == "#ed7551"  # uncorrected class 2 is a 95% hotspot


def test_empty_non_significant_cells_are_left_out() -> None:
    fc = {"type": "FeatureCollection", "features": [_hex(0, 0, count=0), _hex(1, 1, count=0)]}
    assert len(_styles(maps.gistar_layer(fc))) == 1


def test_popups_explain_in_dutch_and_respect_suppression() -> None:
    exact = maps.gistar_popup({"count": 12, "gi_z": 3.2, "gi_p_sim": 0.001, "gi_class_fdr": 3})
    assert "Hotspot, 99% betrouwbaar" in exact
    assert "3,20" in exact  # Dutch decimal comma
    assert "standaardafwijkingen" in exact
    assert "FDR" in exact
    assert "tweezijdig" in exact and "bij toeval" in exact  # what the p-value means
    viewer = maps.gistar_popup(
        {"count": None, "suppressed": True, "min_count": 5, "gi_class_fdr": 0}
    )
    assert "z-score" not in viewer
    assert "&lt;5" in viewer
    assert "privacyredenen" in viewer


def test_kde_breaks_are_quintiles() -> None:
    # numpy's default (linear) quantile of 1..10: q=0.2 -> 1 + 0.2*9 = 2.8, etc. (hand-computed)
    assert maps.kde_breaks([float(v) for v in range(1, 11)] + [0.0]) == pytest.approx(
        [2.8, 4.6, 6.4, 8.2]
    )
    assert maps.kde_breaks([0.0, 0.0]) == []


def test_rendered_map_loads_only_local_assets() -> None:
    cams = gpd.GeoDataFrame(
        {
            "camera_id": ["a", "b"],
            "kind": ["fixed", "flexible"],
            "name": ["Plein", None],
            "active_from": [None, None],
            "active_to": [None, None],
        },
        geometry=gpd.points_from_xy([4.30, 4.31], [52.05, 52.06]),
        crs="EPSG:4326",
    )
    fc = {"type": "FeatureCollection", "features": [_hex(3, 3, gi_z=4.0, kde_density=3.0)]}
    m = maps.base_map((4.2, 52.0, 4.4, 52.1))
    maps.finish_map(
        m,
        [maps.gistar_layer(fc), maps.kde_layer(fc), maps.cameras_layer(cams)],
        maps.legend(k=5, method="gistar"),
    )
    html = m.get_root().render()
    assert re.findall(r"https?://[^\s\"')]+", html) == []
    assert "/static/vendor/leaflet/leaflet.js" in html
    assert "Coldspot, 99% betrouwbaar" in html
    assert "Flexibele camera" in html
    assert "L.control.layers" in html
    # fixed cameras are filled dots, flexible ones rings
    assert html.count('"fill": true') >= 1
    assert html.count('"fill": false') >= 1
