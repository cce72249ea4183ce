"""User reports over HTTP (Coop's `POST /api/v1/report`), from report to proposed case, and the triage queues."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from web_helpers import copy_world_store, login

from netwarden import audit, cases, triage
from netwarden.errors import UserError
from netwarden.store.tables_audit import audit_log
from netwarden.store.tables_reports import report_triage, reports

KEY = "test-intake-key"


def coop_body(item_id: str, csam: bool = True, reporter: str = "u-reader", creator: str | None = None,
              reported_at: str = "2026-11-30T10:30:00.000Z", policy: str = "violated-policy-id") -> dict:
    """The request of roostorg/coop docs/api/report.md, with this world's ids."""
    data = {"fieldName": "value"}
    if creator:
        data["creatorId"] = {"id": creator, "typeId": "user-type-id"}
    return {
        "reporter": {"kind": "user", "typeId": "reporter-user-type-id", "id": reporter},
        "reportedAt": reported_at,
        "reportedForReason": {"policyId": policy, "reason": "Free-text reason from reporter", "csam": csam},
        "reportedItem": {"id": item_id, "data": data, "typeId": "item-type-id"},
        "reportedItemThread": [{"id": "thread-message-1", "data": {"content": "message content"},
                                "typeId": "message-type-id"}],
        "reportedItemsInThread": [],
        "additionalItems": [{"id": "additional-context-item", "data": {}, "typeId": "item-type-id"}],
    }


@pytest.fixture(scope="module")
def rstore(web_world, tmp_path_factory):
    """A copy of the web world's store with one user per role and no case yet."""
    store = copy_world_store(web_world, tmp_path_factory, "reports", {"triage2": "triage"})
    yield {"store": store, **web_world}
    store.close()


@pytest.fixture(scope="module")
def client(rstore):
    from netwarden.web.app import create_app

    app = create_app(store=rstore["store"], media_roots=[str(rstore["world"])], secure_cookies=False)
    app.state.api_keys = [KEY]
    return TestClient(app)


def _post(client, body, key=None, api_key=KEY):
    headers = {"X-API-KEY": api_key} if api_key else {}
    if key:
        headers["Idempotency-Key"] = key
    return client.post("/api/v1/report", json=body, headers=headers)


def _triage(store, rid):
    with store.engine.connect() as conn:
        return conn.execute(select(report_triage).where(report_triage.c.report_id == rid)).first()


def _network(rstore):
    net = rstore["truth"]["networks"][0]
    return net, [m for m in net["members"] if m not in net["suspended"]]


def test_intake_needs_the_api_key_not_a_session(client, rstore):
    net, members = _network(rstore)
    assert _post(client, coop_body(members[0]), api_key=None).status_code == 401
    assert _post(client, coop_body(members[0]), api_key="wrong").status_code == 401
    login(client, "admin")  # a session cookie authenticates nothing here
    assert _post(client, coop_body(members[0]), api_key=None).status_code == 401
    client.cookies.clear()


def test_bad_body_is_one_error_naming_the_field(client):
    body = coop_body("x1")
    del body["reportedItem"]["id"]
    r = _post(client, body)
    assert r.status_code == 400
    (err,) = r.json()["errors"]
    assert err["pointer"] == "/reportedItem/id" and "reportedItem.id" in err["detail"]
    r = client.post("/api/v1/report", content=b"{not json", headers={"X-API-KEY": KEY})
    assert r.status_code == 400 and "not valid JSON" in r.json()["errors"][0]["detail"]
    body = coop_body("x1")
    body["reportedAt"] = "yesterday"
    assert _post(client, body).json()["errors"][0]["pointer"] == "/reportedAt"


def test_report_on_a_member_proposes_a_case_with_the_network(client, rstore):
    store = rstore["store"]
    net, members = _network(rstore)
    seed = next(m for m in members if net["roles"][m] == "silent")
    r = _post(client, coop_body(seed, reporter="u-reader-1"), key="k-member-1")
    assert r.status_code == 201
    rid = r.json()["reportId"]
    assert rid == "coop:k-member-1"
    again = _post(client, coop_body(seed, reporter="u-reader-1"), key="k-member-1")
    assert again.status_code == 200 and again.json()["reportId"] == rid
    assert _post(client, coop_body(seed, reporter="someone-else"), key="k-member-1").status_code == 409
    with store.engine.connect() as conn:
        assert conn.execute(select(reports.c.account_id).where(reports.c.id == rid)).scalar() == seed
    tri = _triage(store, rid)
    assert tri is not None and tri.case_id is not None and tri.queue == "child-safety", tri
    with store.engine.connect() as conn:
        c = cases.get_case(conn, tri.case_id)
        ranked = [m["account_id"] for m in cases.members(conn, tri.case_id)]
        actions = {(r.action, r.actor) for r in conn.execute(select(audit_log.c.action, audit_log.c.actor).where(
            audit_log.c.subject_id.in_([rid, str(tri.case_id)])))}
    assert c["origin"] == "report" and c["seeds"] == [seed] and c["created_by"] == triage.SYSTEM
    rel = set(net["members"]) - {seed}
    recall = len(set(ranked[:len(rel) + 1]) & rel) / len(rel)
    assert recall >= 0.9, recall
    assert {("report.process", triage.SYSTEM), ("case.open", triage.SYSTEM)} <= actions
    # a second report, on another member, joins the same case
    other = next(m for m in members if m != seed and net["roles"][m] == "poster")
    r2 = _post(client, coop_body(other, reporter="u-reader-2", creator=None), key="k-member-2")
    assert r2.status_code == 201
    assert _triage(store, r2.json()["reportId"]).case_id == tri.case_id
    with store.engine.connect() as conn:
        assert cases.get_case(conn, tri.case_id)["seeds"] == [seed, other]


def test_report_naming_banked_media_follows_the_network_in_any_category(client, rstore):
    net, members = _network(rstore)
    mp = next(p for p in net["media_posts"] if p["author"] in members)
    r = _post(client, coop_body(mp["post_id"], csam=False, policy="spam", creator=mp["author"], reporter="u-reader-3"),
              key="k-media")
    assert r.status_code == 201
    tri = _triage(rstore["store"], r.json()["reportId"])
    with rstore["store"].engine.connect() as conn:
        rep = conn.execute(select(reports).where(reports.c.id == "coop:k-media")).first()
        first = _triage(rstore["store"], "coop:k-member-1").case_id
    assert rep.category == "spam" and rep.account_id == mp["author"]
    assert "matches a bank" in tri.network_reason and tri.case_id == first, tri.network_reason


def test_report_on_a_benign_account_makes_no_case(client, rstore):
    store = rstore["store"]
    net, _ = _network(rstore)
    truth = rstore["truth"]
    flagged = set(net["members"]) | {d["account"] for d in truth["decoys"]}
    with store.engine.connect() as conn:
        from netwarden.store import schema as t

        ids = list(conn.scalars(select(t.accounts.c.id).order_by(t.accounts.c.id).limit(400)))
    benign = next(a for a in reversed(ids) if a not in flagged and a not in truth["hubs"])
    r = _post(client, coop_body(benign, reporter="u-malicious"), key="k-benign")
    assert r.status_code == 201
    tri = _triage(store, r.json()["reportId"])
    assert tri.case_id is None and "nothing else flagged" in tri.network_reason, tri.network_reason
    # not child safety: no expansion at all
    r = _post(client, coop_body(benign, csam=False, policy="spam", reporter="u-malicious"), key="k-spam")
    tri = _triage(store, r.json()["reportId"])
    assert tri.case_id is None and "not child safety" in tri.network_reason and tri.queue == "general"


def test_queue_assign_claim_escalate_resolve_and_credibility(rstore):
    store = rstore["store"]
    with store.engine.begin() as conn:
        rid = conn.scalar(select(report_triage.c.report_id).where(report_triage.c.report_id == "coop:k-benign"))
        with pytest.raises(UserError, match="does not exist"):
            triage.assign(conn, rid, "nobody", "admin")
        with pytest.raises(UserError, match="cannot decide"):
            triage.assign(conn, rid, "viewer", "admin")
        triage.assign(conn, rid, "triage", "admin")
        with pytest.raises(UserError, match="assigned to triage"):
            triage.claim(conn, rid, "triage2")
        with pytest.raises(UserError, match="only its assignee"):
            triage.release(conn, rid, "triage2")
        triage.release(conn, rid, "triage")
        triage.claim(conn, rid, "triage2")
        assert [i["id"] for i in triage.items(conn, assignee="triage2")] == [rid]
        with pytest.raises(UserError, match="needs a reason"):
            triage.escalate(conn, rid, "moderator", "  ", "triage2")
        assert triage.escalate(conn, rid, "moderator", "reporter seems to target this account", "triage2") == "escalation"
        item = triage.get_item(conn, rid)
        assert (item["queue"], item["assignee"], item["escalated_to"]) == ("escalation", "moderator", "moderator")
        before = item["weight_now"]
        triage.resolve(conn, rid, "no_violation", "moderator", note="benign")
        triage.add_account_note(conn, item["account_id"], "moderator", "reported twice by the same reporter")
        assert triage.account_notes_of(conn, item["account_id"])[0]["author"] == "moderator"
        # the reporter's other report now weighs less
        other = triage.get_item(conn, "coop:k-spam")
        assert other["weight_now"] < before and "1 cleared" in other["credibility"]
        actions = set(conn.scalars(select(audit_log.c.action).where(audit_log.c.subject_id == rid)))
        assert audit.verify(conn).ok
    assert {"report.process", "report.assign", "report.release", "report.claim", "report.escalate",
            "report.resolve"} <= actions


def test_routing_rules_and_sla_order():
    qs = [{"name": "ar", "escalation": False, "rule": {"langs": ["ar"]}, "sla_hours": 8},
          {"name": "old", "escalation": False, "rule": {"min_age_hours": 48}, "sla_hours": 1},
          {"name": "risky", "escalation": False, "rule": {"signal_kinds": ["media_match"], "min_risk": 50},
           "sla_hours": 2},
          {"name": "esc", "escalation": True, "rule": {}, "sla_hours": 1},
          {"name": "rest", "escalation": False, "rule": {}, "sla_hours": 72}]
    base = {"category": "spam", "kinds": [], "lang": "en", "risk": 0.0, "age_hours": 1.0}
    assert triage.route(qs, {**base, "lang": "ar"})[0]["name"] == "ar"
    assert triage.route(qs, {**base, "age_hours": 50})[0]["name"] == "old"
    q, why = triage.route(qs, {**base, "kinds": ["media_match"], "risk": 60})
    assert q["name"] == "risky" and "media_match" in why and "60" in why
    assert triage.route(qs, {**base, "kinds": ["media_match"], "risk": 40})[0]["name"] == "rest"
    with pytest.raises(UserError, match="not one of"):
        triage.check_rule({"colour": "red"})


def test_queue_items_overdue_first_and_stats(rstore):
    store = rstore["store"]
    now = datetime.now(UTC) + timedelta(hours=5)  # the child-safety SLA (4 h) of the member reports has run out
    with store.engine.connect() as conn:
        rows = triage.items(conn, now=now)
        st = {s["queue"]: s for s in triage.stats(conn, now=now)}
    overdue = [r["overdue"] for r in rows]
    assert overdue == sorted(overdue, reverse=True) and overdue[0]
    due = [r["due_at"] for r in rows if r["overdue"]]
    assert due == sorted(due)
    assert st["child-safety"]["open"] >= 2 and st["child-safety"]["overdue"] >= 2
    assert st["escalation"]["resolved"] == 1 and st["escalation"]["median_hours_to_decision"] is not None


def test_report_pages_claim_resolve_and_notes(client, rstore):
    import re

    csrf = login(client, "triage")
    page = client.get("/reports")
    assert page.status_code == 200 and "coop:k-member-1" in page.text and "child-safety" in page.text
    rid = "coop:k-member-2"
    url = "/reports/coop%3Ak-member-2"
    r = client.get(url)
    assert r.status_code == 200 and "weight" in r.text and "case #" in r.text
    assert client.post(url + "/claim", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert "assigned to me" in client.get("/reports?mine=1").text and rid in client.get("/reports?mine=1").text
    r = client.post(url + "/resolve", data={"csrf": csrf, "outcome": "actioned", "note": "member confirmed"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "actioned by triage" in client.get(url).text
    account = triage.get_item(rstore["store"].engine.connect(), rid)["account_id"]
    r = client.post(f"/accounts/{account}/notes", data={"csrf": csrf, "text": "seen in two reports", "back": url},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == url
    frag = client.get(f"/accounts/{account}/notes").text
    assert "seen in two reports" in frag and rid in frag and "actioned" in frag  # its reports beside its notes
    cid = _triage(rstore["store"], rid).case_id
    frag = client.get(f"/cases/{cid}/reports").text
    assert rid in frag and "actioned" in frag
    # a viewer sees the queue but cannot claim
    client.cookies.clear()
    vcsrf = login(client, "viewer")
    assert client.post("/reports/coop%3Ak-member-1/claim", data={"csrf": vcsrf}).status_code == 403
    assert re.search(r"overdue|due", client.get("/reports").text)
    client.cookies.clear()


def test_a_nul_in_a_report_body_stores_as_a_replacement_character(client, rstore):
    """Issue 12: PostgreSQL stores no NUL; the intake applies ingestion's rule (U+FFFD) before storing."""
    body = coop_body("x-nul", csam=False)
    body["reportedForReason"]["reason"] = "a\u0000b"
    r = _post(client, body, key="k-nul")
    assert r.status_code == 201, r.text
    with rstore["store"].engine.connect() as conn:
        comment = conn.scalar(select(reports.c.comment).where(reports.c.id == r.json()["reportId"]))
    assert comment == "a\ufffdb"


def test_network_bar_follows_the_reporters_weight():
    assert triage.network_bar(1.0) == (triage.MIN_FLAGGED, triage.FLAG_SHARE)
    low, trusted = triage.network_bar(0.29), triage.network_bar(2.0)
    assert low[0] > triage.MIN_FLAGGED and low[1] > triage.FLAG_SHARE  # a reporter often cleared needs more
    assert trusted[0] < triage.MIN_FLAGGED and trusted[1] < triage.FLAG_SHARE
    assert triage.network_bar(0.01) == triage.network_bar(0.25) and triage.network_bar(9) == trusted
