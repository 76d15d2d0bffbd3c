"""The Veiligheidskaart notebook runs top to bottom on the demo data (executed with nbclient)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_notebook import execute, text_outputs

# The demo's clock decides the years the notebook shows: `make test` runs it at three dates.
pytestmark = [pytest.mark.clock, pytest.mark.slow]


def test_veiligheidskaart_notebook_executes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = execute("veiligheidskaart.ipynb", tmp_path, monkeypatch)
    outputs = text_outputs(nb)
    # 1. Eight derived stadsdelen with rates, trend intervals and ranks.
    assert "areas derived from wijk codes: True" in outputs
    assert "Leidschenveen-Ypenburg" in outputs and "95%-interval" in outputs
    # 2. The camera rule: the constructed reset, then Centrum's fixed cameras.
    assert "-> run 4 met False" in outputs and "one more fall -> run 5 met True" in outputs
    assert "Centrum, woninginbraak (106 vaste camera's)" in outputs
    # 3. The worked WDQ example and the imported action's WDQ.
    assert "WDQ -0.30" in outputs
    assert "IHA Centrum (voorbeeld), woninginbraak" in outputs
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 1
