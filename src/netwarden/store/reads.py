"""Running the store's read queries on either kind of connection: SQLAlchemy's, or the stdlib sqlite3
driver's that `Store.reading()` gives for a SQLite file (so a read-only command need not import
SQLAlchemy). The SQL is the same text with the same `:name` parameters; rows come back as tuples."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from typing import Any


def rows(conn, sql: str, params: Mapping[str, Any] | None = None) -> list:
    """All rows of `sql` (with `:name` parameters) on `conn`."""
    if isinstance(conn, sqlite3.Connection):
        return conn.execute(sql, dict(params or {})).fetchall()
    from sqlalchemy import text

    return conn.execute(text(sql), dict(params or {})).all()


def stream(conn, sql: str, params: Mapping[str, Any] | None = None) -> Iterator[tuple]:
    """The rows of `sql` one at a time (a large read: the interaction ties, the group memberships)."""
    if isinstance(conn, sqlite3.Connection):
        yield from conn.execute(sql, dict(params or {}))
        return
    from sqlalchemy import text

    yield from conn.execute(text(sql), dict(params or {}))
