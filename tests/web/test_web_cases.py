"""Risk with reasons, cases, member decisions, four-eyes enforcement and the demo command."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from netwarden import audit, cases, risk
from netwarden.errors import UserError
from netwarden.store import schema as t
from netwarden.store.tables_cases import account_risk


def test_media_match_outweighs_contacts_and_terms():
    media = risk.score("a", [{"kind": "media_match", "subject_type": "account", "subject_id": "a", "weight": 1.0,
                              "detail": {"label": "known-1", "distance": 0, "bank": "b", "media_id": "m1",
                                         "signal_type": "md5"}}])
    words = risk.score("b", [{"kind": "term_hit", "subject_type": "post", "subject_id": "p1", "weight": 2.0,
                              "detail": {"term": "#quixfen", "term_id": "t1", "category": "signal_hashtag"}}],
                       contacts=[{"platform": "kik", "handle": "x", "field": "bio"}])
    near = risk.score("c", [], proximity=[{"case_id": 1, "rank": 5, "core": False}])
    assert media.score > words.score > near.score > 0
    assert "known-1" in media.reasons[0]["text"] and "distance 0" in media.reasons[0]["text"]
    assert any("together with term hits" in r["text"] for r in words.reasons)
    assert any("kik:x" in r["text"] for r in words.reasons)
    assert sum(r["points"] for r in words.reasons) == pytest.approx(words.score)
    far = risk.score("d", [{"kind": "media_match", "subject_type": "account", "subject_id": "d", "weight": 1.0,
                            "detail": {"label": "k", "distance": 30, "bank": "b", "media_id": "m",
                                       "signal_type": "pdq"}}])
    assert far.score < media.score  # a farther PDQ match counts less


def test_scores_follow_new_signals(web_store):
    store = web_store["store"]
    with store.engine.begin() as conn:
        risk.refresh(conn)
        quiet = conn.scalar(select(t.accounts.c.id).where(t.accounts.c.id.not_in(
            select(account_risk.c.account_id))).limit(1))
        assert risk.get(conn, quiet).score == 0
        conn.execute(t.signals.insert().values(
            key=f"test:{quiet}", account_id=quiet, subject_type="account", subject_id=quiet, kind="media_match",
            weight=1.0, created_at="2026-01-01T00:00:00Z",
            detail=json.dumps({"label": "known-x", "distance": 4, "bank": "demo-known", "media_id": "mx",
                               "signal_type": "pdq"})))
        assert risk.refresh(conn) >= 1
        r = risk.get(conn, quiet)
    assert r.score > 50 and "known-x" in r.reasons[0]["text"]


def test_case_holds_ranked_members_with_reasons_and_finds_the_network(web_store):
    store, cid = web_store["store"], web_store["case"]
    net = web_store["truth"]["networks"][0]
    with store.engine.connect() as conn:
        c = cases.get_case(conn, cid)
        ms = cases.members(conn, cid)
    assert c["seeds"] == [web_store["seed"]] and c["state"] == "open"
    assert [m["rank"] for m in ms] == sorted(m["rank"] for m in ms)
    assert ms[0]["account_id"] == web_store["seed"] and ms[0]["reasons"]
    found = {m["account_id"] for m in ms} & set(net["members"])
    assert len(found) >= 5
    with pytest.raises(UserError, match="not in the store"):
        cases.open_case(store, ["no-such-account"], "test")


def test_queue_orders_by_risk_and_filters(web_store):
    with web_store["store"].engine.begin() as conn:
        risk.refresh(conn)
        q = cases.account_queue(conn, limit=50)
        assert [a["score"] for a in q] == sorted((a["score"] for a in q), reverse=True)
        media = cases.account_queue(conn, kind="media_match")
        assert media and all("media_match" in {r["kind"] for r in a["reasons"]} for a in media)
        es = cases.account_queue(conn, lang="es", limit=500)
        ids = {a["account_id"] for a in es}
        for a in list(ids)[:5]:
            assert conn.scalar(select(t.posts.c.id).where(t.posts.c.author_id == a, t.posts.c.lang == "es").limit(1))
        cand = cases.account_queue(conn, state="candidate", limit=500)
        assert cand and all(a["account_id"] in {m["account_id"] for m in cases.members(conn, web_store["case"])}
                            for a in cand)
        assert cases.list_cases(conn)[0]["id"] == web_store["case"]


def test_decisions_are_audited_and_four_eyes_holds(web_store, monkeypatch):
    store, cid = web_store["store"], web_store["case"]
    with store.engine.connect() as conn:
        ids = [m["account_id"] for m in cases.members(conn, cid)][:4]
    with store.engine.begin() as conn:
        assert cases.decide_members(conn, cid, ids[:3], "confirm", "alice") == 3
        cases.decide_members(conn, cid, ids[3:], "escalate", "alice")
        did = cases.request_enforcement(conn, cid, "suspend", "alice")
    with store.engine.begin() as conn, pytest.raises(UserError, match="second reviewer"):
        cases.approve(conn, did, "alice")
    with store.engine.begin() as conn:
        cases.approve(conn, did, "bob")
    with store.engine.connect() as conn:
        d = cases.case_decisions(conn, cid)[-1]
        assert d["state"] == "approved" and d["approved_by"] == "bob" and sorted(d["account_ids"]) == sorted(ids[:3])
        queued = cases.enforcement_status(conn, cid)
        assert {q["account"] for q in queued if q["action"] == "suspend"} == set(ids[:3])
        actions = [e["action"] for e in audit.entries(conn, limit=50)]
        assert {"decision.confirm", "decision.escalate", "enforce.request", "enforce.approve"} <= set(actions)
        assert audit.verify(conn).ok
    with store.engine.begin() as conn:  # four-eyes off (settings.four_eyes false): approved at once
        did2 = cases.request_enforcement(conn, cid, "restrict", "alice", four_eyes=False)
    with store.engine.connect() as conn:
        assert next(d for d in cases.case_decisions(conn, cid) if d["id"] == did2)["state"] == "approved"


def _approve_negative_bank(conn, cid):
    """The negative-bank entries a clear proposes take effect when a second reviewer approves them."""
    (d,) = [d for d in cases.case_decisions(conn, cid) if d["state"] == "pending"
            and d["action"] == cases.NEGATIVE_BANK_ACTION]
    cases.approve(conn, d["id"], "bob")


def test_clearing_as_false_positive_feeds_the_negative_bank(web_store):
    from netwarden.store import media_banks as mb

    store, cid = web_store["store"], web_store["case"]
    with store.engine.connect() as conn:
        matched = [m["account_id"] for m in cases.members(conn, cid)
                   if any(r["kind"] == "media_match" for r in m["reasons"])][-1:]
    with store.engine.begin() as conn:
        cases.decide_members(conn, cid, matched, "clear", "alice", negative_bank=True)
        _approve_negative_bank(conn, cid)
    with store.engine.connect() as conn:
        bank = mb.bank_row(conn, cases.NEGATIVE_BANK)
        assert bank["negative"] and len(list(mb.entries(conn, bank["id"]))) >= 1
        assert audit.entries(conn, action="bank.negative_add")


def test_clearing_as_false_positive_excepts_its_terms_from_risk(web_store):
    store, cid = web_store["store"], web_store["case"]
    with store.engine.connect() as conn:
        hit = [m["account_id"] for m in cases.members(conn, cid)
               if m["state"] == "candidate" and any(r["kind"] == "term_hit" for r in m["reasons"])][:1]
    assert hit, "the world's network uses its placeholder terms"
    with store.engine.connect() as conn:
        before = risk.get(conn, hit[0])
    assert any(r["kind"] == "term_hit" for r in before.reasons)
    with store.engine.begin() as conn:
        cases.decide_members(conn, cid, hit, "clear", "alice", negative_bank=True)
        _approve_negative_bank(conn, cid)
    with store.engine.connect() as conn:
        after = risk.get(conn, hit[0])
        assert not any(r["kind"] == "term_hit" for r in after.reasons)  # the terms no longer count
        assert after.score < before.score
        assert audit.entries(conn, action="terms.exception_add")
        # the hits themselves stay stored as evidence
        assert conn.execute(select(t.signals.c.id).where(t.signals.c.account_id == hit[0],
                                                         t.signals.c.kind == "term_hit")).first()
    with store.engine.begin() as conn:  # a later recompute keeps the exception
        risk.recompute(conn, hit)
    with store.engine.connect() as conn:
        assert not any(r["kind"] == "term_hit" for r in risk.get(conn, hit[0]).reasons)


def test_closing_a_case_takes_it_off_the_queue(web_store):
    store = web_store["store"]
    with store.engine.connect() as conn:
        ms = cases.members(conn, web_store["case"])
    cid = cases.create_case(store, [cases.Member(m["account_id"], 1.0, i, False, {}, []) for i, m in enumerate(ms[:3])],
                            "test", origin="seeds")
    with store.engine.begin() as conn:
        assert cid in {c["id"] for c in cases.list_cases(conn)}
        cases.set_state(conn, cid, "closed", "alice")
        assert cid not in {c["id"] for c in cases.list_cases(conn)}
        assert not any(r["kind"] == "proximity" and r.get("case_id") == cid
                       for r in risk.get(conn, ms[0]["account_id"]).reasons)
        assert audit.entries(conn, action="case.close", subject_id=str(cid))
        with pytest.raises(UserError):
            cases.set_state(conn, cid, "archived", "alice")


@pytest.mark.slow
def test_demo_command_builds_everything_without_serving(tmp_path):
    env = {**os.environ, "NETWARDEN_DB": str(tmp_path / "unused.db")}
    exe = Path(sys.executable).with_name("netwarden")
    out = subprocess.run([str(exe), "demo", "--out", str(tmp_path / "demo"),
                          "--accounts", "800", "--no-serve", "--json"], capture_output=True, text=True, env=env,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["case"] == 1 and r["case_members"] > 1 and r["case_members_planted"] >= 1
    assert r["signals"].get("media_match", 0) > 0
    assert r["login"]["user"] == "demo" and len(r["login"]["password"]) >= 12


@pytest.mark.slow
@pytest.mark.postgres
def test_review_flow_on_postgresql(web_world, pg_server, monkeypatch):
    """Risk, a case, decisions, four-eyes and the outbox on the production store."""
    from fastapi.testclient import TestClient
    from web_helpers import login

    from netwarden.ingest.pipeline import ingest_files
    from netwarden.media.signals import read_csv
    from netwarden.store import media_banks as mb
    from netwarden.store import open_store
    from netwarden.web.app import create_app
    from netwarden.web.auth import add_user

    monkeypatch.delenv("NETWARDEN_FOUR_EYES", raising=False)
    store = open_store(pg_server.create_db(f"web{os.getpid()}"))
    rows, _ = read_csv((web_world["world"] / "bank.csv").read_text(encoding="utf-8"), "bank.csv")
    with store.engine.begin() as conn:
        bank = mb.create_bank(conn, "demo-known", exist_ok=True)
        mb.add_entries(conn, bank["id"], [(r.signal_type, r.signal, r.label) for r in rows])
        add_user(conn, "m1", "moderator", "correct horse battery", actor="test")
        add_user(conn, "m2", "moderator", "correct horse battery", actor="test")
    ingest_files(store, [web_world["world"] / "events.jsonl"], signals=True)
    cid = cases.open_case(store, [web_world["seed"]], "test")
    app = create_app(store=store, media_roots=[str(web_world["world"])], secure_cookies=False)
    a, b = TestClient(app), TestClient(app)
    ca, cb = login(a, "m1"), login(b, "m2")
    assert a.get("/queue").status_code == 200 and a.get(f"/cases/{cid}").status_code == 200
    with store.engine.connect() as conn:
        ids = [m["account_id"] for m in cases.members(conn, cid)][:5]
    r = a.post(f"/cases/{cid}/decide", headers={"X-CSRF-Token": ca},
               data={"decision": "confirm", "account_ids": ids, "confirm": str(len(ids))},
               follow_redirects=False)
    assert r.status_code == 303
    a.post(f"/cases/{cid}/enforce", headers={"X-CSRF-Token": ca}, data={"action": "suspend"})
    with store.engine.connect() as conn:
        did = cases.case_decisions(conn, cid)[-1]["id"]
    seen = re.search(r'name="seen" value="([^"]+)"', b.get(f"/cases/{cid}").text).group(1)  # what m2 was shown
    assert b.post(f"/decisions/{did}/approve", headers={"X-CSRF-Token": cb}, data={"case_id": cid, "seen": seen},
                  follow_redirects=False).status_code == 303
    with store.engine.connect() as conn:
        assert {s["account"] for s in cases.enforcement_status(conn, cid)} == set(ids)
        assert audit.verify(conn).ok
        assert cases.account_queue(conn, kind="media_match", state="confirmed")
    store.close()


def test_reviewer_re_ranks_a_case_from_confirmed_members_in_the_app(web_store):
    """The case page's "Re-rank from confirmed" runs cases.refresh_case as the signed-in reviewer: confirmed
    members become extra seeds, decisions stay, the refresh is audited; a viewer may not do it."""
    from fastapi.testclient import TestClient
    from web_helpers import login, make_app

    store = web_store["store"]
    with store.engine.begin() as conn:
        cid = cases.open_case(store, [web_store["seed"]], "test")
        ms = [m for m in cases.members(conn, cid) if m["state"] == "candidate"]
    picked = ms[0]["account_id"]
    client = TestClient(make_app(web_store))
    csrf = login(client, "triage")
    assert 'id="refresh-case"' in client.get(f"/cases/{cid}").text
    h = {"X-CSRF-Token": csrf}
    r = client.post(f"/cases/{cid}/decide", headers=h, data={"decision": "confirm", "account_ids": picked},
                    follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/cases/{cid}/refresh", headers=h, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{cid}"
    with store.engine.connect() as conn:
        (entry,) = audit.entries(conn, action="case.refresh", subject_type="case", subject_id=str(cid))
        states = {m["account_id"]: m["state"] for m in cases.members(conn, cid)}
    assert entry["actor"] == "triage" and picked in entry["detail"]["confirmed_seeds"]
    assert states[picked] == "confirmed"

    viewer = TestClient(make_app(web_store))
    vcsrf = login(viewer, "viewer")
    assert 'id="refresh-case"' not in viewer.get(f"/cases/{cid}").text
    assert viewer.post(f"/cases/{cid}/refresh", headers={"X-CSRF-Token": vcsrf}).status_code == 403
