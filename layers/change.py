"""Where hotspots appeared, disappeared or stayed between two periods: a change map layer.

Built from two Gi* layers *as the caller may see them* (for viewers: the published layers,
whose classes come from perturbed counts): a cell is a hot spot in a period when its
FDR-corrected class is above 0. The change therefore says nothing a viewer could not read
from the two maps side by side; its tooltips show the two shown counts (``<k`` where
withheld), never their difference, so no count below ``k`` can be read from it. No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from layers.svgmap import Shape

ChangeKind = Literal["nieuw", "gebleven", "verdwenen"]

#: Fill per kind (ColorBrewer RdBu end colours and a grey), and the legend's words.
CHANGE_STYLE: dict[ChangeKind, tuple[str, str]] = {
    "nieuw": ("#b2182b", "nieuwe hotspot"),
    "gebleven": ("#f4a582", "hotspot in beide perioden"),
    "verdwenen": ("#4393c3", "niet langer een hotspot"),
}


@dataclass(frozen=True)
class CellChange:
    """One cell that was a hot spot in at least one of the two periods."""

    cell: str
    kind: ChangeKind
    count_before: int | None
    count_after: int | None
    geometry: dict[str, Any]


def _hot(fc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        str(f["properties"]["h3"]): f
        for f in fc.get("features", [])
        if int(f["properties"].get("gi_class_fdr") or 0) > 0
    }


def _counts(fc: Mapping[str, Any]) -> dict[str, int | None]:
    return {
        str(f["properties"]["h3"]): f["properties"].get("count") for f in fc.get("features", [])
    }


def hotspot_change(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[CellChange]:
    """Return the cells hot in either period, with their kind of change.

    Parameters
    ----------
    before, after
        Gi* FeatureCollections of the two periods (H3 ``h3``, ``gi_class_fdr``, ``count``),
        as the caller may see them.

    Returns
    -------
    list of CellChange
        Ordered: new, stayed, gone; within a kind by cell id.

    Examples
    --------
    >>> def fc(*cells):
    ...     return {"features": [{"geometry": {}, "properties": {"h3": c, "gi_class_fdr": k,
    ...             "count": n}} for c, k, n in cells]}
    >>> before = fc(("a", 3, 9), ("b", 0, None), ("c", 2, 7))
    >>> after = fc(("a", 1, 8), ("b", 2, 6), ("c", 0, 5))
    >>> [(c.cell, c.kind, c.count_before, c.count_after) for c in hotspot_change(before, after)]
    [('b', 'nieuw', None, 6), ('a', 'gebleven', 9, 8), ('c', 'verdwenen', 7, 5)]
    """
    hot_a, hot_b = _hot(before), _hot(after)
    counts_a, counts_b = _counts(before), _counts(after)
    order = {"nieuw": 0, "gebleven": 1, "verdwenen": 2}
    out = []
    for cell in sorted(set(hot_a) | set(hot_b)):
        kind: ChangeKind = (
            "gebleven"
            if cell in hot_a and cell in hot_b
            else "nieuw"
            if cell in hot_b
            else "verdwenen"
        )
        feature = hot_b.get(cell) or hot_a[cell]
        out.append(
            CellChange(cell, kind, counts_a.get(cell), counts_b.get(cell), feature["geometry"])
        )
    return sorted(out, key=lambda c: (order[c.kind], c.cell))


def change_shapes(changes: Sequence[CellChange], k: int, labels: tuple[str, str]) -> list[Shape]:
    """Return the change cells as SVG shapes with Dutch tooltips (shown counts, no difference).

    ``labels`` names the two periods (``"jan t/m dec 2024"``, ``"jan t/m dec 2025"``).
    """

    def text(n: int | None) -> str:
        return f"<{k}" if n is None else str(n)

    return [
        Shape(
            c.geometry,
            css_class=f"change {c.kind}",
            fill=CHANGE_STYLE[c.kind][0],
            stroke="none",
            title=(
                f"{CHANGE_STYLE[c.kind][1].capitalize()}: {labels[0]} {text(c.count_before)}, "
                f"{labels[1]} {text(c.count_after)} incidenten"
            ),
            attrs={"data-kind": c.kind},
        )
        for c in changes
    ]
