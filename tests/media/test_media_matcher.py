"""Matcher's PDQ side: entry metadata kept as arrays (PdqEntries), hex read back from the index."""

import numpy as np
import pytest

from netwarden.media.hashing import MediaHashes
from netwarden.media.matcher import BankInfo, Matcher, PdqEntries


def _hex(h8: np.ndarray) -> str:
    return h8.tobytes().hex()


def _flip(h8: np.ndarray, bits: list[int]) -> np.ndarray:
    out = h8.copy()
    for b in bits:
        out[b // 8] ^= 1 << (b % 8)
    return out


def _photo(h8: np.ndarray) -> MediaHashes:
    return MediaHashes(name="q", pdq=_hex(h8), quality=100)


@pytest.fixture
def bank_hashes():
    return np.random.default_rng(7).integers(0, 256, (300, 32), dtype=np.uint8)


@pytest.mark.parametrize("mode", ["exact", "approx"])
def test_pdq_matches_report_bank_label_and_the_bank_entrys_hex(mode, bank_hashes):
    m = Matcher([BankInfo(id=1, name="one"), BankInfo(id=2, name="two", threshold=10)], index_mode=mode)
    entries = [{"id": 100 + k, "bank_id": 1 + k % 2, "signal_type": "pdq", "signal": _hex(h),
                "label": f"tag{k % 3}"} for k, h in enumerate(bank_hashes)]
    assert m.add_entries(entries) == len(entries)
    assert len(m.pdq_meta.labels) == 4  # "", tag0, tag1, tag2: interned, not one string an entry
    q = _flip(bank_hashes[5], [3, 50, 200])  # 3 bits from entry 105 (bank 2, label tag2)
    (hit,) = m.match(_photo(q)).matches
    assert (hit.entry_id, hit.bank, hit.bank_id, hit.label, hit.distance) == (105, "two", 2, "tag2", 3)
    assert hit.signal == _hex(bank_hashes[5])
    far = _flip(bank_hashes[5], list(range(0, 240, 20)))  # 12 bits: over bank two's threshold of 10
    assert not m.match(_photo(far)).matches
    (hit,) = m.match(_photo(_flip(bank_hashes[4], list(range(0, 240, 20))))).matches  # bank one: 31
    assert (hit.entry_id, hit.bank, hit.label, hit.distance) == (104, "one", "tag1", 12)


@pytest.mark.parametrize("mode", ["exact", "approx"])
def test_removal_and_refresh_with_the_entry_arrays(mode, bank_hashes):
    m = Matcher([BankInfo(id=1, name="one"), BankInfo(id=2, name="two")], index_mode=mode)
    m.add_entries([{"id": 10 + k, "bank_id": 1, "signal_type": "pdq", "signal": _hex(h)}
                   for k, h in enumerate(bank_hashes[:200])])
    m.remove_entries([15, 16, 999])
    assert not m.match(_photo(bank_hashes[5])).matches
    assert not m.match(_photo(bank_hashes[6])).matches
    assert [x.entry_id for x in m.match(_photo(bank_hashes[7])).matches] == [17]
    assert len(m.pdq_meta) == 198
    # refresh: appended ids, then an out-of-order id (below the largest) merged into place
    m.add_entries([{"id": 500, "bank_id": 2, "signal_type": "pdq", "signal": _hex(bank_hashes[250]), "label": "new"}])
    m.add_entries([{"id": 15, "bank_id": 2, "signal_type": "pdq", "signal": _hex(bank_hashes[260]), "label": "back"}])
    (hit,) = m.match(_photo(bank_hashes[250])).matches
    assert (hit.entry_id, hit.bank, hit.label) == (500, "two", "new")
    (hit,) = m.match(_photo(bank_hashes[260])).matches
    assert (hit.entry_id, hit.bank, hit.label, hit.signal) == (15, "two", "back", _hex(bank_hashes[260]))
    assert not m.match(_photo(bank_hashes[5])).matches  # the removed row stays dead
    many = m.match_many([_photo(bank_hashes[k]) for k in range(200)])
    assert [x.matches[0].entry_id if x.matches else None for x in many] == \
        [None if k in (5, 6) else 10 + k for k in range(200)]


def test_entry_arrays_merge_repeats_and_stay_small():
    e = PdqEntries()
    e.add([1, 2, 3], [1, 1, 1], ["a", "", "a"])
    e.add([2, 0, 2], [5, 6, 7], ["b", "c", "d"])  # a repeated id: the later one wins, like a dict
    found, bank, label = e.lookup(np.array([0, 1, 2, 3, 4]))
    assert found.tolist() == [True, True, True, True, False]
    assert bank.tolist() == [6, 1, 7, 1, 0]
    assert [e.labels[c] for c in label[:4]] == ["c", "a", "d", "a"]
    e.remove({2, 9})
    assert e.lookup(np.array([2]))[0].tolist() == [False] and len(e) == 3
    big = PdqEntries()
    n = 10_000
    for s in range(0, n, 100):  # a refresh at a time, ids increasing: appends
        big.add(list(range(s, s + 100)), [1] * 100, [""] * 100)
    assert len(big) == n and big.nbytes() <= 16 * n * 1.25 + 64
