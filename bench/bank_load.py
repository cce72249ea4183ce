"""Bank load benchmark: a real SQLite store of N PDQ entries -> a matchable BankMatcher, then
`bank add` -> matchable on the loaded index.

    .venv/bin/python bench/bank_load.py --size 1000000
    flock /tmp/netwarden-bigmem.lock .venv/bin/python bench/bank_load.py --size 10000000 --db /tmp/b10m.db

The store is made with the product's schema (tables, unique and lookup indexes); its rows are random
PDQ hashes in one bank, made by SQLite in bulk with the indexes built after (`generate`; generation
only, and a `--db` that exists is reused). The load runs in a fresh child process so that its peak RSS is the
load's alone: `BankMatcher().refresh(conn)` (what `netwarden match`, the media hook and the HMA API
call), wall and CPU time, peak RSS and the index's bytes. Then, in the same process, `--adds` times:
insert one entry through `media_banks.add_entries` (its own transaction), refresh the running
matcher, match the new hash; wall time of the three.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sqlite3
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))


_UNIQUE = re.compile(r",\s*CONSTRAINT uq_bank_entries_signal UNIQUE \(bank_id, signal_type, signal\)")


def generate(db: str, n: int, chunk: int = 5_000_000) -> float:
    """N random PDQ entries in one bank, rows as `media_banks.add_entries` writes them ('pdq', 64
    lower-case hex digits, label '', an ISO time), in random order of id.

    Made by SQLite itself, one `INSERT ... SELECT` from a recursive CTE a chunk
    (`lower(hex(randomblob(32)))`, no Python per row), into the table without its indexes; then the
    unique index is built by one sort (CREATE UNIQUE INDEX) and entered in the schema as the table's
    own UNIQUE constraint index (PRAGMA writable_schema: the schema text ends byte for byte the
    product's, checked in tests/test_bench_bank_load.py), and the lookup index is re-created. Kept
    live, the unique index's random inserts were 1.3x slower at 10M and fall out of the page cache
    at 100M."""
    from sqlalchemy import create_engine

    from netwarden.store import media_banks as mb
    from netwarden.store.tables import metadata

    t = time.perf_counter()
    engine = create_engine(f"sqlite:///{db}")
    metadata.create_all(engine)
    with engine.begin() as conn:
        bank = mb.create_bank(conn, "bench")
    engine.dispose()
    con = sqlite3.connect(db, isolation_level=None)
    (tsql,) = con.execute("SELECT sql FROM sqlite_master WHERE type='table' AND name='bank_entries'").fetchone()
    idx = con.execute("SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='bank_entries' "
                      "AND sql IS NOT NULL").fetchall()
    bare = _UNIQUE.sub("", tsql)
    assert bare != tsql, "bank_entries' unique constraint is not where generate() expects it"
    con.execute("PRAGMA journal_mode=OFF")  # generation only: no rollback journal, no WAL to checkpoint
    con.execute("PRAGMA synchronous=OFF")
    con.execute("DROP TABLE bank_entries")
    con.execute(bare)
    for s in range(0, n, chunk):
        k = min(chunk, n - s)
        con.execute("BEGIN")
        con.execute("INSERT INTO bank_entries (bank_id, signal_type, signal, label, added_at) "
                    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) "
                    "SELECT ?, 'pdq', lower(hex(randomblob(32))), '', '2026-12-03T00:00:00+00:00' FROM c",
                    (k, bank["id"]))
        con.execute("COMMIT")
    con.execute("CREATE UNIQUE INDEX bench_uq ON bank_entries (bank_id, signal_type, signal)")
    con.execute("PRAGMA writable_schema=ON")
    con.execute("BEGIN")
    con.execute("UPDATE sqlite_master SET sql = ? WHERE type='table' AND name='bank_entries'", (tsql,))
    con.execute("UPDATE sqlite_master SET name = 'sqlite_autoindex_bank_entries_1', sql = NULL "
                "WHERE type='index' AND name='bench_uq'")
    con.execute("COMMIT")
    con.execute("PRAGMA writable_schema=OFF")
    con.close()
    con = sqlite3.connect(db, isolation_level=None)  # schema read afresh
    for _, sql in idx:
        con.execute(sql)
    con.execute("PRAGMA journal_mode=WAL")  # the product's mode (store/db.py)
    con.close()
    return time.perf_counter() - t


def child(db: str, adds: int) -> None:
    from sqlalchemy import create_engine

    from netwarden.media.hashing import MediaHashes
    from netwarden.media.service import BankMatcher
    from netwarden.store import media_banks as mb

    engine = create_engine(f"sqlite:///{db}")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    bm = BankMatcher()
    w, c = time.perf_counter(), time.process_time()
    with engine.connect() as conn:
        m = bm.refresh(conn)
    load_wall, load_cpu = time.perf_counter() - w, time.process_time() - c
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    loaded, exact = len(m.pdq_meta), m.index.exact
    ix_b, meta_b = m.index.nbytes() / max(len(m.index), 1), m.pdq_meta.nbytes() / max(loaded, 1)
    rng = np.random.default_rng(1234)
    with engine.connect() as conn:
        bank_id = mb.bank_row(conn, "bench")["id"]
    lat = []
    for _ in range(adds):
        new = rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex()
        t = time.perf_counter()
        with engine.begin() as conn:
            mb.add_entries(conn, bank_id, [("pdq", new, "")])
        with engine.connect() as conn:
            m2 = bm.refresh(conn)
        found = m2.match(MediaHashes(name="q", pdq=new, quality=100)).matches
        lat.append(time.perf_counter() - t)
        assert found and m2 is m
    print(json.dumps({"entries": loaded, "load_wall_s": load_wall, "load_cpu_s": load_cpu,
                      "rss_before_mib": rss0 / 1024, "peak_rss_mib": peak / 1024,
                      "index_bytes_per_hash": ix_b, "entries_bytes_per_hash": meta_b,
                      "exact": exact, "add_to_matchable_ms": [round(x * 1000, 1) for x in lat]}))


def child_batches(n: int, adds: int, batch: int = 100_000) -> None:
    """--no-store: the load's path without SQLite. Random PDQ hashes made batch by batch (none held
    after its batch) go through the same builder and entry arrays as `load_entries`, so the peak RSS
    is the index build's and the matcher's own, with no store reads in the time."""
    from netwarden.media.hashing import MediaHashes
    from netwarden.media.matcher import BankInfo, Matcher

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    m = Matcher([BankInfo(id=1, name="bench", label="", threshold=31, enabled=True, negative=False)])
    rng = np.random.default_rng(7)
    w, c = time.perf_counter(), time.process_time()
    builder = m.index.builder(n)
    m.pdq_meta.reserve(n)
    for s0 in range(0, n, batch):
        k = min(batch, n - s0)
        ids = np.arange(s0 + 1, s0 + k + 1, dtype=np.int64)
        builder.add(rng.integers(0, 256, (k, 32), dtype=np.uint8), ids)
        m.pdq_meta.add(ids, np.ones(k, dtype=np.int32), codes=np.zeros(k, dtype=np.int32))
    builder.finish()
    del builder
    load_wall, load_cpu = time.perf_counter() - w, time.process_time() - c
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    lat = []
    for j in range(adds):
        new = rng.integers(0, 256, (1, 32), dtype=np.uint8)
        t = time.perf_counter()
        b = m.index.builder(1)  # what load_entries does for a refresh that finds one new entry
        b.add(new, [n + 1 + j])
        b.finish()
        m.pdq_meta.add([n + 1 + j], [1], codes=np.zeros(1, dtype=np.int32))
        found = m.match(MediaHashes(name="q", pdq=new.tobytes().hex(), quality=100)).matches
        lat.append(time.perf_counter() - t)
        assert found
    print(json.dumps({"entries": len(m.pdq_meta), "load_wall_s": load_wall, "load_cpu_s": load_cpu,
                      "rss_before_mib": rss0 / 1024, "peak_rss_mib": peak / 1024,
                      "index_bytes_per_hash": m.index.nbytes() / len(m.index),
                      "entries_bytes_per_hash": m.pdq_meta.nbytes() / len(m.pdq_meta),
                      "exact": m.index.exact, "add_to_matchable_ms": [round(x * 1000, 1) for x in lat]}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--db", default=None, help="SQLite file (default /tmp/netwarden-bank-SIZE.db; reused if present)")
    ap.add_argument("--adds", type=int, default=5)
    ap.add_argument("--no-store", action="store_true",
                    help="no SQLite: random hashes made batch by batch through the load's builder (child_batches)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    db = a.db or f"/tmp/netwarden-bank-{a.size}.db"
    if a.child:
        child_batches(a.size, a.adds) if a.no_store else child(db, a.adds)
        return
    if a.no_store:
        db = ""
    elif not os.path.exists(db):
        gen = generate(db, a.size)
        print(f"generated {a.size:,} PDQ entries into {db} in {gen:.1f}s ({os.path.getsize(db) / 2**30:.2f} GiB)")
    print(f"load average before the load: {os.getloadavg()[0]:.2f}")
    out = subprocess.run([sys.executable, __file__, "--child", "--db", db, "--adds", str(a.adds), "--size", str(a.size)]
                         + (["--no-store"] if a.no_store else []), check=True,
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.path.join(
                             os.path.dirname(os.path.abspath(__file__)), "..", "src")})
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{'batches' if a.no_store else 'store'} -> matchable ({r['entries']:,} PDQ entries, {'exact' if r['exact'] else 'approx'} mode): "
          f"{r['load_wall_s']:.1f}s wall, {r['load_cpu_s']:.1f}s CPU; peak RSS {r['peak_rss_mib']:,.0f} MiB "
          f"(before the load {r['rss_before_mib']:,.0f}); index {r['index_bytes_per_hash']:.1f} + entries "
          f"{r['entries_bytes_per_hash']:.1f} bytes a hash")
    print(f"bank add -> matchable on the loaded index ({'add, match' if a.no_store else 'insert, refresh, match'}), ms: {r['add_to_matchable_ms']}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
