"""Hardening against bad input and abuse (issue 8): each test failed on the code before."""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from geo_service.web import create_app
from tests.web_fixtures import DemoDB, demo_copy, demo_db, web_settings

__all__ = ["demo_copy", "demo_db"]

HOT = {"category": "woninginbraak", "municipality": "GM0518", "res": 9}


def _client(db: DemoDB, **overrides: object) -> TestClient:
    return TestClient(create_app(web_settings(db.path, permutations=0, **overrides)))


def test_upload_is_refused_before_its_body_is_read(demo_copy: DemoDB) -> None:
    """Old code: an anonymous 1 GB POST was spooled to the temp directory, then 401."""
    read = {"bytes": 0}

    def body():  # a generator: the client streams it, chunk by chunk
        for _ in range(2000):  # would be 2 GB
            read["bytes"] += 1 << 20
            yield b"x" * (1 << 20)

    with _client(demo_copy) as c:
        t0 = time.perf_counter()
        r = c.post(
            "/api/v1/incidents",
            content=body(),
            headers={"Content-Type": "multipart/form-data; boundary=abc"},
        )
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")
        assert read["bytes"] <= 8 << 20  # a few chunks at most, never the whole body
        assert time.perf_counter() - t0 < 5
        viewer = c.post("/api/v1/incidents", content=b"x", headers={"X-API-Key": demo_copy.viewer})
        assert viewer.status_code == 403


def test_upload_size_limits(demo_copy: DemoDB) -> None:
    admin = {"X-API-Key": demo_copy.admin}
    with _client(demo_copy, max_upload_bytes=100_000) as c:
        declared = c.post(
            "/api/v1/incidents",
            content=b"x" * 10,
            headers={**admin, "Content-Length": str(10**9)},
        )
        assert declared.status_code == 413

        def big():
            yield (
                b'--abc\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
                b"Content-Type: text/csv\r\n\r\n"
            )
            for _ in range(50):
                yield b"y" * 10_000

        streamed = c.post(
            "/api/v1/incidents",
            content=big(),
            headers={**admin, "Content-Type": "multipart/form-data; boundary=abc"},
        )
        assert streamed.status_code == 413


def test_concurrent_upload_gets_409_with_retry_after(demo_copy: DemoDB) -> None:
    """Old code: the second of two concurrent admin uploads got an opaque 500."""
    with _client(demo_copy) as c:
        lock = c.app.state.write_lock  # type: ignore[attr-defined]
        assert lock.acquire(blocking=False)
        try:
            r = c.post(
                "/api/v1/incidents",
                files={"file": ("a.csv", io.BytesIO(b"occurred_from,lon,lat\n"), "text/csv")},
                headers={"X-API-Key": demo_copy.admin},
            )
        finally:
            lock.release()
        assert r.status_code == 409
        assert r.headers["retry-after"] == "5"


def test_upload_errors_name_no_server_path(demo_copy: DemoDB) -> None:
    """Old code: errors quoted the temporary path (…/geo-upload-…/upload.gpkg) and internals."""
    with _client(demo_copy) as c:
        r = c.post(
            "/api/v1/incidents",
            files={"file": ("wijk.gpkg", io.BytesIO(b"not a geopackage at all"), "x/y")},
            headers={"X-API-Key": demo_copy.admin},
        )
    assert r.status_code == 422
    detail = r.json()["detail"]
    tmp = tempfile.gettempdir()
    assert "geo-upload" not in detail and tmp not in detail and "upload.gpkg" not in detail


def test_unknown_parameters_are_400_and_do_not_grow_the_cache(demo_db: DemoDB) -> None:
    """Old code: `&junk=i` was part of the cache key: 30 requests added 477 MB."""
    with _client(demo_db) as c:
        ok = c.get("/api/v1/hotspots", params=HOT)
        assert ok.status_code == 200
        cache = c.app.state.cache  # type: ignore[attr-defined]
        before = len(cache)
        for i in range(5):
            r = c.get("/api/v1/hotspots", params={**HOT, "junk": str(i)})
            assert r.status_code == 400
            assert "junk" in r.json()["detail"]
        assert len(cache) == before
        assert c.get("/ogc/collections/wijken/items", params={"frobnicate": 1}).status_code == 400


def test_response_cache_is_bounded_in_bytes() -> None:
    from geo_service.web.cache import ResponseCache

    cache = ResponseCache(max_entries=1000, max_bytes=10_000)
    for i in range(100):
        cache.put(("k", i), b"z" * 900, "application/json")
    assert cache.size_bytes <= 10_000 and len(cache) == 11
    cache.put("huge", b"z" * 5_000, "application/json")  # > a quarter: served, not kept
    assert cache.get("huge") is None


def test_host_header_cannot_poison_links(demo_db: DemoDB) -> None:
    """Old code: one request with Host: evil.example:666 made the next client's OGC links
    point there (GDAL/QGIS follow `next` and send their key)."""
    with _client(demo_db) as c:
        evil = c.get("/ogc/collections/wijken/items", headers={"Host": "evil.example:666"})
        assert evil.status_code == 400
        normal = c.get("/ogc/collections/wijken/items", params={"limit": 2}).json()
        assert all("evil" not in link["href"] for link in normal["links"])
    with _client(demo_db, public_url="https://hotspots.gemeente.example") as c:
        doc = c.get(
            "/ogc/collections/wijken/items",
            params={"limit": 2},
            headers={"Host": "evil.example:666"},
        ).json()
        assert {link["href"].split("/ogc")[0] for link in doc["links"]} == {
            "https://hotspots.gemeente.example"
        }


def test_far_dates_are_400_everywhere(demo_db: DemoDB) -> None:
    """Old code: end=9999-12-31 overflowed (500) and dropped the keep-alive connection."""
    with _client(demo_db) as c:
        for path, params in (
            ("/api/v1/hotspots", {**HOT, "end": "9999-12-31"}),
            ("/api/v1/hotspots", {**HOT, "start": "0001-01-01"}),
            (
                "/ogc/collections/hotspots-gistar-woninginbraak/items",
                {"datetime": "2024-01-01/9999-12-31"},
            ),
            ("/kaart", {"end": "9999-12-31"}),
        ):
            r = c.get(path, params=params)
            assert r.status_code == 400, (path, r.status_code, r.text[:200])


def test_restricted_collections_are_not_named_to_viewers(demo_db: DemoDB) -> None:
    with _client(demo_db) as c:
        nope = c.get("/ogc/collections/nope")
        restricted = c.get("/ogc/collections/incidents/items")
        assert nope.status_code == restricted.status_code == 404
        # Indistinguishable from a collection that does not exist; no list of layers.
        assert nope.json()["detail"].replace("nope", "X") == restricted.json()["detail"].replace(
            "incidents", "X"
        )
        assert "hotspots" not in nope.json()["detail"]


def test_wal_and_paths_never_in_500(demo_db: DemoDB, tmp_path: Path) -> None:
    """An unexpected error answers a generic Dutch/English text, never a path or SQL."""
    with _client(demo_db) as c:
        r = c.get("/api/v1/hotspots", params={**HOT, "category": "x" * 100})
        assert r.status_code in (200, 404)
        assert str(tmp_path) not in r.text and "SELECT" not in r.text


def test_standard_layers_are_precomputed(demo_db: DemoDB) -> None:
    from geo_service.web.service import warm_up

    with _client(demo_db) as c:
        app = c.app
        warm_up(app)
        cached = len(app.state.collections._items)  # type: ignore[attr-defined]
        # 2 municipalities x 2 categories x (Gi*, KDE)
        assert cached == 8
        t0 = time.perf_counter()
        r = c.get(
            "/api/v1/hotspots", params={"category": "woninginbraak", "municipality": "GM0518"}
        )
        assert r.status_code == 200 and time.perf_counter() - t0 < 5
