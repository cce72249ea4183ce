"""Mastodon Admin::Report (GET /api/v1/admin/reports, as the API docs show it) -> report events."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import select

from netwarden.config import Settings
from netwarden.ingest import mastodon
from netwarden.ingest.events import BadRecord, validate
from netwarden.ingest.pipeline import ingest_files
from netwarden.store import open_store
from netwarden.store.tables_reports import reports

FIX = Path(__file__).parent / "fixtures" / "mastodon" / "admin_reports.json"
SCHEMA = Path(mastodon.__file__).parent / "events.schema.json"
ADMIN, GOODY = "108965218747268792", "108965430868193066"


def _events(rules: tuple[str, ...] = ()):
    return mastodon.to_events(json.loads(FIX.read_text()), settings=Settings(mastodon_child_safety_rules=rules))


def _reports(evs):
    return {e["data"]["id"]: e for e in evs if e["kind"] == "report"}


def test_every_event_is_valid_native():
    v = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    evs = _events()
    assert mastodon.sniff(json.loads(FIX.read_text()))
    for e in evs:
        validate(e)
        v.validate(e)


def test_reports_map_reporter_target_statuses_and_status():
    evs = _events(("7", "9"))
    reps = _reports(evs)
    assert set(reps) == {"mastodon:2", "mastodon:3", "mastodon:4", "mastodon:5"}
    r3 = reps["mastodon:3"]["data"]
    assert (r3["account_id"], r3["reporter_kind"], r3["reporter_id"], r3["category"]) == (GOODY, "account", ADMIN, "spam")
    assert r3["created_at"] == "2022-09-09T21:19:23Z"
    r4 = reps["mastodon:4"]["data"]
    assert r4["category"] == "child_sexual_exploitation"  # a violation citing an operator-listed rule
    assert r4["posts"] == ["111000000000000010"] and r4["media"] == ["112000000000000101", "112000000000000102"]
    assert r4["rules"] == ["7: No content that sexualises minors"]
    # the reported account, the reporter and the attached status come along (a report may come first)
    assert {e["data"]["id"] for e in evs if e["kind"] == "account"} >= {ADMIN, GOODY}
    assert any(e["kind"] == "post" and e["data"]["author_id"] == GOODY for e in evs)
    res = {e["data"]["report_id"]: e for e in evs if e["kind"] == "report_resolution"}
    assert res["mastodon:2"]["data"]["outcome"] == "actioned"  # target suspended
    assert res["mastodon:2"]["time"] == "2022-09-09T21:38:54Z" and res["mastodon:2"]["data"]["by"] == "mastodon:admin"
    assert res["mastodon:5"]["data"]["outcome"] == "reopened" and "mastodon:3" not in res


def test_without_the_rule_list_a_violation_stays_a_violation():
    assert _reports(_events())["mastodon:4"]["data"]["category"] == "violation"
    no_settings = mastodon.to_events(json.loads(FIX.read_text()))  # the defaults: no rule list
    assert _reports(no_settings)["mastodon:4"]["data"]["category"] == "violation"


def test_bad_report_is_one_clear_reason():
    rec = json.loads(FIX.read_text())["response"][0]
    bad = copy.deepcopy(rec)
    bad["category"] = "weird"
    with pytest.raises(BadRecord, match="category is 'weird'"):
        mastodon.to_events(bad)
    bad = copy.deepcopy(rec)
    bad["target_account"] = None
    with pytest.raises(BadRecord, match="target_account"):
        mastodon.to_events(bad)


def test_status_changes_over_refetches(db_url, tmp_path):
    """Fetched again after a resolve and after a reopen, the store follows the platform."""
    page = json.loads(FIX.read_text())
    first = tmp_path / "p1.json"
    first.write_text(json.dumps(page))
    resolved = copy.deepcopy(page)
    r = resolved["response"][0]
    r.update(action_taken=True, action_taken_at="2022-09-12T10:00:00.000Z", updated_at="2022-09-12T10:00:00.010Z")
    second = tmp_path / "p2.json"
    second.write_text(json.dumps(resolved))
    store = open_store(db_url)
    ingest_files(store, [second], fmt="mastodon", signals=False)  # the later page first
    ingest_files(store, [first], fmt="mastodon", signals=False)
    with store.engine.connect() as c:
        rows = {x.id: x for x in c.execute(select(reports))}
    store.close()
    assert rows["mastodon:3"].outcome == "resolved" and rows["mastodon:3"].resolved_at == "2022-09-12T10:00:00Z"
    assert rows["mastodon:2"].outcome == "actioned" and rows["mastodon:5"].outcome == "reopened"
    assert rows["mastodon:4"].outcome is None
