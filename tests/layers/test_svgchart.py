"""Static SVG line charts: a withheld value breaks the line, text is escaped, shapes checked."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from layers.svgchart import Series, svg_line_chart

NS = "{http://www.w3.org/2000/svg}"


def test_a_missing_value_breaks_the_line_and_the_scale_is_nice() -> None:
    svg = svg_line_chart(
        [2021, 2022, 2023, 2024, 2025],
        [Series("a <b>", (4.0, 6.0, None, 8.0, 13.0), "#000")],
        title='Wijk "x" & y',
        y_label="per 1.000 woningen",
    )
    root = ET.fromstring(svg)  # noqa: S314 - our own output: checks it is well-formed XML
    assert root.get("aria-label") == 'Wijk "x" & y'
    lines = root.findall(f"{NS}polyline")
    assert len(lines) == 2  # 2021-2022 and 2024-2025; 2023 unknown
    assert len(root.findall(f"{NS}circle")) == 4
    ticks = [t.text for t in root.findall(f"{NS}text")][:3]
    assert ticks == ["0", "10", "20"]  # the top rounds 13 up to 20
    assert "a &lt;b&gt;" in svg and "<b>" not in svg
    # The highest value (13 of 20) is drawn 65 % of the way up the plot area.
    ys = [float(y) for y in re.findall(r'cy="([\d.]+)"', svg)]
    top, height = 10, 180 - 10 - 38
    assert ys[-1] == pytest.approx(top + height * (1 - 13 / 20), abs=0.1)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="values for"):
        svg_line_chart([2024, 2025], [Series("a", (1.0,), "#000")], title="t", y_label="y")
    with pytest.raises(ValueError, match="at least one year"):
        svg_line_chart([], [], title="t", y_label="y")
