"""Optional sign-in with OpenID Connect (authorization code flow with PKCE), groups to roles.

With ``GEO_SERVICE_OIDC_ISSUER``, ``..._CLIENT_ID``, ``..._CLIENT_SECRET`` and
``..._ROLE_GROUPS`` set, ``/inloggen`` offers "Inloggen via de organisatie". The flow
(OpenID Connect Core 1.0, section 3.1; PKCE: RFC 7636, method S256):

1. ``/inloggen/oidc`` makes ``state``, ``nonce`` and a code verifier, keeps them in a signed,
   short-lived cookie and sends the browser to the provider's authorization endpoint with
   ``code_challenge = BASE64URL(SHA256(verifier))``.
2. ``/inloggen/oidc/terug`` checks that ``state`` is the cookie's (the flow's CSRF
   protection), exchanges the code at the token endpoint (``client_secret_basic`` and the
   verifier), and checks the ID token: its signature against the provider's JWKS, ``iss``,
   ``aud``, ``exp``/``iat`` (60 s leeway) and ``nonce``.
3. The groups claim picks the role: the highest role any group gives
   (``oidc_role_groups``); an account in none of the groups is refused.

The provider's discovery document and JWKS are fetched with httpx, the ID token is checked
with joserfc (JWS/JWT, RFC 7515/7519; the JOSE part of Authlib, by the same authors); tests
hand the app a transport that plays the provider (``app.state.oidc_transport``).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from geo_service.config import Role, Settings
from geo_service.errors import AuthenticationError, AuthorizationError

#: Role order, as in :mod:`geo_service.web.auth` (kept here: the frame modules don't cycle).
_RANK: dict[str, int] = {"viewer": 0, "analyst": 1, "admin": 2}
ALGORITHMS = ["RS256", "ES256", "PS256"]


class OidcError(AuthenticationError):
    """The provider's answer could not be trusted or used (401); Dutch message."""


class NoRoleError(AuthorizationError):
    """The account is in none of the configured groups (403); Dutch message."""


def configured(settings: Settings) -> bool:
    """Return whether OpenID Connect sign-in is set up."""
    return bool(
        settings.oidc_issuer
        and settings.oidc_client_id
        and settings.oidc_client_secret
        and settings.oidc_role_groups
    )


@dataclass(frozen=True)
class Flow:
    """What one sign-in keeps between the two steps (in a signed cookie)."""

    state: str
    nonce: str
    verifier: str
    next_path: str

    @classmethod
    def new(cls, next_path: str) -> Flow:
        """Make fresh random values for one sign-in."""
        return cls(
            secrets.token_urlsafe(24),
            secrets.token_urlsafe(24),
            secrets.token_urlsafe(48),
            next_path,
        )

    @property
    def challenge(self) -> str:
        """Return the PKCE S256 challenge of the verifier (RFC 7636, section 4.2).

        Examples
        --------
        >>> Flow("s", "n", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "/").challenge
        'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
        """
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Identity:
    """A verified account: who (for the audit log) and the role its groups give."""

    actor: str
    role: Role
    groups: tuple[str, ...]


def role_for(groups: list[str] | tuple[str, ...], mapping: dict[str, Role]) -> Role | None:
    """Return the highest role any of ``groups`` gives, or None.

    Examples
    --------
    >>> m = {"geo-analisten": "analyst", "geo-beheer": "admin", "iedereen": "viewer"}
    >>> role_for(["iedereen", "geo-analisten"], m), role_for(["anders"], m)
    ('analyst', None)
    """
    roles: list[Role] = [mapping[g] for g in groups if g in mapping]
    if not roles:
        return None
    return max(roles, key=_RANK.__getitem__)


class Provider:
    """The identity provider, as its discovery document describes it."""

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        if not configured(settings):
            raise OidcError(
                "OpenID Connect is not configured / inloggen via de organisatie is niet ingesteld"
            )
        self.settings = settings
        self.issuer = str(settings.oidc_issuer).rstrip("/")
        self.http = httpx.Client(transport=transport, timeout=10)
        self._discovery: dict[str, Any] | None = None

    def _get(self, url: str) -> dict[str, Any]:
        try:
            resp = self.http.get(url)
            resp.raise_for_status()
            data: dict[str, Any] = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OidcError(
                "the identity provider did not answer / de organisatie-login antwoordt niet"
            ) from exc
        return data

    @property
    def discovery(self) -> dict[str, Any]:
        """Return the discovery document (``/.well-known/openid-configuration``)."""
        if self._discovery is None:
            doc = self._get(f"{self.issuer}/.well-known/openid-configuration")
            if str(doc.get("issuer", "")).rstrip("/") != self.issuer:
                raise OidcError("discovery issuer mismatch / de organisatie-login klopt niet")
            self._discovery = doc
        return self._discovery

    def authorization_url(self, flow: Flow, redirect_uri: str) -> str:
        """Return where to send the browser for step 1."""
        query = {
            "response_type": "code",
            "client_id": str(self.settings.oidc_client_id),
            "redirect_uri": redirect_uri,
            "scope": "openid profile",
            "state": flow.state,
            "nonce": flow.nonce,
            "code_challenge": flow.challenge,
            "code_challenge_method": "S256",
        }
        return f"{self.discovery['authorization_endpoint']}?{urlencode(query)}"

    def identity(self, code: str, flow: Flow, redirect_uri: str) -> Identity:
        """Exchange ``code`` for an ID token, verify it and return the account (step 2-3).

        Raises
        ------
        OidcError
            Token endpoint refused, or the ID token's signature or claims are wrong.
        NoRoleError
            The account is in none of the configured groups.
        """
        secret = self.settings.oidc_client_secret
        assert secret is not None  # noqa: S101 - configured() checked it
        try:
            resp = self.http.post(
                self.discovery["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "code_verifier": flow.verifier,
                },
                auth=(str(self.settings.oidc_client_id), secret.get_secret_value()),
            )
            resp.raise_for_status()
            id_token = str(resp.json()["id_token"])
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise OidcError(
                "the identity provider refused the sign-in / de organisatie-login weigerde"
            ) from exc
        registry = jwt.JWTClaimsRegistry(
            leeway=60,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": str(self.settings.oidc_client_id)},
            nonce={"essential": True, "value": flow.nonce},
            sub={"essential": True},
            exp={"essential": True},
        )
        try:
            keys = KeySet.import_key_set(self._get(str(self.discovery["jwks_uri"])))  # type: ignore[arg-type]
            claims = jwt.decode(id_token, keys, algorithms=ALGORITHMS).claims
            registry.validate(claims)
        except (JoseError, ValueError) as exc:
            raise OidcError(
                "the ID token is not valid / het bewijs van de organisatie-login klopt niet"
            ) from exc
        raw = claims.get(self.settings.oidc_groups_claim) or []
        groups = tuple(str(g) for g in (raw if isinstance(raw, list) else [raw]))
        role = role_for(groups, self.settings.oidc_role_groups)
        name = str(claims.get("preferred_username") or claims["sub"])
        if role is None:
            raise NoRoleError(
                f"account {name} is in no group with a role / uw account hoort bij geen groep "
                "met toegang"
            )
        return Identity(actor=f"oidc:{name}", role=role, groups=groups)
