"""The audit log: every login, reveal, decision, export, enforcement and report step, in order.

Append-only (database triggers refuse UPDATE and DELETE) and hash-chained: each entry's hash
covers the previous entry's hash and its own fields, so `verify` finds any edit, deletion or
reordering. Call `append` inside the transaction of the change it records, so the change and its
record commit or vanish together.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from .store.tables_audit import audit_head, audit_log

GENESIS = "0" * 64


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _canonical(detail: dict | None) -> str:
    return json.dumps(detail or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(prev: str, seq: int, time: str, actor: str, action: str, subject_type: str, subject_id: str,
               detail: str) -> str:
    body = json.dumps([prev, seq, time, actor, action, subject_type, subject_id, detail],
                      separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def append(conn: Connection, actor: str, action: str, subject_type: str = "", subject_id: str = "",
           detail: dict | None = None, time: str | None = None) -> int:
    """Append one entry in the caller's transaction; returns its sequence number."""
    # Take the head's row lock (PostgreSQL) / the write lock (SQLite) before reading it.
    res = conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=audit_head.c.seq + 1))
    if res.rowcount == 0:
        conn.execute(audit_head.insert().values(id=1, seq=1, hash=GENESIS))
        prev_seq, prev_hash = 0, GENESIS
    else:
        head = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).one()
        prev_seq, prev_hash = head.seq - 1, head.hash
    seq = prev_seq + 1
    time = time or _now()
    d = _canonical(detail)
    h = entry_hash(prev_hash, seq, time, actor, action, subject_type, str(subject_id), d)
    conn.execute(audit_log.insert().values(seq=seq, time=time, actor=actor, action=action,
                                           subject_type=subject_type, subject_id=str(subject_id), detail=d,
                                           prev_hash=prev_hash, hash=h))
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(hash=h))
    return seq


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    problem: str | None = None
    seq: int | None = None


def verify(conn: Connection) -> VerifyResult:
    """Recompute the chain from the first entry; report the first entry that does not fit."""
    prev, expected, n = GENESIS, 1, 0
    for r in conn.execute(select(audit_log).order_by(audit_log.c.seq)).yield_per(10_000):
        n += 1
        if r.seq != expected:
            return VerifyResult(False, n, f"entry {expected} is missing (next is {r.seq})", expected)
        if r.prev_hash != prev:
            return VerifyResult(False, n, f"entry {r.seq} does not link to entry {r.seq - 1}", r.seq)
        h = entry_hash(prev, r.seq, r.time, r.actor, r.action, r.subject_type, r.subject_id, r.detail)
        if h != r.hash:
            return VerifyResult(False, n, f"entry {r.seq} was altered (its hash does not match its fields)", r.seq)
        prev, expected = h, expected + 1
    head = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).first()
    if head is not None and (head.seq != expected - 1 or head.hash != prev):
        return VerifyResult(False, n, f"the log ends at entry {expected - 1} but its head says {head.seq}", head.seq)
    return VerifyResult(True, n)


def entries(conn: Connection, subject_type: str | None = None, subject_id: str | None = None,
            action: str | None = None, limit: int = 1000) -> list[dict]:
    q = select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)
    if subject_type:
        q = q.where(audit_log.c.subject_type == subject_type)
    if subject_id:
        q = q.where(audit_log.c.subject_id == str(subject_id))
    if action:
        q = q.where(audit_log.c.action == action)
    return [{**r._mapping, "detail": json.loads(r.detail)} for r in conn.execute(q)]
