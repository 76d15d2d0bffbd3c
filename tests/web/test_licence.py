"""The service tells the public its licence: OpenAPI info.license, OGC landing link, /licence."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import metadata
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from geo_service.web import create_app
from geo_service.web.licence import licence_text
from tests.conftest import PROJECT_ROOT
from tests.web_fixtures import web_settings

LICENSE_TEXT = (PROJECT_ROOT / "LICENSE").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An app on an empty store: the licence does not need the demo data."""
    path: Path = tmp_path_factory.mktemp("licence") / "empty.duckdb"
    with TestClient(create_app(web_settings(path))) as c:
        yield c


def test_openapi_info_carries_the_spdx_licence(app_client: TestClient) -> None:
    info = app_client.get("/openapi.json").json()["info"]
    assert info["license"] == {"name": "EUPL-1.2", "identifier": "EUPL-1.2"}


def test_licence_endpoint_serves_the_license_file_as_text(app_client: TestClient) -> None:
    resp = app_client.get("/licence")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    assert resp.text == LICENSE_TEXT
    assert resp.text.startswith("EUROPEAN UNION PUBLIC LICENCE v. 1.2")


def test_licence_endpoint_needs_no_key(tmp_path: Path) -> None:
    # Even a service that refuses anonymous requests tells the public its licence.
    settings = web_settings(tmp_path / "closed.duckdb", anonymous_role=None)
    with TestClient(create_app(settings)) as c:
        assert c.get("/licence").status_code == 200


def test_ogc_landing_page_links_to_the_licence(app_client: TestClient) -> None:
    links = app_client.get("/ogc").json()["links"]
    licence = [link for link in links if link["rel"] == "license"]
    assert len(licence) == 1
    assert licence[0]["type"] == "text/plain"
    href = licence[0]["href"]
    assert href.startswith("http")  # absolute, like the landing page's other links
    resp = app_client.get(href)
    assert resp.status_code == 200
    assert resp.text == LICENSE_TEXT


def test_installed_distribution_ships_the_licence() -> None:
    # What a wheel install serves: the LICENSE copied into *.dist-info/licenses/ (PEP 639).
    meta = metadata("geo-service")
    assert meta["License-Expression"] == "EUPL-1.2"
    assert set(meta.get_all("License-File") or []) == {"LICENSE", "NOTICE.md"}
    assert licence_text() == LICENSE_TEXT
