"""``/metrics`` (Prometheus text format), the request id and the per-request log line.

The expected counts are the requests each test makes itself, counted by hand; the
exposition is parsed with prometheus_client's own parser (an independent reader of the
text format), not with string matching.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from geo_service.store import Store
from geo_service.web import create_app
from geo_service.web.metrics import accept_request_id
from tests.web_fixtures import web_settings

LOOPBACK = ("127.0.0.1", 50000)
DURATION = "geo_service_http_request_duration_seconds"

# Five rows in RD New; the last has no X coordinate, so the ingest quarantines it.
CSV = (
    "Registratienummer,Pleegdatum,X-coordinaat,Y-coordinaat\n"
    "PL0900-2025-000101,03-02-2025 14:30,155000,463000\n"
    "PL0900-2025-000102,04-02-2025 09:15,155210,463180\n"
    "PL0900-2025-000103,05-02-2025 22:05,154870,462760\n"
    "PL0900-2025-000104,06-02-2025 03:40,155400,463350\n"
    "PL0900-2025-000105,07-02-2025 18:00,,463020\n"
)
COLUMNS = "incident_id=Registratienummer,occurred_from=Pleegdatum,x=X-coordinaat,y=Y-coordinaat"


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def access_lines() -> Iterator[list[str]]:
    """The lines the access logger writes during the test."""
    handler = _Lines()
    logger = logging.getLogger("geo_service.access")
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def empty_db(tmp_path: Path) -> tuple[Path, str]:
    """An empty store with one admin key (its secret)."""
    path = tmp_path / "leeg.duckdb"
    with Store.open(path) as store:
        _, admin = store.create_key("admin", "test admin")
    return path, admin


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def _count(samples: dict, route: str, status_class: str, method: str = "GET") -> float:
    key = frozenset({"route": route, "method": method, "status_class": status_class}.items())
    return samples.get((f"{DURATION}_count", key), 0.0)


def _scrape(app: FastAPI) -> dict:
    with TestClient(app, client=LOOPBACK) as c:
        resp = c.get("/metrics")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/plain; version=")
    return _samples(resp.text)


def test_counts_match_the_requests_made_by_route_template(empty_db: tuple[Path, str]) -> None:
    app = create_app(web_settings(empty_db[0]))
    with TestClient(app) as c:
        for _ in range(3):
            assert c.get("/health").status_code == 200
        # Two different collection ids: one series (the template), not two.
        assert c.get("/ogc/collections/bestaat-niet/items").status_code == 404
        assert c.get("/ogc/collections/ook-niet/items").status_code == 404
        assert c.get("/geen/route/42").status_code == 404
    s = _scrape(app)
    assert _count(s, "/health", "2xx") == 3
    assert _count(s, "/ogc/collections/{collection_id}/items", "4xx") == 2
    assert _count(s, "<unmatched>", "4xx") == 1
    routes = {dict(labels)["route"] for name, labels in s if name == f"{DURATION}_count"}
    assert not any("bestaat-niet" in r or "42" in r for r in routes)
    # The +Inf bucket of a histogram holds every observation.
    inf = frozenset(
        {"route": "/health", "method": "GET", "status_class": "2xx", "le": "+Inf"}.items()
    )
    assert s[(f"{DURATION}_bucket", inf)] == 3


def test_cache_lookups_and_ingest_rows_are_counted(empty_db: tuple[Path, str]) -> None:
    path, admin = empty_db
    app = create_app(web_settings(path))
    with TestClient(app) as c:
        files = {"file": ("export.csv", CSV.encode(), "text/csv")}
        resp = c.post(
            "/api/v1/incidents",
            files=files,
            data={"columns": COLUMNS, "category": "woninginbraak"},
            headers={"X-API-Key": admin},
        )
        assert resp.status_code == 200, resp.text
        report = resp.json()
        # The same request twice: the response cache misses, then hits; the collection
        # cache is asked only on the miss.
        assert c.get("/api/v1/cameras").status_code == 200
        assert c.get("/api/v1/cameras").status_code == 200
    assert report["stored"] == 4 and report["quarantined"] == 1  # the row without X
    s = _scrape(app)

    def lookups(cache: str, result: str) -> float:
        key = frozenset({"cache": cache, "result": result}.items())
        return s[("geo_service_cache_lookups_total", key)]

    assert (lookups("response", "miss"), lookups("response", "hit")) == (1, 1)
    assert (lookups("collection", "miss"), lookups("collection", "hit")) == (1, 0)
    stored = s[("geo_service_ingest_rows_total", frozenset({("outcome", "stored")}))]
    quarantined = s[("geo_service_ingest_rows_total", frozenset({("outcome", "quarantined")}))]
    assert (stored, quarantined) == (4, 1)
    with Store.open(path) as store:
        version = float(store.data_version())
    assert version >= 1  # the upload committed
    assert s[("geo_service_data_version", frozenset())] == version


def test_metrics_are_refused_off_loopback_and_for_non_admins(
    empty_db: tuple[Path, str],
) -> None:
    path, admin = empty_db
    with TestClient(create_app(web_settings(path))) as c:  # client host "testclient"
        refused = c.get("/metrics")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert "geo_service_" not in refused.text
    with TestClient(create_app(web_settings(path, metrics_access="admin")), client=LOOPBACK) as c:
        anonymous = c.get("/metrics")
        with_admin = c.get("/metrics", headers={"X-API-Key": admin})
    assert anonymous.status_code == 401  # loopback alone is not enough in admin mode
    assert with_admin.status_code == 200 and DURATION in with_admin.text


def test_request_id_round_trips_and_is_logged(
    empty_db: tuple[Path, str], access_lines: list[str]
) -> None:
    with TestClient(create_app(web_settings(empty_db[0]))) as c:
        given = c.get("/health", headers={"X-Request-ID": "mijn-verzoek-0001"})
        junk = c.get("/health", headers={"X-Request-ID": "geen id\twant spaties"})
        problem = c.get(
            "/ogc/collections/bestaat-niet/items?bbox=1,2,3,4",
            headers={"X-Request-ID": "mijn-verzoek-0002", "X-API-Key": "geheim-sleutel"},
        )
    assert given.headers["x-request-id"] == "mijn-verzoek-0001"
    made = junk.headers["x-request-id"]
    assert made != "geen id\twant spaties" and accept_request_id(made) == made
    assert problem.status_code in (401, 404)
    assert problem.headers["x-request-id"] == "mijn-verzoek-0002"
    assert problem.json()["request_id"] == "mijn-verzoek-0002"
    records = [json.loads(line) for line in access_lines]
    assert [r["request_id"] for r in records] == [
        "mijn-verzoek-0001",
        made,
        "mijn-verzoek-0002",
    ]
    first = records[0]
    assert set(first) == {"time", "request_id", "method", "route", "status", "duration_ms", "role"}
    assert (first["method"], first["route"], first["status"]) == ("GET", "/health", 200)
    assert first["duration_ms"] >= 0
    # Neither the key nor the query values nor the raw path reach the log.
    assert records[2]["route"] == "/ogc/collections/{collection_id}/items"
    for line in access_lines:
        assert "geheim" not in line and "bbox" not in line and "bestaat-niet" not in line


def test_role_is_logged(empty_db: tuple[Path, str], access_lines: list[str]) -> None:
    path, admin = empty_db
    with TestClient(create_app(web_settings(path))) as c:
        c.get("/api/v1/cameras")
        c.get("/api/v1/cameras", headers={"X-API-Key": admin})
    roles = [json.loads(line)["role"] for line in access_lines]
    assert roles == ["viewer", "admin"]


def test_a_500_logs_the_id_and_no_traceback_reaches_the_client(
    empty_db: tuple[Path, str], access_lines: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(web_settings(empty_db[0]))

    def boom() -> None:
        raise RuntimeError("geheime interne toestand /var/lib/geo")

    app.add_api_route("/api/v1/kapot", boom)
    with caplog.at_level(logging.ERROR), TestClient(app, raise_server_exceptions=False) as c:
        resp = c.get("/api/v1/kapot", headers={"X-Request-ID": "fout-verzoek-0001"})
    assert resp.status_code == 500
    assert resp.headers["x-request-id"] == "fout-verzoek-0001"
    body = resp.json()
    assert body["request_id"] == "fout-verzoek-0001"
    assert "Traceback" not in resp.text and "geheime" not in resp.text
    assert "RuntimeError" not in resp.text
    line = json.loads(access_lines[-1])
    assert (line["request_id"], line["status"], line["route"]) == (
        "fout-verzoek-0001",
        500,
        "/api/v1/kapot",
    )
    # The server's error log carries the traceback and the same id.
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]
    assert any("fout-verzoek-0001" in r.getMessage() for r in errors)


def test_text_log_format(empty_db: tuple[Path, str], access_lines: list[str]) -> None:
    with TestClient(create_app(web_settings(empty_db[0], log_format="text"))) as c:
        c.get("/health", headers={"X-Request-ID": "tekst-verzoek-01"})
    (line,) = access_lines
    assert " GET /health 200 " in line and "request_id=tekst-verzoek-01" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_worker_healthcheck_below_one_second_is_a_dutch_error(tmp_path: Path) -> None:
    db = str(tmp_path / "x.duckdb")
    args = ["serve", "--db", db, "--workers", "2", "--worker-healthcheck-s", "0"]
    out = subprocess.run(
        [sys.executable, "-m", "geo_service", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    assert "--worker-healthcheck-s moet minstens 1 zijn" in out.stderr
