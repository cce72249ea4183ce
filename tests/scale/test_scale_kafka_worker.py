"""The Kafka stream worker on librdkafka's mock cluster: exactly-once into the store.

The mock cluster lives in this test process (a producer created with `test.mock.num.brokers`), but
its brokers listen on loopback TCP ports, so worker subprocesses reach the same cluster through
those bootstrap servers: the kill tests SIGKILL real worker processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from itertools import count

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from sqlalchemy import select

from clirun import CLI
from netwarden.ingest.pipeline import ingest_files, load_hooks
from netwarden.scale.kafka_worker import StreamWorker, load_offsets, produce_file
from netwarden.store import open_store
from netwarden.store.tables_scale import stream_offsets
from sample_events import make_events, write_jsonl
from storedump import dump

SKIP = ("stream_offsets", "ingest_checkpoints", "dead_letters")
FAST = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}
_names = count()


@pytest.fixture(scope="module")
def cluster():
    """Bootstrap servers of a 3-broker mock cluster (topics auto-create with 4 partitions)."""
    host = Producer({"test.mock.num.brokers": 3, "log_level": 3})
    md = host.list_topics(timeout=10)
    yield ",".join(f"{b.host}:{b.port}" for b in md.brokers.values())
    host.flush(5)
    del host


@pytest.fixture(scope="module")
def events_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("kev") / "events.jsonl"
    write_jsonl(path, make_events(accounts=50, posts=250, seed=8))
    with path.open("ab") as f:  # bad records: their dead letters must survive the stream path too
        f.write(b"{broken\n" + b'{"v":1,"id":"zz","kind":"nope","time":"2026-01-01T00:00:00Z","data":{}}\n')
    return path


@pytest.fixture(scope="module")
def reference(events_file, tmp_path_factory):
    """The store after a straight file ingest of the same events."""
    url = f"sqlite:///{tmp_path_factory.mktemp('kref') / 'ref.db'}"
    store = open_store(url)
    ingest_files(store, [events_file], batch_size=100)
    store.close()
    return url


def _topic(cluster, events_file) -> str:
    name = f"events-{os.getpid()}-{next(_names)}"
    produce_file(cluster, name, events_file)
    return name


def _dead(url: str) -> list[tuple]:
    from netwarden.store.schema import dead_letters as dl

    store = open_store(url)
    with store.engine.connect() as conn:
        rows = sorted((r.reason, r.record) for r in conn.execute(select(dl)))
    store.close()
    return rows


def assert_same_store(url: str, ref_url: str) -> None:
    assert dump(url, SKIP) == dump(ref_url, SKIP)
    assert _dead(url) == _dead(ref_url)  # dead letters: same records and reasons (sources differ)


def _worker(url, cluster, topic, group, events_file, **kw) -> StreamWorker:
    store = open_store(url)
    kw.setdefault("batch_size", 60)
    kw.setdefault("batch_ms", 200)
    return StreamWorker(store, cluster, topic, group, hooks=load_hooks(store), media_root=str(events_file.parent),
                        consumer_conf={**FAST, **kw.pop("conf", {})}, **kw)


def _kafka_committed(cluster, topic, group) -> dict[int, int]:
    c = Consumer({"bootstrap.servers": cluster, "group.id": group, "enable.auto.commit": False})
    got = c.committed([TopicPartition(topic, p) for p in range(4)], timeout=10)
    c.close()
    return {tp.partition: tp.offset for tp in got if tp.offset >= 0}


def test_worker_store_equals_file_ingest(cluster, events_file, reference, db_url):
    topic = _topic(cluster, events_file)
    w = _worker(db_url, cluster, topic, "g-equal", events_file)
    stats = w.run(max_idle=3)
    assert stats.messages == sum(1 for line in events_file.read_bytes().splitlines() if line.strip())
    assert stats.dead == 2
    assert_same_store(db_url, reference)
    # the offsets in the store cover every partition end, and Kafka got the same ones afterwards
    with w.store.engine.connect() as conn:
        stored = load_offsets(conn, "g-equal", topic)
    assert sum(stored.values()) == stats.messages
    assert _kafka_committed(cluster, topic, "g-equal") == stored


def test_kafka_commit_happens_only_after_the_write_is_durable(cluster, events_file, reference, tmp_path):
    """At every Kafka commit, another connection already sees the offsets; a failed batch commits nothing."""
    url = f"sqlite:///{tmp_path / 'd.db'}"
    topic = _topic(cluster, events_file)
    w = _worker(url, cluster, topic, "g-durable", events_file)
    checked = []
    real_commit = w._commit_kafka

    def commit_kafka(moves):
        probe = open_store(url, migrate=False)
        with probe.engine.connect() as conn:
            stored = load_offsets(conn, "g-durable", topic)
        probe.close()
        for (_t, p), (_exp, new) in moves.items():
            assert stored[p] == new  # durable and visible before Kafka hears of it
        checked.append(len(moves))
        real_commit(moves)

    w._commit_kafka = commit_kafka

    class Boom(Exception):
        pass

    class FailThird:
        n = 0

        def on_batch(self, conn, batch):
            self.n += 1
            if self.n == 3:
                raise Boom

    w.ingestor.hooks.append(FailThird())
    with pytest.raises(Boom):
        w.run(max_idle=3)
    assert checked  # some batches went through before the failing one
    store = open_store(url)
    with store.engine.connect() as conn:
        stored = load_offsets(conn, "g-durable", topic)
    store.close()
    # Kafka is never ahead of the store; the failed batch moved neither
    kafka = _kafka_committed(cluster, topic, "g-durable")
    assert kafka == stored
    # a fresh worker resumes from the stored offsets and ends with the reference store
    w2 = _worker(url, cluster, topic, "g-durable", events_file)
    w2.run(max_idle=3)
    assert_same_store(url, reference)


def test_two_workers_share_partitions_and_rebalance_when_one_joins(cluster, events_file, reference, tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    topic = f"events-{os.getpid()}-{next(_names)}"
    lines = [ln for ln in events_file.read_bytes().splitlines() if ln.strip()]
    half = len(lines) // 2
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_bytes(b"\n".join(lines[:half]) + b"\n")
    second.write_bytes(b"\n".join(lines[half:]) + b"\n")
    produce_file(cluster, topic, first)

    a = _worker(url, cluster, topic, "g-share", events_file, batch_size=40)
    b = _worker(url, cluster, topic, "g-share", events_file, batch_size=40)
    results: dict[str, object] = {}
    ta = threading.Thread(target=lambda: results.__setitem__("a", a.run(max_idle=6)))
    ta.start()
    for _ in range(300):  # A alone owns all four partitions and works through the first half
        if a.stats.messages >= half:
            break
        time.sleep(0.1)
    assert a.stats.assignments[0] == [0, 1, 2, 3]
    tb = threading.Thread(target=lambda: results.__setitem__("b", b.run(max_idle=6)))
    tb.start()
    for _ in range(300):  # B joins: the group rebalances and the partitions are split
        if b.stats.assignments:
            break
        time.sleep(0.1)
    produce_file(cluster, topic, second)
    ta.join(120)
    tb.join(120)
    assert not ta.is_alive() and not tb.is_alive()
    assert len(b.stats.assignments[0]) == 2
    assert sorted(a.stats.assignments[-1] + b.stats.assignments[0]) == [0, 1, 2, 3]
    assert b.stats.messages > 0
    assert a.stats.messages + b.stats.messages == len(lines)  # each message applied exactly once
    assert_same_store(url, reference)


def _spawn(url, cluster, topic, group, events_file, crash=None, max_idle=2.0, batch=40):
    env = {**os.environ, "NETWARDEN_DB": url}
    env.pop("NETWARDEN_TEST_WORKER_CRASH", None)
    if crash:
        env["NETWARDEN_TEST_WORKER_CRASH"] = crash
    args = [*CLI, "worker", "--kafka", cluster, "--topic", topic, "--group", group, "--batch-size", str(batch),
            "--batch-ms", "200", "--media-root", str(events_file.parent), "--max-idle", str(max_idle), "--json"]
    for k, v in FAST.items():
        args += ["--consumer-option", f"{k}={v}"]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("crash", ["inside:3", "after:2"])
def test_worker_sigkilled_mid_batch_loses_and_duplicates_nothing(cluster, events_file, reference, tmp_path, crash):
    """SIGKILL inside the DB transaction, or between the DB commit and the Kafka commit; then resume."""
    url = f"sqlite:///{tmp_path / 'k.db'}"
    topic = _topic(cluster, events_file)
    p = _spawn(url, cluster, topic, "g-kill", events_file, crash=crash)
    out, err = p.communicate(timeout=120)
    assert p.returncode == -signal.SIGKILL, (p.returncode, err[-2000:])
    store = open_store(url)
    with store.engine.connect() as conn:
        stored = sum(load_offsets(conn, "g-kill", topic).values())
    store.close()
    total = sum(1 for line in events_file.read_bytes().splitlines() if line.strip())
    assert 0 < stored < total  # the batches before the kill are in, the one being written is not
    p = _spawn(url, cluster, topic, "g-kill", events_file)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err[-2000:]
    assert_same_store(url, reference)


def test_survivor_takes_over_the_partitions_of_a_killed_worker(cluster, events_file, reference, tmp_path):
    url = f"sqlite:///{tmp_path / 'two.db'}"
    open_store(url).close()  # migrate once, before two processes open it together
    topic = _topic(cluster, events_file)
    # the doomed worker must live to its 2nd batch: a rebalance pause on a loaded machine must not end it idle
    doomed = _spawn(url, cluster, topic, "g-two", events_file, crash="inside:2", batch=20, max_idle=60)
    survivor = _spawn(url, cluster, topic, "g-two", events_file, max_idle=15, batch=20)
    _, doomed_err = doomed.communicate(timeout=180)
    assert doomed.returncode == -signal.SIGKILL, (doomed.returncode, doomed_err[-2000:])
    out, err = survivor.communicate(timeout=180)
    assert survivor.returncode == 0, err[-2000:]
    import json

    stats = json.loads(out)
    assert [0, 1, 2, 3] in stats["assignments"]  # after the session timeout it owns everything
    assert_same_store(url, reference)
    store = open_store(url)
    with store.engine.connect() as conn:
        assert conn.execute(select(stream_offsets)).all()
    store.close()


def test_worker_media_lookup_matches_event_pdq_without_reading_files(cluster, tmp_path):
    """`netwarden worker --media lookup`: the pdq sent with each media is matched against the banks;
    the files (which do not exist here) are never read; a malformed pdq is a dead letter naming it."""
    import json
    import random

    from netwarden.store import media_banks as mb
    from netwarden.store.schema import signals
    from netwarden.store.tables_media import media_hashes

    url = f"sqlite:///{tmp_path / 'lookup.db'}"
    store = open_store(url)
    rng = random.Random(2)
    known = rng.getrandbits(256)
    with store.engine.begin() as conn:
        b = mb.create_bank(conn, "known")
        mb.add_entries(conn, b["id"], [("pdq", f"{known:064x}", "x")])
    store.close()
    near = f"{known ^ 0b10110:064x}"  # 3 bits away
    items = [{"id": "m1", "uri": "media/not-here.png", "pdq": near, "pdq_quality": 88},
             {"id": "m2", "uri": "media/not-here-either.png", "pdq": f"{rng.getrandbits(256):064x}", "pdq_quality": 88},
             {"id": "m3", "pdq": "xyz", "pdq_quality": 88}]
    path = tmp_path / "pdq.jsonl"
    write_jsonl(path, [{"v": 1, "id": f"e{i}", "kind": "post", "time": "2026-03-01T12:00:00Z",
                        "data": {"id": f"p{i}", "author_id": "a1", "media": [m]}} for i, m in enumerate(items)])
    topic = _topic(cluster, path)
    args = [*CLI, "worker", "--kafka", cluster, "--topic", topic, "--group", "g-lookup", "--media", "lookup",
            "--media-root", str(tmp_path), "--max-idle", "2", "--json"]
    for k, v in FAST.items():
        args += ["--consumer-option", f"{k}={v}"]
    done = subprocess.run(args, env={**os.environ, "NETWARDEN_DB": url}, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    stats = json.loads(done.stdout)
    assert stats["messages"] == 3 and stats["dead"] == 1
    assert "data.media[0].pdq must be a PDQ hash" in _dead(url)[0][0]
    store = open_store(url)
    with store.engine.connect() as conn:
        got = {(r.subject_type, r.subject_id): json.loads(r.detail) for r in conn.execute(
            select(signals).where(signals.c.kind == "media_match"))}
        rows = {r.media_id: r for r in conn.execute(select(media_hashes))}
    store.close()
    assert set(got) == {("media", "m1"), ("post", "p0"), ("account", "a1")}
    assert got["media", "m1"]["distance"] == 3 and got["media", "m1"]["bank"] == "known"
    assert set(rows) == {"m1", "m2"} and all(r.format == "event" and r.error is None for r in rows.values())


class _Refuses:
    """A signal hook whose write the store refuses (a NOT NULL column) for posts saying 'refuse me'."""

    def on_batch(self, conn, batch):
        from netwarden.store.schema import accounts

        for p in batch.posts:
            if "refuse me" in (p.get("text") or ""):
                conn.execute(accounts.insert().values(id="bad-" + p["id"], handle=None))


def test_a_batch_the_store_refuses_is_split_and_the_message_dead_lettered(cluster, tmp_path):
    """Issue 12: a value the store refuses costs its own message (a dead letter with the store's
    reason), not the batch, and the worker goes on instead of failing on the same batch for ever."""
    import orjson

    from netwarden.store.schema import dead_letters, posts

    path = tmp_path / "refused.jsonl"
    path.write_bytes(b"".join(orjson.dumps({"v": 1, "id": f"p{i}", "kind": "post", "time": "2026-01-01T00:00:00Z",
                                            "data": {"id": f"p{i}", "author_id": "a",
                                                     "text": "refuse me" if i == 7 else "fine"}}) + b"\n"
                              for i in range(20)))
    topic = _topic(cluster, path)
    url = f"sqlite:///{tmp_path / 'refused.db'}"
    store = open_store(url)
    w = StreamWorker(store, cluster, topic, "g-refused", hooks=[_Refuses()], batch_size=60, batch_ms=200,
                     consumer_conf=FAST)
    stats = w.run(max_idle=3)
    assert (stats.messages, stats.dead) == (20, 1)
    with store.engine.connect() as conn:
        assert set(conn.scalars(select(posts.c.id))) == {f"p{i}" for i in range(20)} - {"p7"}
        (dead,) = conn.execute(select(dead_letters)).all()
        assert dead.reason.startswith("the store refused this record: NOT NULL") and '"p7"' in dead.record
        assert sum(load_offsets(conn, "g-refused", topic).values()) == 20
    store.close()
