"""The review flows in real headless Chromium (Playwright driving Debian's /usr/bin/chromium)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from web_helpers import HOSTILE_BIO, LiveServer, browser_login, make_app

from netwarden import audit
from netwarden.store.tables_cases import case_members

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def server(web_store):
    s = LiveServer(make_app(web_store, secure_cookies=True)).start()
    yield s
    s.stop()




def _login(browser, server, name):
    return browser_login(browser, server.url, name)


def test_review_flow_reveal_bulk_confirm_four_eyes(browser, server, web_store):
    store, cid = web_store["store"], web_store["case"]
    page = _login(browser, server, "moderator")
    assert page.locator("#cases tbody tr").count() >= 1
    page.click(f"#cases a[href='/cases/{cid}']")
    page.wait_for_url(f"**/cases/{cid}")
    page.wait_for_selector(".graph-box[data-ready='1']")  # the network view drew itself
    assert page.evaluate("document.getElementById('graph').nwCy.nodes('.member').length") == page.locator("tr.member").count()
    assert page.locator("tr.member").count() >= 10

    # the seed's page: media arrive blurred (server-side greyscale rendition + CSS blur)
    page.goto(f"{server.url}/accounts/{web_store['seed']}")
    fig = page.locator("figure.media").first
    img = fig.locator("img.blurred")
    assert "/blurred" in img.get_attribute("src")
    assert "blur" in img.evaluate("e => getComputedStyle(e).filter")
    assert page.locator("img.original").count() == 0
    mid = fig.get_attribute("data-media")
    fig.locator("button.reveal").click()
    tok = fig.get_attribute("id")  # a server-made token, not the platform id
    revealed = page.locator(f"#{tok} img.original")
    revealed.wait_for()
    page.wait_for_function(f"document.querySelector('#{tok} img.original').naturalWidth > 0")
    assert page.locator("img.original").count() == 1  # one item at a time
    with store.engine.connect() as conn:
        rows = audit.entries(conn, action="reveal", subject_id=mid)
    assert rows and rows[0]["actor"] == "moderator"

    # bulk-confirm the top core members
    page.goto(f"{server.url}/cases/{cid}")
    boxes = page.locator("input.pick[data-candidate]")
    picked = [boxes.nth(i).get_attribute("value") for i in range(3)]
    for i in range(3):
        boxes.nth(i).check()
    page.click("#bulk-confirm")
    assert "Confirm 3 members?" in page.locator("#confirm-count").inner_text()  # a bulk decision shows its count
    page.click("#confirm-decision")
    page.wait_for_selector(f"tr.member.state-confirmed[data-account='{picked[0]}']")
    with store.engine.connect() as conn:
        confirmed = set(conn.scalars(select(case_members.c.account_id).where(
            case_members.c.case_id == cid, case_members.c.state == "confirmed")))
        assert set(picked) <= confirmed
        assert {e["subject_id"] for e in audit.entries(conn, action="decision.confirm")} >= set(picked)

    # propose enforcement; the proposer cannot approve it
    page.select_option("select[name=action]", "suspend")
    page.click("#propose-enforcement")
    page.wait_for_selector("#decisions td.state:text('pending')")
    assert page.locator("#decisions button.approve").count() == 0

    # a second reviewer approves; enforcement is queued
    page2 = _login(browser, server, "moderator2")
    page2.goto(f"{server.url}/cases/{cid}")
    page2.click("#decisions button.approve")
    page2.wait_for_selector("#decisions td.state:text('approved')")
    assert page2.locator("#delivery tbody tr").count() >= 3
    assert "pending" in page2.locator("#delivery").inner_text()
    with store.engine.connect() as conn:
        assert audit.verify(conn).ok
        assert audit.entries(conn, action="enforce.approve")[0]["actor"] == "moderator2"
    assert not page.errors and not page2.errors


def test_viewer_sees_blur_and_cannot_reveal(browser, server, web_store):
    page = _login(browser, server, "viewer")
    page.goto(f"{server.url}/accounts/{web_store['seed']}")
    assert page.locator("figure.media img.blurred").count() >= 1
    assert page.locator("button.reveal").count() == 0
    mid = page.locator("figure.media").first.get_attribute("data-media")
    status = page.evaluate(
        """async (mid) => {
            const csrf = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];
            const r = await fetch('/media/' + mid + '/reveal', {method: 'POST', headers: {'X-CSRF-Token': csrf}});
            return r.status; }""", mid)
    assert status == 403


def test_request_without_csrf_token_is_refused(browser, server, web_store):
    page = _login(browser, server, "triage")
    page.goto(f"{server.url}/cases/{web_store['case']}")
    seed = web_store["seed"]
    status = page.evaluate(
        """async (seed) => {
            const body = new URLSearchParams({decision: 'clear', account_ids: seed});
            const r = await fetch(location.pathname + '/decide', {method: 'POST', body});
            return r.status; }""", seed)
    assert status == 403
    with web_store["store"].engine.connect() as conn:
        state = conn.scalar(select(case_members.c.state).where(case_members.c.case_id == web_store["case"],
                                                               case_members.c.account_id == seed))
    assert state != "cleared"


def test_hostile_bio_shows_as_text_and_runs_nothing(browser, server, web_store):
    page = _login(browser, server, "viewer")
    page.goto(f"{server.url}/accounts/{web_store['hostile']}")
    bio = page.locator("#bio")
    assert HOSTILE_BIO.split(" kik:")[0] in bio.inner_text()
    assert bio.locator("script, img").count() == 0
    assert bio.locator("mark").inner_text() == "zz_hostile"
    assert page.evaluate("() => window.__pwned === undefined")
    assert not page.errors


def test_keyboard_shortcuts_confirm_the_focused_member(browser, server, web_store):
    page = _login(browser, server, "triage")
    page.goto(f"{server.url}/cases/{web_store['case']}")
    idx = page.evaluate("""() => Array.from(document.querySelectorAll('tr.row'))
                               .findIndex(r => r.querySelector('input.pick[data-candidate]'))""")
    assert idx >= 0
    for _ in range(idx + 1):
        page.keyboard.press("j")
    row = page.locator("tr.row.focus")
    account = row.get_attribute("data-account")
    page.keyboard.press("x")
    page.keyboard.press("c")
    page.wait_for_selector(f"tr.member.state-confirmed[data-account='{account}']")
    with web_store["store"].engine.connect() as conn:
        assert audit.entries(conn, action="decision.confirm", subject_id=account)[0]["actor"] == "triage"
