"""The analyst notebooks run top to bottom on the demo data (executed with nbclient)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def execute(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Execute a notebook on a fresh demo database in ``tmp_path``; return it with outputs."""
    monkeypatch.setenv("GEO_SERVICE_DB", str(tmp_path / "nb.duckdb"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    return nb


def text_outputs(nb: Any) -> str:
    """All printed text and plain-text results of the notebook's code cells."""
    parts = []
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        for o in c.get("outputs", []):
            parts.append(o.get("text", ""))
            parts.append(o.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_hotspots_notebook_executes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = execute("hotspots.ipynb", tmp_path, monkeypatch)
    outputs = text_outputs(nb)
    assert "burglaries from" in outputs
    assert "Gi_Bin class after FDR" in outputs
    # The last displayed map is HTML with the Gi* layer.
    html = [o for c in nb.cells for o in c.get("outputs", []) if "text/html" in o.get("data", {})]
    assert html and "Hotspots" in html[-1]["data"]["text/html"]


def test_spacetime_notebook_executes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = execute("spacetime.ipynb", tmp_path, monkeypatch)
    outputs = text_outputs(nb)
    # 1. Emerging hotspots: the planted intensifying jeugdoverlast in Kijkduin en Ockenburgh.
    assert "intensifying hot spot" in outputs
    assert "toenemende hotspot" in outputs and "WK051815" in outputs
    # 2. Knox: the planted near repeats in Westland give significant short/near ratios.
    assert "Near repeat (Knox-test)" in outputs
    assert re.search(r"\n0-<100 m +\d+,\d+\*", outputs), "no significant 0-100 m / 0-6 d ratio"
    # 3. Backtest: the table, the plain verdict and a figure.
    assert "origins" in outputs and "msrate" in outputs and "naive_1095d" in outputs
    assert "beter dan de beste eenvoudige methode" in outputs
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 1


def test_targeting_notebook_executes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = execute("targeting.ipynb", tmp_path, monkeypatch)
    outputs = text_outputs(nb)
    # 1. Priorities with rank intervals and Dutch explanations.
    assert "Rang 1 (90%-interval " in outputs and "city mean" in outputs
    # 2. IHA proposals with a reason each.
    assert "8 IHA-voorstellen" in outputs and "gaat voor voorstel 2" in outputs
    # 3. The camera plan (proven optimal) and its coverage curve.
    assert "bewezen optimaal" in outputs and "(optimaliteitsgat 0.00%" in outputs
    assert re.search(r"exact: \{0: 0\.0, 2: [\d.]+", outputs)
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 3
