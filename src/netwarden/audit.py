"""The audit log: every login, reveal, decision, export, enforcement and report step, in order.

Append-only (database triggers refuse UPDATE and DELETE) and hash-chained: each entry's hash
covers the previous entry's hash and its own fields, so `verify` finds any edit, deletion or
reordering. Call `append` inside the transaction of the change it records, so the change and its
record commit or vanish together.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from .clock import stamp_us as _now
from .errors import UserError
from .store.tables_audit import audit_checkpoints, audit_head, audit_log

GENESIS = "0" * 64


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
    checked: int = 0  # entries whose hash this run recomputed (all of them when full)
    start: int = 1  # the first entry this run recomputed
    full: bool = True
    last_hash: str = GENESIS


def _latest_checkpoint(conn: Connection):
    return conn.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.seq.desc()).limit(1)).first()


def verify(conn: Connection, incremental: bool = False) -> VerifyResult:
    """Recompute the chain and report the first entry that does not fit.

    Full (the default) starts from the genesis and also checks that every recorded checkpoint still
    matches the entry it names. Incremental starts at the newest checkpoint: that entry must still
    carry the hash it had when it was verified, and the entries after it are recomputed.
    """
    prev, expected, n = GENESIS, 1, 0
    cp = _latest_checkpoint(conn) if incremental else None
    if cp is not None:
        at = conn.execute(select(audit_log.c.hash).where(audit_log.c.seq == cp.seq)).scalar()
        if at != cp.hash:
            what = "is missing" if at is None else "changed"
            return VerifyResult(False, cp.seq, f"entry {cp.seq} {what} since it was verified at {cp.time}",
                                cp.seq, 0, cp.seq, False)
        prev, expected, n = cp.hash, cp.seq + 1, cp.seq
    start = expected
    marks = {} if incremental else {r.seq: r.hash for r in conn.execute(select(audit_checkpoints))}
    q = select(audit_log).where(audit_log.c.seq >= expected).order_by(audit_log.c.seq)
    for r in conn.execute(q).yield_per(10_000):
        n += 1
        fail = None
        if r.seq != expected:
            fail = (f"entry {expected} is missing (next is {r.seq})", expected)
        elif r.prev_hash != prev:
            fail = (f"entry {r.seq} does not link to entry {r.seq - 1}", r.seq)
        else:
            h = entry_hash(prev, r.seq, r.time, r.actor, r.action, r.subject_type, r.subject_id, r.detail)
            if h != r.hash:
                fail = (f"entry {r.seq} was altered (its hash does not match its fields)", r.seq)
            elif marks.get(r.seq, h) != h:
                fail = (f"entry {r.seq} differs from the one verified earlier", r.seq)
        if fail:
            return VerifyResult(False, n, fail[0], fail[1], n - start + 1, start, not incremental, prev)
        prev, expected = h, expected + 1
    checked = expected - start
    head = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).first()
    if head is not None and (head.seq != expected - 1 or head.hash != prev):
        return VerifyResult(False, n, f"the log ends at entry {expected - 1} but its head says {head.seq}", head.seq,
                            checked, start, not incremental, prev)
    return VerifyResult(True, n, None, None, checked, start, not incremental, prev)


def checkpoint(conn: Connection, result: VerifyResult, actor: str) -> None:
    """Record where a successful verification ended, so the next incremental run starts there."""
    if not result.ok or result.entries == 0:
        return
    cp = _latest_checkpoint(conn)
    if cp is not None and cp.seq >= result.entries:
        return
    conn.execute(audit_checkpoints.insert().values(seq=result.entries, hash=result.last_hash, time=_now(),
                                                   actor=actor, full=int(result.full)))


def _filtered(q, subject_type, subject_id, action, actor, since, until, contains):
    c = audit_log.c
    if subject_type:
        q = q.where(c.subject_type == subject_type)
    for col, value in ((c.subject_id, subject_id), (c.action, action), (c.actor, actor)):
        if value:
            q = q.where(col.icontains(str(value), autoescape=True) if contains else col == str(value))
    if since:
        q = q.where(c.time >= since)
    if until:
        q = q.where(c.time < until)
    return q


def entries(conn: Connection, subject_type: str | None = None, subject_id: str | None = None,
            action: str | None = None, limit: int = 1000, *, actor: str | None = None, since: str | None = None,
            until: str | None = None, before: int | None = None, contains: bool = False) -> list[dict]:
    """The newest entries first. Exact matches unless `contains` (case-insensitive substrings of
    subject id, action and actor); `since`/`until` compare ISO times; `before` pages by sequence."""
    q = _filtered(select(audit_log), subject_type, subject_id, action, actor, since, until, contains)
    if before is not None:
        q = q.where(audit_log.c.seq < before)
    q = q.order_by(audit_log.c.seq.desc())
    if limit:
        q = q.limit(limit)
    return [{**r._mapping, "detail": json.loads(r.detail)} for r in conn.execute(q)]


def iter_entries(conn: Connection, subject_type: str | None = None, subject_id: str | None = None,
                 action: str | None = None, *, actor: str | None = None, since: str | None = None,
                 until: str | None = None, contains: bool = False):
    """Every matching entry, oldest first, streamed (for exports of any size)."""
    q = _filtered(select(audit_log), subject_type, subject_id, action, actor, since, until, contains)
    for r in conn.execute(q.order_by(audit_log.c.seq)).yield_per(5_000):
        yield {**r._mapping, "detail": json.loads(r.detail)}


def count(conn: Connection, subject_type: str | None = None, subject_id: str | None = None,
          action: str | None = None, *, actor: str | None = None, since: str | None = None,
          until: str | None = None, contains: bool = False) -> int:
    q = _filtered(select(func.count()).select_from(audit_log), subject_type, subject_id, action, actor, since,
                  until, contains)
    return conn.execute(q).scalar() or 0


_ISO = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?)?")
EXPORT_FIELDS = ("seq", "time", "actor", "action", "subject_type", "subject_id", "detail", "prev_hash", "hash")


def check_time(value: str | None, name: str) -> str | None:
    """An ISO date or time for a filter (entry times are UTC ISO strings, so they compare as text)."""
    if not value:
        return None
    if not _ISO.fullmatch(value.strip()):
        raise UserError(f"{name} {value!r} is not an ISO date or time; write e.g. 2026-12-01 or 2026-12-01T10:00.")
    return value.strip().replace(" ", "T")


def _cell(value):
    """A CSV cell a spreadsheet will not run: text starting with = + - @ (or a tab or carriage
    return) gets a leading apostrophe, as OWASP advises; the subject ids in the log are platform
    ids, which the people investigated choose. JSONL exports are left exact."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export(conn: Connection, out, fmt: str, by: str, **filters) -> int:
    """Write the matching entries (oldest first) as JSONL or CSV to `out`, and audit the export.

    The entry recording the export is appended in `conn`'s transaction before the rows are read,
    so it is part of the chain it exports from only if it matches the filters."""
    n = count(conn, **filters)
    append(conn, by, "audit.export", "audit", "", {"format": fmt, "entries": n,
                                                      **{k: v for k, v in filters.items() if v}})
    writer = csv.writer(out) if fmt == "csv" else None
    if writer:
        writer.writerow(EXPORT_FIELDS)
    written = 0
    for e in iter_entries(conn, **filters):
        if written == n:
            break
        if writer:
            writer.writerow([_cell(_canonical(e["detail"]) if k == "detail" else e[k]) for k in EXPORT_FIELDS])
        else:
            out.write(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n")
        written += 1
    return written
