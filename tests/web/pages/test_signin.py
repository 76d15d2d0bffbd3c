"""Sign-in for the pages: /inloggen opens a session cookie with an API key, /uitloggen ends it.

The cookie is HttpOnly, SameSite=Strict, Secure over TLS, with an expiry; every form that
changes something carries a CSRF token; every key use is audited; the API keeps header keys.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from geo_service.web import create_app
from geo_service.web.session import CSRF_COOKIE, SESSION_COOKIE
from tests.web_fixtures import DemoDB, demo_copy, demo_db, web_settings

__all__ = ["demo_copy", "demo_db"]

CAMERAS = "/cameras?municipality=GM0518"
ZONES = "/waarschuwingszones?municipality=GM0518"


@pytest.fixture
def app_client(demo_copy: DemoDB) -> Iterator[TestClient]:
    with TestClient(create_app(web_settings(demo_copy.path))) as c:
        yield c


def _token(page: Response) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def _cookie_header(resp: Response, name: str) -> str:
    (line,) = [v for k, v in resp.headers.multi_items() if k == "set-cookie" and v.startswith(name)]
    return line


def sign_in(c: TestClient, key: str, naar: str = "/kaart") -> Response:
    form = c.get("/inloggen", params={"naar": naar})
    assert form.status_code == 200
    return c.post(
        "/inloggen",
        data={"sleutel": key, "csrf": _token(form), "naar": naar},
        follow_redirects=False,
    )


def _audit(c: TestClient) -> list[tuple[str, str, dict]]:
    frame = c.app.state.store.list_audit(limit=500)  # type: ignore[attr-defined]
    return [
        (a, str(actor), json.loads(d))
        for a, actor, d in zip(frame["action"], frame["actor"], frame["detail"], strict=True)
    ]


def test_form_sets_a_strict_csrf_cookie(app_client: TestClient) -> None:
    form = app_client.get("/inloggen")
    assert form.status_code == 200
    assert 'name="sleutel"' in form.text and 'type="password"' in form.text
    cookie = _cookie_header(form, CSRF_COOKIE).lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=" in cookie
    assert "Niet aangemeld" in form.text


def test_analyst_signs_in_and_opens_the_analyst_pages(app_client: TestClient) -> None:
    c = app_client
    before = c.get(CAMERAS)
    assert before.status_code == 401
    # the old page said the key was unknown although none was sent
    assert "onbekend" not in before.text and "aangemelde analisten" in before.text
    assert 'href="/inloggen?naar=' in before.text
    key = demo_key(c, "analyst")
    key_id = c.app.state.store.lookup_key(key)[0]  # type: ignore[attr-defined]
    resp = sign_in(c, key, naar=CAMERAS)
    assert resp.status_code == 303 and resp.headers["location"] == CAMERAS
    cookie = _cookie_header(resp, SESSION_COOKIE).lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert "max-age=28800" in cookie and "secure" not in cookie  # plain http in the test
    page = c.get(CAMERAS)
    assert page.status_code == 200, page.text[:400]
    assert re.search(r'Aangemeld als <b id="rol">analist</b>', page.text)
    assert 'action="/uitloggen"' in page.text
    zones = c.get(ZONES)
    assert zones.status_code == 200
    # every use of the key through the session is audited, with the page it opened
    uses = [d for a, actor, d in _audit(c) if a == "key.use" and actor == f"key:{key_id}"]
    paths = {d["path"] for d in uses if d.get("via") == "sessie"}
    assert {"/cameras", "/waarschuwingszones"} <= paths
    assert any(a == "session.login" for a, _, _ in _audit(c))
    # the API takes header keys only: the cookie alone is anonymous there
    assert c.get("/api/v1/incidents", params={"municipality": "GM0518"}).status_code == 401


def demo_key(c: TestClient, role: str) -> str:
    """A fresh key of ``role`` in the app's store (the test's own copy)."""
    return c.app.state.store.create_key(role, f"sign-in {role}")[1]  # type: ignore[attr-defined]


def test_viewer_gets_the_dutch_403_page(app_client: TestClient) -> None:
    c = app_client
    assert sign_in(c, demo_key(c, "viewer")).status_code == 303
    page = c.get(CAMERAS)
    assert page.status_code == 403
    assert "geen toegang" in page.text and "voor analisten" in page.text
    assert re.search(r'Aangemeld als <b id="rol">kijker</b>', page.text)
    assert c.get(ZONES).status_code == 403


def test_sign_out_ends_the_session_also_for_a_copied_cookie(app_client: TestClient) -> None:
    c = app_client
    sign_in(c, demo_key(c, "analyst"))
    copied = c.cookies[SESSION_COOKIE]
    page = c.get(CAMERAS)
    assert page.status_code == 200
    assert 'action="/uitloggen"' in c.get("/uitloggen").text  # the button, when signed in
    # without the token the sign-out is refused and the session stays
    refused = c.post("/uitloggen", data={})
    assert refused.status_code == 403 and "controlecode" in refused.text
    assert c.get(CAMERAS).status_code == 200
    out = c.post("/uitloggen", data={"csrf": _token(page)})
    assert out.status_code == 200 and "U bent afgemeld" in out.text
    assert SESSION_COOKIE in _cookie_header(out, SESSION_COOKIE)  # removed (max-age=0)
    assert "max-age=0" in _cookie_header(out, SESSION_COOKIE).lower()
    assert c.get(CAMERAS).status_code == 401
    assert "U bent niet aangemeld" in c.get("/uitloggen").text
    # the ended session is ended in the store: a copy of the cookie is worthless
    c.cookies.set(SESSION_COOKIE, copied)
    assert c.get(CAMERAS).status_code == 401
    assert any(a == "session.logout" for a, _, _ in _audit(c))


def test_sign_in_without_csrf_token_is_refused(app_client: TestClient) -> None:
    c = app_client
    key = demo_key(c, "analyst")
    c.get("/inloggen")  # has the csrf cookie, but the form field is missing or forged
    for token in (None, "0" * 64):
        data = {"sleutel": key} if token is None else {"sleutel": key, "csrf": token}
        resp = c.post("/inloggen", data=data, follow_redirects=False)
        assert resp.status_code == 403 and "controlecode" in resp.text
        assert SESSION_COOKIE not in resp.headers.get("set-cookie", "")
    # a token of another browser (another csrf cookie) does not fit this one either
    other = TestClient(c.app)  # the same app, another browser (no second lifespan)
    foreign = _token(other.get("/inloggen"))
    assert c.post("/inloggen", data={"sleutel": key, "csrf": foreign}).status_code == 403
    assert not any(a == "session.login" for a, _, _ in _audit(c))


def test_wrong_key_is_a_dutch_401_and_audited(app_client: TestClient) -> None:
    c = app_client
    resp = sign_in(c, "gs_bestaatniet")
    assert resp.status_code == 401 and "onbekend of ingetrokken" in resp.text
    assert SESSION_COOKIE not in resp.headers.get("set-cookie", "")
    refused = [d for a, _, d in _audit(c) if a == "session.refused"]
    assert refused and "gs_bestaatniet" not in json.dumps(refused)


def test_revoked_key_or_expired_session_ends_access(app_client: TestClient) -> None:
    c = app_client
    store = c.app.state.store  # type: ignore[attr-defined]
    key_id, key = store.create_key("analyst", "revoke me")
    sign_in(c, key)
    assert c.get(CAMERAS).status_code == 200
    store.revoke_key(key_id)
    assert c.get(CAMERAS).status_code == 401
    sign_in(c, demo_key(c, "analyst"))
    assert c.get(CAMERAS).status_code == 200
    store.con.execute("UPDATE web_sessions SET expires_at = created_at")
    assert c.get(CAMERAS).status_code == 401


def test_forged_cookie_and_open_redirect(app_client: TestClient) -> None:
    c = app_client
    resp = sign_in(c, demo_key(c, "analyst"), naar="//evil.example/x")
    assert resp.headers["location"] == "/kaart"
    sid, _, mac = c.cookies[SESSION_COOKIE].rpartition(".")
    c.cookies.set(SESSION_COOKIE, f"{sid}x.{mac}")  # another id, the old HMAC
    assert c.get(CAMERAS).status_code == 401


def test_secure_cookie_behind_tls(demo_copy: DemoDB) -> None:
    with TestClient(create_app(web_settings(demo_copy.path))) as c:
        # behind a TLS proxy (X-Forwarded-Proto) and over https itself
        form = c.get("/inloggen", headers={"X-Forwarded-Proto": "https"})
        assert "secure" in _cookie_header(form, CSRF_COOKIE).lower()
        tls = TestClient(c.app, base_url="https://testserver")
        resp = sign_in(tls, demo_key(c, "analyst"))
        assert resp.status_code == 303
        assert "secure" in _cookie_header(resp, SESSION_COOKIE).lower()
        assert tls.get(CAMERAS).status_code == 200


def test_sign_in_works_when_anonymous_access_is_off(demo_copy: DemoDB) -> None:
    with TestClient(create_app(web_settings(demo_copy.path, anonymous_role=None))) as c:
        assert c.get("/kaart").status_code == 401
        assert sign_in(c, demo_key(c, "viewer")).status_code == 303
        assert c.get("/overzicht?municipality=GM0518&res=9").status_code == 200


def test_session_secret_is_kept_in_the_store(demo_copy: DemoDB) -> None:
    with TestClient(create_app(web_settings(demo_copy.path))) as c:
        first = c.app.state.session_secret  # type: ignore[attr-defined]
    with TestClient(create_app(web_settings(demo_copy.path))) as c:
        assert c.app.state.session_secret == first and len(first) == 64  # type: ignore[attr-defined]
    with TestClient(create_app(web_settings(demo_copy.path, session_secret="eigen"))) as c:  # noqa: S106
        assert c.app.state.session_secret == b"eigen"  # type: ignore[attr-defined]


def test_signed_in_browser_is_not_on_the_anonymous_budget(demo_copy: DemoDB) -> None:
    """An office behind one address: signed-in analysts must not share the anonymous budget."""
    settings = web_settings(demo_copy.path, anonymous_budget_requests=3, anonymous_budget_burst=3)
    with TestClient(create_app(settings)) as c:
        assert sign_in(c, demo_key(c, "analyst")).status_code == 303  # 2 anonymous requests
        statuses = {c.get("/kaart").status_code for _ in range(6)}
        assert statuses == {200}
        # a forged cookie is counted as anonymous again
        sid, _, mac = c.cookies[SESSION_COOKIE].rpartition(".")
        c.cookies.set(SESSION_COOKIE, f"{sid}.{'0' * len(mac)}")
        assert [c.get("/kaart").status_code for _ in range(3)][-1] == 429
