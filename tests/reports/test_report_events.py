"""Report and report_resolution events: projection, order tolerance (reports before, after and between
the events they refer to, resolutions before their report), idempotence, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools

import orjson
from sqlalchemy import select

from netwarden.ingest.pipeline import ingest_files
from netwarden.store import open_store
from netwarden.store.tables_reports import reports
from sample_events import write_jsonl
from storedump import dump


def _ev(i, kind, time, data):
    return {"v": 1, "id": f"x{i}", "kind": kind, "time": time, "data": data}


EVENTS = [
    _ev(1, "account", "2026-01-01T00:00:00Z", {"id": "a1", "handle": "one"}),
    _ev(2, "post", "2026-01-01T01:00:00Z", {"id": "p1", "author_id": "a1", "text": "hello"}),
    _ev(3, "report", "2026-01-02T00:00:00Z", {"id": "r1", "account_id": "a1", "posts": ["p1"],
                                              "category": "child_sexual_exploitation", "reporter_kind": "account",
                                              "reporter_id": "a2", "comment": "saw this", "source": "app",
                                              "created_at": "2026-01-01T23:59:00+00:00"}),
    _ev(4, "report_resolution", "2026-01-03T00:00:00Z", {"report_id": "r1", "outcome": "no_violation", "by": "m"}),
    _ev(5, "report_resolution", "2026-01-04T00:00:00Z", {"report_id": "r1", "outcome": "reopened", "by": "m2"}),
    _ev(6, "report", "2026-01-05T00:00:00Z", {"id": "r1", "account_id": "a1", "posts": ["p1"],
                                              "category": "child_grooming", "reporter_kind": "account",
                                              "reporter_id": "a2", "comment": "recategorised"}),
    _ev(7, "report_resolution", "2026-01-06T00:00:00Z", {"report_id": "r2", "outcome": "actioned"}),
    _ev(8, "report", "2026-01-01T00:00:00Z", {"id": "r2", "account_id": "a9", "category": "spam",
                                              "reporter_kind": "anonymous"}),
    _ev(9, "account", "2026-01-07T00:00:00Z", {"id": "a9", "handle": "nine"}),
]


def _ingest(url, path):
    store = open_store(url)
    try:
        return ingest_files(store, [path], signals=False, batch_size=2)
    finally:
        store.close()


def test_report_projection_newest_wins(db_url, tmp_path):
    path = tmp_path / "ev.jsonl"
    write_jsonl(path, EVENTS)
    assert _ingest(db_url, path).dead == 0
    store = open_store(db_url)
    with store.engine.connect() as c:
        rows = {r.id: r for r in c.execute(select(reports))}
    store.close()
    r1, r2 = rows["r1"], rows["r2"]
    assert (r1.account_id, r1.category, r1.comment) == ("a1", "child_grooming", "recategorised")
    assert orjson.loads(r1.posts) == ["p1"] and r1.reporter_kind == "account" and r1.reporter_id == "a2"
    assert r1.outcome == "reopened" and r1.resolved_by == "m2"
    # the resolution came first, then its report: both kept
    assert (r2.account_id, r2.category, r2.outcome) == ("a9", "spam", "actioned")
    assert r2.reported_at == "2026-01-01T00:00:00Z"


def test_every_order_gives_the_same_store(tmp_path):
    ref = None
    perms = list(itertools.permutations(range(len(EVENTS))))
    for n, order in enumerate(perms[:: len(perms) // 12]):  # 12+ orders, spread over all permutations
        path = tmp_path / f"ev{n}.jsonl"
        write_jsonl(path, [EVENTS[i] for i in order])
        url = f"sqlite:///{tmp_path / f's{n}.db'}"
        _ingest(url, path)
        _ingest(url, path)  # and twice: stored once
        got = dump(url, ("ingest_checkpoints",))
        assert got["reports"], "reports stored"
        if ref is None:
            ref = got
        assert got == ref, order
