"""Sign-in, sessions, CSRF and the permission matrix, over HTTP (FastAPI TestClient)."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.routing import Mount
from web_helpers import HOSTILE_BIO, PASSWORD, ROLES, login, make_app

from netwarden import audit
from netwarden.store.tables_cases import case_members

PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/status"), ("GET", "/status/live")}  # status: HMA health checks


@pytest.fixture(scope="module")
def app(web_store):
    return make_app(web_store)


def _concrete(path: str, web_store) -> str:
    return (path.replace("{cid}", str(web_store["case"])).replace("{aid}", web_store["seed"])
            .replace("{mid}", "m1").replace("{did}", "1").replace("{name}", "viewer"))


def _routes(app, routes=None, prefix=""):
    """Every (method, path) the app serves; included routers are walked (newer FastAPI keeps them nested)."""
    for r in app.routes if routes is None else routes:
        if isinstance(r, APIRoute):
            for m in sorted(r.methods):
                yield m, prefix + r.path
        elif isinstance(r, Mount):
            assert r.path == "/static", f"unexpected mount {r.path}"
        elif hasattr(r, "original_router"):
            sub = getattr(getattr(r, "include_context", None), "prefix", "") or ""
            yield from _routes(app, r.original_router.routes, prefix + sub)
        else:
            raise AssertionError(f"unexpected route {r!r}")


def test_every_route_refuses_a_request_without_a_session(app, web_store):
    client = TestClient(app)
    checked = 0
    for method, path in _routes(app):
        if (method, path) in PUBLIC:
            continue
        url = _concrete(path, web_store)
        for accept in ("text/html", "application/json"):
            r = client.request(method, url, headers={"accept": accept}, follow_redirects=False)
            assert r.status_code in (401, 303), f"{method} {path} answered {r.status_code} without a session"
            if r.status_code == 303:
                assert r.headers["location"] == "/login"
            assert "case" not in r.text.lower() or r.status_code == 303 or "sign in" in r.text.lower()
        checked += 1
    assert checked >= 20
    # a forged or expired cookie is no better than none
    client.cookies.set("nw_session", "forged-token")
    assert client.get("/api/queue").status_code == 401


def test_every_state_changing_route_refuses_a_request_without_csrf(app, web_store):
    client = TestClient(app)
    login(client, "admin")
    for method, path in _routes(app):
        if method in ("GET", "HEAD") or (method, path) in PUBLIC or "/h/" in path or "/m/" in path or "/c/" in path \
                or path.startswith(("/api/v1/", "/nw/")):  # API-key routes: no cookie is read, so no CSRF (test_web_reports)
            continue
        url = _concrete(path, web_store)
        r = client.request(method, url, data={"decision": "confirm", "account_ids": web_store["seed"]},
                           follow_redirects=False)
        assert r.status_code == 403, f"{method} {path} answered {r.status_code} without a CSRF token"
        r = client.request(method, url, headers={"X-CSRF-Token": "wrong"}, follow_redirects=False)
        assert r.status_code == 403
    with web_store["store"].engine.connect() as conn:
        states = set(conn.scalars(select(case_members.c.state).where(case_members.c.case_id == web_store["case"])))
    assert states == {"candidate"}


def test_login_is_audited_and_wrong_passwords_are_refused(app, web_store):
    client = TestClient(app)
    r = client.get("/login")
    tok = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    r = client.post("/login", data={"username": "triage", "password": "wrong password", "csrf": tok})
    assert r.status_code == 401
    assert client.get("/api/queue").status_code == 401
    r = client.post("/login", data={"username": "triage", "password": PASSWORD, "csrf": "forged"})
    assert r.status_code == 403  # the login form has its own CSRF token
    login(client, "triage")
    with web_store["store"].engine.connect() as conn:
        actions = [(e["actor"], e["action"]) for e in audit.entries(conn, subject_id="triage")]
        assert ("triage", "login") in actions and ("system:login", "login.failed") in actions
        assert audit.verify(conn).ok


def test_disabled_user_cannot_sign_in_and_loses_sessions(app, web_store):
    from netwarden.web.auth import add_user, disable_user

    with web_store["store"].engine.begin() as conn:
        add_user(conn, "leaver", "triage", PASSWORD, actor="test")
    client = TestClient(app)
    login(client, "leaver")
    assert client.get("/api/queue").status_code == 200
    with web_store["store"].engine.begin() as conn:
        disable_user(conn, "leaver", actor="test")
    assert client.get("/api/queue").status_code == 401
    with pytest.raises(AssertionError):
        login(client, "leaver")


def _media_id(client, web_store) -> str:
    page = client.get(f"/accounts/{web_store['seed']}").text
    return re.findall(r"/media/([^/\"]+)/blurred", page)[0]


# permission -> expected allowed roles; each probe returns True when the request was allowed.
MATRIX = {
    "view": {"admin", "moderator", "triage", "viewer"},
    "reveal": {"admin", "moderator", "triage"},
    "decide": {"admin", "moderator", "triage"},
    "note": {"admin", "moderator", "triage"},
    "enforce": {"admin", "moderator"},
    "manage_users": {"admin"},
    "audit": {"admin"},
    "org_prefs": {"admin"},
}


def _probe(client, csrf, perm, web_store) -> bool:
    cid = web_store["case"]
    h = {"X-CSRF-Token": csrf}
    if perm == "view":
        r = client.get(f"/cases/{cid}")
    elif perm == "reveal":
        r = client.post(f"/media/{_media_id(client, web_store)}/reveal", headers=h)
    elif perm == "decide":
        r = client.post(f"/cases/{cid}/decide", headers=h, follow_redirects=False,
                        data={"decision": "escalate", "account_ids": web_store["seed"]})
    elif perm == "note":
        r = client.post(f"/cases/{cid}/notes", headers=h, data={"text": "looked"}, follow_redirects=False)
    elif perm == "enforce":
        r = client.post(f"/cases/{cid}/enforce", headers=h, data={"action": "restrict"}, follow_redirects=False)
    elif perm == "manage_users":
        r = client.get("/admin/users")
    elif perm == "audit":
        r = client.get("/audit")
    elif perm == "org_prefs":
        r = client.post("/prefs", headers=h, data={"scope": "org", "blur": "strong"}, follow_redirects=False)
    else:
        raise AssertionError(perm)
    assert r.status_code in (200, 303, 400, 403), (perm, r.status_code, r.text[:300])
    return r.status_code != 403


def test_permission_matrix(app, web_store):
    from netwarden import cases

    with web_store["store"].engine.begin() as conn:  # something confirmed, so enforcement can be proposed
        cases.decide_members(conn, web_store["case"], [web_store["seed"]], "confirm", "test")
    got = {}
    for role in ROLES:
        client = TestClient(app)
        csrf = login(client, role)
        for perm in MATRIX:
            got[(role, perm)] = _probe(client, csrf, perm, web_store)
    want = {(role, perm): role in allowed for perm, allowed in MATRIX.items() for role in ROLES}
    assert got == want


def test_four_eyes_needs_a_second_reviewer(app, web_store):
    from netwarden import cases

    cid = web_store["case"]
    with web_store["store"].engine.begin() as conn:
        cases.decide_members(conn, cid, [web_store["seed"]], "confirm", "test")
    a, b = TestClient(app), TestClient(app)
    ca, cb = login(a, "moderator"), login(b, "moderator2")
    r = a.post(f"/cases/{cid}/enforce", headers={"X-CSRF-Token": ca}, data={"action": "suspend"},
               follow_redirects=False)
    assert r.status_code == 303
    with web_store["store"].engine.connect() as conn:
        did = max(d["id"] for d in cases.case_decisions(conn, cid) if d["action"] == "suspend")
    page = b.get(f"/cases/{cid}").text  # the approver is shown the list approval acts on, and sends its digest
    seen = re.search(rf'/decisions/{did}/approve".*?name="seen" value="([^"]+)"', page, re.S).group(1)
    r = a.post(f"/decisions/{did}/approve", headers={"X-CSRF-Token": ca}, data={"case_id": cid, "seen": seen})
    assert r.status_code == 400 and "second reviewer" in r.text
    t = TestClient(app)
    ct = login(t, "triage")
    assert t.post(f"/decisions/{did}/approve", headers={"X-CSRF-Token": ct},
                  data={"case_id": cid, "seen": seen}).status_code == 403
    r = b.post(f"/decisions/{did}/approve", headers={"X-CSRF-Token": cb}, data={"case_id": cid, "seen": seen},
               follow_redirects=False)
    assert r.status_code == 303
    with web_store["store"].engine.connect() as conn:
        status = cases.enforcement_status(conn, cid)
    assert any(s["action"] == "suspend" and s["account"] == web_store["seed"] for s in status)


def test_bio_html_is_escaped(app, web_store):
    client = TestClient(app)
    login(client, "viewer")
    page = client.get(f"/accounts/{web_store['hostile']}").text
    assert "<script>window.__pwned" not in page and 'onerror="window' not in page
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in page
    assert "<mark>zz_hostile</mark>" in page
    assert HOSTILE_BIO not in page


def test_blurred_rendition_is_greyscale_and_original_needs_a_grant(app, web_store):
    import io

    from PIL import Image

    client = TestClient(app)
    csrf = login(client, "triage")
    mid = _media_id(client, web_store)
    r = client.get(f"/media/{mid}/blurred")
    assert r.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(r.content)).mode == "L"
    assert client.get(f"/media/{mid}/original?grant=forged").status_code == 403
    r = client.post(f"/media/{mid}/reveal", headers={"X-CSRF-Token": csrf})
    grant = re.search(r"original\?grant=([^\"]+)\"", r.text).group(1)
    r2 = client.get(f"/media/{mid}/original?grant={grant}")
    assert r2.status_code == 200 and len(r2.content) > 0
    other = TestClient(app)
    login(other, "moderator")
    assert other.get(f"/media/{mid}/original?grant={grant}").status_code == 403  # grants are per session


def test_json_exports_are_audited(app, web_store):
    client = TestClient(app)
    login(client, "viewer")
    cid = web_store["case"]
    r = client.get(f"/api/cases/{cid}")
    assert r.status_code == 200 and r.json()["members"]
    assert client.get(f"/api/accounts/{web_store['seed']}").json()["risk"]["reasons"]
    with web_store["store"].engine.connect() as conn:
        rows = audit.entries(conn, action="export", limit=10)
    assert {(e["actor"], e["subject_type"]) for e in rows} >= {("viewer", "case"), ("viewer", "account")}


def test_user_preferences_override_organisation_defaults(app, web_store):
    admin, triage, viewer = TestClient(app), TestClient(app), TestClient(app)
    ca, ct = login(admin, "admin"), login(triage, "triage")
    login(viewer, "viewer")
    assert admin.post("/prefs", headers={"X-CSRF-Token": ca}, data={"scope": "org", "blur": "medium"},
                      follow_redirects=False).status_code == 303
    assert triage.post("/prefs", headers={"X-CSRF-Token": ct}, data={"scope": "user", "blur": "strong"},
                       follow_redirects=False).status_code == 303
    assert "blur-medium" in viewer.get("/queue").text  # the organisation's default
    assert "blur-strong" in triage.get("/queue").text  # the user's own choice wins
    assert triage.post("/prefs", headers={"X-CSRF-Token": ct}, data={"blur": "none"}).status_code == 400
    admin.post("/prefs", headers={"X-CSRF-Token": ca}, data={"scope": "org", "blur": "strong"})


def test_account_page_shows_a_url_bank_hit_with_its_reason(app, web_store):
    import json

    from netwarden import risk
    from netwarden.store import schema as t

    aid = web_store["hostile"]
    detail = {"bank": "partner-links", "bank_id": 9, "entry": 1, "signal_type": "domain", "signal": "badhost.example",
              "label": "partner", "matched": "badhost.example", "url": "https://cdn.badhost.example/f",
              "raw": "https://cdn.badhost.example/f", "host": "cdn.badhost.example", "link_kind": "web",
              "field": "bio", "span": [0, 29]}
    with web_store["store"].engine.begin() as conn:
        conn.execute(t.signals.insert().values(key=f"url_match:test:{aid}", account_id=aid, subject_type="account",
                                               subject_id=aid, kind="url_match", weight=0.8, detail=json.dumps(detail),
                                               created_at="2026-01-01T00:00:00Z"))
        risk.refresh(conn)
    client = TestClient(app)
    login(client, "viewer")
    page = client.get(f"/accounts/{aid}").text
    assert '<span class="tag url_match">url_match</span>' in page
    assert "matches domain badhost.example in bank partner-links" in page
    queue = client.get("/queue", params={"kind": "url_match"}).text
    assert f"/accounts/{aid}" in queue


def test_queue_filter_and_account_page_read_the_signal_registry(app, web_store):
    """Every registered kind is a queue filter option under its label; a classifier hit (the kind no page knew
    of before the registry) filters the queue and reads in words on the account page."""
    from netwarden import findings, risk
    from netwarden.store import schema as t

    aid = web_store["hostile"]
    detail = {"classifier": "pixel-property-double", "version": "1", "score": 0.93, "threshold": 0.8, "media_id": "mq"}
    sigs = findings.on_media("media_classifier", {"id": "mq", "post_id": "pq", "account_id": aid}, 0.93, detail,
                             ("pixel-property-double", "1"))
    with web_store["store"].engine.begin() as conn:
        conn.execute(t.signals.insert(), findings.rows(sigs, "2026-01-01T00:00:00Z"))
        risk.refresh(conn)
    client = TestClient(app)
    login(client, "viewer")
    queue = client.get("/queue").text
    for k in findings.kinds():
        assert f'<option value="{k.name}" >{k.label}</option>' in queue
    filtered = client.get("/queue", params={"kind": "media_classifier"}).text
    assert f"/accounts/{aid}" in filtered and f"/accounts/{web_store['seed']}" not in filtered
    page = client.get(f"/accounts/{aid}").text
    assert '<span class="tag media_classifier">media_classifier</span>' in page
    assert "media mq scored 0.93 by classifier pixel-property-double 1" in page
