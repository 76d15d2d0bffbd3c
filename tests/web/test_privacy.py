"""Viewers never see a count below k or an incident point; restricted endpoints refuse.

Every endpoint a viewer can reach is checked: the API, OGC API items, and the HTML
pages (popups, trend chart, yearly table).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from geo_service.web import create_app
from tests.web_fixtures import DemoDB, client, demo_db, web_settings

__all__ = ["client", "demo_db"]

K = 5  # Settings.min_count_k default
NOISE = 2  # Settings.viewer_noise default
HOT = {"category": "woninginbraak", "municipality": "GM0518", "res": 10}
SECRET_PROPS = {"gi_z", "gi_p", "gi_p_sim", "gi_p_fdr"}


def _counts_safe(features: list[dict[str, Any]], k: int) -> int:
    """Assert every count is >= k or null with suppressed: true; return how many were hidden.

    The column stays numeric (issue 7.6): never the string "<k", which GDAL/QGIS read as text.
    """
    hidden = 0
    for feat in features:
        count = feat["properties"]["count"]
        assert not isinstance(count, str)
        if count is None:
            assert feat["properties"]["suppressed"] is True
            assert feat["properties"]["min_count"] == k
            hidden += 1
        else:
            assert count >= k
            assert feat["properties"]["suppressed"] is False
        assert not SECRET_PROPS & feat["properties"].keys()
    return hidden


def _viewer_headers(demo_db: DemoDB) -> list[dict[str, str]]:
    return [{}, {"X-API-Key": demo_db.viewer}]


def test_hotspots_viewer_suppressed_analyst_exact(client: TestClient, demo_db: DemoDB) -> None:
    for headers in _viewer_headers(demo_db):
        data = client.get("/api/v1/hotspots", params=HOT, headers=headers).json()
        # the analyst's exact layer of the very period the viewer was answered for
        window = data["metadata"]["data_window"]
        period = {"start": window["requested_start"], "end": window["requested_end"]}
        exact = client.get(
            "/api/v1/hotspots", params={**HOT, **period}, headers={"X-API-Key": demo_db.analyst}
        ).json()
        true = {f["properties"]["h3"]: f["properties"]["count"] for f in exact["features"]}
        assert sum(1 for n in true.values() if 0 < n < K) > 0  # the test can fail: small cells
        assert len(data["features"]) == len(exact["features"])
        hidden = _counts_safe(data["features"], K)
        assert hidden > 0
        for f in data["features"]:
            n, shown = true[f["properties"]["h3"]], f["properties"]["count"]
            if shown is None:  # withheld: the perturbed value fell below k
                assert n <= K - 1 + NOISE
            else:  # the cell key method: within D of the truth, never below k
                assert abs(shown - n) <= NOISE
        # totals would give the sum of the suppressed cells
        assert "n_incidents" not in data["metadata"]
        assert data["metadata"]["min_count_k"] == K
        assert data["metadata"]["privacy"]["method"].startswith("cell key")
        hot = {f["properties"]["gi_class_fdr"] for f in data["features"]}
        assert 3 in hot and hot <= {f["properties"]["gi_class_fdr"] for f in exact["features"]}


def test_kde_viewer_only_cells_with_k(client: TestClient, demo_db: DemoDB) -> None:
    params = {**HOT, "method": "kde"}
    exact = client.get(
        "/api/v1/hotspots", params=params, headers={"X-API-Key": demo_db.admin}
    ).json()
    for headers in _viewer_headers(demo_db):
        data = client.get("/api/v1/hotspots", params=params, headers=headers).json()
        assert 0 < len(data["features"]) < len(exact["features"])
        assert _counts_safe(data["features"], K) == 0


def test_ogc_items_viewer_suppressed(client: TestClient, demo_db: DemoDB) -> None:
    for layer in ("hotspots-gistar-woninginbraak", "hotspots-kde-jeugdoverlast"):
        page = client.get(
            f"/ogc/collections/{layer}/items", params={"municipality": "GM0518", "limit": 10000}
        ).json()
        assert page["numberReturned"] > 0
        _counts_safe(page["features"], K)
    assert client.get("/ogc/collections/incidents").status_code == 404
    assert client.get("/ogc/collections/incidents/items").status_code == 404
    listed = {c["id"] for c in client.get("/ogc/collections").json()["collections"]}
    assert "incidents" not in listed
    analyst = client.get("/ogc/collections", headers={"X-API-Key": demo_db.analyst}).json()
    assert "incidents" in {c["id"] for c in analyst["collections"]}


def test_k_is_configurable(demo_db: DemoDB) -> None:
    with TestClient(create_app(web_settings(demo_db.path, min_count_k=20))) as c:
        data = c.get("/api/v1/hotspots", params={**HOT, "res": 9}).json()
        assert _counts_safe(data["features"], 20) > 0


@pytest.mark.parametrize(
    ("url", "params"),
    [("/api/v1/incidents", {}), ("/ogc/collections/incidents/items", {})],
)
def test_points_refused(
    client: TestClient, demo_db: DemoDB, url: str, params: dict[str, str]
) -> None:
    assert client.get(url, params=params).status_code in (401, 404)
    assert client.get(url, headers={"X-API-Key": demo_db.viewer}).status_code in (403, 404)
    assert client.get(url, headers={"X-API-Key": "gs_wrong"}).status_code == 401
    assert client.get(url, headers={"X-API-Key": demo_db.revoked}).status_code == 401
    assert client.get(url, headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get(url, headers={"X-API-Key": demo_db.analyst}).status_code == 200


def test_incidents_api_statuses(client: TestClient, demo_db: DemoDB) -> None:
    assert client.get("/api/v1/incidents").status_code == 401
    resp = client.get("/api/v1/incidents", headers={"X-API-Key": demo_db.viewer})
    assert resp.status_code == 403
    assert resp.headers["content-type"] == "application/problem+json"
    files = {"file": ("x.csv", b"incident_id,occurred_from,lon,lat\n", "text/csv")}
    for key in (None, demo_db.viewer, demo_db.analyst, "gs_wrong"):
        headers = {"X-API-Key": key} if key else {}
        status = client.post("/api/v1/incidents", files=files, headers=headers).status_code
        assert status == (401 if key in (None, "gs_wrong") else 403)


def test_anonymous_can_be_switched_off(demo_db: DemoDB) -> None:
    with TestClient(create_app(web_settings(demo_db.path, anonymous_role=None))) as c:
        resp = c.get("/api/v1/areas")
        assert resp.status_code == 401
        assert "WWW-Authenticate" in resp.headers
        assert c.get("/api/v1/areas", headers={"X-API-Key": demo_db.viewer}).status_code == 200


NUMBER_IN_POPUP = re.compile(r"Aantal incidenten in deze zeshoek: (?:<b>)?([^<\"\\]+)")


def test_pages_show_no_small_counts(client: TestClient, demo_db: DemoDB) -> None:
    html = client.get("/kaart/kaartlaag", params=HOT).text
    shown = NUMBER_IN_POPUP.findall(html)
    assert shown
    assert all(v == "&lt;5" or int(v) >= K for v in shown), sorted(set(shown))[:10]
    assert "gi_z" not in html
    page = client.get(
        "/kaart", params={**HOT, "municipality": "GM1783", "category": "jeugdoverlast"}
    ).text
    bars = [int(v) for v in re.findall(r"<title>[a-z]+ \d{4}: (\d+)</title>", page)]
    assert bars and min(bars) >= K
    overzicht = client.get("/overzicht", params={"municipality": "GM1783"}).text
    table = overzicht.split('id="per-jaar"')[1].split("</table>")[0]
    cells = re.findall(r"<td>([^<]+)</td>", table)
    assert cells
    assert all(c == "&lt;5" or int(c) >= K for c in cells)
    # the analyst sees exact small numbers in the same popups
    exact = client.get("/kaart/kaartlaag", params=HOT, headers={"X-API-Key": demo_db.analyst}).text
    assert any(v.isdigit() and int(v) < K for v in NUMBER_IN_POPUP.findall(exact))
