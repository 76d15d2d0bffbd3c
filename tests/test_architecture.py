"""The import structure: no cycle, and arrows only run down the layers.

The graph is read from the source with :mod:`ast` (nothing is imported), one node per
module. An arrow is what a module names: ``import a.b`` and ``from a import b`` (``b`` a
module) point at ``a.b``, ``from a.b import name`` at ``a.b``. Imports inside functions and
under ``TYPE_CHECKING`` count too: a deferred import hides a cycle, it does not remove it.
Python also runs ``a/__init__.py`` for ``a.b``; that is why a package's ``__init__`` imports
only its own modules and no module imports its own package's ``__init__``.
"""

from __future__ import annotations

import ast
import graphlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("spatial", "layers", "geo_service")
#: The layers, lowest first: a module may import from its own layer or a lower one.
LAYER_ORDER = {"spatial": 0, "layers": 1, "geo_service": 2}
#: Inside geo_service, the same rule by part; a part not listed here is a test failure, so
#: that a new package gets a place on purpose.
GEO_SERVICE_ORDER = {
    "config": 0,
    "errors": 0,
    "filters": 0,
    "store": 1,
    "ingest": 2,
    "analyses": 3,
    "demo": 3,
    "web": 4,
    "commands": 5,
    "cli": 6,
    "__main__": 7,
}
#: What geo_service/ may hold at its root: the frame, not analyses.
GEO_SERVICE_ROOT = {"__init__", "__main__", "cli", "config", "errors", "filters"}
#: Libraries each package must not import (spatial is pure computation, layers does no I/O).
FORBIDDEN = {
    "spatial": {"duckdb", "fastapi", "folium", "starlette", "geo_service", "layers"},
    "layers": {"duckdb", "fastapi", "starlette", "geo_service"},
}
#: A spatial module longer than this says why at its top (a ``**Length.**`` paragraph).
MAX_SPATIAL_LINES = 600


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imported_names(name: str, path: Path) -> Iterator[str]:
    """Yield every dotted name that the module at ``path`` imports (absolute)."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            for alias in node.names:
                yield f"{base}.{alias.name}"


def resolve(dotted: str, known: dict[str, Path]) -> str | None:
    """Return the project module that ``dotted`` names (longest known prefix), or None."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


@cache
def graph() -> dict[str, frozenset[str]]:
    known = modules()
    edges = {}
    for name, path in known.items():
        targets = {resolve(d, known) for d in imported_names(name, path)}
        edges[name] = frozenset(t for t in targets if t is not None and t != name)
    return edges


def arrows() -> Iterator[tuple[str, str]]:
    for source, targets in graph().items():
        for target in sorted(targets):
            yield source, target


def test_the_graph_is_read() -> None:
    # A broken reader would pass every test below: check it sees what is known to be there.
    g = graph()
    assert "spatial.errors" in g["spatial.hotspots.gistar"]
    assert "geo_service.store" in g["geo_service.analyses.hotspots"]
    assert "geo_service.web.published.base" in g["geo_service.web.published.registry"]
    assert len(g) > 100


def test_no_import_cycle() -> None:
    try:
        tuple(graphlib.TopologicalSorter(graph()).static_order())
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(reversed(exc.args[1]))}")


def test_the_cycle_check_finds_a_cycle() -> None:
    with pytest.raises(graphlib.CycleError):
        tuple(graphlib.TopologicalSorter({"a": {"b"}, "b": {"c"}, "c": {"a"}}).static_order())


def test_layers_import_only_down() -> None:
    upward = [
        f"{s} -> {t}"
        for s, t in arrows()
        if LAYER_ORDER[s.split(".")[0]] < LAYER_ORDER[t.split(".")[0]]
    ]
    assert upward == []


def geo_service_part(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_geo_service_parts_import_only_down() -> None:
    names = [n for n in modules() if n.startswith("geo_service.")]
    unplaced = sorted({geo_service_part(n) for n in names} - set(GEO_SERVICE_ORDER))
    assert unplaced == [], "give each part of geo_service a place in GEO_SERVICE_ORDER"
    upward = [
        f"{s} -> {t}"
        for s, t in arrows()
        if s.startswith("geo_service.")
        and t.startswith("geo_service.")
        and GEO_SERVICE_ORDER[geo_service_part(s)] < GEO_SERVICE_ORDER[geo_service_part(t)]
    ]
    assert upward == []


@pytest.mark.parametrize("part", ["store", "ingest", "analyses", "demo"])
def test_the_domain_never_imports_the_web(part: str) -> None:
    # Implied by the order above; stated on its own because it is the rule that matters most.
    into_web = [
        f"{s} -> {t}"
        for s, t in arrows()
        if s.startswith(f"geo_service.{part}") and t.startswith("geo_service.web")
    ]
    assert into_web == []


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_pure_packages_import_no_io_or_application(package: str) -> None:
    bad = sorted(
        f"{name} imports {dotted}"
        for name, path in modules().items()
        if name.split(".")[0] == package
        for dotted in imported_names(name, path)
        if dotted.split(".")[0] in FORBIDDEN[package]
    )
    assert bad == []


def test_no_module_imports_a_face_above_it_that_imports_modules() -> None:
    # Importing a.b.c runs a/b/__init__.py first; if c also imports a.b and a.b imports
    # modules, the face and c can import each other. A face that imports nothing of the
    # project (geo_service's __version__) is safe to import from below.
    bad = [
        f"{s} -> {t}"
        for s, t in arrows()
        if modules()[s].name != "__init__.py" and s.startswith(f"{t}.") and graph()[t]
    ]
    assert bad == []


def test_geo_service_root_holds_only_the_frame() -> None:
    root = {p.stem for p in (ROOT / "geo_service").glob("*.py")}
    assert root - GEO_SERVICE_ROOT == set()


def test_spatial_is_grouped_in_families() -> None:
    loose = {p.stem for p in (ROOT / "spatial").glob("*.py")} - {"__init__", "errors"}
    assert loose == set()
    for family in (p for p in (ROOT / "spatial").iterdir() if p.is_dir()):
        if family.name != "__pycache__":
            assert (family / "__init__.py").is_file(), family


def test_long_spatial_modules_say_why() -> None:
    unexplained = []
    for name, path in modules().items():
        if not name.startswith("spatial."):
            continue
        source = path.read_text()
        n_lines = source.count("\n")
        docstring = ast.get_docstring(ast.parse(source)) or ""
        if n_lines > MAX_SPATIAL_LINES and "**Length.**" not in docstring:
            unexplained.append(f"{name} ({n_lines} lines)")
    assert unexplained == []
