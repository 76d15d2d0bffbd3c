"""`/health` (the process) and `/ready` (the store) for load balancers and orchestrators."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from geo_service.web import create_app
from tests.web_fixtures import web_settings


def test_health_and_ready_and_not_ready_when_the_store_is_gone(tmp_path: Path) -> None:
    with TestClient(create_app(web_settings(tmp_path / "h.duckdb"))) as c:
        assert c.get("/health").json() == {"status": "ok"}
        ready = c.get("/ready")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "data_version": "0", "store": "sqlite"}
        c.app.state.store.con.close()  # type: ignore[attr-defined]
        gone = c.get("/ready")
        assert gone.status_code == 503
        assert gone.json()["status"] == "niet gereed"
        assert "opslag niet bereikbaar" in gone.json()["detail"]
        assert c.get("/health").status_code == 200  # the process is still up
