"""bench/bank_load.py's store generator: the file it makes is the product's store (the same schema
text, its unique constraint enforced by the table's own index), its rows in the form
`media_banks.add_entries` writes, loadable by `BankMatcher`."""

from __future__ import annotations

import re
import sqlite3

import pytest
from sqlalchemy import create_engine

import benchmod
from netwarden.media.hashing import MediaHashes
from netwarden.media.service import BankMatcher
from netwarden.store import media_banks as mb
from netwarden.store.tables import metadata


@pytest.fixture(scope="module")
def bank_load():
    return benchmod.load("bank_load")


def schema(path) -> set:
    con = sqlite3.connect(path)
    try:
        return set(con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))
    finally:
        con.close()


def test_the_generated_store_is_the_products_store(bank_load, tmp_path):
    db, ref = tmp_path / "gen.db", tmp_path / "ref.db"
    bank_load.generate(str(db), 2_345, chunk=1_000)
    engine = create_engine(f"sqlite:///{ref}")
    metadata.create_all(engine)
    engine.dispose()
    assert schema(db) == schema(ref)
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    rows = con.execute("SELECT id, bank_id, signal_type, signal, label, added_at, content_id, note, meta, "
                       "disable_until_ts FROM bank_entries ORDER BY id").fetchall()
    assert [r[0] for r in rows] == list(range(1, 2_346))
    assert len({r[3] for r in rows}) == 2_345
    for _, bank_id, st, sig, label, added, *rest in rows:
        assert (bank_id, st, label, rest) == (1, "pdq", "", [None] * 4)
        assert re.fullmatch(r"[0-9a-f]{64}", sig)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", added)
    plan = con.execute("EXPLAIN QUERY PLAN SELECT 1 FROM bank_entries WHERE bank_id = 1 AND signal_type = 'pdq' "
                       "AND signal = ?", (rows[0][3],)).fetchall()
    assert "sqlite_autoindex_bank_entries_1" in plan[0][3]
    with pytest.raises(sqlite3.IntegrityError):
        con.execute("INSERT INTO bank_entries (bank_id, signal_type, signal, label, added_at) "
                    "VALUES (1, 'pdq', ?, '', 'x')", (rows[7][3],))
    con.close()

    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        assert mb.add_entries(conn, 1, [("pdq", rows[7][3], "")]) == 0  # the bank has it
        assert mb.add_entries(conn, 1, [("pdq", "ab" * 32, "")]) == 1
    with engine.connect() as conn:
        m = BankMatcher().refresh(conn)
    assert len(m.pdq_meta) == 2_346
    for sig in (rows[0][3], rows[-1][3], "ab" * 32):
        assert m.match(MediaHashes(name="q", pdq=sig, quality=100)).matches
    engine.dispose()
