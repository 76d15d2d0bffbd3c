"""Render a fixed set of pages and API answers and print a SHA-256 per request.

A check for restructurings that must not change behaviour: run it on two checkouts against
the same database file and compare the lists (``diff``). Requests go through the app in
process (FastAPI's TestClient), as an anonymous viewer and as an analyst.

    .venv/bin/python tools/snapshot_pages.py --db demo.duckdb > after.txt
    cd ../before && PYTHONPATH=. ../main/.venv/bin/python ../main/tools/snapshot_pages.py
        --db ../main/demo.duckdb > ../main/before.txt     (one line)
    diff before.txt after.txt

OGC's ``timeStamp`` (the time of the answer), the solver's ``solve_seconds`` and folium's
random element ids are blanked.
The database must already hold the demo (``geo-service demo --as-of …``); the script makes an
analyst key in a copy of it, so the file itself is not changed.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import tempfile
from pathlib import Path

REQUESTS = (
    "/kaart?municipality=GM0518&category=woninginbraak&res=9",
    "/kaart?municipality=GM0518&category=jeugdoverlast&method=kde&res=10",
    "/kaart?municipality=GM0518&category=jeugdoverlast&method=emerging&res=9",
    "/kaart/kaartlaag?municipality=GM0518&category=woninginbraak&res=9",
    "/kaart/kaartlaag.geojson?municipality=GM0518&category=woninginbraak&res=9",
    "/kaart/trend.csv?municipality=GM0518&category=woninginbraak",
    "/overzicht?municipality=GM0518&res=9",
    "/overzicht?municipality=GM1783&res=9",
    "/overzicht/per-jaar.csv?municipality=GM0518",
    "/vergelijk?municipality=GM0518&category=woninginbraak&res=9",
    "/driehoek?municipality=GM0518",
    "/api/v1/hotspots?municipality=GM0518&category=woninginbraak&res=10",
    "/api/v1/hotspots?municipality=GM0518&category=woninginbraak&res=10&method=kde",
    "/api/v1/priorities?municipality=GM0518",
    "/ogc/collections",
    "/ogc/collections/hotspots-gistar-jeugdoverlast/items?municipality=GM0518&limit=50",
    "/kaart?gemeente=GM0518",
    "/openapi.json",
)
ANALYST_REQUESTS = (
    "/kaart?municipality=GM0518&category=woninginbraak&res=10",
    "/cameras?municipality=GM0518",
    "/waarschuwingszones?municipality=GM0518",
    "/api/v1/priorities?municipality=GM0518",
    "/api/v1/priorities?municipality=GM0518&level=buurt&years=2",
    "/api/v1/iha?municipality=GM0518&count=4",
    "/api/v1/camera-plan?municipality=GM0518&count=6&radius_m=60",
    "/cameras?municipality=GM0518&count=6&radius_m=60&half_life_days=30",
)


def main() -> None:
    """Print one line per request: role, status, size, digest, URL."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--dump", type=Path, help="also write each answer's body into this folder")
    args = ap.parse_args()
    from fastapi.testclient import TestClient

    from geo_service.config import Settings
    from geo_service.store import Store
    from geo_service.store.core import copy_store
    from geo_service.web import create_app

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "snapshot.duckdb"
        copy_store(args.db, db)
        with Store.open(db) as store:
            key = store.create_key("analyst", "snapshot")[1]
        settings = Settings(db=db, tile_url="", permutations=99, warm_up=False)  # type: ignore[call-arg]
        with TestClient(create_app(settings)) as client:
            for who, urls, headers in (
                ("viewer", REQUESTS, {}),
                ("analyst", ANALYST_REQUESTS, {"X-API-Key": key}),
            ):
                for url in urls:
                    r = client.get(url, headers=headers)
                    body = r.content.replace(key.encode(), b"<key>")
                    body = re.sub(rb'"timeStamp":\s*"[^"]*"', b'"timeStamp":"-"', body)
                    body = re.sub(rb'"solve_seconds":\s*[0-9.]+', b'"solve_seconds":0', body)
                    body = re.sub(rb"_[0-9a-f]{32}(?![0-9a-f])", b"_<id>", body)  # folium ids
                    digest = hashlib.sha256(body).hexdigest()[:16]
                    if args.dump:
                        args.dump.mkdir(parents=True, exist_ok=True)
                        name = re.sub(r"[^A-Za-z0-9]+", "_", f"{who}{url}")[:120]
                        (args.dump / name).write_bytes(body)
                    print(f"{who:8s} {r.status_code} {len(body):9d} {digest} {url}")


if __name__ == "__main__":
    main()
