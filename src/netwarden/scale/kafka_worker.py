"""The stream worker: a Kafka consumer-group member that ingests platform events into the store.

Exactly-once into the store, at-least-once from Kafka:

- Each batch of messages is decoded by the same `Ingestor` as a file ingest (`add_line`), and
  applied with its signal hooks (`Ingestor.apply`) in ONE database transaction that also moves the
  group's offsets in `stream_offsets`. The offset update is a compare-and-set on the value the
  worker started the batch from, so a worker that lost its partitions in a rebalance (a "zombie")
  cannot write over the new owner: its transaction fails and rolls back whole.
- Only after that transaction has committed (the write is durable) are the same offsets committed
  to Kafka, for lag monitoring. Kafka's committed offsets are never read back: on assignment the
  worker seeks every partition to the offset stored in the database.
- A worker killed at any point therefore either committed a batch (rows and offsets together) or
  did not (neither); the next owner of the partition resumes exactly after the last committed
  batch. Ingestion itself is idempotent, so even a replay would not change the store.
- On revocation, messages read but not yet applied are dropped: the next owner re-reads them from
  the stored offsets.

Bad records become dead letters with source `kafka:<topic>:<partition>` and line `offset + 1`.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from sqlalchemy import and_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from ..clock import stamp as _now
from ..config import Settings
from ..errors import UserError
from ..ingest.apply import Rows
from ..ingest.pipeline import Ingestor, paused_gc, refused_value, store_reason
from ..ingest.reader import Line, _decode, decode_record
from ..store import Store
from ..store.tables_scale import stream_offsets as so

log = logging.getLogger(__name__)

DEFAULT_BATCH = 5000
DEFAULT_BATCH_MS = 500
TP = tuple[str, int]


class Fenced(Exception):
    """Another worker moved a partition's stored offset: this worker no longer owns it."""


@dataclass
class WorkerStats:
    messages: int = 0
    events: int = 0
    dead: int = 0
    batches: int = 0
    fenced: int = 0
    dropped_on_revoke: int = 0
    assignments: list[list[int]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def load_offsets(conn, group: str, topic: str) -> dict[int, int]:
    q = select(so.c.partition, so.c.next_offset).where(so.c.group_id == group, so.c.topic == topic)
    return {int(p): int(o) for p, o in conn.execute(q)}


def store_offsets(conn, group: str, moves: dict[TP, tuple[int | None, int]]) -> None:
    """Compare-and-set each partition's stored offset from `expected` to `new`; Fenced if one moved."""
    now = _now()
    for (topic, part), (expected, new) in sorted(moves.items()):
        if expected is None:
            ins = (postgresql.insert(so) if conn.dialect.name == "postgresql" else sqlite.insert(so))
            res = conn.execute(ins.values(group_id=group, topic=topic, partition=part, next_offset=new,
                                          updated_at=now).on_conflict_do_nothing().returning(so.c.partition))
        else:
            res = conn.execute(update(so).where(and_(so.c.group_id == group, so.c.topic == topic,
                                                     so.c.partition == part, so.c.next_offset == expected))
                               .values(next_offset=new, updated_at=now).returning(so.c.partition))
        if res.first() is None:
            raise Fenced(f"{topic}[{part}] moved past {expected} in the store")


class StreamWorker:
    """One consumer-group member. `run()` polls, batches, applies and commits until stopped."""

    def __init__(self, store: Store, brokers: str, topic: str, group: str, *, fmt: str = "native",
                 hooks: list | None = None, batch_size: int = DEFAULT_BATCH, batch_ms: int = DEFAULT_BATCH_MS,
                 media_root: str | None = None, start: str = "earliest", consumer_conf: dict | None = None,
                 on_batch: Callable[[WorkerStats], None] | None = None, settings: Settings | None = None):
        from confluent_kafka import Consumer

        if start not in ("earliest", "latest"):
            raise UserError(f"--start {start!r} is not valid; use earliest or latest.")
        self.store = store
        self.topic = topic
        self.group = group
        self.batch_size = batch_size
        self.batch_ms = batch_ms
        self.media_root = media_root
        self.start = start
        self.ingestor = Ingestor(store, fmt, batch_size, hooks if hooks is not None else [], settings=settings)
        self.on_batch = on_batch
        self.stats = WorkerStats()
        self._running = True
        self._pending: list = []
        self._idle_since = time.monotonic()
        self._expected: dict[TP, int | None] = {}  # partition -> stored offset this worker continues from
        conf = {
            "bootstrap.servers": brokers,
            "group.id": group,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": start,
            # eager rebalancing: every assignment is a full one, and the store decides where to start
            "partition.assignment.strategy": "range",
            "session.timeout.ms": 10000,
            "heartbeat.interval.ms": 1000,
        }
        conf.update(consumer_conf or {})
        try:
            self.consumer = Consumer(conf)
        except Exception as e:  # KafkaException on a bad configuration
            raise UserError(f"Cannot configure the Kafka consumer for {brokers!r} ({e}); check --kafka.") from None
        # a test hook, not a setting: the crash tests set it in the worker subprocess's environment
        crash = os.environ.get("NETWARDEN_TEST_WORKER_CRASH", "")
        self._crash = (crash.split(":")[0], int(crash.split(":")[1])) if ":" in crash else None

    # -- rebalance callbacks ------------------------------------------------------------------
    def _on_assign(self, consumer, partitions) -> None:
        from confluent_kafka import OFFSET_BEGINNING, OFFSET_END

        with self.store.engine.connect() as conn:
            stored = load_offsets(conn, self.group, self.topic)
        for p in partitions:
            off = stored.get(p.partition)
            p.offset = off if off is not None else (OFFSET_BEGINNING if self.start == "earliest" else OFFSET_END)
            self._expected[(p.topic, p.partition)] = off
        consumer.assign(partitions)
        self._idle_since = time.monotonic()  # the idle clock starts again with every assignment
        self.stats.assignments.append(sorted(p.partition for p in partitions))
        log.info("assigned %s", {p.partition: p.offset for p in partitions})

    def _on_revoke(self, consumer, partitions) -> None:
        gone = {(p.topic, p.partition) for p in partitions}
        before = len(self._pending)
        self._pending = [m for m in self._pending if (m.topic(), m.partition()) not in gone]
        self.stats.dropped_on_revoke += before - len(self._pending)
        for tp in gone:
            self._expected.pop(tp, None)
        consumer.unassign()

    # -- the loop -------------------------------------------------------------------------------
    def stop(self, *_args) -> None:
        self._running = False

    def run(self, max_idle: float | None = None, max_messages: int | None = None) -> WorkerStats:
        """Consume until stop(), `max_idle` seconds without a message, or `max_messages` applied."""
        self.consumer.subscribe([self.topic], on_assign=self._on_assign, on_revoke=self._on_revoke,
                                on_lost=self._on_revoke)
        self._idle_since = time.monotonic()
        first_at: float | None = None
        try:
            while self._running:
                want = max(1, self.batch_size - len(self._pending))
                msgs = self.consumer.consume(num_messages=want, timeout=min(0.2, self.batch_ms / 1000))
                got = 0
                for m in msgs:
                    if m.error() is not None:
                        self._message_error(m)
                        continue
                    if (m.topic(), m.partition()) not in self._expected:
                        continue  # from a partition revoked meanwhile
                    self._pending.append(m)
                    got += 1
                now = time.monotonic()
                if got:
                    self._idle_since = now
                    if first_at is None:
                        first_at = now
                full = len(self._pending) >= self.batch_size
                due = bool(self._pending) and (first_at is not None and now - first_at >= self.batch_ms / 1000
                                               or not got)
                if full or due:
                    self.flush()
                    first_at = None
                if max_messages is not None and self.stats.messages >= max_messages:
                    break
                if max_idle is not None and not self._pending:
                    # idle time counts once the group has assigned us partitions (joining takes a while);
                    # a member never given any stops after max(max_idle, 30 s)
                    limit = max_idle if self.stats.assignments else max(max_idle, 30.0)
                    if now - self._idle_since >= limit:
                        break
            if self._pending:
                self.flush()
        finally:
            self.consumer.close()  # leaves the group at once, so the others rebalance without waiting
        return self.stats

    def _message_error(self, m) -> None:
        from confluent_kafka import KafkaError

        err = m.error()
        if err.code() == KafkaError._PARTITION_EOF:
            return
        if err.fatal():
            raise UserError(f"Kafka reported a fatal error on {self.topic} ({err.str()}); check the brokers and topic.")
        log.warning("kafka: %s", err.str())

    def flush(self) -> None:
        """Apply the pending messages and their offsets in one transaction, then commit them to Kafka."""
        msgs, self._pending = self._pending, []
        if not msgs:
            return
        with paused_gc():
            self._flush(msgs)

    def _flush(self, msgs: list, refused: str | None = None) -> None:
        """Apply messages and their offsets in one transaction. When the store refuses a value in them,
        halve the batch until the message is found and store it as a dead letter with the store's
        reason (`refused`), so the worker never fails on the same batch again (as file ingest)."""
        rows = Rows()
        moves: dict[TP, tuple[int | None, int]] = {}
        sources: dict[TP, str] = {}
        add_line = self.ingestor.add_line
        for m in msgs:
            tp = (m.topic(), m.partition())
            off = m.offset()
            source = sources.get(tp)
            if source is None:
                source = sources[tp] = f"kafka:{tp[0]}:{tp[1]}"
                moves[tp] = (self._expected.get(tp), off + 1)
            elif off >= moves[tp][1]:
                moves[tp] = (moves[tp][0], off + 1)
            body = (m.value() or b"").strip()
            value, err, body = decode_record(body) if body else (None, "empty message", body)
            add_line(rows, Line(off + 1, off + 1, body, value, refused or err), source)
        self.stats.batches += 1
        try:
            with self.store.engine.begin() as conn:
                store_offsets(conn, self.group, moves)
                self.ingestor.apply(conn, rows, self.media_root)
                self._maybe_crash("inside")
        except DBAPIError as e:
            if refused is not None or not refused_value(e):
                raise
            self.stats.batches -= 1
            log.warning("the store refused a value in a batch of %d messages; splitting it", len(msgs))
            if len(msgs) == 1:
                self._flush(msgs, store_reason(e))
            else:
                self._flush(msgs[: len(msgs) // 2])
                self._flush(msgs[len(msgs) // 2:])
            return
        except Fenced as e:
            self.stats.fenced += 1
            log.warning("fenced: %s; re-reading the stored offsets", e)
            self._reseek(list(moves))
            return
        # durable: now, and only now, tell Kafka
        self._maybe_crash("after")
        for tp, (_exp, new) in moves.items():
            self._expected[tp] = new
        self.stats.messages += len(msgs)
        self.stats.events += len(rows.events)
        self.stats.dead += len(rows.dead)
        self._commit_kafka(moves)
        if self.on_batch:
            self.on_batch(self.stats)

    def _commit_kafka(self, moves: dict[TP, tuple[int | None, int]]) -> None:
        from confluent_kafka import KafkaException, TopicPartition

        offsets = [TopicPartition(t, p, new) for (t, p), (_e, new) in moves.items()]
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as e:  # e.g. a rebalance in progress: the store already holds the truth
            log.info("kafka offset commit skipped (%s)", e)

    def _reseek(self, tps: list[TP]) -> None:
        from confluent_kafka import TopicPartition

        with self.store.engine.connect() as conn:
            stored = load_offsets(conn, self.group, self.topic)
        self._pending = [m for m in self._pending if (m.topic(), m.partition()) not in set(tps)]
        for t, p in tps:
            if (t, p) in self._expected and p in stored:
                self._expected[(t, p)] = stored[p]
                try:
                    self.consumer.seek(TopicPartition(t, p, stored[p]))
                except Exception as e:  # the partition went away in the meantime
                    log.info("seek %s[%d] failed (%s)", t, p, e)

    def _maybe_crash(self, when: str) -> None:
        # Crash injection for the tests: "inside:N" / "after:N" SIGKILLs this process inside the N-th
        # batch transaction / after it committed but before the Kafka commit.
        if self._crash and self._crash == (when, self.stats.batches):
            os.kill(os.getpid(), signal.SIGKILL)


def run_worker(store: Store, brokers: str, topic: str, group: str, *, hooks: list | None = None,
               max_idle: float | None = None, max_messages: int | None = None, **kw) -> WorkerStats:
    """Run one worker until SIGTERM/SIGINT (finishing its batch), idle timeout or message limit."""
    w = StreamWorker(store, brokers, topic, group, hooks=hooks, **kw)
    old = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    for s in old:
        signal.signal(s, w.stop)
    try:
        return w.run(max_idle=max_idle, max_messages=max_messages)
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def produce_file(brokers: str, topic: str, path, key_field: str | None = "subject",
                 producer_conf: dict | None = None) -> int:
    """Load a JSON Lines file into a topic, one message per non-blank line, keyed by account.

    Keying by the event's subject (the account it is about) keeps each account's events in one
    partition, in order. Returns the number of messages produced.
    """
    from confluent_kafka import Producer

    from ..ingest import events as native

    conf = {"bootstrap.servers": brokers, "linger.ms": 20, "enable.idempotence": True}
    conf.update(producer_conf or {})
    p = Producer(conf)
    n = 0
    errors: list[str] = []

    def done(err, _msg) -> None:
        if err is not None:
            errors.append(str(err))

    with open(path, "rb") as f:
        for raw in f:
            body = raw.strip()
            if not body:
                continue
            key = None
            if key_field:
                value, err = _decode(body)
                if err is None and isinstance(value, dict):
                    try:
                        key = native.validate(value).encode()
                    except native.BadRecord:
                        key = None
            while True:
                try:
                    p.produce(topic, body, key=key, on_delivery=done)
                    break
                except BufferError:
                    p.poll(0.1)
            n += 1
            p.poll(0)
    left = p.flush(60)
    if left or errors:
        raise UserError(f"Could not deliver {left + len(errors)} messages to {topic} ({errors[:1]}); check --kafka.")
    return n
