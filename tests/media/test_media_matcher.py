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
    assert len(big) == n and big.nbytes() == 6 * n  # int32 ids, uint8 bank and label codes
    assert big.lookup(np.array([0, 9_999, 10_000]))[0].tolist() == [True, True, False]


def test_ids_past_int32_widen_the_id_array():
    e = PdqEntries()
    e.add([5, 2**31 - 1], [1, 1], ["a", "a"])
    assert e._ids.dtype == np.int32 and e.nbytes() == 2 * 6
    found, bank, _ = e.lookup(np.array([5, 2**31 - 1, 2**31, -(2**40)]))  # ids no int32 holds: not found
    assert found.tolist() == [True, True, False, False] and bank.tolist() == [1, 1, 0, 0]
    e.add([2**31, 2**40], [2, 2], ["b", "b"])  # an append past int32
    assert e._ids.dtype == np.int64 and e.nbytes() == 4 * 10
    e.add([7, 2**35], [3, 3], ["c", "d"])  # and a merge
    found, bank, label = e.lookup(np.array([5, 7, 2**31 - 1, 2**31, 2**35, 2**40, 6]))
    assert found.tolist() == [True] * 6 + [False]
    assert bank.tolist() == [1, 3, 1, 2, 3, 2, 0]
    assert [e.labels[c] for c in label[:6]] == ["a", "c", "a", "b", "d", "b"]
    e.add([-(2**33)], [1], [""])  # below int32 too
    assert e.lookup(np.array([-(2**33)]))[0].tolist() == [True] and len(e) == 7


def test_many_banks_and_labels_widen_the_code_arrays():
    e = PdqEntries()
    e.add(list(range(10)), [7] * 10, ["x"] * 10)
    assert (e._bank.dtype, e._label.dtype) == (np.uint8, np.uint8)
    n = 70_000  # more than 255, then more than 65,535 distinct labels and banks
    ids = np.arange(10, 10 + n)
    banks = 10**6 + ids % 300 * 3  # past the small-id table, and 300 banks: uint16 codes
    e.add(ids[:1000], banks[:1000], [f"l{k}" for k in range(1000)])
    assert (e._bank.dtype, e._label.dtype) == (np.uint16, np.uint16)
    e.add(ids[1000:], banks[1000:], [f"l{k}" for k in range(1000, n)])
    assert e._label.dtype == np.uint32 and e._bank.dtype == np.uint16
    e.add(ids + n, 2**40 + ids % 70_000, [""] * n)  # 70,000 banks with ids past int32: uint32 bank codes
    assert e._bank.dtype == np.uint32 and len(e.bank_ids) == 1 + 300 + 70_000
    found, bank, label = e.lookup(np.concatenate([np.arange(10), ids, ids + n]))
    assert found.all()
    assert bank.tolist() == [7] * 10 + banks.tolist() + (2**40 + ids % 70_000).tolist()
    assert [e.labels[c] for c in label].count("x") == 10
    assert [e.labels[c] for c in label[10: 10 + n]] == [f"l{k}" for k in range(n)]
    e.add([5, 12], [7, 2**40], ["x", "l3"])  # a merge into widened arrays
    assert e.lookup(np.array([12]))[1].tolist() == [2**40]


def test_a_matcher_with_entry_ids_past_int32(bank_hashes):
    m = Matcher([BankInfo(id=1, name="one"), BankInfo(id=70_000, name="far")], index_mode="approx")
    m.add_entries([{"id": 10 + k, "bank_id": 1, "signal_type": "pdq", "signal": _hex(h), "label": "a"}
                   for k, h in enumerate(bank_hashes[:100])])
    m.add_entries([{"id": 2**33 + k, "bank_id": 70_000, "signal_type": "pdq", "signal": _hex(h), "label": "b"}
                   for k, h in enumerate(bank_hashes[100:200])])
    assert m.pdq_meta._ids.dtype == np.int64
    many = m.match_many([_photo(_flip(bank_hashes[k], [1, 99])) for k in (3, 103, 150)])
    assert [(x.matches[0].entry_id, x.matches[0].bank, x.matches[0].label) for x in many] == \
        [(13, "one", "a"), (2**33 + 3, "far", "b"), (2**33 + 50, "far", "b")]
