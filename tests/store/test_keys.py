"""API keys: only a hash is stored, revocation works, every key action is audited; the CLI."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from geo_service.store import Store


def test_only_the_hash_is_stored(store: Store) -> None:
    key_id, secret = store.create_key("analyst", "team")
    dump = store.con.execute("SELECT * FROM api_keys").fetchall()
    assert secret not in repr(dump)
    assert dump[0][1] == hashlib.sha256(secret.encode()).hexdigest()  # independent sha256
    assert store.lookup_key(secret) == (key_id, "analyst")
    assert store.lookup_key(secret + "x") is None
    store.revoke_key(key_id)
    assert store.lookup_key(secret) is None
    actions = list(store.list_audit()["action"])
    assert actions == ["key.revoke", "key.create"]


def test_bad_role_and_unknown_revoke(store: Store) -> None:
    with pytest.raises(ValueError, match="role"):
        store.create_key("superuser")
    from geo_service.errors import NotFoundError

    with pytest.raises(NotFoundError):
        store.revoke_key("k_nope")


def _cli(db: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "geo_service", "--db", str(db), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_keys_cli(store_db: str) -> None:
    db = store_db
    out = _cli(db, "keys", "create", "--role", "admin", "--label", "beheer")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout.splitlines()[0])
    secret = out.stdout.splitlines()[1].rsplit(" ", 1)[1]
    listed = _cli(db, "keys", "list")
    assert info["key_id"] in listed.stdout and "beheer" in listed.stdout
    assert secret not in listed.stdout
    assert _cli(db, "keys", "revoke", info["key_id"]).returncode == 0
    again = _cli(db, "keys", "revoke", info["key_id"])
    assert again.returncode == 2
    assert "Traceback" not in again.stderr
    with Store.open(db) as store:
        assert store.lookup_key(secret) is None
