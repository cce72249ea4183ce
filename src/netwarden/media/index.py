"""PDQ range search: multi-index hashing over bit substrings, exact verification, incremental add.

Each 256-bit hash is cut into `m` substrings ("chunks") of `b` bits, taken from a fixed random
permutation of the bits. For every chunk a table maps each b-bit key to the bank rows having it
(a CSR layout: an offsets array of 2**b + 1 entries and the rows in key order). A query probes,
in every chunk, its own key and every key within `r` bit flips of it; the rows found are
candidates, whose full 256-bit distance is then computed and kept when <= the radius.

- exact mode: 16 disjoint chunks of 16 bits covering all 256 bits, r = floor(radius / 16). By the
  pigeonhole principle, a hash within `radius` differs from the query in at most r bits in at
  least one chunk, so every true neighbour is a candidate: recall 1.0 (tests check it).
- approx mode (large banks, <= 64 bytes a hash): the compact segments (_CompactSegment): 7 tables
  over disjoint 36-bit fields of the permuted hash, each a `d`-bit directory key probed within 2
  flips and a short suffix filtered beside the row number; table 0 is the hash rows themselves,
  sorted by its key. Recall against exact search is measured (bench/index.py, tests) rather than
  guaranteed.

New hashes go to a small tail segment that is re-indexed on every add (milliseconds), so a hash
is matchable as soon as `add` returns; full tails are frozen into segments and segments are
merged when there are too many. Removal marks rows dead.

The inner loops (chunk keys, the CSR build, probing and verification) are compiled with numba
(media/_kernels.py); numba is a base dependency and there is no slower fallback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

from . import _kernels as K  # compiled inner loops (numba, a base dependency: no fallback)

EXACT_LIMIT = 1_000_000
COMPACT_TABLES = 7  # approx mode: tables of 36-bit fields (252 of the 256 bits)
COMPACT_RT = 3  # approx mode: bits allowed to differ over a table's D and S together
TAIL_MAX = 65_536
MAX_SEGMENTS = 6
_SEED = 0x5EED_9D0


def hex_to_u8(hexes: list[str] | np.ndarray) -> np.ndarray:
    """Hex PDQ strings -> (n, 32) uint8."""
    if isinstance(hexes, np.ndarray) and hexes.dtype == np.uint8:
        return hexes.reshape(-1, 32)
    if not len(hexes):
        return np.zeros((0, 32), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(hexes)), dtype=np.uint8).reshape(-1, 32)


@dataclass(frozen=True)
class Layout:
    """Which bits make up each chunk, and how far to probe."""

    chunks: np.ndarray  # (m, b) bit positions
    r: int
    exact: bool


    @property
    def m(self) -> int:
        return self.chunks.shape[0]

    @property
    def b(self) -> int:
        return self.chunks.shape[1]

    @staticmethod
    def exact_layout(radius: int = 31) -> Layout:
        perm = np.random.default_rng(_SEED).permutation(256)
        return Layout(chunks=perm.reshape(16, 16), r=radius // 16, exact=True)

    @staticmethod
    def compact_layout() -> Layout:
        """Approx mode: the compact segments (_CompactSegment) choose their own key sizes."""
        return Layout(chunks=np.zeros((COMPACT_TABLES, 0), dtype=np.int64), r=2, exact=False)

    def keys(self, h8: np.ndarray) -> np.ndarray:
        """(n, 32) uint8 hashes -> (n, m) int64 chunk keys."""
        return K.chunk_keys(np.ascontiguousarray(h8), self.chunks.astype(np.int64))

    def word_masks(self, shift: int = 0) -> np.ndarray:
        """(m, 4) uint64: each chunk's indexed bits (all but the last `shift`), laid out like the
        native uint64 view of the 32 bytes."""
        out = np.zeros((self.m, 32), dtype=np.uint8)
        for j in range(self.m):
            for p in self.chunks[j][: self.b - shift]:
                out[j, p >> 3] |= 1 << (7 - (p & 7))
        return out.view(np.uint64).reshape(self.m, 4).copy()

    def masks(self) -> np.ndarray:
        ms = [0]
        for k in range(1, self.r + 1):
            for combo in combinations(range(self.b), k):
                v = 0
                for c in combo:
                    v |= 1 << c
                ms.append(v)
        return np.array(ms, dtype=np.int64)


class _Segment:
    """An immutable indexed block of rows."""

    def __init__(self, layout: Layout, h8: np.ndarray, ids: np.ndarray):
        self.h64 = np.ascontiguousarray(h8).view(np.uint64).reshape(-1, 4)
        ids = np.asarray(ids, dtype=np.int64)
        small = len(ids) == 0 or (ids.min() >= -(2**31) and ids.max() < 2**31)
        self.ids = ids.astype(np.int32) if small else ids
        self.alive = np.ones(len(self.ids), dtype=bool)
        n = len(self.ids)
        # Small segments index only the top bits of each chunk key (a smaller directory); probing
        # the shortened keys finds a superset of the candidates, and verification is exact.
        bits = min(layout.b, max(8, int(np.ceil(np.log2(max(n, 1)))) + 1))
        self.shift = layout.b - bits
        self.masks = np.unique(layout.masks() >> self.shift)
        self.word_masks = layout.word_masks(self.shift)
        keys = layout.keys(h8) >> self.shift
        size = 1 << bits
        row_t = np.uint32 if n < 2**32 else np.int64
        off_t = np.int32 if n < 2**31 else np.int64
        self.offsets = np.zeros((layout.m, size + 1), dtype=off_t)
        self.rows = np.empty((layout.m, n), dtype=row_t)
        K.build_csr(keys, size, self.offsets, self.rows)

    def __len__(self) -> int:
        return len(self.ids)

    def kill(self, hit: np.ndarray) -> None:
        self.alive[hit] = False

    def live(self) -> np.ndarray:
        return self.alive

    def nbytes(self) -> int:
        return (self.h64.nbytes + self.ids.nbytes + self.alive.nbytes
                + self.offsets.nbytes + self.rows.nbytes)

    def hashes(self, rows: np.ndarray) -> np.ndarray:
        """The (k, 32) uint8 hashes of these rows."""
        return np.ascontiguousarray(self.h64[rows]).view(np.uint8).reshape(-1, 32)

    def search(self, layout: Layout, qkeys: np.ndarray, q64: np.ndarray, radius: int):
        """Return (query index, row, distance) arrays of rows within `radius`."""
        masks = self.masks
        if self.shift:
            qkeys = qkeys >> self.shift
        cap = max(4096, 256 * len(q64))
        while True:
            oq = np.empty(cap, dtype=np.int64)
            orow = np.empty(cap, dtype=np.int64)
            od = np.empty(cap, dtype=np.int64)
            n = K.search(qkeys, q64, masks, self.offsets, self.rows, self.h64, self.alive, radius,
                         self.word_masks, layout.r, oq, orow, od)
            if n >= 0:
                return oq[:n], orow[:n], od[:n]
            cap *= 4


def _bit_luts() -> tuple[np.ndarray, np.ndarray]:
    """Byte lookup tables of the fixed bit permutation (forward: raw hash bytes -> permuted words;
    inverse: permuted words' bytes -> raw hash as words), built from one-bit inputs (both maps are linear)."""
    perm = np.random.default_rng(_SEED).permutation(256)

    def fwd(raw: np.ndarray) -> np.ndarray:
        bits = np.unpackbits(raw)[perm]
        return np.packbits(bits, bitorder="little").view("<u8").astype(np.uint64)

    def inv(pb: np.ndarray) -> np.ndarray:
        s = np.unpackbits(pb, bitorder="little")
        raw = np.empty(256, dtype=np.uint8)
        raw[perm] = s
        return np.packbits(raw).view(np.uint64).copy()

    luts = []
    for f in (fwd, inv):
        one = np.zeros((32, 8, 4), dtype=np.uint64)
        for p in range(32):
            for b in range(8):
                e = np.zeros(32, dtype=np.uint8)
                e[p] = 1 << b
                one[p, b] = f(e)
        lut = np.zeros((32, 256, 4), dtype=np.uint64)
        for v in range(256):
            for b in range(8):
                if v >> b & 1:
                    lut[:, v] |= one[:, b]
        luts.append(lut)
    return luts[0], luts[1]


_LUT, _INV_LUT = _bit_luts()


def permuted(h8: np.ndarray) -> np.ndarray:
    """(n, 32) uint8 hashes -> (n, 4) uint64 words of the permuted bits (the compact segments' form)."""
    out = np.empty((len(h8), 4), dtype=np.uint64)
    K.permute_bits(np.ascontiguousarray(h8), _LUT, np.arange(len(h8), dtype=np.int64), out)
    return out


def _flip_masks(d: int, r: int = 2) -> tuple[np.ndarray, np.ndarray]:
    ms, ks = [0], [0]
    for k in range(1, r + 1):
        for combo in combinations(range(d), k):
            ms.append(sum(1 << c for c in combo))
            ks.append(k)
    return np.array(ms, dtype=np.int64), np.array(ks, dtype=np.int64)


class _CompactSegment:
    """Approx mode's block of rows: COMPACT_TABLES tables of a FIELD-bit field each, <= 64 bytes a hash.

    Table j's field (bits 36j..36j+35 of the permuted hash): a directory key D of `d` bits (2**d about
    n / 7, so buckets hold 7-14 rows) and a suffix S of `s` bits kept in the spare high bits of the
    uint32 row number (s = min(8, 32 - bits of n)). Probes: every D within 2 bits of the query's;
    a row is a candidate when D + S are within COMPACT_RT bits too. Table 0 stores nothing: the hash
    rows are sorted by its D. Memory: 32 (hash) + 4 (id) + 4 per table but the first + the directories.
    """

    def __init__(self, h8: np.ndarray | None, ids: np.ndarray, words: np.ndarray | None = None):
        n = len(ids)
        self._params(n)
        size = 1 << self.d
        if words is None:
            keys0 = K.table0_keys(np.ascontiguousarray(h8), _LUT, self.d)
        else:
            keys0 = K.field_keys(words, 0, self.d)
        off0, order = K.counting_order(keys0, size)
        del keys0
        self.w = np.empty((n, 4), dtype=np.uint64)
        if words is None:
            K.permute_bits(np.ascontiguousarray(h8), _LUT, order, self.w)
        else:
            np.take(words, order, axis=0, out=self.w)
        ids = np.asarray(ids, dtype=np.int64)[order]
        del order
        self._offsets(off0, n)
        del off0
        self._tables(ids)

    def _params(self, n: int) -> None:
        rowbits = max(1, int(np.ceil(np.log2(max(n, 2)))))
        if rowbits > 32:
            raise ValueError("a compact segment holds at most 2**32 rows")
        self.s = min(8, 32 - rowbits)
        # the most directory keys the 64-byte budget leaves room for: 60 bytes of rows, ids and
        # entries, so 7 int32 offsets arrays of 2**d + 1 may take 4 bytes a hash (2**d <= n / 7 - 1)
        self.d = int(min(max(6, int(np.floor(np.log2(max(n / 7 - 1, 1))))), K.FIELD - self.s))
        self.rowbits, self.rt = rowbits, COMPACT_RT
        self.masks, self.mask_k = _flip_masks(self.d)

    def _offsets(self, off0: np.ndarray, n: int) -> None:
        """The offsets of every table, table 0's from the counting sort (the caller then drops its
        int64 off0, 64 MiB at 100M rows, before the other tables are built)."""
        off_t = np.int32 if n < 2**31 else np.int64
        self.offsets = np.empty((COMPACT_TABLES, (1 << self.d) + 1), dtype=off_t)
        self.offsets[0] = off0

    def _tables(self, ids: np.ndarray) -> None:
        """With self.w sorted by table 0's key, `ids` in the same order and self.offsets[0] set: the
        ids and the other tables."""
        n = len(ids)
        small = n == 0 or (ids.min() >= -(2**31) and ids.max() < 2**31)
        self.ids = ids.astype(np.int32, copy=False) if small else ids
        del ids
        self.entries = np.empty((COMPACT_TABLES - 1, n), dtype=np.uint32)
        for j in range(1, COMPACT_TABLES):
            K.build_table(self.w, j, self.d, self.s, self.rowbits, self.offsets[j], self.entries[j - 1])
        self.alive = np.zeros(0, dtype=bool)  # empty: every row alive (1 byte a row only once one is removed)

    @classmethod
    def in_place(cls, holder: dict) -> _CompactSegment:
        """The segment of holder["w"] (permuted words, (n, 4) uint64) and holder["ids"] (int64), built
        in those arrays' own memory: the rows are sorted in place, so the build's peak is about the
        segment's own size. Takes the arrays out of `holder` (so that nothing else keeps them alive)."""
        w, ids = holder.pop("w"), holder.pop("ids")
        seg = object.__new__(cls)
        seg._params(len(ids))
        keys0 = K.field_keys(w, 0, seg.d)
        off0, order = K.counting_order(keys0, 1 << seg.d)
        del keys0
        K.apply_order_in_place(order, w, ids)
        del order
        seg.w = w
        del w
        if not len(ids) or (ids.min() >= -(2**31) and ids.max() < 2**31):
            ids = ids.astype(np.int32)  # and the int64 copy goes before the tables are allocated
        seg._offsets(off0, len(ids))
        del off0
        seg._tables(ids)
        return seg

    def __len__(self) -> int:
        return len(self.ids)

    def nbytes(self) -> int:
        return self.w.nbytes + self.ids.nbytes + self.alive.nbytes + self.offsets.nbytes + self.entries.nbytes

    def kill(self, hit: np.ndarray) -> None:
        if not len(self.alive):
            self.alive = np.ones(len(self.ids), dtype=bool)
        self.alive[hit] = False

    def live(self) -> np.ndarray:
        return self.alive if len(self.alive) else np.ones(len(self.ids), dtype=bool)

    def parts(self) -> tuple[np.ndarray, np.ndarray]:
        """(permuted words, ids) of the live rows."""
        keep = self.live()
        return self.w[keep], self.ids[keep].astype(np.int64)

    def hashes(self, rows: np.ndarray) -> np.ndarray:
        """The (k, 32) uint8 hashes of these rows (the stored words put back through the inverse permutation)."""
        return unpermuted(self.w[rows])

    def search(self, qw: np.ndarray, radius: int):
        cap = max(4096, 256 * len(qw))
        while True:
            oq = np.empty(cap, dtype=np.int64)
            orow = np.empty(cap, dtype=np.int64)
            od = np.empty(cap, dtype=np.int64)
            n = K.compact_search(qw, COMPACT_TABLES, self.d, self.s, self.rt, self.rowbits, self.masks, self.mask_k,
                                 self.offsets, self.entries, self.w, self.alive, radius, oq, orow, od)
            if n >= 0:
                return oq[:n], orow[:n], od[:n]
            cap *= 4


def unpermuted(words: np.ndarray) -> np.ndarray:
    """Inverse of `permuted`: (n, 4) uint64 permuted words -> (n, 32) uint8 hashes."""
    pw = np.ascontiguousarray(words).view(np.uint8).reshape(-1, 32)
    out = np.empty((len(pw), 4), dtype=np.uint64)
    K.permute_bits(pw, _INV_LUT, np.arange(len(pw), dtype=np.int64), out)
    return out.view(np.uint8).reshape(-1, 32)


class IndexBuilder:
    """Hashes added to a PdqIndex in batches, indexed together when `finish` is called.

    When the index will be in approx mode (mode "approx", or "auto" with more than exact_limit hashes
    possible), each batch is permuted straight into the words array of the segment to be (sized once
    for `cap` rows: np.empty reserves address space, only the pages written are held), and `finish`
    sorts those rows in place and builds the tables beside them (_CompactSegment.in_place): no copy of
    the raw hashes is held beside the index, and the build's peak is about the segment's own size.
    The segment is the same, array for array, as `PdqIndex.add` of all the batches at once. Otherwise
    (exact mode: at most exact_limit hashes in auto) the batches are kept and added in one `add`.
    """

    def __init__(self, index: PdqIndex, cap: int):
        self.index, self.cap, self.n = index, int(cap), 0
        self.streamed = not index._pick_layout(len(index) + self.cap).exact
        self._held: dict = {}
        self._parts: list[tuple[np.ndarray, np.ndarray]] = []
        if self.streamed:
            self._held = {"w": np.empty((self.cap, 4), dtype=np.uint64), "ids": np.empty(self.cap, dtype=np.int64)}

    def add(self, hashes, ids) -> None:
        h8 = np.ascontiguousarray(hex_to_u8(hashes))
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(h8) != len(ids):
            raise ValueError("hashes and ids differ in length")
        k = len(ids)
        if self.n + k > self.cap:
            raise ValueError(f"index builder sized for {self.cap:,} hashes was given {self.n + k:,}")
        if self.streamed:
            K.permute_bits(h8, _LUT, np.arange(k, dtype=np.int64), self._held["w"][self.n: self.n + k])
            self._held["ids"][self.n: self.n + k] = ids
        else:
            self._parts.append((h8.copy(), ids))
        self.n += k

    def finish(self) -> None:
        """Index everything added; matchable on return. The builder is spent."""
        ix, n = self.index, self.n
        if not self.streamed:
            if self._parts:
                ix.add(np.concatenate([p[0] for p in self._parts]), np.concatenate([p[1] for p in self._parts]))
            self._parts = []
            return
        held, self._held = {"w": self._held["w"][:n], "ids": self._held["ids"][:n]}, {}
        if not n:
            return
        if n < TAIL_MAX or ix._pick_layout(len(ix) + n).exact:  # few after all: the ordinary add
            ix.add(unpermuted(held["w"]), held["ids"])
            return
        ix._before_adding(n)
        ix._freeze_tail()
        ix.segments.append(_CompactSegment.in_place(held))
        ix._maybe_relayout_or_merge()


class PdqIndex:
    """A PDQ range-search index over (id, hash) pairs.

    mode: "exact" (pigeonhole multi-index hashing, recall 1.0), "approx" (sparser chunks, recall
    measured), or "auto" (exact up to `exact_limit` hashes, approx above; switching rebuilds).
    """

    def __init__(self, mode: str = "auto", radius: int = 31, exact_limit: int = EXACT_LIMIT):
        if mode not in ("auto", "exact", "approx"):
            raise ValueError(f"unknown index mode {mode!r}")
        self.mode = mode
        self.radius = radius
        self.exact_limit = exact_limit
        self.layout = self._pick_layout(0)
        self._masks = self.layout.masks()
        self.segments: list[_Segment] = []
        self._tail_h: list[np.ndarray] = []
        self._tail_ids: list[np.ndarray] = []
        self._tail: _Segment | None = None
        self._id_where: dict[int, list[tuple[int, int]]] | None = None

    def _pick_layout(self, n: int) -> Layout:
        if self.mode == "exact" or (self.mode == "auto" and n <= self.exact_limit):
            return Layout.exact_layout(self.radius)
        return Layout.compact_layout()

    @property
    def exact(self) -> bool:
        return self.layout.exact

    def __len__(self) -> int:
        return sum(len(s) for s in self.segments) + sum(len(t) for t in self._tail_ids)

    def nbytes(self) -> int:
        return sum(s.nbytes() for s in self._all_segments())

    def _all_segments(self) -> list[_Segment]:
        return self.segments + ([self._tail] if self._tail is not None else [])

    # ------------------------------------------------------------------------------- building

    def add(self, hashes, ids) -> None:
        """Add hashes ((n, 32) uint8 or hex strings) with integer ids; matchable on return."""
        h8 = np.ascontiguousarray(hex_to_u8(hashes))
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(h8) != len(ids):
            raise ValueError("hashes and ids differ in length")
        if not len(ids):
            return
        self._before_adding(len(ids))
        if len(ids) >= TAIL_MAX:  # bulk load: its own segment
            self._freeze_tail()
            self.segments.append(self._segment(h8, ids))
        else:
            self._tail_h.append(h8)
            self._tail_ids.append(ids)
            th = np.concatenate(self._tail_h) if len(self._tail_h) > 1 else self._tail_h[0]
            ti = np.concatenate(self._tail_ids) if len(self._tail_ids) > 1 else self._tail_ids[0]
            self._tail_h, self._tail_ids = [th], [ti]
            self._tail = self._segment(th, ti)
            if len(ti) >= TAIL_MAX:
                self._freeze_tail()
        self._maybe_relayout_or_merge()

    def _before_adding(self, k: int) -> None:
        self._id_where = None
        want = self._pick_layout(len(self) + k)
        if want.exact != self.layout.exact:
            # Switch before building the new rows: a bulk load past the exact limit is built once, in
            # the approx layout, rather than in the exact one and then again (time and memory).
            self.layout = want
            self._masks = want.masks()
            self._rebuild()

    def builder(self, cap: int) -> IndexBuilder:
        """Add up to `cap` hashes arriving in batches (`IndexBuilder.add`), matchable after `finish`:
        a load from the store builds the approx segment in place as the batches come, so its peak is
        about the index's own size rather than the hashes plus the index (see IndexBuilder)."""
        return IndexBuilder(self, cap)

    def _freeze_tail(self) -> None:
        if self._tail is not None:
            self.segments.append(self._tail)
        self._tail, self._tail_h, self._tail_ids = None, [], []

    def _maybe_relayout_or_merge(self) -> None:
        want = self._pick_layout(len(self))
        if want.exact != self.layout.exact:
            self.layout = want
            self._masks = want.masks()
            self._rebuild()
        elif len(self.segments) > MAX_SEGMENTS:
            # Size-tiered: merge the small segments together; the big one is rebuilt only when
            # the small ones add up to half its size.
            big = max(self.segments, key=len)
            rest = [x for x in self.segments if x is not big]
            if sum(len(x) for x in rest) * 2 >= len(big):
                self._rebuild()
            else:
                self.segments = [big, self._merge(rest)]

    def _segment(self, h8: np.ndarray, ids: np.ndarray):
        return _Segment(self.layout, h8, ids) if self.layout.exact else _CompactSegment(h8, ids)

    def _merge(self, parts: list) -> _Segment | _CompactSegment:
        ids = np.concatenate([x.ids[x.live()].astype(np.int64) for x in parts])
        if self.layout.exact:
            h8 = np.concatenate([x.h64[x.live()].view(np.uint8).reshape(-1, 32) for x in parts])
            return _Segment(self.layout, h8, ids)
        words = np.concatenate([x.parts()[0] if isinstance(x, _CompactSegment)
                                else permuted(x.h64[x.live()].view(np.uint8).reshape(-1, 32)) for x in parts])
        return _CompactSegment(None, ids, words=words)

    def _rebuild(self) -> None:
        parts = self._all_segments()
        if not parts:
            return
        seg = self._merge(parts)
        self.segments, self._tail, self._tail_h, self._tail_ids = [], None, [], []
        self._id_where = None
        if len(seg):
            self.segments = [seg]

    def remove(self, ids) -> int:
        """Mark every row with one of these ids dead. Returns the number of rows removed."""
        want = np.asarray(list(ids), dtype=np.int64)
        n = 0
        if self._tail is not None:
            # The tail is re-indexed from _tail_h / _tail_ids on every add: drop the rows there (and
            # re-index now), or the next add would bring them back to life.
            keep = ~np.isin(self._tail_ids[0], want)
            n += int((~keep).sum())
            if not keep.all():
                self._tail_h, self._tail_ids = [self._tail_h[0][keep]], [self._tail_ids[0][keep]]
                self._tail = self._segment(self._tail_h[0], self._tail_ids[0]) if keep.any() else None
                if self._tail is None:
                    self._tail_h, self._tail_ids = [], []
        for s in self.segments:
            hit = np.isin(s.ids, want) & s.live()
            k = int(hit.sum())
            if k:
                n += k
                s.kill(hit)
        return n

    def compact(self) -> None:
        """Merge every segment into one and drop dead rows."""
        self._rebuild()

    # ------------------------------------------------------------------------------- querying

    def search(self, queries, radius: int | None = None, batch: int = 4096, with_hashes: bool = False):
        """Range search. Returns (query_index, id, distance) int64 arrays, sorted by query then distance;
        with_hashes, also the (n, 32) uint8 bank hashes found (read back from the index's own rows, so
        a caller needs no copy of them)."""
        r = self.radius if radius is None else radius
        if r > self.radius and self.layout.exact:
            raise ValueError(f"exact index built for radius {self.radius}, asked for {r}")
        q8 = np.ascontiguousarray(hex_to_u8(queries))
        outs_q, outs_id, outs_d, outs_h = [], [], [], []
        for s0 in range(0, len(q8), batch):
            qb = q8[s0: s0 + batch]
            if self.layout.exact:
                qkeys = self.layout.keys(qb)
                q64 = qb.view(np.uint64).reshape(-1, 4)
            else:
                qw = permuted(qb)
            for seg in self._all_segments():
                if self.layout.exact:
                    qi, rows, d = seg.search(self.layout, qkeys, q64, r)
                else:
                    qi, rows, d = seg.search(qw, r)
                if len(qi):
                    outs_q.append(qi + s0)
                    outs_id.append(seg.ids[rows].astype(np.int64))
                    outs_d.append(d)
                    if with_hashes:
                        outs_h.append(seg.hashes(rows))
        if not outs_q:
            e = np.zeros(0, dtype=np.int64)
            return (e, e, e, np.zeros((0, 32), dtype=np.uint8)) if with_hashes else (e, e, e)
        q, i, d = np.concatenate(outs_q), np.concatenate(outs_id), np.concatenate(outs_d)
        order = np.lexsort((i, d, q))
        if with_hashes:
            return q[order], i[order], d[order], np.concatenate(outs_h)[order]
        return q[order], i[order], d[order]

    # ------------------------------------------------------------------------------- persistence

    _ARRAYS = {"exact": ("h64", "ids", "alive", "offsets", "rows", "masks", "word_masks"),
               "compact": ("w", "ids", "alive", "offsets", "entries", "masks", "mask_k")}

    def save(self, folder: str | Path) -> None:
        """Write the index to `folder` (one .npy file per array, a meta.json); `load` maps them back."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self._freeze_tail()
        segs = []
        for n, seg in enumerate(self.segments):
            kind = "compact" if isinstance(seg, _CompactSegment) else "exact"
            for a in self._ARRAYS[kind]:
                np.save(folder / f"s{n}_{a}.npy", getattr(seg, a))
            extra = ({"d": seg.d, "s": seg.s, "rowbits": seg.rowbits, "rt": seg.rt} if kind == "compact"
                     else {"shift": seg.shift})
            segs.append({"kind": kind, **extra})
        meta = {"version": 1, "mode": self.mode, "radius": self.radius, "exact_limit": self.exact_limit,
                "exact": self.layout.exact, "segments": segs}
        (folder / "meta.json").write_text(json.dumps(meta))

    @classmethod
    def load(cls, folder: str | Path) -> PdqIndex:
        """Map a saved index back (memory-mapped copy-on-write: matchable at once, pages read on first use)."""
        folder = Path(folder)
        meta = json.loads((folder / "meta.json").read_text())
        if meta.get("version") != 1:
            raise ValueError(f"{folder} holds a PDQ index of an unknown version; rebuild it from the bank")
        ix = cls(mode=meta["mode"], radius=meta["radius"], exact_limit=meta["exact_limit"])
        ix.layout = Layout.exact_layout(ix.radius) if meta["exact"] else Layout.compact_layout()
        ix._masks = ix.layout.masks()
        for n, sm in enumerate(meta["segments"]):
            seg = object.__new__(_CompactSegment if sm["kind"] == "compact" else _Segment)
            for a in cls._ARRAYS[sm["kind"]]:
                setattr(seg, a, np.load(folder / f"s{n}_{a}.npy", mmap_mode="c"))
            for k, v in sm.items():
                if k != "kind":
                    setattr(seg, k, v)
            ix.segments.append(seg)
        return ix
