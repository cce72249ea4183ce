"""Discovery works on data ingested from Twitter API v2 and Mastodon payloads, not only on worlds."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from netwarden.graph.evasion import find_evasion
from netwarden.graph.expand import expand_network
from netwarden.graph.sweep import sweep
from netwarden.ingest.pipeline import ingest_files
from netwarden.store import open_store
from netwarden.store import schema as t

FIX = Path(__file__).resolve().parents[1] / "ingest" / "fixtures"


@pytest.mark.parametrize("fmt,sub", [("twitter-v2", "twitter"), ("mastodon", "mastodon")])
def test_expand_sweep_and_evasion_on_foreign_data(sqlite_url, fmt, sub):
    store = open_store(sqlite_url)
    ingest_files(store, sorted((FIX / sub).iterdir()), fmt=fmt)
    with store.engine.connect() as c:
        # the seed: the account with the most follow ties in the fixture
        rows = c.execute(select(t.follows.c.src, t.follows.c.dst)).all()
    degree: dict[str, int] = {}
    for s, d in rows:
        degree[s] = degree.get(s, 0) + 1
        degree[d] = degree.get(d, 0) + 1
    seed = max(sorted(degree), key=lambda a: degree[a])
    result = expand_network(store, [seed], top_k=10)
    assert result.members, "the seed's contacts are found"
    for m in result.members:
        assert m.path and m.path[0] == seed or m.account_id == seed  # an evidence path from the seed
        assert m.layers  # which layers brought it in
    neighbours = {d for s, d in rows if s == seed} | {s for s, d in rows if d == seed}
    assert neighbours & {m.account_id for m in result.members}
    assert isinstance(sweep(store), list)
    assert isinstance(find_evasion(store), list)
    store.close()
