"""Worker scaling: the same mixed API load on ``serve --workers 1`` and ``--workers N``.

Builds one demo store (or takes ``--db``), copies it once per setting, and for each setting
starts ``geo-service serve --workers W`` on a free 127.0.0.1 port, then runs ``--clients``
threads for ``--duration`` seconds. Each client draws from a fixed mix of API requests:

* 40 % ``/api/v1/hotspots`` with random parameters (mostly computed afresh),
* 20 % ``/api/v1/hotspots`` with one of four standard parameter sets (cache hits once warm),
* 15 % ``/api/v1/areas``, 15 % ``/ogc/collections``, 10 % ``/ready``.

All anonymous (viewers), nothing leaves 127.0.0.1, no warm-up of the standard layers (both
settings start cold; each of W workers has its own caches). Prints p50/p95 per setting,
overall and for the computed requests and the cheap ones, the throughput, and the ratios
W workers / 1 worker in the same run. At the end it checks that ``/metrics`` of the
W-worker server counted exactly the requests the clients made (multiprocess mode).

Usage: ``.venv/bin/python benchmarks/workers.py [--clients 20] [--duration 20] [--workers 4]``
On a machine with few cores the scaling is bounded by the cores, not by the service.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import free_port
from load import _params

STANDARD = [
    {"category": c, "municipality": m, "res": "9"}
    for c in ("woninginbraak", "jeugdoverlast")
    for m in ("GM0518", "GM1783")
]


@dataclass(frozen=True)
class Run:
    """Latencies (seconds) of one setting, by kind, and the status codes seen."""

    workers: int
    computed: list[float]
    cheap: list[float]
    statuses: dict[int, int]
    failures: dict[str, int]
    duration_s: float
    metrics_minus_clients: float

    @property
    def all(self) -> list[float]:
        """Every latency of the run."""
        return self.computed + self.cheap


def _p(values: list[float], q: float) -> float:
    if len(values) < 2:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


@contextmanager
def _serve(db: Path, workers: int, log: Path, healthcheck_s: int | None) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "GEO_SERVICE_TILE_URL": "",
        "GEO_SERVICE_ANONYMOUS_BUDGET_REQUESTS": "0",
        "GEO_SERVICE_WARM_UP": "false",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    cmd = [sys.executable, "-m", "geo_service", "serve", "--db", str(db), "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, "--workers", str(workers)]
        + ([] if healthcheck_s is None else ["--worker-healthcheck-s", str(healthcheck_s)]),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"serve --workers {workers} did not become ready")
        time.sleep(2.0 if workers > 1 else 0.5)  # let every worker finish starting
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _request(rng: random.Random, first: date, last: date) -> tuple[str, str, dict[str, str]]:
    x = rng.random()
    if x < 0.40:
        return "computed", "/api/v1/hotspots", _params(rng, first, last)
    if x < 0.60:
        return "computed", "/api/v1/hotspots", rng.choice(STANDARD)
    if x < 0.75:
        return "cheap", "/api/v1/areas", {}
    if x < 0.90:
        return "cheap", "/ogc/collections", {}
    return "cheap", "/ready", {}


def _load(base: str, workers: int, clients: int, duration: float, seed: int) -> Run:
    from geo_service.demo.dataset import last_full_month

    last = last_full_month()
    first = date(last.year - 5, last.month, 1)
    computed: list[float] = []
    cheap: list[float] = []
    statuses: dict[int, int] = {}
    failures: dict[str, int] = {}
    lock = threading.Lock()
    made = [0]
    start = time.perf_counter()
    stop_at = start + duration

    def client(i: int) -> None:
        rng = random.Random(seed * 1000 + i)  # noqa: S311 - load mix, not crypto
        with httpx.Client(base_url=base, timeout=120) as http:
            while time.perf_counter() < stop_at:
                kind, path, params = _request(rng, first, last)
                t0 = time.perf_counter()
                try:
                    code = http.get(path, params=params).status_code
                except httpx.HTTPError as exc:
                    code = 599
                    with lock:
                        name = type(exc).__name__
                        failures[name] = failures.get(name, 0) + 1
                dt = time.perf_counter() - t0
                with lock:
                    (computed if kind == "computed" else cheap).append(dt)
                    statuses[code] = statuses.get(code, 0) + 1
                    made[0] += 1 if code != 599 else 0

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    total = 0.0
    scrape = httpx.get(base + "/metrics", timeout=30)
    for family in text_string_to_metric_families(scrape.text):
        for s in family.samples:
            if s.name == "geo_service_http_request_duration_seconds_count" and s.labels[
                "route"
            ] in ("/api/v1/hotspots", "/api/v1/areas", "/ogc/collections", "/ready"):
                total += s.value
    # The readiness wait of _serve made one /ready that answered 200 (counted there too).
    return Run(workers, computed, cheap, statuses, failures, elapsed, total - 1 - made[0])


def main() -> int:
    """Run both settings and print the numbers."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--healthcheck-s", type=int, default=None, help="serve --worker-healthcheck-s (uvicorn: 5)"
    )
    args = ap.parse_args()
    from geo_service.store import Store
    from geo_service.store.core import copy_store

    tmp = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    runs: list[Run] = []
    try:
        source = tmp / "demo.duckdb"
        if args.db:
            copy_store(args.db, source)
        else:
            from geo_service.demo.dataset import build_demo

            with Store.open(source) as store:
                build_demo(store, progress=False)
        for workers in (1, args.workers):
            db = tmp / f"w{workers}.duckdb"
            copy_store(source, db)
            log = tmp / f"w{workers}.log"
            with _serve(db, workers, log, args.healthcheck_s) as base:
                runs.append(_load(base, workers, args.clients, args.duration, args.seed))
            died = sum("died" in line for line in log.read_text(errors="replace").splitlines())
            print(f"--workers {workers}: uvicorn restarted {died} worker(s) during the run")
            if runs[-1].failures:
                lines = log.read_text(errors="replace").splitlines()
                tail = [line for line in lines if not line.startswith("{")]  # not access lines
                print(f"server log (--workers {workers}), last lines:", *tail[-8:], sep="\n  ")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load = os.getloadavg()
    print(
        f"{args.clients} clients x {args.duration:.0f} s per setting, mixed API requests "
        f"(demo store, partly synthetic); {os.cpu_count()} CPUs, load average at the end "
        f"{load[0]:.1f}"
    )
    for r in runs:
        errors = sum(v for k, v in r.statuses.items() if k != 200)
        print(
            f"--workers {r.workers}: {len(r.all)} requests ({len(r.all) / r.duration_s:.1f}/s)  "
            f"all p50 {_p(r.all, 0.5):.3f} s p95 {_p(r.all, 0.95):.3f} s | "
            f"hotspots p50 {_p(r.computed, 0.5):.3f} p95 {_p(r.computed, 0.95):.3f} | "
            f"cheap p50 {_p(r.cheap, 0.5):.3f} p95 {_p(r.cheap, 0.95):.3f} | "
            f"non-200 {errors} {dict(sorted(r.statuses.items()))} {r.failures or ''} | "
            f"/metrics minus client count: {r.metrics_minus_clients:+.0f}"
        )
    one, many = runs
    print(
        f"ratio --workers {many.workers} / --workers 1 (below 1 = faster): "
        f"all p50 {_p(many.all, 0.5) / _p(one.all, 0.5):.2f}  "
        f"p95 {_p(many.all, 0.95) / _p(one.all, 0.95):.2f}  "
        f"hotspots p50 {_p(many.computed, 0.5) / _p(one.computed, 0.5):.2f}  "
        f"p95 {_p(many.computed, 0.95) / _p(one.computed, 0.95):.2f}  "
        f"cheap p50 {_p(many.cheap, 0.5) / _p(one.cheap, 0.5):.2f}  "
        f"p95 {_p(many.cheap, 0.95) / _p(one.cheap, 0.95):.2f}  "
        f"throughput {(len(many.all) / many.duration_s) / (len(one.all) / one.duration_s):.2f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
