"""Issue 14 items 9 and 10: platform text is data wherever it lands.

As found: a handle equal to `__netwarden_csrf__` showed the viewer's CSRF token in the member table
(the cache placeholder swap ran over platform text); a 1,000-character handle or a 20,000-character
unbroken bio widened the queue to 8,000 px; a right-to-left override in a display name reversed the
text after it; 'İ' (which changes length under case folding) shifted highlighted spans onto the
wrong characters.
"""

from __future__ import annotations

import re

import lxml.html
import pytest
from fastapi.testclient import TestClient
from hostile_world import ACCOUNTS, CSRF_SLOT, LONG_HANDLE, RLO, SEED
from web_helpers import login

from netwarden.web.deps import urlpart


@pytest.fixture(scope="module")
def client(hostile_store):
    from netwarden.web.app import create_app

    app = create_app(store=hostile_store["store"], media_roots=[str(hostile_store["world"])], secure_cookies=False)
    with TestClient(app) as c:
        c.csrf = login(c, "moderator")
        yield c


def test_a_handle_equal_to_the_old_cache_placeholder_stays_text(client, hostile_store):
    html = client.get(f"/cases/{hostile_store['case']}").text
    doc = lxml.html.fromstring(html)
    row = doc.xpath(f"//tr[@data-account={SEED!r}]")[0]
    assert CSRF_SLOT in row.text_content() and client.csrf not in lxml.html.tostring(row).decode()
    # the token is only where the app puts it: csrf fields and the body's hx-headers
    places = [el for el in doc.iter() if isinstance(el.tag, str)
              and any(client.csrf in (v or "") for v in el.attrib.values())]
    assert places and all(el.get("name") == "csrf" or el.tag == "body" for el in places)
    assert html.count(client.csrf) == len(places)
    # the member form still posts the token (the field sits outside it, tied by form="members")
    assert doc.xpath("//input[@name='csrf'][@form='members']")[0].get("value") == client.csrf
    # and a decision made through that form is accepted (the HTMX fragment carries no token either)
    r = client.post(f"/cases/{hostile_store['case']}/decide", headers={"HX-Request": "true"},
                    data={"csrf": client.csrf, "decision": "escalate", "account_ids": [SEED]})
    assert r.status_code == 200 and client.csrf not in r.text and CSRF_SLOT in r.text
    client.post(f"/cases/{hostile_store['case']}/decide", data={"csrf": client.csrf, "decision": "reopen",
                                                                "account_ids": [SEED]})
    assert client.get(f"/accounts/{urlpart(SEED)}").status_code == 200


def test_highlights_land_on_the_displayed_characters_even_after_case_folding_changes_length():
    from netwarden.web.deps import highlight

    for text, needle in (("İİİİİİ kik: zz_fold_target vantro", "zz_fold_target"),
                         ("ǅİﬃ ẞ kik: zz_second gorvex", "zz_second"),
                         ("İstanbul KİK: ZZ_Hostile", "zz_hostile")):
        html = str(highlight(text, [needle]))
        marked = re.findall(r"<mark>(.*?)</mark>", html)
        assert [m.lower() for m in marked] == [needle], (text, html)
        assert lxml.html.fromstring(f"<p>{html}</p>").text_content() == text  # nothing lost or doubled


@pytest.mark.parametrize("aid", [a for a, v in ACCOUNTS.items() if "zz_" in v["bio"]])
def test_the_bio_page_marks_each_contact_exactly(client, aid):
    doc = lxml.html.fromstring(client.get(f"/accounts/{urlpart(aid)}").text)
    marks = [m.text_content() for m in doc.xpath("//p[@id='bio']//mark")]
    handles = re.findall(r"zz_\w+", ACCOUNTS[aid]["bio"])
    assert marks and all(m.lower().startswith("zz_") for m in marks)
    assert {m.lower() for m in marks} <= {h.lower() for h in handles}


def test_a_right_to_left_override_is_isolated_from_what_follows(client):
    doc = lxml.html.fromstring(client.get(f"/accounts/{urlpart(SEED)}").text)
    h1 = doc.xpath("//h1")[0]
    rlo = [b for b in h1.iter("bdi") if RLO in b.text_content()]
    assert rlo and all(RLO not in (t or "") for t in [h1.text] + [c.tail for c in h1.iter()])
    assert SEED in h1.text_content()


def test_long_values_are_cut_in_links_and_one_click_away_elsewhere(client, hostile_store):
    long_id = 'x,body,[data-x="/../../cases/1/refresh?"]'
    doc = lxml.html.fromstring(client.get(f"/cases/{hostile_store['case']}").text)
    link = doc.xpath(f"//tr[@data-account={long_id!r}]//a")[0]
    assert link.text_content() == LONG_HANDLE[:60] + "…"
    doc = lxml.html.fromstring(client.get(f"/accounts/{urlpart(long_id)}").text)
    full = doc.xpath("//h1//details[@class='long']//bdi[@class='full']")
    assert full and full[0].text_content() == LONG_HANDLE
    assert f"{len(LONG_HANDLE)} characters" in doc.xpath("string(//h1//summary)")
