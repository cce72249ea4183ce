"""A canonical dump of a store's tables, to compare two stores row for row."""

from __future__ import annotations

from sqlalchemy import select

from netwarden.store import open_store
from netwarden.store.tables import metadata

# Columns that legitimately differ between equal stores (insert order, wall-clock times, paths).
VOLATILE = {("events", "seq"), ("signals", "id"), ("signals", "created_at"),
            ("ingest_checkpoints", "updated_at"), ("ingest_checkpoints", "source"),
            ("dead_letters", "source"), ("events", "source"), ("media_hashes", "hashed_at")}


def dump(url: str, skip_tables: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    store = open_store(url)
    out: dict[str, list[tuple]] = {}
    with store.engine.connect() as conn:
        for name, table in sorted(metadata.tables.items()):
            if name in skip_tables:
                continue
            cols = [c for c in table.columns if (name, c.name) not in VOLATILE]
            rows = conn.execute(select(*cols)).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    store.close()
    return out
