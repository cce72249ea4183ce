"""A SQLite store at head opens and answers the graph's reads through the stdlib sqlite3 driver, without
SQLAlchemy; the engine is made when something needs it, and every query reads the same rows either way."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.engine import make_url

from netwarden.errors import UserError
from netwarden.ingest.pipeline import ingest_files
from netwarden.store import db as store_db
from netwarden.store import graph_queries as gq
from netwarden.store import layer_queries as lq
from netwarden.store import open_store
from sample_events import make_events, write_jsonl


@pytest.mark.parametrize("url", ["sqlite:///nw.db", "sqlite:////tmp/a b/nw.db", "sqlite:///rel/dir/x.sqlite",
                                 "sqlite:////tmp/ünï/nw.db", "sqlite:////tmp/x;y=z.db"])
def test_the_plain_file_is_the_database_sqlalchemy_names(url):
    assert store_db.sqlite_file(url) == make_url(url).database


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:///x.db?mode=ro", "sqlite:///a%20b.db",
                                 "sqlite:///~/nw.db", "sqlite+pysqlite:///nw.db", "postgresql://u@h/db", "sqlite:///"])
def test_other_urls_are_left_to_sqlalchemy(url):
    assert store_db.sqlite_file(url) is None


def _filled(tmp_path):
    url = f"sqlite:///{tmp_path / 'nw.db'}"
    store = open_store(url)  # a new file: the engine path creates and migrates it
    assert store._engine is not None
    write_jsonl(tmp_path / "a.jsonl", make_events(accounts=30, posts=120, seed=3))
    ingest_files(store, [tmp_path / "a.jsonl"])
    with store.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO signals (account_id, kind, subject_type, subject_id, weight, detail, key, created_at) "
                             "VALUES ('a1', 'term_hit', 'account', 'a1', 0.5, '{}', 'k1', '2026-01-01T00:00:00Z')")
    store.close()
    return url


def test_a_store_at_head_opens_without_an_engine_and_reads_the_same_rows(tmp_path):
    url = _filled(tmp_path)
    lite = open_store(url)
    assert lite._engine is None and lite.dialect == "sqlite" and lite.sqlite_database == str(tmp_path / "nw.db")
    full = store_db.Store(url, store_db.make_engine(url))
    assert full.sqlite_database == lite.sqlite_database and full.key == lite.key
    ids = [f"a{i}" for i in range(30)]
    kinds = ["term_hit", "media_match", "url_hit"]
    answers = []
    for store in (lite, full):
        with store.reading() as conn:
            answers.append((gq.last_event_seq(conn), gq.signals_mark(conn), gq.account_signal_rows(conn, ids, kinds),
                            gq.signal_sums(conn, kinds), gq.confirmed_accounts(conn),
                            list(lq.interaction_pairs(conn, "follow")), lq.events_since(conn, 3, 40, ["follow", "post"])))
        assert isinstance(conn, sqlite3.Connection) == (store is lite)
    (a, b) = [[[tuple(r) for r in x] if isinstance(x, list) else x for x in ans] for ans in answers]
    assert a == b
    assert a[0] > 40 and a[1][0] >= 1 and a[2] and a[5] and len(a[6]) >= 10  # the reads found rows
    assert lite._engine is None  # reading never made the engine ...
    with lite.engine.begin() as conn:  # ... which is made on first use, for writes
        conn.exec_driver_sql("DELETE FROM signals WHERE kind = 'term_hit'")
    with lite.reading() as conn:
        assert gq.signals_mark(conn)[0] == b[1][0] - 1
    lite.close()
    full.close()


def test_stores_not_at_head_or_not_opening_take_the_engine_path(tmp_path, monkeypatch):
    import alembic.command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    url = _filled(tmp_path)
    cfg = Config()
    cfg.set_main_option("script_location", str(store_db.MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    (head,) = script.get_heads()
    with sqlite3.connect(tmp_path / "nw.db") as conn:  # one migration behind
        conn.execute("UPDATE alembic_version SET version_num = ?", (script.get_revision(head).down_revision,))
    calls: list[str] = []
    monkeypatch.setattr(alembic.command, "upgrade", lambda cfg, rev: calls.append(rev))
    store = open_store(url)  # behind head: migrated through the engine
    assert store._engine is not None and calls == ["head"]
    store.close()
    # a file that is no database reaches the engine (the stdlib check only fell through), whose error
    # becomes one sentence naming the file; the file is left as it was
    (tmp_path / "junk.db").write_bytes(b"not a database" * 100)
    with pytest.raises(UserError, match="junk.db .file is not a database.*not another file"):
        open_store(f"sqlite:///{tmp_path / 'junk.db'}")
    assert (tmp_path / "junk.db").read_bytes() == b"not a database" * 100
    monkeypatch.undo()
    with pytest.raises(UserError, match="folder .* does not exist"):  # a missing folder: the same sentence
        open_store(f"sqlite:///{tmp_path / 'no' / 'nw.db'}")
