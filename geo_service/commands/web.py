"""Web commands: ``serve`` and ``keys create|list|revoke``."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile

from geo_service.store import Store
from geo_service.store.auth import ROLES
from spatial.errors import InvalidParameterError

#: Seconds a worker may take to answer uvicorn's health ping before it is killed and
#: restarted (uvicorn's default is 5 s). The ping is answered by a thread of the worker,
#: which needs the GIL; a hotspot computation on a starved machine can delay it past 5 s,
#: and a killed worker drops its in-flight requests. Two runs of benchmarks/workers.py
#: at a load average of ~27 on two cores had 44 and 49 requests cut off
#: (RemoteProtocolError) with 5 s; with 60 s none, but neither did a later 5 s run at a
#: load average of ~15, so the cause is likely, not proven. A hung worker is still
#: replaced, only later.
WORKER_HEALTHCHECK_S = 60


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Register the web commands."""
    p = sub.add_parser("serve", parents=[common], help="run the web service (API, OGC, map pages)")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes, each with its own store connection (default 1; more needs "
        "a shared store)",
    )
    p.add_argument(
        "--worker-healthcheck-s",
        type=int,
        default=WORKER_HEALTHCHECK_S,
        help="with --workers > 1: seconds a worker may take to answer the supervisor's health "
        f"ping before it is restarted (default {WORKER_HEALTHCHECK_S})",
    )
    p.set_defaults(handler=_serve)

    keys = sub.add_parser("keys", parents=[common], help="API keys / API-sleutels")
    ksub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    p = ksub.add_parser("create", parents=[common], help="create a key; the secret is shown ONCE")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--label", default=None, help="who or what uses the key")
    p.set_defaults(handler=_keys_create)
    p = ksub.add_parser("list", parents=[common], help="list keys (never their secrets)")
    p.set_defaults(handler=_keys_list)
    p = ksub.add_parser("revoke", parents=[common], help="revoke a key by its id")
    p.add_argument("key_id")
    p.set_defaults(handler=_keys_revoke)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from geo_service.config import Settings
    from geo_service.web import create_app
    from geo_service.web.metrics import MULTIPROC_ENV

    if args.workers < 1:
        raise InvalidParameterError("--workers moet minstens 1 zijn / must be at least 1")
    if args.worker_healthcheck_s < 1:
        raise InvalidParameterError(
            "--worker-healthcheck-s moet minstens 1 zijn / must be at least 1"
        )
    with Store.open(args.db) as store:  # create the schema before the service opens it
        shared = store.location.shared
    if args.workers > 1 and not shared:
        raise InvalidParameterError(
            f"{args.db} is een DuckDB-bestand van vóór de gedeelde opslag: daarop kan maar één "
            "proces schrijven, dus geen --workers > 1; zet het om met `geo-service store "
            "migrate` / a single-file store serves one worker"
        )
    host = "localhost" if args.host in ("127.0.0.1", "::1") else args.host
    print(f"Service / dienst: http://{host}:{args.port}/kaart  (API: /docs, OGC: /ogc)", flush=True)
    # uvicorn's own access line would carry the query string (values that may point at a
    # person); the app writes one line per request itself (web/metrics.py).
    if args.workers == 1:
        uvicorn.run(
            create_app(Settings(db=args.db)),
            host=args.host,
            port=args.port,
            log_level="info",
            access_log=False,
        )
        return 0
    # Each worker process builds its own app (and store connection) from the environment.
    os.environ["GEO_SERVICE_DB"] = str(args.db)
    # /metrics of any worker adds up all workers: prometheus_client's multiprocess mode, in a
    # folder of this run (an operator's PROMETHEUS_MULTIPROC_DIR is kept, and not emptied).
    own_dir = None
    if not os.environ.get(MULTIPROC_ENV):
        own_dir = tempfile.mkdtemp(prefix="geo-service-metrics-")
        os.environ[MULTIPROC_ENV] = own_dir
    try:
        uvicorn.run(
            "geo_service.web.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
            access_log=False,
            timeout_worker_healthcheck=args.worker_healthcheck_s,
        )
    finally:
        if own_dir is not None:
            shutil.rmtree(own_dir, ignore_errors=True)
    return 0


def _keys_create(args: argparse.Namespace) -> int:
    with Store.open(args.db) as store:
        key_id, secret = store.create_key(args.role, args.label, actor="cli")
    print(json.dumps({"key_id": key_id, "role": args.role, "label": args.label}))
    print(f"secret (shown once / wordt maar één keer getoond): {secret}")
    return 0


def _keys_list(args: argparse.Namespace) -> int:
    with Store.open(args.db) as store:
        keys = store.list_keys()
    for row in keys.itertuples(index=False):
        revoked = (
            ""
            if row.revoked_at is None or str(row.revoked_at) == "NaT"
            else f" revoked {row.revoked_at!s}"
        )
        key_id, role, label = str(row.key_id), str(row.role), str(row.label or "")
        print(f"{key_id}\t{role}\t{label}\tcreated {row.created_at!s}{revoked}")
    return 0


def _keys_revoke(args: argparse.Namespace) -> int:
    with Store.open(args.db) as store:
        store.revoke_key(args.key_id, actor="cli")
    print(f"revoked / ingetrokken: {args.key_id}")
    return 0
