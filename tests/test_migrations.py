"""The migrations build exactly the schema the table definitions describe, on both backends."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from netwarden.store import open_store
from netwarden.store.tables import metadata


def test_migrations_match_table_definitions(db_url):
    store = open_store(db_url)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    store.close()
    assert diff == [], f"schema drift; add a migration (`make migration MSG=...`): {diff}"


def test_upgrade_is_idempotent(sqlite_url):
    open_store(sqlite_url).close()
    store = open_store(sqlite_url)  # second open: already at head, nothing to do
    store.close()


def test_a_store_from_an_earlier_version_upgrades_and_keeps_its_rows(db_url):
    """A store left at revision 0002 (the first landing) gains the later tables on open; its rows stay."""
    from sqlalchemy import inspect, select

    from netwarden.store.schema import accounts

    store = open_store(db_url, migrate=False)
    store.upgrade("0002")
    with store.engine.begin() as conn:
        assert "sweep_runs" not in inspect(conn).get_table_names()
        conn.execute(accounts.insert().values(id="kept", handle="kept"))
    store.close()
    store = open_store(db_url)
    with store.engine.connect() as conn:
        assert {"sweep_runs", "sweep_groups"} <= set(inspect(conn).get_table_names())
        assert conn.execute(select(accounts.c.handle).where(accounts.c.id == "kept")).scalar() == "kept"
    store.close()


def test_opening_a_current_store_does_not_wait_for_a_writer(tmp_path):
    """A store already at head is only read on open: it opens while another process holds the write lock."""
    import sqlite3

    path = tmp_path / "busy.db"
    open_store(f"sqlite:///{path}").close()
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a writer mid-transaction (an ingest batch, say)
    try:
        store = open_store(f"sqlite:///{path}")
        store.close()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
