"""Processing reports that arrive before their account: routed and waiting, then processed once it is ingested."""

from __future__ import annotations

from sqlalchemy import select

from netwarden import triage
from netwarden.ingest.pipeline import ingest_files
from netwarden.store import open_store
from netwarden.store.tables_reports import report_triage
from sample_events import write_jsonl


def _ev(i, kind, time, data):
    return {"v": 1, "id": f"y{i}", "kind": kind, "time": time, "data": data}


REPORT = _ev(1, "report", "2026-01-02T00:00:00Z", {"id": "r1", "account_id": "a1", "category": "child_grooming",
                                                   "reporter_kind": "trusted_flagger", "reporter_id": "hotline"})
LATER = [_ev(2, "account", "2026-01-01T00:00:00Z", {"id": "a1", "handle": "one"}),
         _ev(3, "account", "2026-01-01T00:00:00Z", {"id": "a2", "handle": "two"}),
         _ev(4, "follow", "2026-01-01T02:00:00Z", {"src": "a2", "dst": "a1"})]


def test_report_before_its_account_waits_then_is_processed(db_url, tmp_path):
    store = open_store(db_url)
    try:
        write_jsonl(tmp_path / "r.jsonl", [REPORT])
        ingest_files(store, [tmp_path / "r.jsonl"], signals=False)
        s = triage.process_reports(store)
        assert s["waiting"] == 1 and s["processed"] == 1
        with store.engine.connect() as conn:
            row = conn.execute(select(report_triage)).one()
        assert row.queue == "child-safety" and "not ingested yet" in row.network_reason and row.processed_version == ""
        assert triage.process_reports(store)["waiting"] == 1  # still waiting, processed again
        write_jsonl(tmp_path / "a.jsonl", LATER)
        ingest_files(store, [tmp_path / "a.jsonl"], signals=False)
        s = triage.process_reports(store)
        assert s["processed"] == 1 and s["waiting"] == 0 and s["no_case"] == 1
        with store.engine.connect() as conn:
            row = conn.execute(select(report_triage)).one()
            item = triage.get_item(conn, "r1")
        assert "nothing else flagged" in row.network_reason and row.processed_version
        assert item["weight_now"] == 2.0 and "trusted flagger" in item["credibility"]
        assert triage.process_reports(store)["processed"] == 0  # nothing new: nothing done twice
        # the queue's steps on this backend
        from netwarden.web.auth import add_user

        with store.engine.begin() as conn:
            add_user(conn, "t1", "triage", "long enough pw", actor="test")
            add_user(conn, "m1", "moderator", "long enough pw", actor="test")
            triage.claim(conn, "r1", "t1")
            assert [i["id"] for i in triage.items(conn, assignee="t1")] == ["r1"]
            triage.escalate(conn, "r1", "m1", "needs a second look", "t1")
            triage.resolve(conn, "r1", "actioned", "m1", note="done")
            triage.add_account_note(conn, "a1", "m1", "checked")
            st = {q["queue"]: q for q in triage.stats(conn)}
        assert st["escalation"]["resolved"] == 1 and st["child-safety"]["open"] == 0
        assert st["escalation"]["median_hours_to_decision"] is not None
    finally:
        store.close()
