"""A demo database served by ``uvicorn`` on a free loopback port, for the web benchmarks."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from geo_service.store.core import copy_store


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served_demo(db: Path | None = None) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    """Serve a copy of ``db`` (or a freshly built demo) with one uvicorn worker on loopback.

    Yields ``(base_url, database_path, process)``; the server and the copy are removed after.
    """
    tmp = Path(tempfile.mkdtemp(prefix="bench-web-"))
    try:
        path = tmp / "demo.duckdb"
        if db:
            copy_store(db, path)
        else:
            from geo_service.demo.dataset import build_demo
            from geo_service.store import Store

            with Store.open(path) as store:
                build_demo(store, progress=False)
        port = free_port()
        # No anonymous request budget: the load benchmark is many anonymous clients on one address.
        env = {
            **os.environ,
            "GEO_SERVICE_DB": str(path),
            "GEO_SERVICE_TILE_URL": "",
            "GEO_SERVICE_ANONYMOUS_BUDGET_REQUESTS": "0",
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "geo_service.web.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(base + "/ogc/conformance", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            yield base, path, proc
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
