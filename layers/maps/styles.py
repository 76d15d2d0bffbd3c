"""Colours, panes and the small formatting helpers every map layer shares."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import orjson

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
