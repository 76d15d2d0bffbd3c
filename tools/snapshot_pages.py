"""Render a fixed set of pages and API answers and print a SHA-256 per request.

A check for restructurings that must not change behaviour: run it on two checkouts against
the same database file and compare the lists (``diff``). Requests go through the app in
process (FastAPI's TestClient), as an anonymous viewer and as an analyst.

    .venv/bin/python tools/snapshot_pages.py --db demo.duckdb > after.txt
    cd ../before && PYTHONPATH=. ../main/.venv/bin/python ../main/tools/snapshot_pages.py
        --db ../main/demo.duckdb > ../main/before.txt     (one line)
    diff before.txt after.txt

OGC's ``timeStamp`` (the time of the answer) and folium's random element ids are blanked.
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
    "/ogc/collections/hotspots-gistar/items?municipality=GM0518&category=jeugdoverlast&limit=50",
    "/kaart?gemeente=GM0518",
    "/openapi.json",
)
ANALYST_REQUESTS = (
    "/kaart?municipality=GM0518&category=woninginbraak&res=10",
    "/cameras?municipality=GM0518",
    "/waarschuwingszones?municipality=GM0518",
    "/api/v1/priorities?municipality=GM0518",
)


def main() -> None:
    """Print one line per request: role, status, size, digest, URL."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, required=True)
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
                    body = re.sub(rb"_[0-9a-f]{32}(?![0-9a-f])", b"_<id>", body)  # folium ids
                    digest = hashlib.sha256(body).hexdigest()[:16]
                    print(f"{who:8s} {r.status_code} {len(body):9d} {digest} {url}")


if __name__ == "__main__":
    main()
