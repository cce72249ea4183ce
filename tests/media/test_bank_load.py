"""Loading banks from the store into a Matcher: streamed in batches into arrays, with the same
matches as the entry-dict path, and adds after a load matchable without a reload."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import create_engine, insert

from netwarden.media.hashing import MediaHashes
from netwarden.media.matcher import Matcher
from netwarden.media.service import BankMatcher, load_banks, load_entries
from netwarden.store import media_banks as mb
from netwarden.store.tables import metadata
from netwarden.store.tables_media import bank_entries


def flip(h8: np.ndarray, k: int, rng) -> np.ndarray:
    bits = np.unpackbits(h8)
    bits[rng.choice(256, k, replace=False)] ^= 1
    return np.packbits(bits)


@pytest.fixture
def store(tmp_path):
    """Banks of every kind: labelled, negative, disabled, a tight threshold; PDQ near-duplicate
    families spread over them, MD5 and URL entries between the PDQ rows."""
    rng = np.random.default_rng(19)
    engine = create_engine(f"sqlite:///{tmp_path / 'nw.db'}")
    metadata.create_all(engine)
    centres = rng.integers(0, 256, (40, 32), dtype=np.uint8)
    with engine.begin() as conn:
        banks = [mb.create_bank(conn, "known", label="lbl-a"), mb.create_bank(conn, "neg", negative=True),
                 mb.create_bank(conn, "off", enabled=False), mb.create_bank(conn, "tight", threshold=10)]
        for n in range(300):
            b = banks[rng.choice(4, p=[0.55, 0.05, 0.2, 0.2])]
            h = flip(centres[n % 40], int(rng.integers(0, 20)), rng).tobytes().hex()
            rows = [("pdq", h, f"fam-{n % 7}" if n % 3 else "")]
            if n % 25 == 0:
                rows.append(("md5", f"{n:032x}", "m"))
            if n % 40 == 0:
                rows.append(("url", f"https://example.invalid/{n}", ""))
            mb.add_entries(conn, b["id"], rows)
    queries = [MediaHashes(name=f"q{k}", pdq=flip(centres[k % 40], int(rng.integers(0, 32)), rng).tobytes().hex(),
                           quality=100, md5=f"{k * 25:032x}") for k in range(60)]
    queries += [MediaHashes(name="r", pdq=rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex(), quality=100)]
    return engine, queries


def results(m: Matcher, queries) -> list[dict]:
    return [r.to_dict() for r in m.match_many(queries)]


def test_a_bank_loaded_in_batches_matches_like_one_load_and_like_the_entry_dicts(store):
    engine, queries = store
    with engine.connect() as conn:
        ref = Matcher(load_banks(conn))
        ref.add_entries(list(mb.entries(conn)))  # the plain-library path: one dict per entry
        loaded = {}
        for batch in (1, 7, 1_000_000):
            m = Matcher(load_banks(conn))
            assert load_entries(conn, m, batch=batch) == len(ref.pdq_meta) > 200  # the 3 enabled banks
            loaded[batch] = m
    want = results(ref, queries)
    assert sum(len(r["matches"]) + len(r["suppressed"]) for r in want) > 60  # the queries do match
    assert any(r["suppressed"] for r in want) and any(m["signal_type"] == "md5" for r in want for m in r["matches"])
    for batch, m in loaded.items():
        assert results(m, queries) == want, batch
        assert m.max_entry_id == ref.max_entry_id


def test_an_add_after_a_load_is_matchable_without_a_reload(store):
    engine, queries = store
    bm = BankMatcher()
    with engine.connect() as conn:
        m = bm.refresh(conn)
    n_index = len(m.index)
    new = "0f" * 32
    assert not m.match(MediaHashes(name="n", pdq=new, quality=100)).matches
    with engine.begin() as conn:
        b = mb.bank_row(conn, "known")
        mb.add_entries(conn, b["id"], [("pdq", new, "fresh"), ("md5", "e" * 32, "")])
        m2 = bm.refresh(conn)
    assert m2 is m and len(m.index) == n_index + 1  # added in place, nothing rebuilt
    hit = m.match(MediaHashes(name="n", pdq=new, quality=100, md5="e" * 32)).matches
    assert sorted((h.signal_type, h.label, h.distance) for h in hit) == [("md5", "", 0), ("pdq", "fresh", 0)]
    with engine.connect() as conn:
        full = Matcher(load_banks(conn))
        load_entries(conn, full)
    assert results(m, queries) == results(full, queries)


def test_a_malformed_pdq_row_is_named_by_its_entry_id(store):
    engine, _ = store
    with engine.begin() as conn:
        b = mb.bank_row(conn, "known")
        eid = conn.execute(insert(bank_entries).values(bank_id=b["id"], signal_type="pdq", signal="zz" * 32,
                                                       label="", added_at="2026-01-01")).inserted_primary_key[0]
    with engine.connect() as conn, pytest.raises(ValueError, match=f"bank entry {eid} holds PDQ signal 'zzzz"):
        load_entries(conn, Matcher(load_banks(conn)), batch=50)
