"""Store side of known-media matching: banks, bank entries and per-media hashes (SQLAlchemy Core)."""

from __future__ import annotations

import json

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from ..clock import bank_stamp as now
from ..errors import UserError
from .tables_media import bank_entries, banks, media_hashes
from .upsert import insert_ignore

# ------------------------------------------------------------------------------------------ banks


def bank_row(conn: Connection, name: str) -> dict:
    r = conn.execute(select(banks).where(banks.c.name == name)).mappings().first()
    if r is None:
        raise UserError(f"There is no bank named {name!r}; list banks with `netwarden bank list` or create it with `netwarden bank create {name}`.")
    return dict(r)


def create_bank(conn: Connection, name: str, label: str = "", threshold: int = 31, negative: bool = False,
                enabled: bool = True, source: str = "", exist_ok: bool = False) -> dict:
    name = name.strip()
    if not name or len(name) > 100 or any(c in name for c in "/\\ \t\n"):
        raise UserError(f"Bank name {name!r} is not valid; use 1-100 characters without spaces or slashes.")
    if not 0 <= threshold <= 128:
        raise UserError(f"Threshold {threshold} for bank {name!r} is out of range; use 0-128 bits (PDQ default 31).")
    existing = conn.execute(select(banks.c.id).where(banks.c.name == name)).first()
    if existing is not None:
        if exist_ok:
            return bank_row(conn, name)
        raise UserError(f"A bank named {name!r} already exists; choose another name or use `netwarden bank import` to add to it.")
    t = now()
    conn.execute(insert(banks).values(name=name, label=label, threshold=threshold, enabled=enabled, negative=negative,
                                      source=source, created_at=t, updated_at=t))
    return bank_row(conn, name)


def update_bank(conn: Connection, name: str, **values) -> dict:
    bank_row(conn, name)
    values = {k: v for k, v in values.items() if v is not None}
    t = values.get("threshold")
    if t is not None and (not isinstance(t, int) or isinstance(t, bool) or not 0 <= t <= 128):
        raise UserError(f"Threshold {t!r} for bank {name!r} is out of range; use 0-128 bits (PDQ default 31).")
    if values:
        conn.execute(update(banks).where(banks.c.name == name).values(**values, updated_at=now("microseconds")))
    return bank_row(conn, name)


def list_banks(conn: Connection) -> list[dict]:
    counts = (select(bank_entries.c.bank_id, func.count().label("entries")).group_by(bank_entries.c.bank_id)
              .subquery())
    q = (select(banks, func.coalesce(counts.c.entries, 0).label("entries"))
         .select_from(banks.outerjoin(counts, counts.c.bank_id == banks.c.id)).order_by(banks.c.name))
    return [dict(r) for r in conn.execute(q).mappings()]


def add_entries(conn: Connection, bank_id: int, rows: list[tuple[str, str, str]]) -> int:
    """Insert (signal_type, signal, label) rows, skipping ones the bank has. Returns rows added."""
    # Counted as the bank's rows above the highest id before the insert (a primary-key range), not as
    # a difference of two counts of the whole bank, which scan it (seconds at 10M entries).
    top = conn.execute(select(func.max(bank_entries.c.id))).scalar() or 0
    t = now()
    insert_ignore(conn, bank_entries, [
        {"bank_id": bank_id, "signal_type": st, "signal": s, "label": label or "", "added_at": t} for st, s, label in rows
    ], ["bank_id", "signal_type", "signal"])
    # (the bank is compared here, not in SQL: SQLite would then walk the unique index's bank prefix)
    added = sum(b == bank_id for (b,) in conn.execute(select(bank_entries.c.bank_id).where(bank_entries.c.id > top)))
    # No change stamp: new entries are found by their higher ids and added incrementally.
    return int(added)


def remove_entries(conn: Connection, bank_id: int, signal_type: str | None = None, signal: str | None = None,
                   entry_id: int | None = None) -> int:
    stmt = delete(bank_entries).where(bank_entries.c.bank_id == bank_id)
    if entry_id is not None:
        stmt = stmt.where(bank_entries.c.id == entry_id)
    else:
        stmt = stmt.where(bank_entries.c.signal_type == signal_type, bank_entries.c.signal == signal)
    n = conn.execute(stmt).rowcount
    if n:
        conn.execute(update(banks).where(banks.c.id == bank_id).values(updated_at=now("microseconds")))
    return int(n or 0)


def entries(conn: Connection, bank_id: int | None = None, after_id: int = 0):
    q = select(bank_entries).where(bank_entries.c.id > after_id).order_by(bank_entries.c.id)
    if bank_id is not None:
        q = q.where(bank_entries.c.bank_id == bank_id)
    for r in conn.execute(q).mappings():
        yield dict(r)


def state(conn: Connection) -> tuple:
    """A cheap fingerprint: ((bank count, latest bank change stamp), highest entry id).

    Creating, changing, deleting a bank or removing entries changes the first part; adding
    entries raises the second. Both are index lookups, not table scans.
    """
    b = conn.execute(select(func.count(), func.max(banks.c.updated_at)).select_from(banks)).first()
    e = conn.execute(select(func.max(bank_entries.c.id))).scalar()
    return (tuple(b), e or 0)


# ----------------------------------------------------------------------------------- media hashes


def save_hashes(conn: Connection, rows: list[dict]) -> None:
    """Insert media_hashes rows (insert-or-ignore: a media id is hashed once)."""
    insert_ignore(conn, media_hashes, rows, ["media_id"])


# media_hashes.format of a row whose hashes the platform sent with the event (the stream's
# `--media lookup`): the bytes were not read, there are no dihedral variants. The media hook
# hashes such a media again when it can read the file and replaces the row.
EVENT_FORMAT = "event"


EVENT_COLUMNS = ("media_id", "kind", "md5", "sha256", "size", "pdq", "quality", "width", "height", "format",
                 "hashed_at")


def save_event_hashes(conn: Connection, media: list[dict], hashed_at: str) -> None:
    """Keep media items' event-supplied md5 / sha256 / pdq (+ pdq_quality) as media_hashes rows marked
    EVENT_FORMAT; insert-or-ignore, so a row from hashing the file is never overwritten."""

    rows = []
    for m in media:
        g = m.get
        pdq = g("pdq")
        rows.append((m["id"], g("kind") or "photo", g("md5"), g("sha256"), g("size"), pdq.lower() if pdq else None,
                     g("pdq_quality") if pdq else None, g("width"), g("height"), EVENT_FORMAT, hashed_at))
    insert_ignore(conn, media_hashes, rows, ["media_id"], columns=EVENT_COLUMNS)


def hashes_row(media_id: str, h) -> dict:
    return {
        "media_id": media_id, "kind": h.kind, "md5": h.md5, "sha256": h.sha256, "size": h.size, "pdq": h.pdq,
        "quality": h.quality, "variants": json.dumps(h.variants) if h.variants else None, "width": h.width, "height": h.height, "format": h.format,
        "vpdq": json.dumps(h.vpdq) if h.vpdq else None, "error": h.error, "error_reason": h.error_reason,
        "hashed_at": now(),
    }
