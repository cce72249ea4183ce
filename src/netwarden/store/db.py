"""Opening a store: engine set-up (SQLite WAL pragmas, PostgreSQL), migrations to head."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from ..errors import UserError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.execute("PRAGMA cache_size=-65536")
    # Checkpoint the WAL into the database every 100,000 pages (400 MB) rather than every 1,000: a
    # bulk ingest rewrites the same B-tree pages batch after batch, and each checkpoint copies them
    # again (measured: a third of ingest CPU at the default). The ingest checkpoints at its end.
    cur.execute("PRAGMA wal_autocheckpoint=100000")
    cur.close()


def make_engine(url: str) -> Engine:
    from sqlalchemy import create_engine, event
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if not url.startswith(("sqlite", "postgresql+psycopg://")):
        raise UserError(f"The database URL {_redact(url)!r} is not one Netwarden understands; "
                        "use sqlite:///PATH or postgresql://USER@HOST/DB.")
    try:
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                parent = Path(path).expanduser().resolve().parent
                if not parent.is_dir():
                    raise UserError(f"The database folder {parent} does not exist; create it or choose another --db path.")
            engine = create_engine(url, future=True)
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, future=True, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ImportError):
        raise UserError(f"The database URL {_redact(url)!r} is not one Netwarden understands; use sqlite:///PATH or postgresql://USER@HOST/DB.") from None
    return engine


# A plain SQLite file URL (no driver, query string or escapes; not ~): its path is what SQLAlchemy's
# URL gives as `database` (tests/test_store_lite.py), so it can be read without SQLAlchemy.
_SQLITE_FILE = re.compile(r"^sqlite:///([^?#%~][^?#%]*)$")


def sqlite_file(url: str) -> str | None:
    """The file of a plain `sqlite:///PATH` URL, else None (another database, in memory, or a URL with
    options, which SQLAlchemy reads)."""
    m = _SQLITE_FILE.match(url)
    return m.group(1) if m and m.group(1) != ":memory:" else None


class Store:
    """The store at `url`. Its SQLAlchemy engine is made on first use: a command that only reads a
    SQLite file through `reading()` (a cold `netwarden expand` on a current graph snapshot) never
    imports SQLAlchemy (~0.2-0.3 s of a fresh process).

    `graph_dir` is the graph_dir setting of the face that opened it (where its graph snapshots live,
    graph.snapshot.root_for; None: the default, `off`: none); `kernel_dir` its kernel_dir setting
    (where the push kernel compiled ahead of time is looked for, graph.push.kernel_path)."""

    def __init__(self, url: str, engine: Engine | None = None, graph_dir: str | None = None,
                 kernel_dir: str | None = None):
        self.url = url
        self._engine = engine
        self._lock = threading.Lock()
        self.graph_dir = graph_dir
        self.kernel_dir = kernel_dir

    def __repr__(self) -> str:
        return f"Store(url={_redact(self.url)!r})"

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            with self._lock:  # one engine (one pool) even when a web app's threads ask at once
                if self._engine is None:
                    self._engine = make_engine(self.url)
        return self._engine

    @property
    def dialect(self) -> str:
        if self._engine is None and sqlite_file(self.url):
            return "sqlite"
        return self.engine.dialect.name

    @property
    def sqlite_database(self) -> str | None:
        """The SQLite database as the URL names it (SQLAlchemy's `url.database`: a path, ':memory:' or
        None), or None for another database."""
        path = sqlite_file(self.url) if self._engine is None else None
        if path is not None:
            return path
        url = self.engine.url
        return url.database if url.get_backend_name() == "sqlite" else None

    @property
    def key(self) -> str:
        """The store's name for per-process caches (the URL as SQLAlchemy renders it, password hidden)."""
        if sqlite_file(self.url):
            return self.url
        return str(self.engine.url)

    @contextmanager
    def reading(self) -> Iterator:
        """A connection for plain reads, for the store's query functions (they take either kind, see
        `reads.rows`): the stdlib sqlite3 driver on a SQLite file while nothing has needed the engine,
        else one of the engine's connections."""
        path = sqlite_file(self.url) if self._engine is None else None
        if path is None:
            with self.engine.connect() as conn:
                yield conn
            return
        conn = sqlite3.connect(f"file:{quote(path)}?mode=rw", uri=True, timeout=30)  # never creates the file
        try:
            yield conn
        finally:
            conn.close()

    def upgrade(self, target: str = "head") -> None:
        """Bring the schema to `target` (default the newest migration; idempotent).

        A store already there is only read (no write lock), so opening one does not wait behind a writer;
        that check reads the migration files' revision lines and the store's alembic_version row without
        importing Alembic (a third of a cold CLI command's start-up otherwise)."""
        if target == "head" and self._at_head():
            return
        from alembic import command
        from alembic.config import Config
        from alembic.migration import MigrationContext
        from alembic.script import ScriptDirectory

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = None
        if target == "head":
            want = set(ScriptDirectory.from_config(cfg).get_heads())
            with self.engine.connect() as conn:
                if set(MigrationContext.configure(conn).get_current_heads()) == want:
                    return
        with self.engine.begin() as conn:
            if self.dialect == "sqlite":
                # The sqlite3 module opens transactions only before INSERT/UPDATE/DELETE, so DDL
                # would autocommit statement by statement; open one ourselves, so that a migration
                # killed halfway leaves nothing behind (and two processes do not migrate at once).
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, target)

    def _at_head(self) -> bool:
        from .reads import rows

        heads = migration_heads()
        if heads is None:
            return False
        try:
            with self.reading() as conn:
                have = {r[0] for r in rows(conn, "SELECT version_num FROM alembic_version")}
        except Exception:  # no version table yet (a new store): Alembic creates it
            return False
        return have == heads

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


_REV = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.M)


def migration_heads() -> set[str] | None:
    """The newest migration revisions, read from the files' `revision = ...` / `down_revision = ...`
    lines (plain strings or None); None when a file has another form, so Alembic decides."""
    revs: set[str] = set()
    downs: set[str] = set()
    for f in (MIGRATIONS / "versions").glob("*.py"):
        found = dict((k, v) for k, v in _REV.findall(f.read_text()))
        if "revision" not in found or "down_revision" not in found:
            return None
        vals = []
        for key in ("revision", "down_revision"):
            v = found[key]
            if v == "None" and key == "down_revision":
                vals.append(None)
            elif len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"" and v[1:-1].isalnum():
                vals.append(v[1:-1])
            else:
                return None
        revs.add(vals[0])
        if vals[1] is not None:
            downs.add(vals[1])
    return revs - downs or None


def open_store(url: str, migrate: bool = True, graph_dir: str | None = None, kernel_dir: str | None = None) -> Store:
    """Open the store at `url`, creating and migrating it as needed; `graph_dir`, `kernel_dir`: the
    face's settings (Store.graph_dir, Store.kernel_dir).

    A SQLite file already at the newest migration is checked with the stdlib driver and opened without
    an engine (made when first needed, `Store.engine`); anything else (a new file, one to migrate, one
    that does not open) takes the engine path, with its errors."""
    path = sqlite_file(url)
    if path is not None and migrate and Path(path).is_file():
        store = Store(url, graph_dir=graph_dir, kernel_dir=kernel_dir)
        if store._at_head():
            return store
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError, OperationalError

    engine = make_engine(url)
    store = Store(url=url, engine=engine, graph_dir=graph_dir, kernel_dir=kernel_dir)
    unreachable = "check the URL and that the server is running"
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except OperationalError as e:
        engine.dispose()
        raise _cannot_open(url, e, unreachable) from None
    except DatabaseError as e:  # the connection opened something that is not a database (SQLite: any other file)
        engine.dispose()
        raise _cannot_open(url, e, "pass a Netwarden store (a SQLite file made by `netwarden ingest`, or a "
                                   "PostgreSQL URL), not another file. Nothing was changed") from None
    if migrate:
        try:  # only OperationalError here: a migration's other DatabaseErrors are bugs, with their traceback
            store.upgrade()
        except OperationalError as e:
            engine.dispose()
            raise _cannot_open(url, e, unreachable) from None
    return store


def _cannot_open(url: str, e, fix: str) -> UserError:
    reason = str(e.orig).strip().splitlines()[0] if getattr(e, "orig", None) else str(e)
    return UserError(f"Cannot open the database {_redact(url)} ({reason}); {fix}.")


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return url
