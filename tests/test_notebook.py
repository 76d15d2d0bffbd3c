"""The analyst notebook runs top to bottom on the demo data (executed with nbclient)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "hotspots.ipynb"


def test_hotspots_notebook_executes(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GEO_SERVICE_DB", str(tmp_path / "nb.duckdb"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = "\n".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    assert "burglaries from" in outputs
    assert "Gi_Bin class after FDR" in outputs
    # The last displayed map is HTML with the Gi* layer.
    html = [o for c in nb.cells for o in c.get("outputs", []) if "text/html" in o.get("data", {})]
    assert html and "Hotspots" in html[-1]["data"]["text/html"]
