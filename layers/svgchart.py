"""Small static SVG line charts (values per year), for pages and reports that must print.

One chart: years along x, one line per series with a dot per known value; an unknown value
(None: withheld or not computed) breaks the line. No script, no I/O; every text is escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Series:
    """One line of a chart.

    Attributes
    ----------
    label
        Legend text.
    values
        One value per year (None where unknown).
    colour
        Stroke colour (CSS).
    """

    label: str
    values: tuple[float | None, ...]
    colour: str


def _nice_max(value: float) -> float:
    """Round up to 1, 2 or 5 times a power of ten (``0`` -> ``1``).

    Examples
    --------
    >>> [_nice_max(v) for v in (0.0, 0.7, 3.2, 14.0, 61.0)]
    [1.0, 1.0, 5.0, 20.0, 100.0]
    """
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def _fmt(value: float) -> str:
    text = f"{value:g}"
    return text.replace(".", ",")


def svg_line_chart(
    years: Sequence[int],
    series: Sequence[Series],
    *,
    title: str,
    y_label: str,
    width: int = 420,
    height: int = 180,
) -> str:
    """Return an SVG line chart of values per year.

    Parameters
    ----------
    years
        The x values (consecutive years, oldest first).
    series
        The lines; each has one value per year.
    title
        Accessible name (``<title>`` and ``aria-label``).
    y_label
        Text of the y axis (``per 1.000 woningen``).
    width, height
        Size in CSS pixels.

    Returns
    -------
    str
        ``<svg class="chart" ...>`` with one ``<polyline class="series">`` per run of known
        values and one ``<circle>`` per known value.

    Raises
    ------
    ValueError
        A series with another length than ``years``, or no years.

    Examples
    --------
    >>> svg = svg_line_chart([2024, 2025], [Series("a", (1.0, 2.0), "#000")], title="t",
    ...                      y_label="y")
    >>> svg.startswith('<svg class="chart"'), svg.count("<circle")
    (True, 2)
    """
    if not years:
        raise ValueError("a chart needs at least one year")
    for s in series:
        if len(s.values) != len(years):
            raise ValueError(
                f"series {s.label!r} has {len(s.values)} values for {len(years)} years"
            )
    left, right, top, bottom = 44, 18, 10, 38
    pw, ph = width - left - right, height - top - bottom
    known = [v for s in series for v in s.values if v is not None and math.isfinite(v)]
    y_max = _nice_max(max(known, default=0.0))
    n = len(years)

    def x(i: int) -> float:
        return left + (pw * i / (n - 1) if n > 1 else pw / 2)

    def y(v: float) -> float:
        return top + ph * (1 - v / y_max)

    esc = html.escape
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{esc(title)}"><title>{esc(title)}</title>',
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#777"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#777"/>',
    ]
    for frac in (0.0, 0.5, 1.0):
        yy = y(y_max * frac)
        parts.append(
            f'<text x="{left - 4}" y="{yy + 4:.1f}" font-size="10" text-anchor="end">'
            f"{_fmt(y_max * frac)}</text>"
        )
    for i, year in enumerate(years):
        parts.append(
            f'<text x="{x(i):.1f}" y="{top + ph + 13}" font-size="10" text-anchor="middle">'
            f"{year}</text>"
        )
    parts.append(
        f'<text x="4" y="{top + ph / 2:.1f}" font-size="10" '
        f'transform="rotate(-90 8 {top + ph / 2:.1f})" text-anchor="middle">{esc(y_label)}</text>'
    )
    for k, s in enumerate(series):
        runs: list[list[tuple[float, float]]] = [[]]
        for i, v in enumerate(s.values):
            if v is None or not math.isfinite(v):
                runs.append([])
                continue
            runs[-1].append((x(i), y(v)))
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{esc(s.colour)}">'
                f"<title>{esc(s.label)} {years[i]}: {_fmt(round(v, 2))}</title>"
                "</circle>"
            )
        for run in runs:
            if len(run) > 1:
                pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in run)
                parts.append(
                    f'<polyline class="series" fill="none" stroke="{esc(s.colour)}" '
                    f'stroke-width="1.6" points="{pts}"/>'
                )
        lx = left + k * (pw / max(len(series), 1))
        parts.append(
            f'<rect x="{lx:.1f}" y="{height - 12}" width="10" height="3" '
            f'fill="{esc(s.colour)}"/><text x="{lx + 13:.1f}" y="{height - 8}" '
            f'font-size="10">{esc(s.label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
