"""Latency and throughput of the cached Den Haag res-10 hotspot GeoJSON over loopback.

Starts ``uvicorn`` (one worker) on a free 127.0.0.1 port in a subprocess on a demo
database (built into a temporary folder unless ``--db`` is given), warms the cache
with one request, then sends a bounded number of requests from a few client threads
and prints p50/p95 latency and requests/s. As a reference, measured the same way in
the same run: ``/ogc/conformance`` (a tiny JSON document, i.e. the framework's floor).

Usage: ``.venv/bin/python benchmarks/api.py [--requests 2000] [--clients 4] [--db FILE]``
Target (issue 4): p95 < 50 ms and >= 200 requests/s on 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import served_demo

HOTSPOTS = "/api/v1/hotspots?category=woninginbraak&municipality=GM0518&res=10&method=gistar"
REFERENCE = "/ogc/conformance"


def _drive(base: str, path: str, n: int, clients: int) -> tuple[list[float], float, int]:
    """Send ``n`` GETs from ``clients`` threads; return latencies (s), wall time, bytes."""
    per = [n // clients + (1 if i < n % clients else 0) for i in range(clients)]

    def worker(count: int) -> tuple[list[float], int]:
        out: list[float] = []
        size = 0
        with httpx.Client(base_url=base, timeout=30) as c:
            for _ in range(count):
                t0 = time.perf_counter()
                r = c.get(path)
                out.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    raise RuntimeError(f"{path}: HTTP {r.status_code}")
                size = len(r.content)
        return out, size

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(worker, per))
    wall = time.perf_counter() - t0
    return [x for lat, _ in results for x in lat], wall, results[0][1]


def _report(name: str, lat: list[float], wall: float) -> tuple[float, float, float]:
    q = statistics.quantiles(lat, n=100)
    p50, p95, rps = q[49] * 1000, q[94] * 1000, len(lat) / wall
    print(f"{name:<28} n={len(lat):5d}  p50={p50:7.2f} ms  p95={p95:7.2f} ms  {rps:8.1f} req/s")
    return p50, p95, rps


def main() -> int:
    """Run the benchmark and print the numbers."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--db", type=Path, default=None)
    args = ap.parse_args()
    with served_demo(args.db) as (base, _, _proc):
        t0 = time.perf_counter()
        first = httpx.get(base + HOTSPOTS, timeout=600)
        cold = time.perf_counter() - t0
        first.raise_for_status()
        n_feat = len(first.json()["features"])
        print(
            f"cold (computing, 999 permutations): {cold * 1000:.0f} ms, {n_feat} cells, "
            f"{len(first.content) / 1e6:.2f} MB"
        )
        print(
            f"{args.requests} requests per endpoint, {args.clients} client threads, "
            "1 uvicorn worker"
        )
        ref = _report(
            "reference /ogc/conformance",
            *_drive(base, REFERENCE, args.requests, args.clients)[:2],
        )
        lat, wall, _ = _drive(base, HOTSPOTS, args.requests, args.clients)
        hot = _report("cached hotspots res 10", lat, wall)
        print(
            f"ratio hotspots/reference: p50 x{hot[0] / ref[0]:.2f}, "
            f"throughput x{hot[2] / ref[2]:.2f}"
        )
        ok = hot[1] < 50 and hot[2] >= 200
        print(f"target p95 < 50 ms and >= 200 req/s: {'MET' if ok else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
