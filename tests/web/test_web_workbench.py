"""The reviewer's workbench (issue 18): search, the account page's decisions, history and conflict
warning, no raw JSON in view, the keyboard help and focus after a decision (the last in Chromium)."""

from __future__ import annotations

import re

import lxml.html
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from web_helpers import LiveServer, browser_login, login, make_app

from netwarden import cases, history, search
from netwarden.store import schema as t
from netwarden.store.tables_cases import case_members


@pytest.fixture(scope="module")
def client(web_store):
    with TestClient(make_app(web_store)) as c:
        c.csrf = login(c, "moderator")
        yield c


def _members(store, cid):
    with store.engine.connect() as conn:
        return cases.members(conn, cid)


def test_search_finds_by_handle_id_name_and_contact(web_store, client):
    store = web_store["store"]
    with store.engine.connect() as conn:
        acc = conn.execute(select(t.accounts).where(t.accounts.c.handle.is_not(None)).limit(1)).first()
        contact = conn.execute(select(t.contacts).where(t.contacts.c.handle == "zz_hostile")).first()
        assert search.accounts(conn, acc.id)[0]["id"] == acc.id  # exact id first
        assert acc.id in [a["id"] for a in search.accounts(conn, acc.handle[1:-1].upper())]  # substring, any case
        if acc.display_name and len(acc.display_name) > 3:
            assert acc.id in [a["id"] for a in search.accounts(conn, acc.display_name[:4])]
        by_contact = search.accounts(conn, "zz_host")
        assert [a["id"] for a in by_contact] == [contact.account_id]
        assert by_contact[0]["matched"] == "kik contact zz_hostile"
        assert search.accounts(conn, "%") == [] and search.accounts(conn, "%%") == []  # wildcards are text
        assert search.accounts(conn, "_") == []  # shorter than MIN_CHARS
    r = client.get("/queue", params={"q": "zz_host"})
    doc = lxml.html.fromstring(r.text)
    links = doc.xpath("//section[@id='search-results']//a/@href")
    assert f"/accounts/{contact.account_id}" in links
    hostile = client.get("/queue", params={"q": "<script>x</script>"})
    assert "<script>x</script>" not in hostile.text and "No account matches." in hostile.text
    assert client.get("/api/queue", params={"q": "zz_host"}).json()["search"][0]["id"] == contact.account_id


def test_languages_come_from_the_store(web_store, client):
    with web_store["store"].engine.connect() as conn:
        langs = set(conn.scalars(select(t.posts.c.lang).where(t.posts.c.lang.is_not(None)).distinct()))
    doc = lxml.html.fromstring(client.get("/queue").text)
    shown = set(doc.xpath("//select[@name='lang']/option/@value")) - {""}
    assert shown == langs and shown


def test_account_page_decides_and_moves_to_the_next_undecided_member(web_store, client):
    store, cid = web_store["store"], web_store["case"]
    members = [m for m in _members(store, cid) if m["state"] == "candidate"]
    first, second = members[0]["account_id"], members[1]["account_id"]
    page = client.get(f"/accounts/{first}")
    doc = lxml.html.fromstring(page.text)
    assert doc.xpath(f"//form[@id='decide-{cid}']//button[@value='confirm']")
    # no raw JSON in view: signal details only inside a closed <details>
    for code in doc.xpath("//table[@id='signals']//code"):
        assert code.xpath("ancestor::details")
    r = client.post(f"/cases/{cid}/decide", headers={"X-CSRF-Token": client.csrf},
                    data={"decision": "confirm", "account_ids": [first], "then": "next", "note": "seen it"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/accounts/{second}?case={cid}"
    rows = lxml.html.fromstring(client.get(f"/accounts/{first}").text).xpath("//table[@id='history']//tr")
    texts = [" ".join(x.text_content().split()) for x in rows]
    assert any("candidate → confirmed in case #" in x and "seen it" in x and "moderator" in x for x in texts)
    assert any(f"in case #{cid}" in x and "rank" in x for x in texts)


def test_conflicting_decisions_across_cases_are_flagged(web_store, client):
    store, cid = web_store["store"], web_store["case"]
    aid = _members(store, cid)[3]["account_id"]
    other = cases.open_case(store, [aid], "test", top_k=20)
    with store.engine.begin() as conn:
        cases.decide_members(conn, cid, [aid], "confirm", "moderator")
        assert history.conflicts(conn, aid) == {}
        cases.decide_members(conn, other, [aid], "clear", "moderator2")
        assert history.conflicts(conn, aid) == {"confirmed": [cid], "cleared": [other]}
        assert history.conflicted(conn, [aid, web_store["seed"]]) == {aid}
    doc = lxml.html.fromstring(client.get(f"/accounts/{aid}").text)
    warn = doc.xpath("//p[@id='conflict']")
    assert warn and {f"/cases/{cid}", f"/cases/{other}"} <= set(warn[0].xpath(".//a/@href"))


def test_ties_on_the_account_page_name_handles(web_store, client):
    store = web_store["store"]
    seed = web_store["seed"]
    with store.engine.connect() as conn:
        handles = dict(conn.execute(select(t.accounts.c.id, t.accounts.c.handle)).all())
    doc = lxml.html.fromstring(client.get(f"/accounts/{seed}").text)
    items = doc.xpath("//ul[@id='ties']/li")
    assert items
    for li in items[:20]:
        ends = [a.get("href").rsplit("/", 1)[1] for a in li.xpath("./a")]
        assert seed in ends
        assert [a.text_content() for a in li.xpath("./a")] == [f"@{handles[e] or e}" for e in ends]




@pytest.mark.slow
def test_keyboard_help_focus_after_decision_and_deciding_from_the_account_page(web_store, browser):
    store, cid = web_store["store"], web_store["case"]
    server = LiveServer(make_app(web_store, secure_cookies=True)).start()
    try:
        page = browser_login(browser, server.url, "moderator")
        errors = page.errors
        page.goto(f"{server.url}/cases/{cid}")
        page.wait_for_selector(".graph-box[data-ready='1']")
        assert page.locator("#keys-help").is_hidden()
        page.keyboard.press("?")
        assert page.locator("#keys-help").is_visible()
        page.keyboard.press("Escape")
        assert page.locator("#keys-help").is_hidden()
        # focus the first candidate row, clear it with `l`: focus moves to the next candidate
        rows = page.locator("tr.row")
        idx = next(i for i in range(rows.count()) if "state-candidate" in rows.nth(i).get_attribute("class"))
        for _ in range(idx + 1):
            page.keyboard.press("j")
        decided = rows.nth(idx).get_attribute("data-account")
        page.keyboard.press("l")
        page.wait_for_selector(f"tr.row.state-cleared[data-account='{decided}']")
        focused = page.locator("tr.row.focus")
        assert focused.count() == 1
        assert "state-candidate" in focused.get_attribute("class")
        assert focused.get_attribute("data-account") != decided
        # the account page: `c` confirms it and opens the case's next undecided member
        target = focused.get_attribute("data-account")
        page.goto(f"{server.url}/accounts/{target}")
        page.keyboard.press("c")
        page.wait_for_url(re.compile(rf".*/accounts/[^/]+\?case={cid}$"))
        assert target not in page.url
        with store.engine.connect() as conn:
            state = conn.execute(select(case_members.c.state).where(
                case_members.c.case_id == cid, case_members.c.account_id == target)).scalar()
        assert state == "confirmed"
        page.keyboard.press("/")
        assert page.evaluate("document.activeElement.id") == "search-q"
        assert errors == []
    finally:
        server.stop()


def test_member_reasons_read_as_sentences_with_handles(web_store, client):
    from netwarden import explain

    store, cid = web_store["store"], web_store["case"]
    with store.engine.connect() as conn:
        members = cases.members(conn, cid)
        words = explain.case_reasons(conn, cid, members)
        handles = dict(conn.execute(select(t.accounts.c.id, t.accounts.c.handle)).all())
        contacts = {(r.platform, r.handle): r.account_id for r in conn.execute(select(t.contacts))}
    core = [m for m in members if m["core"]]
    assert core
    for m in core[:20]:
        texts = [w["text"] for w in words[m["account_id"]]]
        assert any(x.startswith("tied to ") and " of this case" in x for x in texts)
        assert not any(f"member of case {cid} " in x for x in texts)  # not circular
    # a shared contact is said with how many members share it, shortened
    shared = [(aid, w["text"]) for aid, ws in words.items() for w in ws if w["kind"] == "contact"]
    assert shared
    for aid, text in shared[:10]:
        assert text.startswith(("shares the ", "shows the "))
        assert not any(h in text for (p, h), a in contacts.items() if a == aid and len(h) > 6)  # shortened
    assert explain.short("qwerty1922") == "qw\u202622"
    assert explain.step_words("like+handle:kik:abcdef12") == "like, shared Kik handle ab\u202612"
    assert explain.step_words("follow+media:entry:demo-known/23") == "follow, media matching the same bank entry (demo-known/23)"
    # the member table shows them, and paths with handles linking to accounts
    doc = lxml.html.fromstring(client.get(f"/cases/{cid}").text)
    row = doc.xpath(f"//tr[@data-account='{core[1]['account_id']}']")[0]
    assert "tied to " in row.text_content()
    path_links = row.xpath(".//td[@class='path']/a")
    assert path_links and all(a.text_content() == "@" + (handles[a.get("href").rsplit("/", 1)[1]] or "")
                              for a in path_links if handles.get(a.get("href").rsplit("/", 1)[1]))
    steps = row.xpath(".//td[@class='path']/span[@class='tie']")
    assert len(steps) == len(path_links) - 1 and all(s.text_content().startswith("\u2014") for s in steps)
    assert "+" not in row.xpath(".//td[@class='path']")[0].text_content()  # no internal labels


def test_the_approver_sees_which_accounts_with_their_state_and_reasons(web_store, client):
    store = web_store["store"]
    cid = cases.open_case(store, [web_store["seed"]], "test", top_k=30)
    with store.engine.begin() as conn:
        ids = [m["account_id"] for m in cases.members(conn, cid)][:4]
        cases.decide_members(conn, cid, ids, "confirm", "moderator")
        handles = dict(conn.execute(select(t.accounts.c.id, t.accounts.c.handle).where(t.accounts.c.id.in_(ids))).all())
    r = client.post(f"/cases/{cid}/enforce", headers={"X-CSRF-Token": client.csrf}, data={"action": "suspend"},
                    follow_redirects=False)
    assert r.status_code == 303
    with TestClient(make_app(web_store)) as other:
        login(other, "moderator2")
        doc = lxml.html.fromstring(other.get(f"/cases/{cid}").text)
    rows = doc.xpath("//table[contains(@class,'approval-evidence')]/tbody/tr")
    shown = {tr.xpath("./td[1]/a/@href")[0].rsplit("/", 1)[1]: [td.text_content() for td in tr.xpath("./td")]
             for tr in rows}
    assert set(shown) == set(ids)
    for aid, cells in shown.items():
        assert cells[0].startswith("@" + (handles[aid] or aid)) and cells[1] == "confirmed"


def test_confidence_combines_the_measured_share_with_this_platforms_decisions():
    from netwarden import confidence

    prior = confidence.MEASURED[(True, 3)]
    assert prior[0] >= confidence.PRIOR_WEIGHT and prior[1] == prior[0]
    first = confidence.estimate(True, 3, {})
    assert first["p"] == 1.0 and first["decisions"] == 0 and "generated worlds" in first["text"]
    # 20 decisions here, all cleared: the prior counts as 20, so the share halves
    after = confidence.estimate(True, 3, {(True, 3): (20, 0)})
    assert after["p"] == 0.5 and "20 decided here" in after["text"]
    assert confidence.estimate(False, 0, {})["p"] is None  # nothing measured, nothing decided
    assert confidence.estimate(False, 0, {(False, 0): (4, 1)})["p"] == 0.25
    assert [confidence.band(x, 10.0) for x in (0.5, 2, 4, 9, 15, 30)] == [0, 1, 2, 3, 4, 5]


def test_members_show_a_confidence_that_follows_decisions(web_store, client):
    from netwarden import confidence

    store = web_store["store"]
    cid = cases.open_case(store, [web_store["seed"]], "test", top_k=60)
    with store.engine.connect() as conn:
        members = cases.members(conn, cid)
        med = confidence.core_median(members)
        decided = confidence.decided_counts(conn)
    core = [m for m in members if m["core"] and m["state"] == "candidate"]
    key = (True, confidence.band(core[0]["score"], med))
    before = confidence.estimate(*key, decided)["p"]
    same_band = [m["account_id"] for m in core if confidence.band(m["score"], med) == key[1]][:10]
    with store.engine.begin() as conn:
        cases.decide_members(conn, cid, same_band, "clear", "moderator")
        n, hits = confidence.decided_counts(conn)[key]
    assert n >= len(same_band) > 0
    assert confidence.estimate(*key, {key: (n, hits)})["p"] < (before if before is not None else 1.01)
    doc = lxml.html.fromstring(client.get(f"/cases/{cid}").text)
    cell = doc.xpath(f"//tr[@data-account='{core[-1]['account_id']}']/td[@class='confidence']")[0]
    assert cell.text_content().endswith("%") and "similar accounts" in cell.get("title")


@pytest.mark.slow
def test_side_panel_decides_and_moves_on_to_the_next_member(web_store, browser):
    store = web_store["store"]
    cid = cases.open_case(store, [web_store["seed"]], "test", top_k=40)
    server = LiveServer(make_app(web_store, secure_cookies=True)).start()
    try:
        page = browser_login(browser, server.url, "moderator2")
        errors = page.errors
        page.goto(f"{server.url}/cases/{cid}")
        page.wait_for_selector(".graph-box[data-ready='1']")
        row = page.locator("tr.member.state-candidate").nth(2)
        aid = row.get_attribute("data-account")
        row.locator("td").nth(1).click()  # a row click selects the member: the panel shows it
        page.wait_for_selector(f"#side-panel .panel[data-account='{aid}']")
        assert "tied to " in page.locator("#side-panel").inner_text()
        page.click("#side-panel button[value=confirm]")
        page.wait_for_selector(f"tr.member.state-confirmed[data-account='{aid}']")  # the table reloaded
        nxt = page.locator("#side-panel .panel").get_attribute("data-account")
        assert nxt != aid
        with store.engine.connect() as conn:
            states = {m["account_id"]: m["state"] for m in cases.members(conn, cid)}
        assert states[aid] == "confirmed" and states[nxt] == "candidate"
        assert page.evaluate("document.getElementById('graph').nwCy.$(':selected').map(n => n.data('acc'))") == [nxt]
        assert errors == []
    finally:
        server.stop()


def test_labels_are_added_removed_audited_and_in_the_history(web_store, client, monkeypatch, tmp_path):
    from netwarden import audit, labels
    from netwarden.config import load

    aid = web_store["seed"]
    h = {"X-CSRF-Token": client.csrf}
    assert client.post(f"/accounts/{aid}/labels", headers=h, data={"label": "  Ban   Evader "},
                       follow_redirects=False).status_code == 303
    client.post(f"/accounts/{aid}/labels", headers=h, data={"label": "ban evader"})  # the same label: no change
    doc = lxml.html.fromstring(client.get(f"/accounts/{aid}").text)
    assert [x.text_content() for x in doc.xpath("//p[@id='labels']/span[contains(@class,'label')]")] == ["ban evader"]
    assert client.post(f"/accounts/{aid}/labels", headers=h, data={"label": "<b>x</b>"}).status_code == 400
    # the allowed labels come from the app's settings (here a config file's), not from os.environ
    (tmp_path / "netwarden.toml").write_text('labels = ["ban evader", " Trusted Reporter"]\n')
    monkeypatch.setenv("NETWARDEN_LABELS", "other")
    monkeypatch.setattr(client.app.state, "settings", load(env={}, cwd=tmp_path))
    assert client.post(f"/accounts/{aid}/labels", headers=h, data={"label": "other"}).status_code == 400
    client.post(f"/accounts/{aid}/labels", headers=h, data={"label": "ban evader", "remove": "1"})
    with web_store["store"].engine.connect() as conn:
        assert labels.of(conn, aid) == []
        acts = [e["action"] for e in audit.entries(conn, subject_type="account", subject_id=aid)]
        assert acts.count("label.add") == 1 and acts.count("label.remove") == 1
    hist = " ".join(lxml.html.fromstring(client.get(f"/accounts/{aid}").text).xpath("//table[@id='history']")[0]
                    .text_content().split())
    assert "label added: ban evader" in hist and "label removed: ban evader" in hist
