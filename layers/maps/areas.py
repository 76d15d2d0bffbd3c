"""Area outlines and camera points."""

from __future__ import annotations

import html
from datetime import date, datetime
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.maps.styles import CAMERA_STYLE, PANE_CAMERAS, PANE_OUTLINES


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
