"""One data version per page: a commit of another process while a page is being rendered.

While ``/overzicht`` is being rendered, a second process deletes every jeugdoverlast melding
and bumps the data version (one commit), just before the page reads its table of counts per
year. The page reads one snapshot, taken when the request starts (``ReadStoreDep``), so its
year table still has the jeugdoverlast column, like its caption and hotspot places; without
the snapshot the table would be read after the commit and lack it. The next request is
rendered on the new version.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

import geo_service.web.pages.context as context
from geo_service.web import create_app
from tests.web_fixtures import DemoDB, commit_elsewhere, demo_copy, demo_db, web_settings

__all__ = ["demo_copy", "demo_db"]

SQL = "DELETE FROM incidents WHERE category = 'jeugdoverlast'"


def test_a_page_is_rendered_on_one_snapshot(
    demo_copy: DemoDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = context.year_table
    commits: list[str] = []

    def commit_then_count(*args: Any, **kwargs: Any) -> Any:
        if not commits:
            commit_elsewhere(demo_copy.path, SQL)
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
