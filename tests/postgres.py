"""A real PostgreSQL server for the tests: ``initdb`` and ``pg_ctl`` in a temporary folder.

Debian's ``postgresql`` package provides the binaries (the Makefile installs it); no system
service runs. The server listens on a Unix socket in its own folder only (no TCP), with
``trust`` authentication for the local superuser, and is stopped when the session ends.
As root (CI, the developers' machines), the server runs as the ``postgres`` user, since
PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def _binary(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise RuntimeError(
            f"PostgreSQL's {name} not found: install Debian's postgresql package "
            "(make browser installs it)"
        )
    return found


@dataclass(frozen=True)
class PostgresServer:
    """A running test server: its socket folder, port and superuser."""

    root: Path
    port: int
    user: str

    def conninfo(self, dbname: str) -> str:
        """Return the libpq connection string of database ``dbname``."""
        return f"host={self.root / 'sock'} port={self.port} user={self.user} dbname={dbname}"

    def create_database(self) -> str:
        """Create a fresh, empty database and return its name."""
        name = "t_" + secrets.token_hex(6)
        self._run(
            [
                _binary("createdb"),
                "-h",
                str(self.root / "sock"),
                "-p",
                str(self.port),
                "-U",
                self.user,
                name,
            ]
        )
        return name

    def _run(self, cmd: list[str]) -> None:
        subprocess.run(_as_owner(cmd), check=True, capture_output=True, timeout=60)


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def free_port() -> int:
    """Return a port number no one listens on now (the server listens on a socket file)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int) -> PostgresServer:
    """Initialise a cluster in a new temporary folder and start it on ``port``."""
    root = Path(tempfile.mkdtemp(prefix="geo-pg-"))
    (root / "sock").mkdir()
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        for p in (root, root / "sock"):
            os.chown(p, owner.pw_uid, owner.pw_gid)
    user = "postgres"
    data = root / "data"
    subprocess.run(
        _as_owner([_binary("initdb"), "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8"]),
        check=True,
        capture_output=True,
        timeout=120,
    )
    options = f"-k {root / 'sock'} -p {port} -c listen_addresses=''"
    subprocess.run(
        _as_owner(
            [
                _binary("pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(root / "log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    return PostgresServer(root=root, port=port, user=user)


def stop_server(server: PostgresServer) -> None:
    """Stop the server and remove its folder."""
    subprocess.run(
        _as_owner([_binary("pg_ctl"), "-D", str(server.root / "data"), "-m", "fast", "-w", "stop"]),
        check=False,
        capture_output=True,
        timeout=120,
    )
    shutil.rmtree(server.root, ignore_errors=True)
