"""API keys (stored hashed), page sessions and the audit log.

Only the SHA-256 of a key's secret is stored: a copy of the database does not
grant access. Secrets are 32 random bytes (``secrets.token_urlsafe``), so a plain
(unsalted) SHA-256 is adequate -- there is no dictionary to attack.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from geo_service.errors import NotFoundError
from geo_service.store.core import StoreBase

ROLES: tuple[str, ...] = ("viewer", "analyst", "admin")


def hash_secret(secret: str) -> str:
    """Return the hex SHA-256 of an API key secret (what the store keeps)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class AuthStore(StoreBase):
    """Store methods: API keys (stored hashed) and the audit log."""

    def create_key(
        self, role: str, label: str | None = None, *, actor: str = "cli"
    ) -> tuple[str, str]:
        """Create an API key and return ``(key_id, secret)``; the secret is not stored.

        Raises
        ------
        ValueError
            If ``role`` is not one of viewer, analyst, admin.
        """
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        key_id = "k_" + secrets.token_hex(6)
        secret = "gs_" + secrets.token_urlsafe(32)

        def block() -> None:
            self.con.execute(
                "INSERT INTO api_keys (key_id, key_hash, role, label, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [key_id, hash_secret(secret), role, label, _now()],
            )
            self.audit(
                actor, "admin", "key.create", {"key_id": key_id, "role": role, "label": label}
            )

        self.write(block)
        return key_id, secret

    def lookup_key(self, secret: str) -> tuple[str, str] | None:
        """Return ``(key_id, role)`` of an active key with this secret, else None."""
        row = self.con.execute(
            "SELECT key_id, role FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
            [hash_secret(secret)],
        ).fetchone()
        return (str(row[0]), str(row[1])) if row else None

    def revoke_key(self, key_id: str, *, actor: str = "cli") -> None:
        """Revoke a key (it stays listed, with ``revoked_at``).

        Raises
        ------
        NotFoundError
            If no active key has this id.
        """

        def block() -> None:
            # Checked and changed in one transaction (a shared store has no RETURNING on
            # UPDATE); a concurrent revoke of the same key makes this one run again.
            row = self.con.execute(
                "SELECT count(*) FROM api_keys WHERE key_id = ? AND revoked_at IS NULL",
                [key_id],
            ).fetchone()
            if not row or not row[0]:
                raise NotFoundError(
                    f"no active API key {key_id!r} / onbekende of ingetrokken sleutel"
                )
            self.con.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                [_now(), key_id],
            )
            self.audit(actor, "admin", "key.revoke", {"key_id": key_id})

        self.write(block)

    def has_admin_key(self) -> bool:
        """Return whether any admin key exists, revoked or not (the bootstrap is for none)."""
        row = self.con.execute("SELECT count(*) FROM api_keys WHERE role = 'admin'").fetchone()
        return bool(row and row[0])

    def open_session(
        self,
        key_id: str | None,
        max_age_s: int,
        *,
        actor: str | None = None,
        role: str | None = None,
    ) -> str:
        """Open a page session; return its id (only its hash is stored).

        With ``key_id`` the session stands for that key (its role is read on each use);
        without, for ``actor`` in ``role`` (an OpenID Connect sign-in).

        Raises
        ------
        ValueError
            Neither a key nor an actor with a known role.
        """
        if key_id is None and (not actor or role not in ROLES):
            raise ValueError("a session needs a key, or an actor with a role")
        session_id = secrets.token_urlsafe(32)
        now = _now()
        values = [
            hash_secret(session_id),
            key_id,
            actor,
            role if key_id is None else None,
            now,
            now + timedelta(seconds=max_age_s),
        ]

        def block() -> None:
            # Rows of sessions that ended or expired a day ago serve nothing (the audit log
            # keeps who signed in and out); they go at each sign-in, so the table stays small.
            self.con.execute(
                "DELETE FROM web_sessions WHERE COALESCE(ended_at, expires_at) < ?",
                [now - timedelta(days=1)],
            )
            self.con.execute(
                "INSERT INTO web_sessions (session_hash, key_id, actor, role, created_at, "
                "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                values,
            )

        self.write(block)
        return session_id

    def session_key(self, session_id: str) -> tuple[str | None, str, str] | None:
        """Return ``(key_id, role, actor)`` of an open, unexpired session, else None.

        A key's session counts only while the key is active, with the key's current role.
        """
        row = self.con.execute(
            "SELECT s.key_id, COALESCE(k.role, s.role), s.actor FROM web_sessions s "
            "LEFT JOIN api_keys k USING (key_id) "
            "WHERE s.session_hash = ? AND s.ended_at IS NULL AND s.expires_at > ? "
            "AND (s.key_id IS NULL OR (k.key_id IS NOT NULL AND k.revoked_at IS NULL))",
            [hash_secret(session_id), _now()],
        ).fetchone()
        if row is None or row[1] is None:
            return None
        key_id = None if row[0] is None else str(row[0])
        actor = f"key:{key_id}" if key_id is not None else str(row[2])
        return (key_id, str(row[1]), actor)

    def end_session(self, session_id: str) -> bool:
        """End a session (sign-out); return whether an open one was ended."""
        digest = hash_secret(session_id)

        def block() -> bool:
            # Checked and changed in one transaction (a shared store has no RETURNING).
            row = self.con.execute(
                "SELECT count(*) FROM web_sessions WHERE session_hash = ? AND ended_at IS NULL",
                [digest],
            ).fetchone()
            if not row or not row[0]:
                return False
            self.con.execute(
                "UPDATE web_sessions SET ended_at = ? WHERE session_hash = ? AND ended_at IS NULL",
                [_now(), digest],
            )
            return True

        return self.write(block)

    def list_keys(self) -> pd.DataFrame:
        """Return all keys (never their hashes): key_id, role, label, created_at, revoked_at."""
        return self.con.execute(
            "SELECT key_id, role, label, created_at, revoked_at FROM api_keys ORDER BY created_at"
        ).df()

    def audit(
        self, actor: str, role: str | None, action: str, detail: dict[str, Any] | None = None
    ) -> None:
        """Append one row to the audit log (who, in which role, did what, when)."""
        values = [_now(), actor, role, action, json.dumps(detail or {}, default=str)]
        self.write(
            lambda: self.con.execute(
                "INSERT INTO audit_log (logged_at, actor, role, action, detail) "
                "VALUES (?, ?, ?, ?, ?)",
                values,
            ),
            claim=False,
        )

    def list_audit(self, limit: int = 100) -> pd.DataFrame:
        """Return the newest ``limit`` audit rows, newest first."""
        return self.con.execute(
            "SELECT logged_at, actor, role, action, detail FROM audit_log "
            "ORDER BY logged_at DESC LIMIT ?",
            [int(limit)],
        ).df()

    def has_demo_data(self) -> bool:
        """Return whether the store holds the (partly synthetic) demo data set."""
        sql = "SELECT count(*) FROM ingest_batches WHERE actor = 'demo'"
        row = self.con.execute(sql).fetchone()
        return bool(row and row[0])
