"""A user report in real headless Chromium: Coop-shaped intake over HTTP, the triage queue, claim, the proposed
case with the report beside it, a member confirmed, the report resolved; every step audited."""

from __future__ import annotations

import shutil
import time

import httpx
import pytest
from sqlalchemy import select
from test_web_reports import KEY, coop_body
from web_helpers import PASSWORD, ROLES, LiveServer, browser_login

from netwarden import audit, triage
from netwarden.store import open_store
from netwarden.store.tables_cases import case_members
from netwarden.store.tables_reports import report_triage

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def live(web_world, tmp_path_factory):
    from netwarden.web.app import create_app
    from netwarden.web.auth import add_user

    d = tmp_path_factory.mktemp("reports-browser")
    shutil.copy(web_world["db"], d / "netwarden.db")
    store = open_store(f"sqlite:///{d / 'netwarden.db'}")
    with store.engine.begin() as conn:
        for role in ROLES:
            add_user(conn, role, role, PASSWORD, actor="test")
    app = create_app(store=store, media_roots=[str(web_world["world"])], secure_cookies=True)
    app.state.api_keys = [KEY]
    server = LiveServer(app).start()
    yield {"server": server, "store": store, **web_world}
    server.stop()
    store.close()


def test_report_from_intake_through_the_queue_to_a_decided_case(live, browser):
    server, store = live["server"], live["store"]
    net = live["truth"]["networks"][0]
    member = next(m for m in net["members"] if m not in net["suspended"] and net["roles"][m] == "commenter")
    r = httpx.post(server.url + "/api/v1/report", json=coop_body(member, reporter="reader-42"),
                   headers={"X-API-KEY": KEY, "Idempotency-Key": "browser-1"})
    assert r.status_code == 201
    rid = r.json()["reportId"]
    for _ in range(600):  # the app processes the report after answering
        with store.engine.connect() as conn:
            row = conn.execute(select(report_triage).where(report_triage.c.report_id == rid)).first()
        if row is not None:
            break
        time.sleep(0.1)
    assert row is not None and row.case_id is not None, row

    page = browser_login(browser, server.url, "triage")
    errors = page.errors
    page.click("nav a[href='/reports']")
    page.wait_for_url("**/reports")
    assert "child-safety" in page.locator("#queue-stats").inner_text()
    page.click(f"#reports a:text('{rid}')")
    page.wait_for_selector("#report-why")
    assert "weight" in page.locator("#report-why").inner_text()
    page.click("#claim")
    page.wait_for_selector("#report-assignee:text('triage')")
    page.click("#report-case")
    page.wait_for_url(f"**/cases/{row.case_id}")
    page.wait_for_selector(f"#case-report-list a:text('{rid}')")  # the report beside its case
    page.locator(f"input.pick[value='{member}']").check()
    page.click("#bulk-confirm")  # one member: no count to confirm
    page.wait_for_selector(f"tr.member.state-confirmed[data-account='{member}']")
    page.click(f"#case-report-list a:text('{rid}')")
    page.wait_for_selector("#resolve-form")
    page.select_option("#outcome", "actioned")
    page.fill("#resolve-form input[name=note]", "network member, confirmed in case")
    page.click("#resolve")
    page.wait_for_selector("#report-state:text('actioned by triage')")
    page.goto(server.url + "/reports?mine=1&state=all")
    assert rid in page.locator("#reports").inner_text()
    assert not errors, errors
    with store.engine.connect() as conn:
        state = conn.scalar(select(case_members.c.state).where(case_members.c.case_id == row.case_id,
                                                               case_members.c.account_id == member))
        assert state == "confirmed"
        assert triage.get_item(conn, rid)["outcome"] == "actioned"
        assert audit.entries(conn, action="report.process", subject_id=rid)[0]["actor"] == triage.SYSTEM
        assert audit.entries(conn, action="case.open", subject_id=str(row.case_id))[0]["actor"] == triage.SYSTEM
        for action in ("report.claim", "report.resolve"):
            assert audit.entries(conn, action=action, subject_id=rid)[0]["actor"] == "triage"
        assert audit.entries(conn, action="decision.confirm", subject_id=member)[0]["actor"] == "triage"
        assert audit.verify(conn).ok
