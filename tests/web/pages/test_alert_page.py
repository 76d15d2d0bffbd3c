"""/waarschuwingszones speaks Dutch only, has the same gemeente list as the other pages and is
in the navigation (issue 22)."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from tests.web_fixtures import DemoDB, client, demo_db

__all__ = ["client", "demo_db"]

#: English words the page used to show (the analysis' bilingual texts, the legend).
ENGLISH = ("near-repeat", "significant Knox", "contiguous", "given", "origin band", "(knox)")


def _text(page: str) -> str:
    page = re.sub(r'srcdoc="[^"]*"', "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_alert_page_is_dutch_with_a_gemeente_list(client: TestClient, demo_db: DemoDB) -> None:
    resp = client.get(
        "/waarschuwingszones?municipality=GM0518", headers={"X-API-Key": demo_db.analyst}
    )
    assert resp.status_code == 200
    page = resp.text
    select = re.search(r'<select name="municipality">(.*?)</select>', page, re.S)
    assert select, "no gemeente list"
    assert re.search(r'<option value="GM0518" selected>', select.group(1))
    assert select.group(1).count("<option") >= 2  # every municipality of the store
    assert '<select name="category">' in page
    assert '<input name="municipality"' not in page  # the old free-text box
    text = _text(page)
    for word in ENGLISH:
        assert word not in text, word
    # the map document too: its legend and popups
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', page, re.S).group(1))  # type: ignore[union-attr]
    assert "near-repeat" not in srcdoc and "Zone 1" in srcdoc
    assert re.search(r"Zones sinds \d{1,2}-\d{1,2}-\d{4}", text)
    assert "Waarom: " in text and "Knox-toets" in text


def test_alert_page_is_in_the_navigation(client: TestClient) -> None:
    page = client.get("/kaart").text
    assert '<a href="/waarschuwingszones">Waarschuwingszones</a>' in page


def test_expired_zones_are_marked_and_listed_last(client: TestClient, demo_db: DemoDB) -> None:
    page = client.get(
        "/waarschuwingszones?municipality=GM0518", headers={"X-API-Key": demo_db.analyst}
    ).text
    rows = re.findall(
        r'<tr class="(actief|verlopen)" data-status="\1"><th class="l" title="[^"]*">(\d+)</th>'
        r'\s*<td class="l">(actief|verlopen)</td>',
        page,
    )
    statuses = [s for s, _, _ in rows]
    assert "actief" in statuses and "verlopen" in statuses  # the demo window holds both
    # every active zone before every expired one, each row saying which it is
    assert statuses == sorted(statuses, key=lambda s: s == "verlopen")
    assert all(s == said for s, _, said in rows)
    assert [int(n) for _, n, _ in rows] == list(range(1, len(rows) + 1))  # numbered in order
    # the map greys the expired zones and says so in the tooltip
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', page, re.S).group(1))  # type: ignore[union-attr]
    assert f"Zone {len(rows)} (verlopen)" in srcdoc and "Zone 1 (actief)" in srcdoc
