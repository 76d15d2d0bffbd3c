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


# -- page sessions (web_sessions) ------------------------------------------------------------


def test_session_follows_its_key(store: Store) -> None:
    key_id, _ = store.create_key("analyst")
    sid = store.open_session(key_id, 3600)
    assert store.session_key(sid) == (key_id, "analyst", f"key:{key_id}")
    assert store.session_key(sid + "x") is None
    store.revoke_key(key_id)
    assert store.session_key(sid) is None  # a revoked key ends its sessions


def test_session_ends_and_expires(store: Store) -> None:
    key_id, _ = store.create_key("viewer")
    sid = store.open_session(key_id, 3600)
    assert store.end_session(sid) and not store.end_session(sid)
    assert store.session_key(sid) is None
    other = store.open_session(None, 3600, actor="oidc:a.analist", role="analyst")
    assert store.session_key(other) == (None, "analyst", "oidc:a.analist")
    store.con.execute("UPDATE web_sessions SET expires_at = created_at")
    assert store.session_key(other) is None
    # only hashes are kept
    hashes = {r[0] for r in store.con.execute("SELECT session_hash FROM web_sessions").fetchall()}
    assert sid not in hashes and other not in hashes and len(hashes) == 2


def test_old_sessions_are_purged_at_sign_in(store: Store) -> None:
    key_id, _ = store.create_key("viewer")
    old = store.open_session(key_id, 3600)
    store.end_session(old)
    store.con.execute("UPDATE web_sessions SET ended_at = ended_at - INTERVAL 2 DAY")
    store.open_session(key_id, 3600)
    assert store.con.execute("SELECT count(*) FROM web_sessions").fetchone() == (1,)


def test_session_needs_a_key_or_a_role(store: Store) -> None:
    with pytest.raises(ValueError, match="needs a key"):
        store.open_session(None, 3600, actor="oidc:x", role="superuser")
