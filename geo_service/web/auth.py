"""Who is asking: API keys from ``X-API-Key`` or ``Authorization: Bearer``, and roles.

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

    def can(self, role: Role) -> bool:
        """Return whether this principal has at least ``role``."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


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
            raise AuthenticationError(
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
    if principal.key_id is None:
        raise AuthenticationError(
            f"this needs role {role}: send an API key / "
            f"hiervoor is rol {role} nodig: stuur een API-sleutel"
        )
    raise AuthorizationError(
        f"role {principal.role} may not do this, {role} needed / "
        f"rol {principal.role} mag dit niet, "
        f"{role} is nodig"
    )
