"""The audit log is append-only and hash-chained; verify finds any change."""

from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from clirun import CLI
from netwarden import audit
from netwarden.store import open_store


def _fill(store, n=5):
    for i in range(n):
        with store.engine.begin() as c:
            audit.append(c, "alice", "reveal", "media", f"m{i}", {"reason": "review", "i": i})


def test_chain_verifies_and_lists(db_url):
    store = open_store(db_url)
    _fill(store)
    with store.engine.connect() as c:
        r = audit.verify(c)
        assert r.ok and r.entries == 5
        rows = audit.entries(c, subject_type="media", subject_id="m3")
        assert len(rows) == 1 and rows[0]["detail"] == {"reason": "review", "i": 3}
    store.close()


def test_rolled_back_change_leaves_no_entry(db_url):
    store = open_store(db_url)
    _fill(store, 2)
    with pytest.raises(RuntimeError), store.engine.begin() as c:
        audit.append(c, "bob", "decision", "account", "a1", {"decision": "confirm"})
        raise RuntimeError("the decision failed")
    with store.engine.connect() as c:
        assert audit.verify(c).entries == 2 and audit.verify(c).ok
    _fill(store, 1)
    with store.engine.connect() as c:
        assert audit.verify(c).ok and audit.verify(c).entries == 3
    store.close()


@pytest.mark.parametrize("sql", ["UPDATE audit_log SET actor = 'mallory' WHERE seq = 2",
                                 "DELETE FROM audit_log WHERE seq = 2"])
def test_database_refuses_update_and_delete(db_url, sql):
    store = open_store(db_url)
    _fill(store, 3)
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as c:
        c.execute(text(sql))
    store.close()


def _drop_triggers(c, dialect):
    if dialect == "postgresql":
        c.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
    else:
        c.execute(text("DROP TRIGGER audit_log_no_update"))
        c.execute(text("DROP TRIGGER audit_log_no_delete"))


@pytest.mark.parametrize("tamper,problem", [
    ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3", "entry 3 was altered"),
    ("DELETE FROM audit_log WHERE seq = 3", "entry 3 is missing"),
    ("DELETE FROM audit_log WHERE seq = 5", "head says 5"),
])
def test_verify_names_the_tampered_entry(db_url, tamper, problem):
    """Someone with database access drops the triggers and edits history: verify notices."""
    store = open_store(db_url)
    _fill(store)
    with store.engine.begin() as c:
        _drop_triggers(c, store.dialect)
        c.execute(text(tamper))
    with store.engine.connect() as c:
        r = audit.verify(c)
    assert not r.ok and problem in r.problem
    # the CLI says so in one sentence, exit code 2, no traceback
    out = subprocess.run([*CLI, "audit", "verify",
                          "--db", db_url], capture_output=True, text=True)
    assert out.returncode == 2 and "audit log is broken" in out.stderr and "Traceback" not in out.stderr
    store.close()


def test_incremental_verify_starts_at_the_checkpoint_and_a_full_one_rechecks_it(db_url):
    store = open_store(db_url)
    _fill(store, 5)
    with store.engine.begin() as c:
        r = audit.verify(c)
        audit.checkpoint(c, r, "auditor")
    assert r.ok and r.full and (r.start, r.checked) == (1, 5)
    _fill(store, 3)
    with store.engine.begin() as c:
        inc = audit.verify(c, incremental=True)
        audit.checkpoint(c, inc, "auditor")
    assert inc.ok and not inc.full and inc.entries == 8 and (inc.start, inc.checked) == (6, 3)
    with store.engine.connect() as c:  # nothing new: nothing recomputed
        assert audit.verify(c, incremental=True).checked == 0
    with store.engine.begin() as c:
        _drop_triggers(c, store.dialect)
        c.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"))
    with store.engine.connect() as c:
        # an edit before the checkpoint is what the full run is for; the incremental one does not see it
        assert audit.verify(c, incremental=True).ok
        full = audit.verify(c)
        assert not full.ok and "entry 2 was altered" in full.problem
    with store.engine.begin() as c:
        c.execute(text("UPDATE audit_log SET hash = 'x' WHERE seq = 8"))
    with store.engine.connect() as c:
        inc = audit.verify(c, incremental=True)
    assert not inc.ok and "entry 8 changed since it was verified" in inc.problem
    store.close()


def test_full_verify_notices_a_chain_rewritten_from_a_checkpoint(sqlite_url):
    """Rewriting entries and rehashing the chain after them still contradicts the recorded checkpoint."""
    store = open_store(sqlite_url)
    _fill(store, 4)
    with store.engine.begin() as c:
        audit.checkpoint(c, audit.verify(c), "auditor")
    with store.engine.begin() as c:
        _drop_triggers(c, store.dialect)
        rows = c.execute(text("SELECT seq, time, actor, action, subject_type, subject_id, detail FROM audit_log "
                              "ORDER BY seq")).all()
        prev = audit.GENESIS
        for r in rows:  # forge entry 3's actor and recompute every hash after it
            actor = "mallory" if r.seq == 3 else r.actor
            h = audit.entry_hash(prev, r.seq, r.time, actor, r.action, r.subject_type, r.subject_id, r.detail)
            c.execute(text("UPDATE audit_log SET actor = :a, prev_hash = :p, hash = :h WHERE seq = :s"),
                      {"a": actor, "p": prev, "h": h, "s": r.seq})
            prev = h
        c.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})
    with store.engine.connect() as c:
        r = audit.verify(c)
        assert not r.ok and "entry 4 differs from the one verified earlier" in r.problem
        assert not audit.verify(c, incremental=True).ok
    store.close()


def test_entries_filter_by_actor_time_and_substring_and_page_by_sequence(db_url):
    store = open_store(db_url)
    with store.engine.begin() as c:
        for i, (actor, action, t) in enumerate([("alice", "decision.confirm", "2026-11-30T09:00:00.000000Z"),
                                                ("bob", "decision.clear", "2026-12-01T09:00:00.000000Z"),
                                                ("alice", "reveal", "2026-12-01T12:00:00.000000Z"),
                                                ("Alice_2", "case.open", "2026-12-02T08:00:00.000000Z")]):
            audit.append(c, actor, action, "account", f"a{i}", {"i": i}, time=t)
    with store.engine.connect() as c:
        assert [e["seq"] for e in audit.entries(c, actor="alice")] == [3, 1]
        assert [e["seq"] for e in audit.entries(c, actor="ALICE", contains=True)] == [4, 3, 1]
        assert [e["seq"] for e in audit.entries(c, action="decision", contains=True)] == [2, 1]
        assert [e["seq"] for e in audit.entries(c, since="2026-12-01", until="2026-12-02")] == [3, 2]
        assert [e["seq"] for e in audit.entries(c, limit=2, before=3)] == [2, 1]
        assert audit.count(c, action="decision", contains=True) == 2
        # LIKE wildcards in a filter are literal characters
        assert audit.entries(c, actor="%", contains=True) == [] and audit.count(c, actor="_", contains=True) == 1
    store.close()


def test_cli_export_writes_the_filtered_entries_and_is_audited(db_url, tmp_path):
    import csv
    import json

    store = open_store(db_url)
    _fill(store, 4)
    with store.engine.begin() as c:
        audit.append(c, "bob", "decision.confirm", "account", "a1", {"decision": "confirm"})
    out = tmp_path / "a.csv"
    r = subprocess.run([*CLI, "audit", "export", "--out", str(out), "--format", "csv", "--actor", "alice",
                        "--as", "auditor", "--db", db_url, "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["entries"] == 4
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [int(x["seq"]) for x in rows] == [1, 2, 3, 4] and {x["actor"] for x in rows} == {"alice"}
    assert json.loads(rows[0]["detail"]) == {"i": 0, "reason": "review"}
    with store.engine.connect() as c:
        e = audit.entries(c, action="audit.export")[0]
        assert e["actor"] == "auditor" and e["detail"]["entries"] == 4 and e["detail"]["actor"] == "alice"
        assert audit.verify(c).ok
    bad = subprocess.run([*CLI, "audit", "list", "--since", "yesterday", "--db", db_url], capture_output=True, text=True)
    assert bad.returncode == 2 and "--since 'yesterday' is not an ISO date" in bad.stderr
    assert "Traceback" not in bad.stderr
    store.close()


def test_a_csv_export_does_not_hand_a_spreadsheet_a_formula(tmp_path):
    """Issue 14 (a probe beyond the list): subject ids are platform ids; a CSV cell starting with
    '=' would run in a spreadsheet. The JSONL export keeps the value exact."""
    import csv
    import io

    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        with store.engine.begin() as conn:
            audit.append(conn, "alice", "reveal", "media", '=HYPERLINK("http://198.51.100.1","x")', {"n": "+1"})
        with store.engine.begin() as conn:
            out = io.StringIO()
            audit.export(conn, out, "csv", "alice", action="reveal")
            rows = list(csv.DictReader(io.StringIO(out.getvalue())))
            assert rows[0]["subject_id"] == "'=HYPERLINK(\"http://198.51.100.1\",\"x\")"
            assert all(not (v or "").startswith(("=", "+", "-", "@")) for r in rows for v in r.values())
            jl = io.StringIO()
            audit.export(conn, jl, "jsonl", "alice", action="reveal")
            assert '"subject_id":"=HYPERLINK' in jl.getvalue()
    finally:
        store.close()
