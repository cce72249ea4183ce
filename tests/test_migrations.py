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
    assert diff == [], f"schema drift; run `make baseline` (pre-release) or add a migration: {diff}"


def test_upgrade_is_idempotent(sqlite_url):
    open_store(sqlite_url).close()
    store = open_store(sqlite_url)  # second open: already at head, nothing to do
    store.close()
