"""One data version per response: a commit of another process during a computation.

The demo holds fixed and flexible cameras. While ``/api/v1/cameras`` is being computed,
a second process deletes the flexible ones and bumps the data version (one commit). The
response is filed under the version read before the computation, so it must hold that
version's data: both kinds. (Before one snapshot per response it held the newer data under
the older version: fixed cameras only.) The next request is computed on the new version.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from geo_service.web import create_app, service
from tests.web_fixtures import DemoDB, commit_elsewhere, demo_copy, demo_db, web_settings

__all__ = ["demo_copy", "demo_db"]

SQL = "DELETE FROM cameras WHERE kind = 'flexible'"


def test_a_response_holds_the_data_of_the_version_it_is_filed_under(
    demo_copy: DemoDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = service.layer_collection
    commits: list[str] = []

    def commit_then_compute(*args: Any, **kwargs: Any) -> Any:
        if not commits:  # the first computation only
            commit_elsewhere(demo_copy.path, SQL)
            commits.append("done")
        return original(*args, **kwargs)

    monkeypatch.setattr(service, "layer_collection", commit_then_compute)
    with TestClient(create_app(web_settings(demo_copy.path))) as c:
        version = c.get("/ready").json()["data_version"]
        first = c.get("/api/v1/cameras")
        assert first.status_code == 200
        assert commits == ["done"]
        assert {f["properties"]["kind"] for f in first.json()["features"]} == {
            "fixed",
            "flexible",
        }
        assert c.get("/ready").json()["data_version"] == str(int(version) + 1)
        again = c.get("/api/v1/cameras", headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 200  # a new version: not the first answer's ETag
        assert {f["properties"]["kind"] for f in again.json()["features"]} == {"fixed"}
