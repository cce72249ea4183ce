"""PdqIndex.builder: hashes added in batches and indexed in place give the same index as one add."""

from __future__ import annotations

import numpy as np
import pytest
from test_media_index import clustered, near

from netwarden.media import _kernels as K
from netwarden.media.index import TAIL_MAX, PdqIndex


def batches(h8: np.ndarray, ids: np.ndarray, rng):
    """Uneven batches, one of them empty."""
    cuts = np.sort(rng.choice(np.arange(1, len(ids)), 6, replace=False))
    edges = sorted([0, *cuts.tolist(), int(cuts[2]), len(ids)])
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        yield h8[a:b], ids[a:b]


def built(ix: PdqIndex, h8, ids, cap: int, rng) -> PdqIndex:
    b = ix.builder(cap)
    for hb, ib in batches(h8, ids, rng):
        b.add(hb, ib)
    b.finish()
    return ix


def hits(ix: PdqIndex, qs) -> tuple:
    return tuple(a.tolist() for a in ix.search(qs))


def test_apply_order_in_place_equals_a_gather():
    rng = np.random.default_rng(1)
    w = rng.integers(0, 2**63, (5000, 4), dtype=np.uint64)
    ids = rng.integers(0, 10**9, 5000)
    order = rng.permutation(5000)
    want_w, want_ids = w[order], ids[order]
    K.apply_order_in_place(order.copy(), w, ids)
    assert (w == want_w).all() and (ids == want_ids).all()


def test_a_streamed_approx_build_is_the_one_shot_build_array_for_array():
    rng = np.random.default_rng(2)
    n = TAIL_MAX * 2 + 123
    bank = clustered(n, rng)
    ids = rng.permutation(n * 3)[:n] + 7  # not in order, not from 0
    one = PdqIndex(mode="approx")
    one.add(bank, ids)
    streamed = built(PdqIndex(mode="approx"), bank, ids, cap=n + 5000, rng=rng)  # cap above what comes
    (a,), (b,) = one.segments, streamed.segments
    for name in ("w", "ids", "offsets", "entries", "masks", "mask_k"):
        assert getattr(a, name).dtype == getattr(b, name).dtype
        assert (getattr(a, name) == getattr(b, name)).all(), name
    assert (a.d, a.s, a.rowbits) == (b.d, b.s, b.rowbits)
    qs = np.vstack([near(bank, 300, rng, 31), rng.integers(0, 256, (50, 32), dtype=np.uint8)])
    assert hits(one, qs) == hits(streamed, qs)
    assert len(one.search(qs)[0]) > 300  # the queries do find rows


@pytest.mark.parametrize("n_before", [0, 5000, TAIL_MAX + 10])
def test_a_streamed_load_onto_an_index_finds_what_one_add_finds(n_before):
    rng = np.random.default_rng(3 + n_before)
    bank = clustered(n_before + TAIL_MAX + 999, rng)
    ids = np.arange(len(bank)) * 2
    one, streamed = PdqIndex(mode="auto", exact_limit=60_000), PdqIndex(mode="auto", exact_limit=60_000)
    for ix in (one, streamed):
        if n_before:
            ix.add(bank[:n_before], ids[:n_before])
    one.add(bank[n_before:], ids[n_before:])
    built(streamed, bank[n_before:], ids[n_before:], cap=len(bank), rng=rng)
    assert not streamed.exact and not one.exact
    qs = near(bank, 300, rng, 31)
    assert hits(one, qs) == hits(streamed, qs)
    new = rng.integers(0, 256, (1, 32), dtype=np.uint8)  # and it takes adds afterwards
    streamed.add(new, [-1])
    assert -1 in streamed.search(new)[1].tolist()


def test_a_load_that_turns_out_small_stays_exact():
    """cap (the store's id range) may be far above the PDQ rows that come: few rows stay exact."""
    rng = np.random.default_rng(4)
    bank = clustered(20_000, rng)
    ix = PdqIndex(mode="auto", exact_limit=50_000)
    b = ix.builder(200_000)
    assert b.streamed
    for hb, ib in batches(bank, np.arange(20_000), rng):
        b.add(hb, ib)
    b.finish()
    assert ix.exact and len(ix) == 20_000
    ref = PdqIndex(mode="exact")
    ref.add(bank, np.arange(20_000))
    qs = near(bank, 200, rng, 31)
    assert hits(ix, qs) == hits(ref, qs)


def test_exact_mode_builder_collects_and_adds_once():
    rng = np.random.default_rng(5)
    bank = clustered(3000, rng)
    ix = PdqIndex(mode="exact")
    b = ix.builder(10**8)
    assert not b.streamed
    for hb, ib in batches(bank, np.arange(3000), rng):
        b.add(hb, ib)
    assert len(ix) == 0  # nothing indexed before finish
    b.finish()
    ref = PdqIndex(mode="exact")
    ref.add(bank, np.arange(3000))
    qs = near(bank, 100, rng, 31)
    assert hits(ix, qs) == hits(ref, qs)


def test_more_hashes_than_the_builder_was_sized_for_is_one_clear_error():
    b = PdqIndex(mode="approx").builder(10)
    b.add(np.zeros((8, 32), dtype=np.uint8), np.arange(8))
    with pytest.raises(ValueError, match="sized for 10 hashes was given 11"):
        b.add(np.zeros((3, 32), dtype=np.uint8), np.arange(3))
    with pytest.raises(ValueError, match="differ in length"):
        b.add(np.zeros((1, 32), dtype=np.uint8), np.arange(2))
