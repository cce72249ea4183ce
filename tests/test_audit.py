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
