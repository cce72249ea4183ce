"""Storage: schema, migrations and queries. SQLite by default, PostgreSQL by URL."""

from .db import Store, open_store

__all__ = ["Store", "open_store"]
