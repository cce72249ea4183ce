"""Dialect-aware insert-or-ignore and newest-version-wins upserts (SQLite and PostgreSQL).

Statements are compiled once per dialect and column set and run through the driver's
executemany directly: SQLAlchemy's per-row parameter processing would otherwise cost more than
the database work on the ingest path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter

from sqlalchemy import Table, case, func, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

_compiled: dict[tuple, tuple[str, list[str] | None, dict]] = {}


def _insert(conn: Connection, table: Table):
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _run(conn: Connection, key: tuple, build: Callable[[], object], table: Table, rows: Sequence,
         columns: Sequence[str] | None = None) -> None:
    """Execute the statement `build()` for many rows, compiled once per (dialect, key, columns).

    Rows are dicts keyed by column (extra keys are ignored when `columns` names the columns), or,
    with `columns`, tuples in that order.
    """
    keys = tuple(columns) if columns is not None else tuple(rows[0])
    ck = (conn.dialect.name, key, keys)
    entry = _compiled.get(ck)
    if entry is None:
        compiled = build().compile(dialect=conn.dialect, column_keys=list(keys))
        defaults = {}
        for c in table.columns:
            if c.name not in keys:
                d = c.default
                defaults[c.name] = d.arg if d is not None and d.is_scalar else None
        entry = (compiled.string, list(compiled.positiontup) if compiled.positiontup else None, defaults)
        _compiled[ck] = entry
    sql, order, defaults = entry
    if not isinstance(rows[0], dict):  # tuples in `keys` order
        if order is None:  # named style (PostgreSQL)
            params = [{**defaults, **dict(zip(keys, r, strict=True))} for r in rows]
        elif order == list(keys):
            params = rows
        else:
            pos = [keys.index(k) if k in keys else None for k in order]
            params = [tuple(r[i] if i is not None else defaults.get(k) for i, k in zip(pos, order, strict=True))
                      for r in rows]
    elif order is not None:  # qmark style (SQLite)
        if all(k in keys for k in order):
            get = itemgetter(*order)
            params = [get(r) for r in rows] if len(order) > 1 else [(get(r),) for r in rows]
        else:
            params = [tuple(r[k] if k in r else defaults.get(k) for k in order) for r in rows]
    elif columns is not None:  # named style, only the named columns
        params = [{**defaults, **{k: r[k] for k in keys}} for r in rows]
    else:
        params = [{**defaults, **r} for r in rows] if defaults else list(rows)
    conn.exec_driver_sql(sql, params)


def insert_ignore(conn: Connection, table: Table, rows: Sequence, keys: Iterable[str] | None = None,
                  columns: Sequence[str] | None = None) -> None:
    """Insert rows (dicts, or tuples in `columns` order); rows whose key already exists are skipped."""
    if not rows:
        return
    keys = tuple(keys) if keys else None

    def build():
        return _insert(conn, table).on_conflict_do_nothing(index_elements=list(keys) if keys else None)

    _run(conn, ("ignore", table.name, keys), build, table, rows, columns)


def upsert_newest(
    conn: Connection,
    table: Table,
    rows: Sequence[dict],
    keys: Sequence[str],
    fields: Sequence[str],
    version: str = "version",
    always: Sequence[str] = (),
    columns: Sequence[str] | None = None,
) -> None:
    """Insert rows, or update `fields` of existing rows when the row's `version` is newer.

    `columns`: the columns to write, when the row dicts carry other keys too.

    `always` fields are filled whenever the stored value is empty (facts that never change, such as
    a post's author, which an edit or a delete arriving first cannot know).
    Rows must be unique by `keys` within one call (PostgreSQL refuses to touch a row twice).
    """
    if not rows:
        return

    def build():
        stmt = _insert(conn, table)
        ex = stmt.excluded
        newer = ex[version] > table.c[version]
        set_ = {f: case((newer, ex[f]), else_=table.c[f]) for f in fields}
        set_[version] = case((newer, ex[version]), else_=table.c[version])
        for f in always:
            empty = func.coalesce(table.c[f], literal_column("''")) == literal_column("''")
            set_[f] = case((empty, ex[f]), else_=table.c[f])
        return stmt.on_conflict_do_update(index_elements=list(keys), set_=set_)

    _run(conn, ("newest", table.name, tuple(keys), tuple(fields), version, tuple(always)), build, table, rows,
         columns)


def upsert(conn: Connection, table: Table, rows: Sequence[dict], keys: Sequence[str], fields: Sequence[str]) -> None:
    """Insert rows, or overwrite `fields` of existing rows."""
    if not rows:
        return

    def build():
        stmt = _insert(conn, table)
        return stmt.on_conflict_do_update(index_elements=list(keys), set_={f: stmt.excluded[f] for f in fields})

    _run(conn, ("upsert", table.name, tuple(keys), tuple(fields)), build, table, rows)


def newest_per_key(
    rows: Iterable[dict], keys: Sequence[str], version: str = "version", always: Sequence[str] = ()
) -> list[dict]:
    """Keep, for each key, the row with the newest version (for one upsert statement).

    `always` fields empty in the kept row are filled from the other rows of the same key.
    """
    best: dict = {}
    one = keys[0] if len(keys) == 1 else None
    for r in rows:
        k = r[one] if one is not None else tuple(r[c] for c in keys)
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
