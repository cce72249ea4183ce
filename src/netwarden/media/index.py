"""PDQ range search: multi-index hashing over bit substrings, exact verification, incremental add.

Each 256-bit hash is cut into `m` substrings ("chunks") of `b` bits, taken from a fixed random
permutation of the bits. For every chunk a table maps each b-bit key to the bank rows having it
(a CSR layout: an offsets array of 2**b + 1 entries and the rows in key order). A query probes,
in every chunk, its own key and every key within `r` bit flips of it; the rows found are
candidates, whose full 256-bit distance is then computed and kept when <= the radius.

- exact mode: 16 disjoint chunks of 16 bits covering all 256 bits, r = floor(radius / 16). By the
  pigeonhole principle, a hash within `radius` differs from the query in at most r bits in at
  least one chunk, so every true neighbour is a candidate: recall 1.0 (tests check it).
- approx mode (large banks): `m` chunks of `b` bits (default 14 x 20, drawn so that every bit is
  used at least once), r = 1. Fewer, sparser buckets; recall against exact search is measured
  (bench/index.py) rather than guaranteed.

New hashes go to a small tail segment that is re-indexed on every add (milliseconds), so a hash
is matchable as soon as `add` returns; full tails are frozen into segments and segments are
merged when there are too many. Removal marks rows dead.

The inner loops (chunk keys, the CSR build, probing and verification) are compiled with numba
(media/_kernels.py); numba is a base dependency and there is no slower fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from . import _kernels as K  # compiled inner loops (numba, a base dependency: no fallback)

EXACT_LIMIT = 1_000_000
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
    def approx_layout(m: int = 14, b: int = 20, r: int = 1) -> Layout:
        rng = np.random.default_rng(_SEED + 1)
        bits = np.concatenate([rng.permutation(256) for _ in range((m * b + 255) // 256)])[: m * b]
        chunks = bits.reshape(m, b)
        # a chunk must not repeat a bit: re-draw the rare offenders
        for j in range(m):
            if len(set(chunks[j])) < b:
                chunks[j] = rng.choice(256, b, replace=False)
        return Layout(chunks=chunks, r=r, exact=False)

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

    def nbytes(self) -> int:
        return (self.h64.nbytes + self.ids.nbytes + self.alive.nbytes
                + self.offsets.nbytes + self.rows.nbytes)

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


class PdqIndex:
    """A PDQ range-search index over (id, hash) pairs.

    mode: "exact" (pigeonhole multi-index hashing, recall 1.0), "approx" (sparser chunks, recall
    measured), or "auto" (exact up to `exact_limit` hashes, approx above; switching rebuilds).
    """

    def __init__(self, mode: str = "auto", radius: int = 31, exact_limit: int = EXACT_LIMIT,
                 approx_m: int = 14, approx_b: int = 20):
        if mode not in ("auto", "exact", "approx"):
            raise ValueError(f"unknown index mode {mode!r}")
        self.mode = mode
        self.radius = radius
        self.exact_limit = exact_limit
        self._approx = (approx_m, approx_b)
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
        m, b = self._approx
        return Layout.approx_layout(m, b)

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
        self._id_where = None
        if len(ids) >= TAIL_MAX:  # bulk load: its own segment
            self._freeze_tail()
            self.segments.append(_Segment(self.layout, h8, ids))
        else:
            self._tail_h.append(h8)
            self._tail_ids.append(ids)
            th = np.concatenate(self._tail_h) if len(self._tail_h) > 1 else self._tail_h[0]
            ti = np.concatenate(self._tail_ids) if len(self._tail_ids) > 1 else self._tail_ids[0]
            self._tail_h, self._tail_ids = [th], [ti]
            self._tail = _Segment(self.layout, th, ti)
            if len(ti) >= TAIL_MAX:
                self._freeze_tail()
        self._maybe_relayout_or_merge()

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

    def _merge(self, parts: list[_Segment]) -> _Segment | None:
        h8 = np.concatenate([x.h64[x.alive].view(np.uint8).reshape(-1, 32) for x in parts])
        ids = np.concatenate([x.ids[x.alive].astype(np.int64) for x in parts])
        return _Segment(self.layout, h8, ids)

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
        for s in self._all_segments():
            hit = np.isin(s.ids, want) & s.alive
            n += int(hit.sum())
            s.alive[hit] = False
        return n

    def compact(self) -> None:
        """Merge every segment into one and drop dead rows."""
        self._rebuild()

    # ------------------------------------------------------------------------------- querying

    def search(self, queries, radius: int | None = None, batch: int = 4096):
        """Range search. Returns (query_index, id, distance) int64 arrays, sorted by query then distance."""
        r = self.radius if radius is None else radius
        if r > self.radius and self.layout.exact:
            raise ValueError(f"exact index built for radius {self.radius}, asked for {r}")
        q8 = np.ascontiguousarray(hex_to_u8(queries))
        outs_q, outs_id, outs_d = [], [], []
        for s0 in range(0, len(q8), batch):
            qb = q8[s0: s0 + batch]
            qkeys = self.layout.keys(qb)
            q64 = qb.view(np.uint64).reshape(-1, 4)
            for seg in self._all_segments():
                qi, rows, d = seg.search(self.layout, qkeys, q64, r)
                if len(qi):
                    outs_q.append(qi + s0)
                    outs_id.append(seg.ids[rows].astype(np.int64))
                    outs_d.append(d)
        if not outs_q:
            e = np.zeros(0, dtype=np.int64)
            return e, e, e
        q, i, d = np.concatenate(outs_q), np.concatenate(outs_id), np.concatenate(outs_d)
        order = np.lexsort((i, d, q))
        return q[order], i[order], d[order]

