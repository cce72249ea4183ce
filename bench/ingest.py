"""Ingest throughput: native JSONL into SQLite and PostgreSQL, beside a plain executemany floor.

    .venv/bin/python bench/ingest.py [--accounts 40000] [--world DIR] [--no-postgres]

Generates a world with `netwarden world generate --no-media` (or uses --world DIR), then measures
in one run:
  * ours:  `ingest_files` (parse, validate, project, upsert, checkpoint) into a fresh SQLite file,
           on one core (the process is pinned to one CPU when the OS allows);
  * floor: the same rows, already parsed and projected in memory, inserted with a plain
           DB-API `executemany` of `INSERT` statements into the same schema (no validation,
           no upsert logic) - the floor we should be near;
  * the same two into a throw-away PostgreSQL server;
  * peak memory of the ingest at 25%, 50% and 100% of the input (flat = streaming).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from netwarden.ingest import events as native
from netwarden.ingest.apply import EVENT_COLUMNS, MEDIA_COLUMNS, POST_COLUMNS, Rows
from netwarden.ingest.pipeline import DEFAULT_BATCH, ingest_files
from netwarden.ingest.reader import read_lines
from netwarden.store import open_store
from netwarden.store import schema as t

# (Rows attribute, table, columns of its tuples or of its dicts; None: every key of the dicts)
ROW_TABLES = [("events", t.events, EVENT_COLUMNS), ("accounts", t.accounts, None), ("posts", t.posts, POST_COLUMNS),
              ("hashtags", t.post_hashtags, ("post_id", "tag")), ("mentions", t.post_mentions, ("post_id", "account_id")),
              ("urls", t.post_urls, ("post_id", "url")), ("post_media", t.post_media, ("post_id", "media_id", "position")),
              ("media", t.media, MEDIA_COLUMNS), ("follows", t.follows, None), ("requests", t.follow_requests, None),
              ("likes", t.likes, None), ("sessions", t.account_sessions, None)]


def pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def make_world(accounts: int, out: Path) -> Path:
    from netwarden.world import generate

    generate(out, accounts=accounts, seed=7, media=False)
    return out / "events.jsonl"


def floor(url: str, path: Path) -> tuple[int, float, float]:
    """Plain executemany of the same rows (parsed beforehand) into the same schema."""
    batches = []
    rows = Rows()
    n = 0
    for line in read_lines(path):
        if line.error:
            continue
        try:
            rows.add(line.value, line.raw, native.validate(line.value), "native")
        except native.BadRecord:
            continue
        n += 1
        if n % DEFAULT_BATCH == 0:  # the same transaction size as ours
            batches.append(rows)
            rows = Rows()
    batches.append(rows)
    store = open_store(url)
    raw = store.engine.raw_connection()
    cur = raw.cursor()
    ph = "?" if store.dialect == "sqlite" else "%s"
    start, cpu = time.perf_counter(), time.process_time()
    for b in batches:
        if store.dialect == "sqlite":  # one transaction per batch, as ours (the driver autocommits)
            cur.execute("BEGIN")
        for attr, table, columns in ROW_TABLES:
            data = getattr(b, attr)
            if attr == "accounts":
                data = [{**r, "state": "active", "state_version": ""} for r in data]
            if not data:
                continue
            cols = list(columns or data[0])
            verb = "INSERT OR IGNORE" if store.dialect == "sqlite" else "INSERT"
            tail = "" if store.dialect == "sqlite" else " ON CONFLICT DO NOTHING"
            sql = f"{verb} INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join([ph] * len(cols))}){tail}"
            cur.executemany(sql, data if isinstance(data[0], tuple) else [tuple(r[c] for c in cols) for r in data])
        raw.commit()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    raw.close()
    store.close()
    return n, elapsed, cpu


def ours(url: str, path: Path) -> tuple[int, float, float]:
    store = open_store(url)
    start, cpu = time.perf_counter(), time.process_time()
    summary = ingest_files(store, [path], signals=False)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    store.close()
    return summary.events, elapsed, cpu


def peak_rss_mb(path: Path, lines: int, tmp: Path) -> float:
    part = tmp / f"part{lines}.jsonl"
    with path.open("rb") as src, part.open("wb") as dst:
        for i, raw in enumerate(src):
            if i >= lines:
                break
            dst.write(raw)
    # VmHWM (peak resident set of this process image); ru_maxrss would carry the parent's peak
    # across fork and exec.
    code = ("from netwarden.store import open_store;from netwarden.ingest.pipeline import ingest_files;"
            f"s=open_store('sqlite:///{tmp}/rss{lines}.db');ingest_files(s,['{part}'],signals=False);"
            "print([int(x.split()[1])/1024 for x in open('/proc/self/status') if x.startswith('VmHWM')][0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accounts", type=int, default=40_000, help="world size when generating")
    ap.add_argument("--world", type=Path, help="use an existing world folder")
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    pin_one_core()
    with tempfile.TemporaryDirectory(prefix="nw-bench-") as d:
        tmp = Path(d)
        path = args.world / "events.jsonl" if args.world else make_world(args.accounts, tmp / "world")
        lines = sum(1 for _ in path.open("rb"))
        rss = {f"{pct}%": peak_rss_mb(path, lines * pct // 100, tmp) for pct in (25, 50, 100)}
        results = []
        # SQLite works inside this process: events per CPU-second is the per-core figure, and it
        # holds on a shared machine where wall time does not.
        n, dt, cpu = ours(f"sqlite:///{tmp}/ours.db", path)
        fn, fdt, fcpu = floor(f"sqlite:///{tmp}/floor.db", path)
        results.append({"store": "sqlite (per CPU-second)", "events": n, "ours_eps": n / cpu,
                        "floor_eps": fn / fcpu, "ratio": (n / cpu) / (fn / fcpu)})
        results.append({"store": "sqlite (wall clock)", "events": n, "ours_eps": n / dt,
                        "floor_eps": fn / fdt, "ratio": (n / dt) / (fn / fdt)})
        if not args.no_postgres:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the test support package
            from support.postgres import PostgresServer

            # The server works in other processes: wall clock is the fair figure here.
            with PostgresServer() as pg:
                n, dt, _ = ours(pg.create_db("ours"), path)
                fn, fdt, _ = floor(pg.create_db("floor"), path)
            results.append({"store": "postgresql (wall clock)", "events": n, "ours_eps": n / dt,
                            "floor_eps": fn / fdt, "ratio": (n / dt) / (fn / fdt)})
    if args.json:
        print(json.dumps({"results": results, "peak_rss_mb": rss}, indent=2))
        return
    print(f"native JSONL ingest, {lines:,} lines, one core")
    print(f"{'store':<26}{'ours ev/s':>12}{'executemany ev/s':>18}{'ours/floor':>12}")
    for r in results:
        print(f"{r['store']:<26}{r['ours_eps']:>12,.0f}{r['floor_eps']:>18,.0f}{r['ratio']:>12.2f}")
    print("peak RSS of the ingest by input size: " + ", ".join(f"{k}: {v:.0f} MB" for k, v in rss.items()))
    print(f"(this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
