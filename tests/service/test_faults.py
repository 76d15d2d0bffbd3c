"""Faults found by a probe of the running service; each test failed on the code before."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient

from geo_service.web import create_app
from tests.service.web_fixtures import DemoDB, demo_copy, demo_db, web_settings

__all__ = ["demo_copy", "demo_db"]


def _client(db: DemoDB, **overrides: object) -> TestClient:
    return TestClient(create_app(web_settings(db.path, permutations=0, **overrides)))


def _is_problem(r: httpx.Response, status: int) -> None:
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/problem+json")


# --------------------------------------------------------------------------- paging bounds


def test_offset_and_limit_are_bounded_on_every_paged_route(demo_db: DemoDB) -> None:
    """Old code: /api/v1/incidents?offset=2**63 reached DuckDB as INT128 -> 500."""
    analyst = {"X-API-Key": demo_db.analyst}
    routes = ("/api/v1/incidents", "/ogc/collections/incidents/items")
    with _client(demo_db) as c:
        for path in routes:
            for params in (
                {"offset": str(2**63)},
                {"offset": "10000001"},
                {"offset": "-1"},
                {"limit": "0"},
                {"limit": "100001"},
                {"limit": str(2**63)},
            ):
                r = c.get(path, params=params, headers=analyst)
                _is_problem(r, 400)
                assert "offset" in r.json()["detail"] or "limit" in r.json()["detail"]
            # The largest allowed offset is an empty page, not an error.
            last = c.get(path, params={"offset": "10000000", "limit": "5"}, headers=analyst)
            assert last.status_code == 200, last.text[:300]
            assert last.json()["features"] == []
        # OGC: a limit above the server's maximum is lowered, not refused (OGC 17-069r4 7.15.3).
        big = c.get("/ogc/collections/wijken/items", params={"limit": "50000"})
        assert big.status_code == 200
        assert big.json()["numberReturned"] <= c.app.state.settings.max_features  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- HEAD


def test_head_is_answered_wherever_get_is(demo_db: DemoDB) -> None:
    """Old code: HEAD /kaart (and every API/OGC route) was 405; only /static answered it."""
    analyst = {"X-API-Key": demo_db.analyst}
    sample: list[tuple[str, dict[str, str]]] = [
        ("/kaart", {}),
        ("/overzicht?municipality=GM0518", {}),
        ("/licence", {}),
        ("/api/v1/areas?level=wijk", {}),
        ("/api/v1/hotspots?category=woninginbraak&municipality=GM0518&res=9", {}),
        ("/api/v1/incidents?limit=3", analyst),
        ("/api/v1/incidents?limit=3", {}),  # 401 for anonymous callers, as GET
        ("/api/v1/incidents?offset=-1", analyst),  # 400, as GET
        ("/ogc", {}),
        ("/ogc/collections", {}),
        ("/ogc/collections/wijken/items?limit=2", {}),
        ("/ogc/collections/nope", {}),  # 404, as GET
        ("/static/css/pages.css", {}),
    ]
    with _client(demo_db) as c:
        for url, headers in sample:
            get = c.get(url, headers=headers)
            head = c.head(url, headers=headers)
            assert head.status_code == get.status_code != 405, (url, head.status_code)
            assert head.content == b"", url
            for name in ("content-type", "content-length", "etag", "cache-control"):
                assert head.headers.get(name) == get.headers.get(name), (url, name)
        # A route without GET still refuses HEAD.
        app = c.app

        def post_only() -> dict[str, str]:
            return {}

        app.add_api_route("/api/v1/post-only", post_only, methods=["POST"])  # type: ignore[attr-defined]
        assert c.post("/api/v1/post-only").status_code == 200
        refused = c.head("/api/v1/post-only")
        assert refused.status_code == 405
        assert refused.headers["allow"] == "POST"
        assert refused.content == b""
