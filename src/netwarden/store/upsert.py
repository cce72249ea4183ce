"""Dialect-aware insert-or-ignore and newest-version-wins upserts (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Table, case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def _insert(conn: Connection, table: Table):
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict], keys: Iterable[str] | None = None) -> None:
    """Insert rows; rows whose key already exists are skipped."""
    if not rows:
        return
    stmt = _insert(conn, table)
    stmt = stmt.on_conflict_do_nothing(index_elements=list(keys) if keys else None)
    conn.execute(stmt, list(rows))


def upsert_newest(
    conn: Connection,
    table: Table,
    rows: Sequence[dict],
    keys: Sequence[str],
    fields: Sequence[str],
    version: str = "version",
    always: Sequence[str] = (),
) -> None:
    """Insert rows, or update `fields` of existing rows when the row's `version` is newer.

    `always` fields are filled whenever the stored value is empty (facts that never change, such as
    a post's author, which an edit or a delete arriving first cannot know).
    Rows must be unique by `keys` within one call (PostgreSQL refuses to touch a row twice).
    """
    if not rows:
        return
    stmt = _insert(conn, table)
    ex = stmt.excluded
    newer = ex[version] > table.c[version]
    set_ = {f: case((newer, ex[f]), else_=table.c[f]) for f in fields}
    set_[version] = case((newer, ex[version]), else_=table.c[version])
    for f in always:
        set_[f] = case(((table.c[f].is_(None)) | (table.c[f] == ""), ex[f]), else_=table.c[f])
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=set_)
    conn.execute(stmt, list(rows))


def newest_per_key(
    rows: Iterable[dict], keys: Sequence[str], version: str = "version", always: Sequence[str] = ()
) -> list[dict]:
    """Keep, for each key, the row with the newest version (for one upsert statement).

    `always` fields empty in the kept row are filled from the other rows of the same key.
    """
    best: dict[tuple, dict] = {}
    for r in rows:
        k = tuple(r[c] for c in keys)
        cur = best.get(k)
        if cur is None:
            best[k] = r
            continue
        new, old = (r, cur) if r[version] > cur[version] else (cur, r)
        for f in always:
            if not new.get(f) and old.get(f):
                new = {**new, f: old[f]}
        best[k] = new
    return list(best.values())


def upsert(conn: Connection, table: Table, rows: Sequence[dict], keys: Sequence[str], fields: Sequence[str]) -> None:
    """Insert rows, or overwrite `fields` of existing rows."""
    if not rows:
        return
    stmt = _insert(conn, table)
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_={f: stmt.excluded[f] for f in fields})
    conn.execute(stmt, list(rows))
