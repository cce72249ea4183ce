"""Issue 14 items 3, 4 and 5: four-eyes no single person can get around, and closed cases are read-only.

As found: an approved action used the member list frozen at proposal time (a member cleared after
the proposal was still suspended); an admin approved their own action from a second account they
created; one `l` cleared 203 members and put 53 PDQ hashes in the negative bank with no count, no
confirmation and no second reviewer; a closed case took refresh, decide, notes, enforce, approve.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from web_helpers import PASSWORD, login, make_app

from netwarden import audit, cases
from netwarden.store import media_banks as mb
from netwarden.store.tables_cases import case_members, case_notes, decisions


@pytest.fixture(scope="module")
def app(web_store):
    return make_app(web_store)


def _client(app, name):
    c = TestClient(app)
    c.csrf = login(c, name)
    return c


def _members(store, cid, state=None):
    q = select(case_members.c.account_id, case_members.c.state).where(case_members.c.case_id == cid)
    with store.engine.connect() as conn:
        rows = dict(conn.execute(q).all())
    return sorted(a for a, s in rows.items() if state is None or s == state)


def _decide(c, cid, decision, ids, **extra):
    return c.post(f"/cases/{cid}/decide", data={"csrf": c.csrf, "decision": decision, "account_ids": ids, **extra},
                  headers={"HX-Request": "true"})


def _new_case(web_store, n=6):
    store = web_store["store"]
    with store.engine.connect() as conn:
        ms = cases.members(conn, web_store["case"])
    return cases.create_case(store, [cases.Member(m["account_id"], 1.0, i, False, {}, [])
                                     for i, m in enumerate(ms[:n])], "test", origin="seeds")


def _pending(store, cid):
    with store.engine.connect() as conn:
        return [d for d in cases.case_decisions(conn, cid) if d["state"] == "pending"]


def test_a_bulk_decision_shows_its_count_and_waits_for_confirmation(app, web_store):
    store, cid = web_store["store"], _new_case(web_store)
    ids = _members(store, cid)[:3]
    c = _client(app, "triage")
    r = _decide(c, cid, "confirm", ids)
    assert r.status_code == 200 and 'id="confirm-count"' in r.text and "Confirm 3 members?" in r.text
    assert _members(store, cid, "confirmed") == []  # nothing decided yet
    assert _decide(c, cid, "confirm", ids, confirm="2").status_code == 200
    assert _members(store, cid, "confirmed") == []  # a count that is not the selection's is no confirmation
    hidden = re.findall(r'name="account_ids" value="([^"]+)"', r.text)
    assert sorted(hidden) == ids
    r = _decide(c, cid, "confirm", ids, confirm="3")
    assert r.status_code == 200 and _members(store, cid, "confirmed") == ids
    # one member, no negative bank: no confirmation step (the keyboard's single-row decision)
    one = _members(store, cid, "candidate")[:1]
    assert _decide(c, cid, "escalate", one).status_code == 200 and _members(store, cid, "escalated") == one
    # and every decision can be undone from the UI: Reopen selected
    assert 'value="reopen"' in c.get(f"/cases/{cid}").text
    _decide(c, cid, "reopen", one)
    assert one[0] in _members(store, cid, "candidate")


def test_approval_acts_on_the_members_current_states_and_shows_that_list(app, web_store):
    store, cid = web_store["store"], _new_case(web_store)
    ids = _members(store, cid)[:3]
    mod, mod2 = _client(app, "moderator"), _client(app, "moderator2")
    _decide(mod, cid, "confirm", ids, confirm="3")
    mod.post(f"/cases/{cid}/enforce", data={"csrf": mod.csrf, "action": "suspend"})
    (d,) = _pending(store, cid)
    _decide(mod, cid, "clear", ids[:1])  # cleared after the proposal
    page = mod2.get(f"/cases/{cid}").text
    assert "2 if approved now, 1 dropped since the proposal" in page
    seen = re.search(r'name="seen" value="([^"]+)"', page).group(1)
    assert seen == cases.targets_digest(ids[1:])
    r = mod2.post(f"/decisions/{d['id']}/approve", data={"csrf": mod2.csrf, "case_id": cid, "seen": seen},
                  follow_redirects=False)
    assert r.status_code == 303
    with store.engine.connect() as conn:
        done = next(x for x in cases.case_decisions(conn, cid) if x["id"] == d["id"])
        queued = {q["account"] for q in cases.enforcement_status(conn, cid) if q["action"] == "suspend"}
        entry = audit.entries(conn, action="enforce.approve")[0]
    assert done["state"] == "approved" and sorted(done["account_ids"]) == ids[1:]
    assert queued == set(ids[1:])  # the cleared member is not suspended
    assert entry["actor"] == "moderator2" and entry["detail"]["dropped"] == ids[:1]


def test_an_approval_of_a_list_that_changed_since_it_was_shown_is_refused(app, web_store):
    store, cid = web_store["store"], _new_case(web_store)
    ids = _members(store, cid)[:2]
    mod, mod2 = _client(app, "moderator"), _client(app, "moderator2")
    _decide(mod, cid, "confirm", ids, confirm="2")
    mod.post(f"/cases/{cid}/enforce", data={"csrf": mod.csrf, "action": "restrict"})
    seen = re.search(r'name="seen" value="([^"]+)"', mod2.get(f"/cases/{cid}").text).group(1)
    _decide(mod, cid, "clear", ids[:1])
    r = mod2.post(f"/decisions/{_pending(store, cid)[0]['id']}/approve",
                  data={"csrf": mod2.csrf, "case_id": cid, "seen": seen})
    assert r.status_code == 400 and "changed since you loaded" in r.text
    assert len(_pending(store, cid)) == 1


def test_an_admin_cannot_approve_their_own_action_from_an_account_they_create(app, web_store):
    store, cid = web_store["store"], _new_case(web_store)
    ids = _members(store, cid)[:2]
    admin = _client(app, "admin")
    _decide(admin, cid, "confirm", ids, confirm="2")
    admin.post(f"/cases/{cid}/enforce", data={"csrf": admin.csrf, "action": "suspend"})
    (d,) = _pending(store, cid)
    r = admin.post(f"/decisions/{d['id']}/approve", data={"csrf": admin.csrf, "case_id": cid, "seen": "x"})
    assert r.status_code == 400 and "second reviewer" in r.text
    r = admin.post("/admin/users", data={"csrf": admin.csrf, "name": "sock", "role": "moderator",
                                         "password": PASSWORD}, follow_redirects=False)
    assert r.status_code in (200, 303)
    sock = _client(app, "sock")
    page = sock.get(f"/cases/{cid}").text
    assert 'class="approve"' not in page  # no button for a decision it may not approve
    r = sock.post(f"/decisions/{d['id']}/approve",
                  data={"csrf": sock.csrf, "case_id": cid, "seen": cases.targets_digest(ids)})
    assert r.status_code == 400 and "did not appoint" in r.text
    assert _pending(store, cid)[0]["id"] == d["id"]
    mod2 = _client(app, "moderator2")  # an account the proposer did not create can
    r = mod2.post(f"/decisions/{d['id']}/approve",
                  data={"csrf": mod2.csrf, "case_id": cid, "seen": cases.targets_digest(ids)}, follow_redirects=False)
    assert r.status_code == 303 and _pending(store, cid) == []


def _matched(web_store, cid):
    store = web_store["store"]
    with store.engine.connect() as conn:
        return sorted(m["account_id"] for m in cases.members(conn, web_store["case"])
                      if any(r["kind"] == "media_match" for r in m["reasons"]))


def _negative_entries(store) -> int:
    with store.engine.connect() as conn:
        try:
            bank = mb.bank_row(conn, cases.NEGATIVE_BANK)
        except Exception:
            return 0
        return len(list(mb.entries(conn, bank["id"])))


def test_negative_bank_entries_from_a_clear_wait_for_a_second_reviewer_and_can_be_withdrawn(app, web_store):
    store = web_store["store"]
    matched = _matched(web_store, web_store["case"])[:2]
    assert matched, "the world's network posts known media"
    cid = cases.create_case(store, [cases.Member(a, 1.0, i, False, {}, []) for i, a in enumerate(matched)],
                            "test", origin="seeds")
    mod, mod2 = _client(app, "moderator"), _client(app, "moderator2")
    before = _negative_entries(store)
    r = _decide(mod, cid, "clear", matched[:1], negative_bank="on")
    assert "Clear 1 member?" in r.text and 'id="confirm-entries"' in r.text  # even one member is confirmed
    n = int(re.search(r'id="confirm-entries">(\d+)<', r.text).group(1))
    assert n >= 1 and _members(store, cid, "cleared") == []
    _decide(mod, cid, "clear", matched[:1], negative_bank="on", confirm="1")
    assert _members(store, cid, "cleared") == matched[:1]
    assert _negative_entries(store) == before  # not yet: a proposal
    (d,) = _pending(store, cid)
    assert d["action"] == cases.NEGATIVE_BANK_ACTION and d["decided_by"] == "moderator"
    assert mod.post(f"/decisions/{d['id']}/approve",
                    data={"csrf": mod.csrf, "case_id": cid, "seen": cases.targets_digest(matched[:1])}
                    ).status_code == 400
    r = mod2.post(f"/decisions/{d['id']}/approve", follow_redirects=False,
                  data={"csrf": mod2.csrf, "case_id": cid, "seen": cases.targets_digest(matched[:1])})
    assert r.status_code == 303
    assert _negative_entries(store) > before
    with store.engine.connect() as conn:
        assert audit.entries(conn, action="bank.negative_add")[0]["actor"] == "moderator2"
    assert "Withdraw the negative-bank entries" in mod.get(f"/cases/{cid}").text
    r = mod.post(f"/decisions/{d['id']}/withdraw", data={"csrf": mod.csrf, "case_id": cid}, follow_redirects=False)
    assert r.status_code == 303 and _negative_entries(store) == before
    with store.engine.connect() as conn:
        w = audit.entries(conn, action="negative_bank.withdraw")[0]
    assert w["actor"] == "moderator" and w["detail"]["bank_entries_removed"] >= 1


def test_a_closed_case_is_read_only_on_the_server_until_an_audited_reopen(app, web_store):
    store, cid = web_store["store"], _new_case(web_store)
    ids = _members(store, cid)[:2]
    mod, mod2 = _client(app, "moderator"), _client(app, "moderator2")
    _decide(mod, cid, "confirm", ids, confirm="2")
    mod.post(f"/cases/{cid}/enforce", data={"csrf": mod.csrf, "action": "suspend"})
    (d,) = _pending(store, cid)
    assert mod.post(f"/cases/{cid}/state", data={"csrf": mod.csrf, "state": "closed"},
                    follow_redirects=False).status_code == 303
    page = mod.get(f"/cases/{cid}").text
    assert 'id="case-closed"' in page and 'id="bulk-confirm"' not in page and "Add note" not in page

    def counts():
        with store.engine.connect() as conn:
            return (_members(store, cid, "confirmed"), conn.scalar(select(func.count()).select_from(case_notes)
                                                                  .where(case_notes.c.case_id == cid)),
                    conn.scalar(select(func.count()).select_from(decisions).where(decisions.c.case_id == cid)),
                    cases.get_case(conn, cid)["assignee"])

    before = counts()
    writes = [(mod, f"/cases/{cid}/refresh", {}), (mod, f"/cases/{cid}/decide",
                                                   {"decision": "clear", "account_ids": ids[:1]}),
              (mod, f"/cases/{cid}/notes", {"text": "after close"}), (mod, f"/cases/{cid}/assign", {"assignee": "x"}),
              (mod, f"/cases/{cid}/enforce", {"action": "restrict"}),
              (mod2, f"/decisions/{d['id']}/approve", {"case_id": cid, "seen": cases.targets_digest(ids)}),
              (mod2, f"/decisions/{d['id']}/reject", {"case_id": cid})]
    for c, url, data in writes:
        r = c.post(url, data={"csrf": c.csrf, **data}, follow_redirects=False)
        assert r.status_code == 409, (url, r.status_code)
        assert "is closed" in r.text
    assert counts() == before and _pending(store, cid)[0]["id"] == d["id"]
    r = mod.post(f"/cases/{cid}/state", data={"csrf": mod.csrf, "state": "open"}, follow_redirects=False)
    assert r.status_code == 303
    with store.engine.connect() as conn:
        assert audit.entries(conn, action="case.reopen", subject_id=str(cid))[0]["actor"] == "moderator"
    assert mod.post(f"/cases/{cid}/notes", data={"csrf": mod.csrf, "text": "reopened"},
                    follow_redirects=False).status_code == 303
