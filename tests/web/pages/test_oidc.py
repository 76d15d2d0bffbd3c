"""Optional OpenID Connect sign-in, against a stub identity provider (httpx MockTransport).

The stub plays a provider by the specs: discovery document, JWKS, an authorization step
(done by the test, as a person would at the provider), a token endpoint that checks the
client's credentials, the redirect URI and the PKCE verifier (RFC 7636, S256) before it
signs an ID token (RS256) with the nonce of the request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey

from geo_service.web import create_app
from geo_service.web.session import SESSION_COOKIE
from tests.web_fixtures import DemoDB, demo_copy, demo_db, web_settings

__all__ = ["demo_copy", "demo_db"]

ISSUER = "https://login.gemeente.example/realm"
CLIENT_ID = "geo-service"
CLIENT_SECRET = "stub-client-secret"  # noqa: S105 - the stub's, not a real secret
GROUPS = {"geo-analisten": "analyst", "geo-beheer": "admin", "medewerkers": "viewer"}
CAMERAS = "/cameras?municipality=GM0518"


class StubProvider:
    """A minimal OpenID Connect provider for one client."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.signing_key = self.key  # a test swaps in another key to forge a token
        self.codes: dict[str, tuple[dict[str, Any], str, str]] = {}

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(urlparse(ISSUER).path)
        if request.method == "GET" and path == "/.well-known/openid-configuration":
            return httpx.Response(
                200,
                json={
                    "issuer": ISSUER,
                    "authorization_endpoint": f"{ISSUER}/authorize",
                    "token_endpoint": f"{ISSUER}/token",
                    "jwks_uri": f"{ISSUER}/jwks",
                },
            )
        if request.method == "GET" and path == "/jwks":
            return httpx.Response(200, json={"keys": [self.key.as_dict(private=False)]})
        if request.method == "POST" and path == "/token":
            return self._token(request)
        return httpx.Response(404)

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {basic}":
            return httpx.Response(401, json={"error": "invalid_client"})
        found = self.codes.pop(form.get("code", ""), None)  # a code works once
        if found is None or form.get("grant_type") != "authorization_code":
            return httpx.Response(400, json={"error": "invalid_grant"})
        claims, challenge, redirect_uri = found
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != challenge:
            return httpx.Response(400, json={"error": "invalid_grant", "why": "pkce"})
        if form.get("redirect_uri") != redirect_uri:
            return httpx.Response(400, json={"error": "invalid_grant", "why": "redirect"})
        header = {"alg": "RS256", "kid": "k1"}
        token = jwt.encode(header, claims, self.signing_key)
        return httpx.Response(200, json={"id_token": token, "token_type": "Bearer"})

    def authorize(self, url: str, groups: list[str], **claims: Any) -> tuple[str, str]:
        """The person signs in at the provider; return the code and state it sends back."""
        assert url.startswith(f"{ISSUER}/authorize?")
        q = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
        assert q["client_id"] == CLIENT_ID and q["response_type"] == "code"
        assert q["code_challenge_method"] == "S256" and "openid" in q["scope"].split()
        now = int(time.time())
        body = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "sub": "f81d4fae-7dec",
            "preferred_username": "a.analist",
            "nonce": q["nonce"],
            "iat": now,
            "exp": now + 300,
            "groups": groups,
            **claims,
        }
        code = secrets.token_urlsafe(12)
        self.codes[code] = (body, q["code_challenge"], q["redirect_uri"])
        return code, q["state"]


@pytest.fixture
def idp() -> StubProvider:
    return StubProvider()


@pytest.fixture
def oidc_client(demo_copy: DemoDB, idp: StubProvider) -> Iterator[TestClient]:
    settings = web_settings(
        demo_copy.path,
        oidc_issuer=ISSUER,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        oidc_role_groups=GROUPS,
    )
    with TestClient(create_app(settings)) as c:
        c.app.state.oidc_transport = httpx.MockTransport(idp.handler)  # type: ignore[attr-defined]
        yield c


def _start(c: TestClient, naar: str = CAMERAS) -> str:
    resp = c.get("/inloggen/oidc", params={"naar": naar}, follow_redirects=False)
    assert resp.status_code == 303, resp.text[:300]
    return str(resp.headers["location"])


def _back(c: TestClient, code: str, state: str) -> httpx.Response:
    # providers add parameters of their own (Keycloak: session_state, iss)
    params = {"code": code, "state": state, "session_state": "abc", "iss": ISSUER}
    return c.get("/inloggen/oidc/terug", params=params)


def _actions(c: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    frame = c.app.state.store.list_audit(limit=200)  # type: ignore[attr-defined]
    rows = zip(frame["action"], frame["actor"], frame["detail"], strict=True)
    return [(a, str(actor), json.loads(d)) for a, actor, d in rows]


def test_analyst_group_signs_in_and_out(oidc_client: TestClient, idp: StubProvider) -> None:
    c = oidc_client
    assert 'id="oidc"' in c.get("/inloggen").text  # the button, since it is configured
    code, state = idp.authorize(_start(c), ["medewerkers", "geo-analisten"])
    back = _back(c, code, state)
    assert back.status_code == 200
    # the page goes on by itself: a Strict cookie is not sent on the provider's redirect
    assert 'http-equiv="refresh" content="0;url=/cameras?municipality=GM0518"' in back.text
    assert "samesite=strict" in back.headers["set-cookie"].lower()
    page = c.get(CAMERAS)
    assert page.status_code == 200
    assert 'Aangemeld als <b id="rol">analist</b> (oidc:a.analist)' in page.text
    actions = _actions(c)
    login = [d for a, actor, d in actions if a == "session.login" and actor == "oidc:a.analist"]
    assert login and login[0]["via"] == "oidc" and "geo-analisten" in login[0]["groups"]
    uses = [d["path"] for a, actor, d in actions if a == "session.use" and actor.startswith("oidc")]
    assert "/cameras" in uses
    # the flow ends with the sign-in: the same answer again is refused
    assert _back(c, code, state).status_code == 403
    token = page.text.split('name="csrf" value="', 1)[1][:64]
    assert c.post("/uitloggen", data={"csrf": token}).status_code == 200
    assert c.get(CAMERAS).status_code == 401


def test_viewer_group_gets_403_and_no_group_is_refused(
    oidc_client: TestClient, idp: StubProvider
) -> None:
    c = oidc_client
    code, state = idp.authorize(_start(c), ["medewerkers"])
    assert _back(c, code, state).status_code == 200
    assert c.get(CAMERAS).status_code == 403
    code, state = idp.authorize(_start(c), ["kantine"])
    refused = _back(c, code, state)
    assert refused.status_code == 403 and "hoort bij geen groep met toegang" in refused.text
    assert any(a == "session.refused" for a, _, _ in _actions(c))


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "another-client"},
        {"iss": "https://evil.example"},
        {"nonce": "replayed"},
        {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
    ],
    ids=["audience", "issuer", "nonce", "expired"],
)
def test_id_token_claims_are_checked(
    oidc_client: TestClient, idp: StubProvider, claims: dict[str, Any]
) -> None:
    c = oidc_client
    code, state = idp.authorize(_start(c), ["geo-analisten"], **claims)
    resp = _back(c, code, state)
    assert resp.status_code == 401 and "klopt niet" in resp.text
    assert SESSION_COOKIE not in c.cookies


def test_forged_signature_and_wrong_state_are_refused(
    oidc_client: TestClient, idp: StubProvider
) -> None:
    c = oidc_client
    idp.signing_key = RSAKey.generate_key(2048, parameters={"kid": "k1"})  # same kid, other key
    code, state = idp.authorize(_start(c), ["geo-analisten"])
    assert _back(c, code, state).status_code == 401
    idp.signing_key = idp.key
    code, state = idp.authorize(_start(c), ["geo-analisten"])
    wrong = _back(c, code, state + "x")
    assert wrong.status_code == 403 and "niet op deze site begonnen" in wrong.text
    # a browser that did not start the flow has no flow cookie
    other = TestClient(c.app)
    assert (
        other.get("/inloggen/oidc/terug", params={"code": code, "state": state}).status_code == 403
    )
    assert SESSION_COOKIE not in c.cookies and SESSION_COOKIE not in other.cookies


def test_not_configured(demo_copy: DemoDB) -> None:
    with TestClient(create_app(web_settings(demo_copy.path))) as c:
        assert 'id="oidc"' not in c.get("/inloggen").text
        assert c.get("/inloggen/oidc").status_code == 404
