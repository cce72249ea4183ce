"""Opening a store migrates it in one transaction: a migration that fails leaves nothing behind."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from netwarden.store import db as store_db


def test_failed_migration_leaves_no_tables(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'half.db'}"
    import alembic.command

    real = alembic.command.upgrade

    def upgrade_then_fail(cfg, rev):
        real(cfg, rev)  # every table is created ...
        raise RuntimeError("killed halfway")  # ... and then the process dies before committing

    monkeypatch.setattr(alembic.command, "upgrade", upgrade_then_fail)
    with pytest.raises(RuntimeError):
        store_db.open_store(url)
    monkeypatch.undo()
    engine = store_db.make_engine(url)
    assert inspect(engine).get_table_names() == []  # nothing half-built
    engine.dispose()
    store = store_db.open_store(url)  # and the next open builds it all
    assert "accounts" in inspect(store.engine).get_table_names()
    store.close()
