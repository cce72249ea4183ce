"""Ban evasion as signups arrive, on a prepared world's store: the watch list's costs, and the stream
worker flagging re-registrations in the batch that brings them.

    .venv/bin/python bench/evasion_watch.py watch  --world W --db W/eval.db [--updates 20]
    .venv/bin/python bench/evasion_watch.py stream --world W --db W/eval.db [--ordinary 3000] [--resuspend 40]

The store is copied first (the world's own store is never written). `watch`: the time to build the
watch list (graph.evasion.load_inputs + Blocks), the time to apply one suspension and one
reinstatement (graph.evasion.update_suspended, after reading the suspended set), a full re-read for
comparison, the per-signup scoring time (candidates + best_links) over the re-registrations and a
sample of ordinary newer accounts, and whether the updated watch list equals a fresh read.

`stream`: the re-registrations and `--ordinary` ordinary signups created after the first suspension
are taken out of the copy (account, contacts, sessions, avatar media, follows, their events), and
`--resuspend` of the suspended accounts they replace are made active again; then those accounts'
`account` and `session` events and the suspensions' `account_state` events, in time order, go
through one partition of a topic on librdkafka's mock cluster into `StreamWorker` with the worker's
hooks (`stream_hooks`: text, media hashing from the world's files, the evasion watch). Prints, per
re-registration, whether its link to its own suspended account was written in the batch that
brought the signup, recall by the profile traits it carries (name, bio, handle family, avatar,
contact; follows arrive later and are not in the stream) and precision of all links written.
CPU time is process_time (the mock brokers' threads are in this process); wall time is printed too.
"""

from __future__ import annotations

import argparse
import atexit
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import orjson
from sqlalchemy import text

from netwarden.graph import evasion as ev
from netwarden.graph.evaluate import read_truth, world_terms
from netwarden.store import open_store

_t = ev._t
PROFILE = {"name", "bio", "handle_family", "avatar", "contact"}


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def copy_db(src: str, tag: str) -> str:
    d = Path(tempfile.mkdtemp(prefix=f"evwatch-{tag}-", dir="/tmp"))
    atexit.register(shutil.rmtree, d, True)  # the copy is the run's own: a 100k store is ~1 GB a run
    dst = d / "store.db"
    shutil.copyfile(src, dst)
    return str(dst)


def score_one(n, inp, blocks):
    created = inp.newer[n][0]
    pairs = [(n, s) for s in blocks.candidates(n) if ev.in_window(created, inp.susp[s][0])]
    return ev.best_links(pairs, inp, 1).get(n)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def cmd_watch(a) -> None:
    url = "sqlite:///" + copy_db(a.db, "w")
    truth = read_truth(Path(a.world))
    store = open_store(url)
    print(f"load {load()}")
    with store.engine.begin() as conn:
        w0, c0 = time.perf_counter(), time.process_time()
        inp = ev.load_inputs(store, conn)
        w1, c1 = time.perf_counter(), time.process_time()
        blocks = ev.Blocks(inp, inp.susp)
        w2, c2 = time.perf_counter(), time.process_time()
        print(f"build: load_inputs {w1 - w0:.2f} s wall / {c1 - c0:.2f} s CPU, Blocks {w2 - w1:.2f} s wall / "
              f"{c2 - c1:.2f} s CPU; {len(inp.susp)} suspended, {len(inp.newer)} newer; max RSS {rss_mib():.0f} MiB")
        # per-signup scoring
        rnd = random.Random(1)
        rereg = [r["new"] for r in truth["reregistrations"] if r["new"] in inp.newer]
        rr = set(rereg)
        ordinary = rnd.sample(sorted(n for n in inp.newer if n not in rr), min(2000, len(inp.newer) - len(rr)))
        for label, ids in (("re-registrations", rereg), ("ordinary newer", ordinary)):
            ts = []
            for n in ids:
                t = time.perf_counter()
                score_one(n, inp, blocks)
                ts.append(time.perf_counter() - t)
            print(f"score one signup ({label}, n={len(ids)}): median {statistics.median(ts) * 1e3:.2f} ms, "
                  f"p99 {pct(ts, 0.99) * 1e3:.2f} ms, max {max(ts) * 1e3:.2f} ms")
        # suspensions, then reinstatements, one account at a time
        last = max(t for t, _ in inp.susp.values() if t)
        stamp = (last.replace(microsecond=0)).strftime("%Y-%m-%dT%H:%M:%SZ")
        targets = rnd.sample([n for n in ordinary if n in inp.names], a.updates)
        for label, new_state in (("suspension", "suspended"), ("reinstatement", "active")):
            reads, upd = [], []
            for n in targets:
                conn.execute(text("UPDATE accounts SET state = :s, state_time = :t WHERE id = :a"),
                             {"s": new_state, "t": stamp, "a": n})
                t = time.perf_counter()
                current = ev.read_suspended(conn)
                t1 = time.perf_counter()
                ok = ev.update_suspended(conn, inp, blocks, current)
                t2 = time.perf_counter()
                assert ok
                reads.append(t1 - t)
                upd.append(t2 - t1)
            print(f"{label} (n={len(targets)}): read the suspended set median {statistics.median(reads) * 1e3:.1f} ms, "
                  f"update median {statistics.median(upd) * 1e3:.2f} ms, max {max(upd) * 1e3:.2f} ms")
            if new_state == "suspended":
                mid = ev.watch_state(inp, blocks)
                w0 = time.perf_counter()
                fresh = ev.load_inputs(store, conn)
                fb = ev.Blocks(fresh, fresh.susp)
                print(f"full re-read after the suspensions: {time.perf_counter() - w0:.2f} s wall; "
                      f"equal to the updated watch list: {ev.watch_state(fresh, fb) == mid}")
        fresh = ev.load_inputs(store, conn)
        print(f"after the reinstatements, equal to a fresh read: {ev.watch_state(fresh, ev.Blocks(fresh, fresh.susp)) == ev.watch_state(inp, blocks)}")
    print(f"load {load()}; max RSS {rss_mib():.0f} MiB")


class TimedWatch:
    """EvasionWatch, recording for each batch its signups, the links it wrote and its time."""

    def __init__(self, watch):
        self.w = watch
        self.batches: list[dict] = []

    def on_batch(self, conn, batch) -> None:
        before = len(self.w.found)
        w, c = time.perf_counter(), time.process_time()
        self.w.on_batch(conn, batch)
        self.batches.append({"accounts": [x["id"] for x in batch.accounts], "states": len(batch.account_states),
                             "links": self.w.found[before:], "wall": time.perf_counter() - w,
                             "cpu": time.process_time() - c, "builds": self.w.builds, "updates": self.w.updates})


def cmd_stream(a) -> None:
    from confluent_kafka import Producer

    from netwarden.scale.evasion_watch import EvasionWatch
    from netwarden.scale.hash_lookup import stream_hooks
    from netwarden.scale.kafka_worker import StreamWorker

    world = Path(a.world)
    truth = read_truth(world)
    rnd = random.Random(a.seed)
    url = "sqlite:///" + copy_db(a.db, "s")
    store = open_store(url)
    regs = truth["reregistrations"]
    rr = {r["new"] for r in regs}
    with store.engine.connect() as conn:
        susp = {x: t for x, t in conn.execute(text("SELECT id, state_time FROM accounts WHERE state = 'suspended'"))}
        first = min(susp.values())
        later = sorted(x for (x,) in conn.execute(text(
            "SELECT id FROM accounts WHERE state != 'suspended' AND created_at >= :t"), {"t": first}) if x not in rr)
    ordinary = set(rnd.sample(later, min(a.ordinary, len(later))))
    # suspensions streamed: old accounts (not the earliest) whose re-registration comes a day or more later
    gap = [r for r in regs if r["old"] in susp and susp[r["old"]] != first
           and _t(r["created_at"]) - _t(r["suspended_at"]) >= timedelta(days=1)]
    resusp = {r["old"] for r in rnd.sample(gap, min(a.resuspend, len(gap)))}
    signups = rr | ordinary
    lines = []
    with open(world / "events.jsonl", "rb") as f:
        for raw in f:
            if b'"kind":"account"' not in raw and b'"kind":"session"' not in raw and b'"kind":"account_state"' not in raw:
                continue
            e = orjson.loads(raw)
            d = e["data"]
            if e["kind"] == "account" and d["id"] in signups or e["kind"] == "session" and d["account_id"] in signups \
                    or e["kind"] == "account_state" and d["account_id"] in resusp and d["state"] == "suspended":
                lines.append((e["time"], raw.strip()))
    lines.sort(key=lambda x: x[0])
    ev_ids = [orjson.loads(r)["id"] for _, r in lines]
    with store.engine.begin() as conn:
        ids = sorted(signups)
        for sql in ("DELETE FROM contacts WHERE account_id IN ({in})",
                    "DELETE FROM account_sessions WHERE account_id IN ({in})",
                    "DELETE FROM media_hashes WHERE media_id IN (SELECT avatar_media_id FROM accounts WHERE id IN ({in}))",
                    "DELETE FROM media_hashes WHERE media_id IN (SELECT header_media_id FROM accounts WHERE id IN ({in}))",
                    "DELETE FROM media WHERE id IN (SELECT avatar_media_id FROM accounts WHERE id IN ({in}))",
                    "DELETE FROM media WHERE id IN (SELECT header_media_id FROM accounts WHERE id IN ({in}))",
                    "DELETE FROM follows WHERE src IN ({in}) OR dst IN ({in})",
                    "DELETE FROM follow_requests WHERE src IN ({in}) OR dst IN ({in})",
                    "DELETE FROM signals WHERE account_id IN ({in})",
                    "DELETE FROM accounts WHERE id IN ({in})"):
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                conn.execute(text(sql.replace("{in}", ",".join(f":k{j}" for j in range(len(chunk))))),
                             {f"k{j}": k for j, k in enumerate(chunk)})
        for i in range(0, len(ev_ids), 500):
            chunk = ev_ids[i:i + 500]
            conn.execute(text("DELETE FROM events WHERE event_id IN (" + ",".join(f":k{j}" for j in range(len(chunk))) + ")"),
                         {f"k{j}": k for j, k in enumerate(chunk)})
        for x in resusp:
            conn.execute(text("UPDATE accounts SET state = 'active', state_time = NULL, state_version = '' WHERE id = :a"),
                         {"a": x})
    host = Producer({"test.mock.num.brokers": 1, "log_level": 3})
    md = host.list_topics(timeout=10)
    brokers = ",".join(f"{b.host}:{b.port}" for b in md.brokers.values())
    prod = Producer({"bootstrap.servers": brokers, "linger.ms": 20, "enable.idempotence": True})
    for _, raw in lines:  # all in partition 0: the stream in time order
        prod.produce("signups", raw, partition=0)
        prod.poll(0)
    prod.flush(30)
    n = len(lines)
    print(f"load {load()}; streamed {n} events: {len(rr)} re-registrations, {len(ordinary)} ordinary signups "
          f"(their account and session events), {len(resusp)} suspensions; batch_size {a.batch}, batch_ms {a.batch_ms}")
    watch = EvasionWatch(store)
    timed = TimedWatch(watch)
    hooks = stream_hooks(store, str(world_terms(world)))
    hooks[-1] = timed
    worker = StreamWorker(store, brokers, "signups", "bench", hooks=hooks, media_root=str(world),
                          batch_size=a.batch, batch_ms=a.batch_ms,
                          consumer_conf={"session.timeout.ms": 6000, "heartbeat.interval.ms": 500})
    w0, c0 = time.perf_counter(), time.process_time()
    stats = worker.run(max_idle=3.0)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    print(f"worker: {wall:.1f} s wall / {cpu:.1f} s CPU (3 s idle wait included), {len(timed.batches)} batches; "
          f"watch: {watch.builds} full read(s), {watch.updates} update(s); max RSS {rss_mib():.0f} MiB")
    first_b, rest = timed.batches[0], timed.batches[1:]
    print(f"watch hook, first batch (full read): {first_b['wall']:.2f} s wall; later batches: median "
          f"{statistics.median(b['wall'] for b in rest) * 1e3:.0f} ms, max {max(b['wall'] for b in rest) * 1e3:.0f} ms wall"
          if rest else "")
    arrived = {x: i for i, b in enumerate(timed.batches) for x in b["accounts"]}
    linked = {lk.new_account: (i, lk) for i, b in enumerate(timed.batches) for lk in b["links"]}
    old_of = {r["new"]: r["old"] for r in regs}
    right = {x for x, (i, lk) in linked.items() if old_of.get(x) == lk.suspended_account}
    in_batch = {x for x in right if linked[x][0] == arrived.get(x)}
    wrong = [lk for x, (i, lk) in linked.items() if x not in right]
    print(f"links written: {len(linked)}, right {len(right)} (all in the batch that brought the signup: "
          f"{in_batch == right}), wrong {len(wrong)}; precision {len(right) / max(1, len(linked)):.3f}")
    groups: dict[str, list] = {}
    for r in regs:
        k = len(PROFILE & set(r["carried"]))
        groups.setdefault(">=2" if k >= 2 else str(k), []).append(r)
    for g in (">=2", "1", "0"):
        rs = groups.get(g, [])
        hit = sum(1 for r in rs if r["new"] in in_batch)
        print(f"re-registrations carrying {g} profile traits: {hit} / {len(rs)} flagged in their batch"
              f" ({hit / max(1, len(rs)):.3f})")
    for t in sorted(PROFILE):
        rs = [r for r in regs if r["carried"] == [t]]
        if rs:
            print(f"  {t} alone: {sum(1 for r in rs if r['new'] in in_batch)} / {len(rs)}")
    inp = watch.inp
    for r in groups.get(">=2", []):
        if r["new"] not in in_batch:
            lk = ev.score_pair(r["new"], r["old"], inp) if r["new"] in inp.newer and r["old"] in inp.susp else None
            got = linked.get(r["new"])
            print(f"  missed ({'+'.join(sorted(PROFILE & set(r['carried'])))}): score to its own "
                  f"{round(lk.score, 3) if lk else None} {[e['kind'] for e in lk.evidence] if lk else ''}"
                  + (f"; linked to {got[1].suspended_account} instead" if got else ""))
    res = [r for r in regs if r["old"] in resusp]
    print(f"re-registrations of the accounts suspended in the stream: {sum(1 for r in res if r['new'] in in_batch)} / "
          f"{len(res)} flagged in their batch")
    for lk in wrong[:10]:
        print("  wrong:", lk.new_account, "->", lk.suspended_account, round(lk.score, 3), lk.reasons())
    print(f"worker stats {stats.as_dict()}; load {load()}")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("watch", "stream"):
        s = sub.add_parser(name)
        s.add_argument("--world", required=True)
        s.add_argument("--db", required=True)
        s.add_argument("--seed", type=int, default=1)
        s.add_argument("--updates", type=int, default=20)
        s.add_argument("--ordinary", type=int, default=3000)
        s.add_argument("--resuspend", type=int, default=40)
        s.add_argument("--batch", type=int, default=5000)
        s.add_argument("--batch-ms", type=int, default=500)
    a = p.parse_args(argv)
    (cmd_watch if a.cmd == "watch" else cmd_stream)(a)


if __name__ == "__main__":
    sys.exit(main())
