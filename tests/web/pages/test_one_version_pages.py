"""One data version per page: a commit of another process while a page is being rendered.

While ``/overzicht`` is being rendered, a second process deletes every jeugdoverlast melding
and bumps the data version (one commit), just before the page reads its table of counts per
year. The page reads one snapshot, taken when the request starts (``ReadStoreDep``), so its
year table still has the jeugdoverlast column, like its caption and hotspot places; without
the snapshot the table would be read after the commit and lack it. The next request is
rendered on the new version.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from fastapi.testclient import TestClient

import geo_service.web.pages.context as context
from geo_service.web import create_app
from tests.web_fixtures import DemoDB, demo_copy, demo_db, web_settings

__all__ = ["demo_copy", "demo_db"]

COMMIT = """
import sys
from geo_service.store import Store
with Store.open(sys.argv[1]) as store:
    def block():
        store.con.execute("DELETE FROM incidents WHERE category = 'jeugdoverlast'")
        store.bump_data_version()
    store.write(block)
"""


def test_a_page_is_rendered_on_one_snapshot(
    demo_copy: DemoDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = context.year_table
    commits: list[str] = []

    def commit_then_count(*args: Any, **kwargs: Any) -> Any:
        if not commits:
            out = subprocess.run(
                [sys.executable, "-c", COMMIT, str(demo_copy.path)],
                capture_output=True,
                text=True,
                timeout=180,
                check=False,
            )
            assert out.returncode == 0, out.stderr
            commits.append("done")
        return original(*args, **kwargs)

    monkeypatch.setattr(context, "year_table", commit_then_count)
    with TestClient(create_app(web_settings(demo_copy.path))) as c:
        version = c.get("/ready").json()["data_version"]
        first = c.get("/overzicht")
        assert first.status_code == 200 and commits == ["done"]
        table = first.text.split('id="per-jaar"', 1)[1].split("</table>", 1)[0]
        assert ">jeugdoverlast<" in table  # the snapshot of before the commit
        assert c.get("/ready").json()["data_version"] == str(int(version) + 1)
        again = c.get("/overzicht")
        table = again.text.split('id="per-jaar"', 1)[1].split("</table>", 1)[0]
        assert "jeugdoverlast" not in table
