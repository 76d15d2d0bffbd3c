"""Load: concurrent clients asking for hotspot maps with varied parameters, over loopback.

Starts ``uvicorn`` (one worker, as ``make run`` does) on a free 127.0.0.1 port on a demo
database, then runs ``--clients`` threads for ``--duration`` seconds. Each request asks
``/api/v1/hotspots`` (anonymous, i.e. as a viewer) for a random category, municipality,
resolution (8-10), method and period (start/end on random days). Stops by itself; sends
nothing off 127.0.0.1. Prints p50/p95/max latency, errors (non-200) and the server's RSS at the
end, next to the figures measured before the load work (issue 8), and as a same-run reference
the latency of ``/ogc/conformance`` under the same load.

Usage: ``.venv/bin/python benchmarks/load.py [--clients 20] [--duration 60] [--db FILE]``
Target (issue 8): no 5xx, p95 < 2 s, server RSS < 1.5 GB (after 10 minutes: --duration 600).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import served_demo

BEFORE = "before (issue 8, 20 clients x 30 s): p50 11-13 s, p95 29-35 s, RSS 230 MB -> 5.2 GB"


def _params(rng: random.Random, first: date, last: date) -> dict[str, str]:
    span = (last - first).days
    a = first + timedelta(days=rng.randrange(span))
    b = min(last, a + timedelta(days=rng.randrange(1, 400)))
    return {
        "category": rng.choice(["woninginbraak", "jeugdoverlast"]),
        "municipality": rng.choice(["GM0518", "GM1783"]),
        "res": str(rng.choice([8, 9, 10])),
        "method": rng.choice(["gistar", "kde"]),
        "start": a.isoformat(),
        "end": b.isoformat(),
    }


def main() -> int:
    """Run the load and print the numbers."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    # The demo's data window (2021-11 .. last month) without opening the served file.
    from geo_service.demo.dataset import last_full_month

    last = last_full_month()
    first = date(last.year - 5, last.month, 1)
    with served_demo(args.db) as (base, _, proc):
        server = psutil.Process(proc.pid)
        rss_start = server.memory_info().rss
        latencies: list[float] = []
        reference: list[float] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        stop_at = time.perf_counter() + args.duration

        def client(i: int) -> None:
            rng = random.Random(args.seed * 1000 + i)  # noqa: S311 - load mix, not crypto
            with httpx.Client(base_url=base, timeout=120) as http:
                n = 0
                while time.perf_counter() < stop_at:
                    n += 1
                    path, params = "/api/v1/hotspots", _params(rng, first, last)
                    if n % 10 == 0:
                        path, params = "/ogc/conformance", {}
                    t0 = time.perf_counter()
                    try:
                        code = http.get(path, params=params).status_code
                    except httpx.HTTPError:
                        code = 599
                    dt = time.perf_counter() - t0
                    with lock:
                        (reference if path.startswith("/ogc") else latencies).append(dt)
                        statuses[code] = statuses.get(code, 0) + 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rss_end = server.memory_info().rss
    q = statistics.quantiles(latencies, n=20)
    rq = statistics.quantiles(reference, n=20) if len(reference) > 1 else [0.0] * 19
    errors = sum(v for k, v in statuses.items() if k != 200)
    five = sum(v for k, v in statuses.items() if k >= 500)
    print(f"{args.clients} clients x {args.duration:.0f} s, varied parameters, 1 worker")
    print(
        f"hotspots: {len(latencies)} requests  p50 {statistics.median(latencies):.2f} s  "
        f"p95 {q[18]:.2f} s  max {max(latencies):.2f} s"
    )
    print(
        f"reference /ogc/conformance under the same load: p50 "
        f"{statistics.median(reference) if reference else float('nan'):.3f} s  p95 {rq[18]:.3f} s"
    )
    print(f"status codes: {dict(sorted(statuses.items()))}  (errors {errors}, 5xx {five})")
    print(f"server RSS: {rss_start / 1e6:.0f} MB at start -> {rss_end / 1e6:.0f} MB at end")
    print(BEFORE)
    ok = five == 0 and q[18] < 2.0 and rss_end < 1.5e9
    print(f"target no 5xx, p95 < 2 s, RSS < 1.5 GB: {'MET' if ok else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
