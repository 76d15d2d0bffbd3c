"""The API upload takes the CLI's mappings (columns, category_map, only_mapped, tz), and the
first admin key can be made while the service runs (the one-time bootstrap secret)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from geo_service.store import Store
from geo_service.web import create_app
from tests.web_fixtures import DemoDB, demo_copy, demo_db, web_settings

__all__ = ["demo_copy", "demo_db"]

# A police export: its own headers, Dutch dates, RD New (EPSG:28992) coordinates. The first
# row is the RD origin, the Onze Lieve Vrouwetoren in Amersfoort: x=155000, y=463000 is
# 52.15517 N, 5.38721 E in ETRS89 (Kadaster's RD definition; tests/spatial/grid/test_crs.py).
POLICE_CSV = (
    "Registratienummer,Pleegdatum,X-coordinaat,Y-coordinaat,Soort\n"
    "PL0900-2025-000101,03-02-2025 14:30,155000,463000,Inbraak woning\n"
    "PL0900-2025-000102,04-02-2025 09:15,155210,463180,Inbraak woning\n"
    "PL0900-2025-000103,05-02-2025 22:05,154870,462760,Inbraak schuur\n"
    "PL0900-2025-000104,06-02-2025 03:40,155400,463350,Inbraak woning\n"
    "PL0900-2025-000105,07-02-2025 18:00,154700,463020,Fietsdiefstal\n"
)
POLICE_COLUMNS = (
    "incident_id=Registratienummer,occurred_from=Pleegdatum,x=X-coordinaat,y=Y-coordinaat"
)
AMERSFOORT_WGS84 = (5.38721, 52.15517)


def _upload(c: TestClient, key: str, csv: str = POLICE_CSV, **data: str) -> dict:
    files = {"file": ("politie-export.csv", csv.encode(), "text/csv")}
    resp = c.post("/api/v1/incidents", files=files, data=data, headers={"X-API-Key": key})
    return {"status": resp.status_code, "body": resp.json()}


def test_police_export_with_columns_stores_every_row(demo_copy: DemoDB) -> None:
    with TestClient(create_app(web_settings(demo_copy.path))) as c:
        out = _upload(c, demo_copy.admin, columns=POLICE_COLUMNS, category="woninginbraak")
    assert out["status"] == 200, out
    report = out["body"]
    assert report["rows_in"] == 5
    assert report["stored"] == 5
    assert report["quarantined"] == report["skipped"] == report["duplicates"] == 0
    with Store.open(demo_copy.path) as store:
        rows = store.con.execute(
            "SELECT incident_id, lon, lat, occurred_from FROM incidents "
            "WHERE incident_id LIKE 'PL0900-2025-%' ORDER BY incident_id"
        ).fetchall()
    assert [r[0] for r in rows] == [f"PL0900-2025-00010{i}" for i in range(1, 6)]
    lon, lat = rows[0][1], rows[0][2]
    assert lon == pytest.approx(AMERSFOORT_WGS84[0], abs=1e-4)
    assert lat == pytest.approx(AMERSFOORT_WGS84[1], abs=1e-4)
    assert str(rows[0][3]).startswith("2025-02-03 14:30")  # dd-mm-yyyy read day first


def test_police_export_without_columns_is_a_dutch_422(demo_copy: DemoDB) -> None:
    with TestClient(create_app(web_settings(demo_copy.path))) as c:
        out = _upload(c, demo_copy.admin, category="woninginbraak")
        bad_pair = _upload(c, demo_copy.admin, columns="incident_id")
        missing = _upload(c, demo_copy.admin, columns=POLICE_COLUMNS.replace("Pleeg", "Meld"))
        unknown_target = _upload(c, demo_copy.admin, columns="plaats=Soort," + POLICE_COLUMNS)
    assert out["status"] == 422
    detail = out["body"]["detail"]
    assert "geen coördinaatkolommen" in detail and "koppel" in detail
    assert "X-coordinaat" in detail  # says what the file has
    assert bad_pair["status"] == 422 and "verwacht naam=waarde" in bad_pair["body"]["detail"]
    assert missing["status"] == 422
    assert "kolom 'Melddatum' (voor occurred_from) niet gevonden" in missing["body"]["detail"]
    assert unknown_target["status"] == 422
    assert "onbekende doelkolom" in unknown_target["body"]["detail"]


def test_mappings_are_checked_after_the_role(demo_copy: DemoDB) -> None:
    with TestClient(create_app(web_settings(demo_copy.path))) as c:
        assert _upload(c, demo_copy.analyst, columns="incident_id")["status"] == 403


def test_category_map_and_only_mapped(demo_copy: DemoDB) -> None:
    columns = POLICE_COLUMNS + ",category=Soort"
    cmap = "Inbraak woning=woninginbraak,Fietsdiefstal=fietsdiefstal"
    with TestClient(create_app(web_settings(demo_copy.path))) as c:
        out = _upload(c, demo_copy.admin, columns=columns, category_map=cmap, only_mapped="true")
    assert out["status"] == 200, out
    report = out["body"]
    # 3 burglaries and 1 bicycle theft mapped; the shed burglary is not in the map: skipped
    assert (report["rows_in"], report["stored"], report["skipped"]) == (5, 4, 1)
    with Store.open(demo_copy.path) as store:
        cats = store.con.execute(
            "SELECT category, count(*) FROM incidents WHERE incident_id LIKE 'PL0900-2025-%' "
            "GROUP BY category ORDER BY category"
        ).fetchall()
    assert cats == [("fietsdiefstal", 1), ("woninginbraak", 3)]


def test_tz_is_applied(demo_copy: DemoDB) -> None:
    with TestClient(create_app(web_settings(demo_copy.path))) as c:
        out = _upload(
            c, demo_copy.admin, columns=POLICE_COLUMNS, category="woninginbraak", tz="Europe/London"
        )
    assert out["status"] == 200, out
    assert out["body"]["timezone"] == "Europe/London"


def test_openapi_documents_the_mappings(demo_db: DemoDB) -> None:
    with TestClient(create_app(web_settings(demo_db.path))) as c:
        spec = c.get("/openapi.json").json()
    body = spec["paths"]["/api/v1/incidents"]["post"]["requestBody"]["content"]
    ref = body["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    props = spec["components"]["schemas"][ref]["properties"]
    for name in ("columns", "category_map", "only_mapped", "tz"):
        assert name in props and props[name].get("description"), name
    assert "Registratienummer" in props["columns"]["description"]
    assert "/api/v1/keys/bootstrap" in spec["paths"]


# -- the first admin key ---------------------------------------------------------------------

BOOT = "eenmalig-opstartgeheim-voor-de-test"


def test_bootstrap_makes_one_admin_key_once(tmp_path: Path) -> None:
    settings = web_settings(tmp_path / "leeg.duckdb", bootstrap_secret=BOOT)
    with TestClient(create_app(settings)) as c:
        assert c.post("/api/v1/keys/bootstrap").status_code == 401
        wrong = c.post("/api/v1/keys/bootstrap", headers={"X-Bootstrap-Secret": BOOT + "x"})
        assert wrong.status_code == 401 and "opstartgeheim" in wrong.json()["detail"]
        ok = c.post("/api/v1/keys/bootstrap", headers={"X-Bootstrap-Secret": BOOT})
        assert ok.status_code == 201, ok.text
        key = ok.json()
        assert key["role"] == "admin" and key["secret"].startswith("gs_")
        again = c.post("/api/v1/keys/bootstrap", headers={"X-Bootstrap-Secret": BOOT})
        assert again.status_code == 403 and "al gebruikt" in again.json()["detail"]
        # the new key is an admin key: it may ingest (an analyst gets 403 there)
        out = _upload(c, key["secret"], columns=POLICE_COLUMNS, category="woninginbraak")
        assert out["status"] == 200 and out["body"]["stored"] == 5
    with Store.open(tmp_path / "leeg.duckdb") as store:
        assert store.lookup_key(key["secret"]) == (key["key_id"], "admin")
        actions = list(store.list_audit(limit=50)["action"])
    assert "key.create" in actions and actions.count("key.bootstrap_refused") == 3


def test_bootstrap_refused_without_setting_or_with_an_admin_key(demo_copy: DemoDB) -> None:
    with TestClient(create_app(web_settings(demo_copy.path))) as c:
        off = c.post("/api/v1/keys/bootstrap", headers={"X-Bootstrap-Secret": BOOT})
        assert off.status_code == 401
    with TestClient(create_app(web_settings(demo_copy.path, bootstrap_secret=BOOT))) as c:
        # the demo store has admin keys: the bootstrap is for a store without one
        assert (
            c.post("/api/v1/keys/bootstrap", headers={"X-Bootstrap-Secret": BOOT}).status_code
            == 403
        )


def test_upload_of_meldingen_is_kept_apart(demo_copy: DemoDB) -> None:
    # The municipality's own registration of residents' reports: kind=melding (issue 23).
    meldingen = POLICE_CSV.replace("PL0900", "ML0900")
    with TestClient(create_app(web_settings(demo_copy.path))) as c:
        ok = _upload(
            c,
            demo_copy.admin,
            meldingen,
            columns=POLICE_COLUMNS,
            category="overlast_melding",
            kind="melding",
        )
        # The same file as police registrations of a melding category is refused, whole.
        clash = _upload(
            c,
            demo_copy.admin,
            meldingen.replace("ML0900", "XL0900"),
            columns=POLICE_COLUMNS,
            category="overlast_melding",
            kind="politie",
        )
        bad = _upload(c, demo_copy.admin, columns=POLICE_COLUMNS, kind="klacht")
    assert ok["status"] == 200 and ok["body"]["stored"] == 5
    assert clash["status"] == 422 and "al opgeslagen als meldingen" in clash["body"]["detail"]
    assert bad["status"] == 422
    with Store.open(demo_copy.path) as store:
        assert store.category_kinds()["overlast_melding"] == "melding"
        assert (
            store.count_incidents()
            == store.con.execute(
                "SELECT count(*) FROM incidents WHERE incident_id NOT LIKE 'XL0900%'"
            ).fetchone()[0]
        )
