"""Stream budget: posts per second per core through the worker's path, and the cores 500M posts/day needs.

    .venv/bin/python bench/stream.py [--posts 100000] [--batch 5000] [--pdq] [--postgres] [--no-kafka]

Measures, with CPU time (process_time: every thread of this process, so SQLite's work counts; the
machine's cores are shared with other engineers' jobs, so wall time is printed but not used):

  * pipeline: `StreamWorker.flush` on batches of Kafka-like messages - decode, validate and project
    (the file ingest's own `Ingestor`), text normalization and term scan (`TextSignals` with the
    demo term list), lookup of the MD5 sent with each media against a bank (`EventHashLookup`;
    with --pdq also the event's PDQ in the bank's PDQ index) and keeping those hashes for
    retro-matching, the edge and row writes, and the offsets, in one transaction per batch;
    broken down by stage;
  * consume: a plain confluent-kafka consumer reading the same messages from librdkafka's mock
    cluster, which runs in a child process so its broker threads are not counted here;
  * the sum, as posts/s per core, and the cores needed for 500M posts/day at average and at 3x peak.

With --postgres the store is a throw-away PostgreSQL server; the server's own CPU (another process)
is then not in the figure: it is printed separately from the server's /proc stat.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from netwarden.ingest.apply import Rows
from netwarden.ingest.pipeline import paused_gc
from netwarden.ingest.text_signals import TextSignals
from netwarden.scale.hash_lookup import EventHashLookup
from netwarden.scale.kafka_worker import StreamWorker
from netwarden.store import media_banks as mb
from netwarden.store import open_store
from netwarden.world import vocab

POSTS_PER_DAY = 500_000_000
PEAK = 3
TARGET = 20_000
TERMS = Path(__file__).resolve().parents[1] / "src" / "netwarden" / "text" / "demo_terms.yaml"
PLACEHOLDERS = ["vantro", "gorvex", "#quixfen", "dm for frumple", "yemblix 12"]  # invented demo terms


def make_posts(n: int, seed: int = 5, accounts: int = 50_000, pdq: bool = False) -> tuple[list[bytes], list[tuple[str, str]]]:
    """n post events (JSON bytes) like a busy platform's, and the (signal type, hash) pairs to put in the bank.

    With `pdq`, each media also carries the PDQ and quality an HMA-style upload pipeline computes
    (random hashes, quality 40-100, so about 1 in 7 is below 50 and unusable); the bank gets a PDQ
    entry a few bits away from some of them (drawn from a second generator: the posts are the same).
    """
    rng = random.Random(seed)
    prng = random.Random(seed + 1)
    words = [*vocab.ADJECTIVES, *vocab.NOUNS, "the", "a", "and", "today", "with", "my", "this", "great", "new"]
    tags = vocab.BENIGN_HASHTAGS
    out: list[bytes] = []
    bank: list[str] = []
    for i in range(n):
        author = f"u{rng.randrange(accounts)}"
        text = " ".join(rng.choice(words) for _ in range(rng.randint(6, 30)))
        if rng.random() < 0.01:
            text += " " + rng.choice(PLACEHOLDERS)
        d: dict = {"id": f"p{i}", "author_id": author, "text": text, "lang": "en", "visibility": "public",
                   "hashtags": [rng.choice(tags) for _ in range(rng.randint(0, 2))]}
        r = rng.random()
        if i and r < 0.30:
            j = rng.randrange(i)
            d["reply_to"], d["reply_to_account"] = f"p{j}", f"u{j % accounts}"
        elif i and r < 0.38:
            d["repost_of"] = f"p{rng.randrange(i)}"
        elif i and r < 0.43:
            d["quote_of"] = f"p{rng.randrange(i)}"
        if rng.random() < 0.15:
            d["mentions"] = [f"u{rng.randrange(accounts)}" for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.08:
            d["urls"] = [f"https://example.org/{rng.randrange(10**6)}"]
        if rng.random() < 0.20:
            md5 = f"{rng.getrandbits(128):032x}"
            if rng.random() < 0.005:
                bank.append(("md5", md5))
            d["media"] = [{"id": f"m{i}", "kind": "photo", "md5": md5, "size": rng.randint(10**4, 10**6)}]
            if pdq:
                h = prng.getrandbits(256)
                d["media"][0].update(pdq=f"{h:064x}", pdq_quality=prng.randint(40, 100))
                if prng.random() < 0.005:  # a re-encoded copy of a bank image: a few bits away
                    bank.append(("pdq", f"{h ^ prng.getrandbits(16):064x}"))
        t = f"2026-03-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z"
        out.append(orjson.dumps({"v": 1, "id": f"e{i}", "kind": "post", "time": t, "data": d}))
    return out, bank


@dataclass
class Msg:
    """The part of a confluent_kafka.Message the worker reads."""

    _topic: str
    _partition: int
    _offset: int
    _value: bytes

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def value(self) -> bytes:
        return self._value

    def error(self):
        return None


class Timed:
    """Wrap a hook (or Rows.write) and add up its CPU time."""

    def __init__(self, hook):
        self.hook, self.cpu = hook, 0.0

    def on_batch(self, conn, batch) -> None:
        t = time.process_time()
        self.hook.on_batch(conn, batch)
        self.cpu += time.process_time() - t


def bench_pipeline(url: str, msgs: list[bytes], bank: list[tuple[str, str]], batch: int, partitions: int = 8,
                   pdq: bool = False) -> dict:
    store = open_store(url)
    with store.engine.begin() as conn:
        b = mb.create_bank(conn, "bench", threshold=31)
        rng = random.Random(1)
        # 10,000 MD5 entries (and with --pdq 10,000 PDQ entries), the planted ones among them
        filler = [("md5", f"{rng.getrandbits(128):032x}") for _ in range(10_000 - sum(t == "md5" for t, _ in bank))]
        if pdq:
            filler += [("pdq", f"{rng.getrandbits(256):064x}") for _ in range(10_000 - sum(t == "pdq" for t, _ in bank))]
        mb.add_entries(conn, b["id"], [(t, h, "bench") for t, h in [*bank, *filler]])
    text = Timed(TextSignals(store, terms_path=str(TERMS)))
    lookup = Timed(EventHashLookup(store))
    w = StreamWorker(store, "127.0.0.1:9", "bench", "bench", hooks=[text, lookup], batch_size=batch,
                     consumer_conf={"log_level": 0})
    w._commit_kafka = lambda moves: None  # no broker here; the consume side is measured apart
    w._expected = {("bench", p): None for p in range(partitions)}
    write_cpu = [0.0]
    real_write = Rows.write

    def timed_write(self, conn):
        t = time.process_time()
        real_write(self, conn)
        write_cpu[0] += time.process_time() - t

    offsets = [0] * partitions

    def run(chunk: list[bytes], start: int) -> None:
        pending = []
        for k, v in enumerate(chunk):
            p = (start + k) % partitions
            pending.append(Msg("bench", p, offsets[p], v))
            offsets[p] += 1
        w._pending = pending
        w.flush()

    # warm-up batch, not measured: one-time set-up (term list compile, fold tables, bank load)
    warm, msgs = msgs[:batch], msgs[batch:]
    run(warm, 0)
    text.cpu = lookup.cpu = 0.0
    Rows.write = timed_write
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for s in range(0, len(msgs), batch):
        run(msgs[s: s + batch], len(warm) + s)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    Rows.write = real_write
    n = len(msgs)
    from netwarden.ingest.reader import Line, _decode

    t = time.process_time()
    for s in range(0, n, batch):
        with paused_gc():  # as in the worker's flush
            rows = Rows()
            for k, v in enumerate(msgs[s: s + batch]):
                value, err = _decode(v)
                w.ingestor.add_line(rows, Line(k + 1, k + 1, v, value, err), "kafka:bench:0")
    parse_cpu = time.process_time() - t
    w.consumer.close()
    with store.engine.connect() as conn:
        from sqlalchemy import func, select

        from netwarden.store.schema import signals

        matches = conn.execute(select(func.count()).select_from(signals).where(signals.c.kind == "media_match")).scalar()
        hits = conn.execute(select(func.count()).select_from(signals).where(signals.c.kind == "term_hit")).scalar()
    store.close()
    assert w.stats.messages == n + len(warm) and w.stats.dead == 0, w.stats
    return {"posts": n, "cpu_s": cpu, "wall_s": wall, "decode_validate_project_s": parse_cpu,
            "row_and_edge_write_s": write_cpu[0], "normalize_scan_s": text.cpu, "exact_hash_lookup_s": lookup.cpu,
            "other_s": cpu - parse_cpu - write_cpu[0] - text.cpu - lookup.cpu,
            "media_match_signals": matches, "term_hit_signals": hits}


CLUSTER = """
import sys, time
from confluent_kafka import Producer
p = Producer({"test.mock.num.brokers": 1, "log_level": 3})
md = p.list_topics(timeout=10)
print(",".join(f"{b.host}:{b.port}" for b in md.brokers.values()), flush=True)
sys.stdin.read()
"""


def bench_consume(msgs: list[bytes], timeout_s: float) -> dict:
    """CPU of consuming the messages from a mock cluster that runs in a child process. Fails (exit 1)
    when fewer than all of them arrived within `timeout_s`: a rate from a partial count is no figure."""
    from confluent_kafka import Consumer, Producer

    child = subprocess.Popen([sys.executable, "-c", CLUSTER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        brokers = child.stdout.readline().strip()
        prod = Producer({"bootstrap.servers": brokers, "linger.ms": 50, "batch.num.messages": 10000,
                         "compression.type": "lz4"})
        for i, m in enumerate(msgs):
            while True:
                try:
                    prod.produce("bench", m, key=str(i % 1000).encode())
                    break
                except BufferError:
                    prod.poll(0.05)
        prod.flush(120)
        del prod
        c = Consumer({"bootstrap.servers": brokers, "group.id": "bench", "auto.offset.reset": "earliest",
                      "enable.auto.commit": False, "fetch.min.bytes": 100000})
        c.subscribe(["bench"])
        got = 0
        start_cpu = None
        wall0 = time.perf_counter()
        while got < len(msgs) and time.perf_counter() - wall0 < timeout_s:
            batch = c.consume(5000, 1.0)
            if batch and start_cpu is None:
                start_cpu = time.process_time()  # from the first fetch: group join is not per-post work
            got += sum(1 for m in batch if m.error() is None and m.value() is not None)
        cpu = time.process_time() - (start_cpu or time.process_time())
        c.close()
    finally:
        child.stdin.close()
        child.wait(30)
    if got < len(msgs):
        raise SystemExit(f"bench/stream.py: the Kafka consume read {got:,} of {len(msgs):,} messages within "
                         f"{timeout_s:.0f} s; no rate reported from a partial count (raise --consume-timeout)")
    return {"messages": got, "cpu_s": cpu}


def memory_figures(bank_hashes: int = 200_000, world_accounts: int = 3000) -> dict:
    """Bytes per bank PDQ hash in the matcher (tracemalloc) and per graph edge (a generated world)."""
    import gc
    import tracemalloc

    from netwarden.media.matcher import BankInfo, Matcher

    rng = random.Random(1)
    entries = [{"id": i + 1, "bank_id": 1, "signal_type": "pdq", "signal": f"{rng.getrandbits(256):064x}",
                "label": ""} for i in range(bank_hashes)]
    gc.collect()
    tracemalloc.start()
    m = Matcher([BankInfo(1, "b")], index_mode="exact")
    m.add_entries(entries)
    gc.collect()
    cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del m
    out = {"bank_hashes": bank_hashes, "matcher_bytes_per_hash": cur / bank_hashes,
           "matcher_peak_bytes_per_hash": peak / bank_hashes}
    from netwarden.graph.expand import Prepared, load_graph
    from netwarden.ingest.pipeline import ingest_files
    from netwarden.world import generate

    with tempfile.TemporaryDirectory() as d:
        generate(Path(d) / "w", accounts=world_accounts, seed=7, media=False)
        store = open_store(f"sqlite:///{d}/g.db")
        ingest_files(store, [Path(d) / "w" / "events.jsonl"], signals=False)
        g, pri = load_graph(store)
        fused = Prepared(g, None, pri).matrix
        store.close()
    out.update({"graph_accounts": g.n, "graph_edges": g.edges(), "graph_bytes_per_edge": g.memory_bytes() / g.edges(),
                "fused_bytes_per_edge": (fused.data.nbytes + fused.indices.nbytes) / (fused.nnz / 2)})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--postgres", action="store_true", help="also measure with a PostgreSQL store")
    ap.add_argument("--no-kafka", action="store_true", help="skip the consume measurement")
    ap.add_argument("--consume-timeout", type=float, default=None,
                    help="seconds the consume may take before the bench fails (default 300 + 1 s per 1,000 posts)")
    ap.add_argument("--pdq", action="store_true",
                    help="media also carry an event-supplied PDQ (+ quality), searched in a 10,000-hash PDQ bank")
    ap.add_argument("--repeat", type=int, default=3, help="SQLite pipeline runs; the median run is reported")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--memory", action="store_true", help="print memory per bank hash and per graph edge instead")
    a = ap.parse_args()
    if a.memory:
        mem = memory_figures()
        if a.json:
            print(orjson.dumps(mem, option=orjson.OPT_INDENT_2).decode())
        else:
            print(f"matcher: {mem['matcher_bytes_per_hash']:.0f} B per PDQ bank hash (peak while adding "
                  f"{mem['matcher_peak_bytes_per_hash']:.0f}) -> {mem['matcher_bytes_per_hash'] * 1e7 / 2**30:.1f} GiB "
                  f"per 10M hashes ({mem['bank_hashes']:,} measured)")
            print(f"graph: {mem['graph_bytes_per_edge']:.1f} B per edge in all layers, {mem['fused_bytes_per_edge']:.1f} B "
                  f"in the fused matrix -> {mem['graph_bytes_per_edge'] * 1e9 / 2**30:.0f} + "
                  f"{mem['fused_bytes_per_edge'] * 1e9 / 2**30:.0f} GiB per billion edges "
                  f"({mem['graph_edges']:,} edges of a {mem['graph_accounts']:,}-account world measured)")
        return
    msgs, bank = make_posts(a.posts, pdq=a.pdq)
    results: dict = {}
    with tempfile.TemporaryDirectory() as d:
        # Each run on a fresh store; the machine's speed drifts from minute to minute (other tenants), so
        # one invocation measures --repeat runs and reports the median run (each run's figure printed).
        runs = sorted((bench_pipeline(f"sqlite:///{d}/stream{i}.db", msgs, bank, a.batch, pdq=a.pdq)
                       for i in range(a.repeat)), key=lambda r: r["cpu_s"])
        results["sqlite"] = {**runs[len(runs) // 2], "runs_cpu_s": [r["cpu_s"] for r in runs]}
        if a.postgres:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the test support package
            from support.postgres import PostgresServer

            server = PostgresServer().start()
            try:
                url = server.create_db("bench_stream")
                results["postgresql"] = bench_pipeline(url, msgs, bank, a.batch, pdq=a.pdq)
            finally:
                server.stop()
    results["consume"] = {"messages": 0, "cpu_s": 0.0} if a.no_kafka else bench_consume(msgs, a.consume_timeout or 300 + a.posts / 1000)
    avg = POSTS_PER_DAY / 86400
    out = {"posts": a.posts, "batch": a.batch, "pdq": a.pdq, "cpu_count": os.cpu_count(), "per_store": {}}
    for name in ("sqlite", "postgresql"):
        r = results.get(name)
        if not r:
            continue
        consumed = results["consume"]["messages"] or a.posts
        per_post = r["cpu_s"] / r["posts"] + results["consume"]["cpu_s"] / consumed
        rate = 1 / per_post
        out["per_store"][name] = {**r, "consume_cpu_s": results["consume"]["cpu_s"], "posts_per_s_per_core": rate,
                                  "cores_average": math.ceil(avg / rate), "cores_peak_3x": math.ceil(avg * PEAK / rate),
                                  "meets_target": rate >= TARGET}
    if a.json:
        print(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())
        return
    print(f"stream budget: {a.posts:,} posts (first batch is warm-up), batches of {a.batch}{', event PDQ searched' if a.pdq else ''}, CPU time (machine has {os.cpu_count()} shared cores)")
    print(f"500M posts/day = {avg:,.0f}/s average, {avg * PEAK:,.0f}/s at {PEAK}x peak; target {TARGET:,} posts/s/core")
    for name, r in out["per_store"].items():
        print(f"\n[{name}]  wall {r['wall_s']:.1f}s (shared machine), CPU {r['cpu_s']:.2f}s pipeline"
              f" + {r['consume_cpu_s']:.2f}s Kafka consume")
        for k in ("decode_validate_project_s", "row_and_edge_write_s", "normalize_scan_s", "exact_hash_lookup_s"):
            print(f"  {k[:-2]:<28} {r[k]:7.2f}s  {r[k] / r['posts'] * 1e6:7.1f} us/post")
        if r["other_s"] >= 0:
            print(f"  {'other (total - the parts)':<28} {r['other_s']:7.2f}s  {r['other_s'] / r['posts'] * 1e6:7.1f} us/post")
        else:  # decode is timed in a second pass: the parts can add up to more than the run they came from
            print(f"  {'other (total - the parts)':<28}     n/a  the parts, timed apart, exceed the run by "
                  f"{-r['other_s']:.2f}s (noise between passes); no figure")
        print(f"  {'kafka consume':<28} {r['consume_cpu_s']:7.2f}s  {r['consume_cpu_s'] / (results['consume']['messages'] or a.posts) * 1e6:7.1f} us/post")
        print(f"  signals: {r['term_hit_signals']} term hits, {r['media_match_signals']} media matches")
        if len(r.get("runs_cpu_s", ())) > 1:
            consume = r["consume_cpu_s"] / (results["consume"]["messages"] or a.posts)
            rates = [1 / (c / r["posts"] + consume) for c in r["runs_cpu_s"]]
            print(f"  runs: {', '.join(f'{x:,.0f}' for x in sorted(rates))} posts/s per core (the median run above)")
        print(f"  => {r['posts_per_s_per_core']:,.0f} posts/s per core "
              f"({'meets' if r['meets_target'] else 'BELOW'} the {TARGET:,} target); cores for 500M/day: "
              f"{r['cores_average']} at average, {r['cores_peak_3x']} at 3x peak")


if __name__ == "__main__":
    main()
