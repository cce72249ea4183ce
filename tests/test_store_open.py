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


def test_the_quick_head_check_agrees_with_alembic(tmp_path, monkeypatch):
    """Opening a store at head reads the migration files' revision lines instead of importing Alembic:
    the heads it reads are Alembic's, a store at head runs no upgrade, one a migration behind does."""
    import alembic.command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    cfg = Config()
    cfg.set_main_option("script_location", str(store_db.MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    heads = set(script.get_heads())
    assert store_db.migration_heads() == heads
    url = f"sqlite:///{tmp_path / 'nw.db'}"
    store_db.open_store(url).close()
    calls: list[str] = []
    monkeypatch.setattr(alembic.command, "upgrade", lambda cfg, rev: calls.append(rev))
    store = store_db.open_store(url)
    assert store._at_head() and calls == []
    (head,) = heads
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": script.get_revision(head).down_revision})
    assert not store._at_head()
    store.close()
    store_db.open_store(url).close()
    assert calls == ["head"]
