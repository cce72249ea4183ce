"""Shared fixtures: a real PostgreSQL server for the session, and a store URL for each backend."""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTDATA = Path(os.environ.get("NETWARDEN_TESTDATA", ROOT.parent / "shared" / "testdata"))
sys.path.insert(0, str(Path(__file__).parent))
# the ahead-of-time push kernel (`graph build` compiles it once per kernel source) stays out of ~/.cache
os.environ.setdefault("NETWARDEN_KERNEL_DIR", str(ROOT / ".pytest_cache" / "netwarden-kernels"))

_db_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server():
    from support.postgres import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path) -> str:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    server = request.getfixturevalue("pg_server")
    return server.create_db(f"t{os.getpid()}_{next(_db_counter)}")


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(scope="session")
def testdata() -> Path:
    if not TESTDATA.is_dir():
        pytest.fail(f"reference test data not found at {TESTDATA}; set NETWARDEN_TESTDATA")
    return TESTDATA
