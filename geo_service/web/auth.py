"""Who is asking: API keys from ``X-API-Key`` or ``Authorization: Bearer``, page sessions, roles.

The HTML pages also accept a session opened at ``/inloggen`` with a key
(:mod:`geo_service.web.session`); it carries that key's role, read again on every request.

Roles are ordered ``viewer < analyst < admin``. A request without a key gets
``Settings.anonymous_role`` (default viewer; ``None`` refuses anonymous requests).
A wrong or revoked key is always refused (401), never downgraded to anonymous:
a client that sent a key expects its rights, and silently serving less would hide
the mistake.
"""

from __future__ import annotations

from dataclasses import dataclass

from geo_service.config import Role, Settings
from geo_service.errors import AuthenticationError, AuthorizationError
from geo_service.store import Store

ROLE_RANK: dict[str, int] = {"viewer": 0, "analyst": 1, "admin": 2}


@dataclass(frozen=True)
class Principal:
    """The caller: an actor name for the audit log, a role, and the key id (None if anonymous)."""

    actor: str
    role: Role
    key_id: str | None = None
    #: Whether the key came from a page session (the cookie of /inloggen), not a header.
    session: bool = False

    @property
    def signed_in(self) -> bool:
        """Whether the caller identified itself (a key, or a page session)."""
        return self.key_id is not None or self.session

    def can(self, role: Role) -> bool:
        """Return whether this principal has at least ``role``."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


class SignInRequiredError(AuthenticationError):
    """No key was sent, and this needs one (401): the pages say "meld u aan", not "unknown key"."""


def extract_secret(x_api_key: str | None, authorization: str | None) -> str | None:
    """Return the key secret from the headers, or None if none was sent."""
    if x_api_key:
        return x_api_key.strip()
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        raise AuthenticationError(
            "Authorization header must be 'Bearer <key>' / "
            "gebruik 'Authorization: Bearer <sleutel>'"
        )
    return None


def authenticate(store: Store, settings: Settings, secret: str | None, *, path: str) -> Principal:
    """Resolve the caller; every use of a key is written to the audit log.

    Raises
    ------
    AuthenticationError
        Wrong or revoked key, or no key while anonymous access is off.
    """
    if secret is None:
        if settings.anonymous_role is None:
            raise SignInRequiredError(
                "an API key is required / een API-sleutel is nodig (header X-API-Key)"
            )
        return Principal(actor="anonymous", role=settings.anonymous_role)
    found = store.lookup_key(secret)
    if found is None:
        raise AuthenticationError(
            "unknown or revoked API key / onbekende of ingetrokken API-sleutel"
        )
    key_id, role = found
    if role not in ROLE_RANK:  # a row written by hand with a typo must not grant anything
        raise AuthenticationError(f"API key {key_id} has an unknown role / onbekende rol")
    principal = Principal(actor=f"key:{key_id}", role=role, key_id=key_id)  # type: ignore[arg-type]
    store.audit(principal.actor, role, "key.use", {"path": path})
    return principal


def authenticate_session(store: Store, session_id: str, *, path: str) -> Principal | None:
    """Resolve a page session to its key's principal; None if it ended, expired or was revoked.

    Each use is audited as a use of the key (``key.use`` with ``"via": "sessie"``).
    """
    found = store.session_key(session_id)
    if found is None:
        return None
    key_id, role, actor = found
    if role not in ROLE_RANK:
        return None
    principal = Principal(actor=actor, role=role, key_id=key_id, session=True)  # type: ignore[arg-type]
    action = "key.use" if key_id is not None else "session.use"
    store.audit(principal.actor, role, action, {"path": path, "via": "sessie"})
    return principal


def require(principal: Principal, role: Role) -> None:
    """Raise unless ``principal`` has at least ``role``.

    Raises
    ------
    AuthenticationError
        An anonymous caller below ``role`` (401: sending a key may help).
    AuthorizationError
        A caller with a key whose role is too low (403).
    """
    if principal.can(role):
        return
    if not principal.signed_in:
        raise SignInRequiredError(
            f"this needs role {role}: send an API key / "
            f"hiervoor is rol {role} nodig: stuur een API-sleutel"
        )
    raise AuthorizationError(
        f"role {principal.role} may not do this, {role} needed / "
        f"rol {principal.role} mag dit niet, "
        f"{role} is nodig"
    )
