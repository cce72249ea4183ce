"""Issue 14 items 6 and 11: sign-in throttling and the login page's own hardening.

As found: no throttling or lockout, and each failed login wrote an audit row whose actor the
attacker chose; GET /login?error=... showed any text as an error; the Host header was reflected in
redirects; the login CSRF pair accepted any matching value the attacker chose; /cases/999/graph.json
answered 200.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from web_helpers import PASSWORD, login, make_app

from netwarden import audit
from netwarden.store.tables_cases import login_throttle
from netwarden.web import throttle
from netwarden.web.app import create_app


@pytest.fixture(scope="module")
def app(web_store):
    return make_app(web_store)


@pytest.fixture(autouse=True)
def fresh_counts(web_store):
    with web_store["store"].engine.begin() as conn:
        conn.execute(delete(login_throttle))
    yield


def _try(client, name, password):
    tok = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    return client.post("/login", data={"username": name, "password": password, "csrf": tok}, follow_redirects=False)


def _entries(store, action):
    with store.engine.connect() as conn:
        return audit.entries(conn, action=action)


def test_an_account_locks_after_five_failures_even_for_the_right_password(app, web_store):
    store = web_store["store"]
    before_failed, before_locked = len(_entries(store, "login.failed")), len(_entries(store, "login.locked"))
    c = TestClient(app)
    for _ in range(throttle.ACCOUNT_LIMIT):
        assert _try(c, "triage", "wrong password").status_code == 401
    r = _try(c, "triage", PASSWORD)
    assert r.status_code == 429 and "Too many failed sign-ins" in r.text and "nw_session" not in r.cookies
    # audited once per burst (its first failure and its lockout), under a fixed actor
    failed, locked = _entries(store, "login.failed"), _entries(store, "login.locked")
    assert len(failed) == before_failed + 1 and len(locked) == before_locked + 1
    assert failed[0]["actor"] == locked[0]["actor"] == throttle.ACTOR
    assert locked[0]["subject_id"] == "triage" and locked[0]["detail"]["seconds"] == 30
    # another account from another address is not affected by this one's lockout
    other = TestClient(app, client=("198.51.100.7", 5000))
    assert _try(other, "moderator", PASSWORD).status_code == 303


def test_the_attacker_chooses_no_text_in_the_audit_log(app, web_store):
    store = web_store["store"]
    c = TestClient(app)
    _try(c, "<script>evil</script> admin", "x")
    e = _entries(store, "login.failed")[0]
    assert e["actor"] == throttle.ACTOR and e["subject_id"].startswith("invalid-name:")
    assert "script" not in str(e)


def test_lockouts_back_off_and_a_burst_ends_only_after_a_quiet_spell(web_store):
    store = web_store["store"]
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    with store.engine.begin() as conn:
        for i in range(throttle.ACCOUNT_LIMIT):
            throttle.failure(conn, "viewer", "203.0.113.5", t0 + timedelta(seconds=i))
        first = throttle.locked_until(conn, "viewer", "203.0.113.9", t0 + timedelta(seconds=5))
        assert first == t0 + timedelta(seconds=4) + throttle.BASE_LOCK
        t1 = first + timedelta(seconds=1)  # waiting it out and trying again doubles the lock
        assert throttle.locked_until(conn, "viewer", "203.0.113.9", t1) is None
        throttle.failure(conn, "viewer", "203.0.113.5", t1)
        assert throttle.locked_until(conn, "viewer", "203.0.113.9", t1) == t1 + 2 * throttle.BASE_LOCK
        for k in range(20):
            throttle.failure(conn, "viewer", "203.0.113.5", t1 + timedelta(seconds=k))
        end = throttle.locked_until(conn, "viewer", "203.0.113.9", t1 + timedelta(seconds=20))
        assert end == t1 + timedelta(seconds=19) + throttle.MAX_LOCK  # capped
        # a quiet spell after the last lockout ends the burst: counting starts again
        later = end + throttle.QUIET + timedelta(seconds=1)
        throttle.failure(conn, "viewer", "203.0.113.5", later)
        assert throttle.locked_until(conn, "viewer", "203.0.113.9", later) is None


def test_an_address_locks_after_twenty_failures_over_any_names(app, web_store):
    c = TestClient(app, client=("192.0.2.44", 4000))
    for i in range(throttle.ADDRESS_LIMIT):
        assert _try(c, f"guess{i}", "wrong password").status_code == 401
    assert _try(c, "moderator", PASSWORD).status_code == 429
    with web_store["store"].engine.connect() as conn:
        e = audit.entries(conn, action="login.locked", subject_type="address")[0]
    assert e["subject_id"] == "192.0.2.44" and e["actor"] == throttle.ACTOR
    assert _try(TestClient(app, client=("192.0.2.45", 4000)), "moderator", PASSWORD).status_code == 303


def test_the_login_page_shows_only_its_own_messages(app):
    c = TestClient(app)
    r = c.get("/login", params={"error": "Your session expired, sign in at evil.example"})
    assert "evil.example" not in r.text and 'id="login-error"' not in r.text


def test_the_login_csrf_pair_must_come_from_the_server(app):
    c = TestClient(app)
    c.cookies.set("nw_login_csrf", "attacker-chosen")
    r = c.post("/login", data={"username": "triage", "password": PASSWORD, "csrf": "attacker-chosen"},
               follow_redirects=False)
    assert r.status_code == 403 and "nw_session" not in r.cookies
    c = TestClient(app)
    tok = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
    assert tok != c.cookies.get("nw_login_csrf")  # the form carries the signed nonce, not the cookie's value
    r = c.post("/login", data={"username": "triage", "password": PASSWORD, "csrf": tok}, follow_redirects=False)
    assert r.status_code == 303


def test_redirects_never_take_the_host_header(app, web_store):
    c = TestClient(app)
    for path in ("/queue/", "/login/", "/static"):
        r = c.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
        assert r.status_code in (303, 307) and "evil.example" not in r.headers["location"]
        assert r.headers["location"].startswith("/") and not r.headers["location"].startswith("//")
    based = create_app(store=web_store["store"], secure_cookies=False, base_url="https://review.example")
    b = TestClient(based, base_url="https://review.example")
    assert b.get("/queue/", follow_redirects=False).headers["location"] == "https://review.example/queue"
    assert b.get("/login", headers={"Host": "evil.example"}).status_code == 400  # not our host


def test_a_missing_case_graph_is_404(app):
    c = TestClient(app)
    login(c, "viewer")
    assert c.get("/cases/999/graph.json").status_code == 404
