"""Property-based API test: schemathesis drives every operation of the OpenAPI spec.

Bounded (few examples per operation, no shrinking beyond defaults) to keep the suite fast.
The check is that nothing returns a server error and responses conform to the schema's
declared status codes; error bodies must be problem+json.
"""

from __future__ import annotations

from pathlib import Path

import hypothesis
import pytest
import schemathesis

from geo_service.config import Settings
from geo_service.web import create_app
from tests.web_fixtures import LiveServer, demo_db, live_server

__all__ = ["demo_db", "live_server"]


# The spec does not need a database: create_app opens the store only when it starts.
schema = schemathesis.openapi.from_dict(create_app(Settings(db=Path("unused.duckdb"))).openapi())


@pytest.mark.slow
@schema.parametrize()
@hypothesis.settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    derandomize=True,
)
def test_no_server_errors(case: schemathesis.Case, live_server: LiveServer) -> None:
    response = case.call(base_url=live_server.url, timeout=30)
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        content_type = response.headers.get("content-type", [""])[0]
        assert content_type.startswith("application/problem+json"), content_type
