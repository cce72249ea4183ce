"""PdqIndex: exact mode equals brute force; approx mode recall; incremental add and removal."""

from __future__ import annotations

import numpy as np
import pytest

from netwarden.media.index import TAIL_MAX, PdqIndex, hex_to_u8
from support.oracles import brute_force


def clustered(n: int, rng, spread: float = 0.04) -> np.ndarray:
    centres = rng.integers(0, 256, ((n + 3) // 4, 32), dtype=np.uint8)
    bank = np.repeat(centres, 4, axis=0)[:n]
    bits = np.unpackbits(bank, axis=1)
    bits ^= (rng.random(bits.shape) < spread).astype(np.uint8)
    return np.packbits(bits, axis=1)


def near(bank: np.ndarray, k: int, rng, max_flip: int = 40) -> np.ndarray:
    src = bank[rng.integers(0, len(bank), k)]
    bits = np.unpackbits(src, axis=1)
    for i, f in enumerate(rng.integers(0, max_flip + 1, k)):
        bits[i, rng.choice(256, f, replace=False)] ^= 1
    return np.packbits(bits, axis=1)


def as_set(res) -> set:
    q, i, _ = res
    pairs = list(zip(q.tolist(), i.tolist(), strict=True))
    assert len(pairs) == len(set(pairs)), "a row was reported twice for one query"
    return set(pairs)


@pytest.mark.parametrize("radius", [0, 10, 31, 40])
def test_exact_mode_equals_brute_force(radius):
    rng = np.random.default_rng(radius)
    bank = clustered(20_000, rng)
    qs = np.vstack([near(bank, 400, rng), rng.integers(0, 256, (100, 32), dtype=np.uint8)])
    ix = PdqIndex(mode="exact", radius=radius)
    ix.add(bank, np.arange(len(bank)) + 1000)
    got = ix.search(qs)
    bq, bi, bd = brute_force(bank, qs, radius)
    want = set(zip(bq.tolist(), (bi + 1000).tolist(), strict=True))
    assert as_set(got) == want and len(want) >= 5
    # distances are the true Hamming distances
    dist = {(q, i): d for q, i, d in zip(*[a.tolist() for a in got], strict=True)}
    assert all(dist[(q, i + 1000)] == d for q, i, d in zip(bq.tolist(), bi.tolist(), bd.tolist(), strict=True))


def test_approx_mode_recall_is_high():
    rng = np.random.default_rng(5)
    bank = clustered(50_000, rng)
    qs = near(bank, 1000, rng, max_flip=31)
    ix = PdqIndex(mode="approx")
    ix.add(bank, np.arange(len(bank)))
    truth = set(zip(*[a.tolist() for a in brute_force(bank, qs, 31)[:2]], strict=True))
    got = as_set(ix.search(qs))
    assert got <= truth  # never a false hit: every candidate is verified
    assert len(got & truth) / len(truth) >= 0.99


def test_incremental_add_is_matchable_immediately_and_remove_works():
    rng = np.random.default_rng(1)
    ix = PdqIndex(mode="exact")
    ix.add(clustered(TAIL_MAX + 10, rng), np.arange(TAIL_MAX + 10))  # a bulk segment
    new = rng.integers(0, 256, (3, 32), dtype=np.uint8)
    for k in range(3):
        ix.add(new[k: k + 1], [10_000_000 + k])
        q, i, d = ix.search(new[k: k + 1])
        assert 10_000_000 + k in i.tolist()
    assert len(ix) == TAIL_MAX + 13
    assert ix.remove([10_000_001]) == 1
    assert 10_000_001 not in ix.search(new)[1].tolist()
    ix.compact()
    assert len(ix) == TAIL_MAX + 12 and 10_000_002 in ix.search(new)[1].tolist()


def test_many_small_adds_merge_segments_and_stay_exact():
    rng = np.random.default_rng(2)
    bank = clustered(3000, rng)
    ix = PdqIndex(mode="exact")
    for s in range(0, 3000, 100):
        ix.add(bank[s: s + 100], np.arange(s, s + 100))
    qs = near(bank, 200, rng)
    assert as_set(ix.search(qs)) == set(zip(*[a.tolist() for a in brute_force(bank, qs, 31)[:2]], strict=True))


def test_small_adds_to_an_approx_index_stay_duplicate_free_and_complete():
    rng = np.random.default_rng(4)
    bank = clustered(4000, rng)
    ix = PdqIndex(mode="approx")
    for s in range(0, 4000, 250):
        ix.add(bank[s: s + 250], np.arange(s, s + 250))
    qs = near(bank, 300, rng, max_flip=20)
    truth = set(zip(*[a.tolist() for a in brute_force(bank, qs, 31)[:2]], strict=True))
    got = as_set(ix.search(qs))
    assert got <= truth and len(got) / len(truth) >= 0.99


def test_auto_mode_switches_to_approx_above_the_limit():
    rng = np.random.default_rng(3)
    ix = PdqIndex(mode="auto", exact_limit=1000)
    ix.add(clustered(800, rng), np.arange(800))
    assert ix.exact
    ix.add(clustered(400, rng), np.arange(800, 1200))
    assert not ix.exact and len(ix) == 1200


def test_hex_input():
    h = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
    ix = PdqIndex()
    ix.add([h], [7])
    q, i, d = ix.search([h])
    assert i.tolist() == [7] and d.tolist() == [0]
    assert hex_to_u8([h]).shape == (1, 32)
