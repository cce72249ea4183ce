"""bench/cold_start.py's bulk store generator: the store it writes is the one `netwarden ingest` makes
from the same events (every table, row for row), its planted groups are found by expansion, and the
batch it writes is events ingestion accepts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import benchmod
from netwarden.graph.expand import expand_network
from netwarden.ingest.pipeline import ingest_files
from netwarden.store import open_store

SKIP = {"ingest_checkpoints", "sqlite_sequence"}  # the ingest run's own bookkeeping


@pytest.fixture(scope="module")
def cold_start():
    return benchmod.load("cold_start")


@pytest.fixture(scope="module")
def generated(cold_start, tmp_path_factory):
    d = tmp_path_factory.mktemp("cold_start")
    db = d / "gen.db"
    out = cold_start.generate(str(db), 3_000, follows=4.0, posts=0.3, likes=1.0, groups=2, group_size=30,
                              group_follows=6, reply_share=0.3, seed=3)
    return db, out


def tables(con: sqlite3.Connection) -> dict[str, set]:
    names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {n: set(con.execute(f"SELECT * FROM {n}")) for n in names if n not in SKIP and not n.startswith("sqlite_stat")}


def test_the_generated_store_is_what_ingestion_makes_of_its_events(generated, tmp_path):
    db, out = generated
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    events = tmp_path / "events.jsonl"
    events.write_text("".join(p + "\n" for (p,) in con.execute("SELECT payload FROM events ORDER BY seq")))
    store = open_store(f"sqlite:///{tmp_path / 'ref.db'}")
    try:
        assert ingest_files(store, [events]).dead == 0  # with the text hooks: the contacts come from the bios
    finally:
        store.close()
    gen, ref = tables(con), tables(sqlite3.connect(tmp_path / "ref.db"))
    con.close()
    assert gen.keys() == ref.keys()
    for name in gen:
        assert gen[name] == ref[name], name
    c = out["counts"]
    assert (len(gen["accounts"]), len(gen["posts"]), len(gen["follows"]), len(gen["likes"]), len(gen["events"])) == (
        c["accounts"], c["posts"], c["follows"], c["likes"], c["events"])
    assert len(gen["contacts"]) == c["contacts"] == 20  # a third of each 30-member group shows its handle
    assert any(r[4] for r in gen["posts"])  # replies are there (reply_to)
    # the secondary indexes dropped for the load are back, and the schema is the product's
    ref_idx = set(sqlite3.connect(tmp_path / "ref.db").execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
    assert set(sqlite3.connect(db).execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'")) == ref_idx


def test_a_planted_group_is_found_from_one_member(generated):
    db, out = generated
    store = open_store(f"sqlite:///{db}")
    try:
        for group in out["groups"]:
            ex = expand_network(store, [group[0]], top_k=60)
            found = {m.account_id for m in ex.members[: len(group) - 1]}
            assert len(found & set(group[1:])) >= 0.8 * (len(group) - 1)
    finally:
        store.close()


def test_the_batch_is_events_ingestion_accepts(cold_start, generated, tmp_path):
    db, out = generated
    copy = tmp_path / "copy.db"
    src = sqlite3.connect(db)
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.close()
    (tmp_path / "copy.db.truth.json").write_bytes(Path(f"{db}.truth.json").read_bytes())
    r = cold_start.batch(str(copy), 200, str(tmp_path / "batch.jsonl"), seed=1, posts=50, signups=10)
    assert r["events"] == 200 + 50 + 2 * 10
    store = open_store(f"sqlite:///{copy}")
    try:
        s = ingest_files(store, [tmp_path / "batch.jsonl"])
    finally:
        store.close()
    assert (s.events, s.dead) == (270, 0)
    con = sqlite3.connect(copy)
    assert con.execute("SELECT COUNT(*) FROM events").fetchone()[0] == out["counts"]["events"] + 270
    assert con.execute("SELECT COUNT(DISTINCT post_id) FROM post_hashtags WHERE tag = 'zzgroup0'").fetchone()[0] == 5
    assert con.execute("SELECT COUNT(*) FROM contacts WHERE handle LIKE 'zzsignup1%'").fetchone()[0] == 10
    g0 = set(out["groups"][0])
    inside = con.execute("SELECT COUNT(*) FROM events e WHERE e.event_id LIKE 'b%' AND json_extract(payload, '$.data.src') "
                         f"IN ({','.join('?' * len(g0))})", sorted(g0)).fetchone()[0]
    assert inside >= 20  # a tenth of the batch goes inside planted group 0
    con.close()
