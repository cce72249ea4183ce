"""Coop's report-API body (POST /api/v1/report, as roostorg/coop's docs/api/report.md shows it) -> a
native report event; ingested as `--format coop` JSON Lines on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import select

from netwarden.ingest import coop
from netwarden.ingest.events import BadRecord, validate
from netwarden.ingest.pipeline import ingest_files
from netwarden.store import open_store
from netwarden.store.tables_reports import reports

# The documented request body, with a content item whose creatorId names its author.
BODY = {
    "reporter": {"kind": "user", "typeId": "reporter-user-type-id", "id": "reporter-user-id"},
    "reportedAt": "2024-01-15T10:30:00.000Z",
    "reportedForReason": {"policyId": "violated-policy-id", "reason": "Free-text reason from reporter", "csam": True},
    "reportedItem": {"id": "reported-item-id", "data": {"fieldName": "value",
                                                        "creatorId": {"id": "author-1", "typeId": "user-type"}},
                     "typeId": "item-type-id"},
    "reportedItemThread": [{"id": "thread-message-1", "data": {"content": "message content"},
                            "typeId": "message-type-id"}],
    "reportedItemsInThread": [{"id": "specific-reported-message", "typeId": "message-type-id"}],
    "additionalItems": [{"id": "additional-context-item", "data": {}, "typeId": "item-type-id"}],
}


def test_documented_body_maps_to_a_valid_report():
    ev = coop.to_report_event(BODY)
    validate(ev)
    d = ev["data"]
    assert d["account_id"] == "author-1" and d["posts"] == ["reported-item-id", "specific-reported-message"]
    assert d["category"] == "child_sexual_exploitation" and d["rules"] == ["coop-policy:violated-policy-id"]
    assert (d["reporter_kind"], d["reporter_id"]) == ("account", "reporter-user-id")
    assert d["comment"] == "Free-text reason from reporter" and ev["time"] == "2024-01-15T10:30:00Z"
    # same body, same id; a client key wins over the body hash
    assert coop.to_report_event(copy.deepcopy(BODY))["id"] == ev["id"]
    assert coop.to_report_event(BODY, key="k-1")["id"] == "coop:k-1"


def test_user_item_and_policy_category():
    body = copy.deepcopy(BODY)
    body["reportedItem"] = {"id": "acct-9", "typeId": "user-type", "data": {"displayName": "x"}}
    body["reportedForReason"] = {"policyId": "spam", "csam": False}
    body.pop("reportedItemsInThread")
    d = coop.to_report_event(body)["data"]
    assert (d["account_id"], d["posts"], d["category"], d["rules"]) == ("acct-9", [], "spam", [])
    d = coop.to_report_event(BODY, user_types=("item-type-id",))["data"]  # a listed user type: the item is the account even with creatorId
    assert d["account_id"] == "reported-item-id"


@pytest.mark.parametrize("change, reason", [
    (lambda b: b.pop("reporter"), "field reporter: Field required"),
    (lambda b: b["reportedItem"].pop("id"), "field reportedItem.id: Field required"),
    (lambda b: b.update(reportedAt="yesterday"), "field reportedAt"),
    (lambda b: b["reporter"].update(kind="robot"), "field reporter.kind"),
    (lambda b: b["reportedItem"]["data"].update(creatorId={"id": 7}), "creatorId"),
])
def test_bad_body_is_one_clear_reason(change, reason):
    body = copy.deepcopy(BODY)
    change(body)
    with pytest.raises(BadRecord) as e:
        coop.to_report_event(body)
    assert reason in str(e.value) and "\n" not in str(e.value)


def test_coop_jsonl_ingest_is_idempotent(db_url, tmp_path):
    path = tmp_path / "coop.jsonl"
    other = copy.deepcopy(BODY)
    other["reportedForReason"]["csam"] = False
    path.write_text("\n".join(json.dumps(b) for b in (BODY, BODY, other, {"reporter": {"kind": "user"},
                                                                        "reportedItem": {}})) + "\n")
    store = open_store(db_url)
    s = ingest_files(store, [path], fmt="coop", signals=False, dead_letter=tmp_path / "dl.jsonl")
    assert s.dead == 1 and "reportedItem" in (tmp_path / "dl.jsonl").read_text()
    ingest_files(store, [path], fmt="coop", signals=False)
    with store.engine.connect() as c:
        rows = c.execute(select(reports.c.category, reports.c.source)).all()
    store.close()
    assert sorted(rows) == [("child_sexual_exploitation", "coop"), ("other", "coop")]
