"""The graph's compact form: the interaction layer held inside the fused matrix, not beside it.

The fused matrix (every layer summed, what the ranking walks) already holds every interaction tie:
its pattern contains the interaction layer's, and where no group layer adds to a tie its weight is
the interaction weight itself (LAYER_WEIGHTS are 1). So the interaction layer is not kept as a
second matrix (another 8 bytes per stored entry, as much as the fused matrix): it is the fused
entries whose kind bits are set (one byte per fused entry, 0 = no interaction tie), with a short
side table for the entries where the fused weight is not the interaction weight (a group layer
adds to that tie, or a tie of no kind). Reading it back gives the interaction layer exactly
(tested against the built graph tie for tie); the explanations read only their candidates' rows
(:meth:`FusedInteraction.rows`), a refresh or a sweep the whole layer (:meth:`FusedInteraction.matrix`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from . import csr as light
from .build import Graph
from .csr import sp

BLOCK = 1 << 22  # entries per block when locating the interaction entries in the fused pattern
MADE = 1 << 8  # in an entry's code above its kind bits: the row's account received a tie the column's account made


class Codes:
    """Small per-entry values (a fused entry's kind bits) packed: each entry a code of `width` bits (1, 2, 4, 8
    or 16: the fewest that number the distinct values) into `palette`, the distinct values in order.

    A graph whose ties are all follows needs one bit per fused entry, a world with a few dozen kind
    combinations one byte; decoding is a shift and a mask per entry read, and only the entries read."""

    def __init__(self, packed: np.ndarray, palette: np.ndarray, n: int):
        self.packed, self.palette, self.n = packed, palette, int(n)
        self.width = _width(len(palette))

    @classmethod
    def of(cls, values: np.ndarray) -> Codes:
        values = np.asarray(values, dtype=np.uint16)  # one pass, no sort (a 100M-edge graph has 200M entries)
        seen = np.bincount(values, minlength=1) if len(values) else np.zeros(1, dtype=np.int64)
        palette = np.flatnonzero(seen).astype(np.uint16) if len(values) else np.zeros(1, dtype=np.uint16)
        width = _width(len(palette))
        lut = np.zeros(len(seen), dtype=np.uint16 if width == 16 else np.uint8)
        lut[palette] = np.arange(len(palette))
        code = lut[values]
        if width == 16:
            return cls(code, palette, len(values))
        if width == 8:
            return cls(code, palette, len(values))
        per = 8 // width
        pad = np.zeros((len(code) + per - 1) // per * per, dtype=np.uint8)
        pad[:len(code)] = code
        pad = pad.reshape(-1, per)
        packed = np.zeros(len(pad), dtype=np.uint8)
        for k in range(per):
            packed |= pad[:, k] << np.uint8(k * width)
        return cls(packed, palette, len(values))

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, pos):
        pos = np.asarray(pos, dtype=np.int64)
        if self.width >= 8:
            return self.palette[np.asarray(self.packed[pos])]
        per = 8 // self.width
        shift = ((pos % per) * self.width).astype(np.uint8)
        return self.palette[(np.asarray(self.packed[pos // per]) >> shift) & np.uint8((1 << self.width) - 1)]

    def at(self, i: int) -> int:
        """One entry's value (plain integer arithmetic: a path step reads a handful)."""
        if self.width >= 8:
            return int(self.palette[int(self.packed[i])])
        per = 8 // self.width
        return int(self.palette[(int(self.packed[i // per]) >> ((i % per) * self.width)) & ((1 << self.width) - 1)])

    def full(self) -> np.ndarray:
        """Every entry's value (a whole-graph pass: a refresh or a sweep, not an expansion)."""
        if self.width >= 8:
            return self.palette[np.asarray(self.packed)]
        per = 8 // self.width
        shifts = (np.arange(per, dtype=np.uint8) * self.width).astype(np.uint8)
        code = (np.asarray(self.packed)[:, None] >> shifts) & np.uint8((1 << self.width) - 1)
        return self.palette[code.reshape(-1)[:self.n]]

    @property
    def nbytes(self) -> int:
        return self.packed.nbytes + self.palette.nbytes


def _width(values: int) -> int:
    for w in (1, 2, 4, 8):
        if values <= 1 << w:
            return w
    return 16


class FusedInteraction:
    """The interaction layer and its kind bits over the fused matrix's pattern."""

    def __init__(self, fused: sp.csr_matrix, codes: Codes, side_pos: np.ndarray, side_val: np.ndarray, nnz: int):
        self.fused, self.codes, self.side_pos, self.side_val, self.nnz = fused, codes, side_pos, side_val, int(nnz)

    def bits(self, pos) -> np.ndarray:
        """The kind bits of the fused entries at `pos` (0: no interaction tie there)."""
        return (self.codes[pos] & 0xFF).astype(np.uint8)

    @classmethod
    def of(cls, fused: sp.csr_matrix, inter: sp.csr_matrix, kinds: sp.csr_matrix,
           made_to: sp.csr_matrix | None = None) -> FusedInteraction | None:
        """From the separate layer and kinds (same sorted pattern); None when the interaction pattern is not
        inside the fused one or the kinds have another pattern (the graph is then kept as it is). With
        `made_to` whose ties all lie inside the fused pattern (a 0/1 matrix), who made each tie is one more
        bit of each entry's code (MADE; see :class:`MadeTo`); `has_made` says whether it was folded in."""
        if fused.shape != inter.shape or not (fused.has_sorted_indices and inter.has_sorted_indices):
            return None
        if not (np.array_equal(kinds.indptr, inter.indptr) and np.array_equal(kinds.indices, inter.indices)):
            return None
        got = entry_codes(fused, inter, kinds, made_to)
        if got is None:
            return None
        bits, side_pos, side_val, made = got
        out = cls(fused, Codes.of(bits), side_pos, side_val, inter.nnz)
        out.has_made = made
        return out

    has_made = False

    def _entries(self, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Positions of the interaction entries among the fused entries [starts, ends) per row; values; row counts."""
        lens = (ends - starts).astype(np.int64)
        pos = np.repeat(starts.astype(np.int64) - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens) \
            + np.arange(int(lens.sum()), dtype=np.int64)
        keep = self.bits(pos) != 0
        vals = np.asarray(self.fused.data[pos], dtype=np.float32)
        if len(self.side_pos):
            j = np.searchsorted(self.side_pos, pos)
            j = np.minimum(j, len(self.side_pos) - 1)
            hit = self.side_pos[j] == pos
            vals[hit] = self.side_val[j[hit]]
            keep |= hit
        row_of = np.repeat(np.arange(len(lens)), lens)
        return pos[keep], vals[keep], np.bincount(row_of[keep], minlength=len(lens))

    def rows(self, nodes, kinds: bool = False) -> sp.csr_matrix:
        """The interaction layer's rows `nodes` (all columns); its kind bits instead with `kinds`."""
        nodes = np.atleast_1d(np.asarray(nodes, dtype=np.int64))
        f = self.fused
        pos, vals, counts = self._entries(np.asarray(f.indptr[nodes]), np.asarray(f.indptr[nodes + 1]))
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(f.indices.dtype)
        data = self.bits(pos) if kinds else vals
        if isinstance(f, light.CSR):  # a snapshot mapped for one expansion (graph/csr.py)
            return light.CSR(data, np.asarray(f.indices[pos]), indptr, (len(nodes), f.shape[1]))
        m = sp.csr_matrix((data, np.asarray(f.indices[pos]), indptr), shape=(len(nodes), f.shape[1]), copy=False)
        m.has_sorted_indices = True
        return m

    def matrix(self, kinds: bool = False) -> sp.csr_matrix:
        """The whole layer (or its kinds), rebuilt in memory: for a refresh or a sweep, not per expansion."""
        f = self.fused
        bits = (self.codes.full() & 0xFF).astype(np.uint8)
        keep = bits != 0
        keep[self.side_pos] = True
        pos = np.flatnonzero(keep)
        if kinds:
            data = bits[pos]
        else:
            data = np.asarray(f.data[pos], dtype=np.float32)
            data[np.searchsorted(pos, self.side_pos)] = self.side_val
        csum = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])
        indptr = csum[np.asarray(f.indptr)].astype(f.indices.dtype)
        m = sp.csr_matrix((data, np.asarray(f.indices[pos]), indptr), shape=f.shape, copy=False)
        m.has_sorted_indices = True
        return m

    def bits_of(self, u: int, v: int) -> int:
        f = self.fused
        a, b = int(f.indptr[u]), int(f.indptr[u + 1])
        i = a + int(np.searchsorted(f.indices[a:b], v))
        return self.codes.at(i) & 0xFF if i < b and f.indices[i] == v else 0

    def arrays(self) -> list[np.ndarray]:
        return [self.codes.packed, self.codes.palette, self.side_pos, self.side_val]


def entry_codes(fused: sp.csr_matrix, inter: sp.csr_matrix, kinds: sp.csr_matrix, made_to=None):
    """Per entry of `fused`: its code (the kind bits of the interaction tie there, MADE where `made_to`, a
    0/1 matrix inside the pattern, has the tie), the side table (positions among fused's entries, the
    interaction weights there) and whether `made_to` was folded in; None when `inter` is not inside `fused`.
    The same rows of a graph give the same codes whether the matrices are whole or those rows only."""
    pos = _positions(fused, inter)
    if pos is None:
        return None
    bits = np.zeros(fused.nnz, dtype=np.uint16)
    kb = np.asarray(kinds.data, dtype=np.uint8)
    bits[pos] = kb
    val = np.asarray(inter.data, dtype=fused.dtype)
    odd = (kb == 0) | (np.asarray(fused.data)[pos] != val)  # not recoverable from the fused weight alone
    side_pos, side_val = pos[odd].astype(np.int64), val[odd].astype(np.float32)
    del pos, kb, val, odd
    made = False
    if made_to is not None and made_to.has_sorted_indices and made_to.shape == fused.shape \
            and bool(np.all(np.asarray(made_to.data) == 1)):
        mpos = _positions(fused, made_to)
        if mpos is not None:
            bits[mpos] |= MADE
            made = True
    return bits, side_pos, side_val, made


def _positions(fused: sp.csr_matrix, inter: sp.csr_matrix) -> np.ndarray | None:
    """Where each entry of `inter` sits among `fused`'s entries (both sorted by row, then column), or None
    when one is missing. Row blocks of about BLOCK entries, so the keys never cover the whole graph at once."""
    n = fused.shape[1]
    out = np.empty(inter.nnz, dtype=np.int64)
    rows = fused.shape[0]
    r0 = 0
    while r0 < rows:
        r1 = min(rows, int(np.searchsorted(fused.indptr, fused.indptr[r0] + BLOCK, side="right")))
        r1 = max(r1, r0 + 1)
        fa, fb = int(fused.indptr[r0]), int(fused.indptr[r1])
        qa, qb = int(inter.indptr[r0]), int(inter.indptr[r1])
        if qb > qa:
            frow = np.repeat(np.arange(r1 - r0, dtype=np.int64), np.diff(np.asarray(fused.indptr[r0:r1 + 1])))
            fkey = frow * n + np.asarray(fused.indices[fa:fb], dtype=np.int64)
            qrow = np.repeat(np.arange(r1 - r0, dtype=np.int64), np.diff(np.asarray(inter.indptr[r0:r1 + 1])))
            qkey = qrow * n + np.asarray(inter.indices[qa:qb], dtype=np.int64)
            j = np.searchsorted(fkey, qkey)
            if len(fkey) == 0 or j.max() >= len(fkey) or not np.array_equal(fkey[j], qkey):
                return None
            out[qa:qb] = j + fa
        r0 = r1
    return out


class MadeTo:
    """The graph's ``made_to`` (row u holds who made a tie toward u, 0/1) read from the MADE bit of the fused
    entries' codes instead of a matrix of its own: its indptr and indices are the fused matrix's (a fused
    entry whose bit is clear reads 0), so ``expand.made_back`` searches it as it searches a matrix; a row
    slice or the whole matrix (for a refresh) is built with only the made ties."""

    has_sorted_indices = True
    has_canonical_format = True

    def __init__(self, inter: FusedInteraction):
        self.inter = inter
        self.indptr, self.indices, self.shape = inter.fused.indptr, inter.fused.indices, inter.fused.shape
        self.data = _MadeBits(inter.codes)

    @property
    def nnz(self) -> int:
        return int(np.count_nonzero(self.inter.codes.full() & MADE))

    def __getitem__(self, nodes):
        """Rows `nodes` (an index array), all columns, only the made ties (uint8 ones)."""
        nodes = np.atleast_1d(np.asarray(nodes, dtype=np.int64))
        f = self.inter.fused
        starts = np.asarray(f.indptr[nodes], dtype=np.int64)
        lens = np.asarray(f.indptr[nodes + 1], dtype=np.int64) - starts
        pos = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens) + np.arange(int(lens.sum()))
        keep = (self.inter.codes[pos] & MADE) != 0
        row = np.repeat(np.arange(len(nodes)), lens)[keep]
        indptr = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=len(nodes)))]).astype(f.indices.dtype)
        data, idx = np.ones(int(keep.sum()), dtype=np.uint8), np.asarray(f.indices[pos[keep]])
        if isinstance(f, light.CSR):
            return light.CSR(data, idx, indptr, (len(nodes), f.shape[1]))
        m = sp.csr_matrix((data, idx, indptr), shape=(len(nodes), f.shape[1]), copy=False)
        m.has_sorted_indices = True
        return m

    def matrix(self) -> sp.csr_matrix:
        """The whole made_to matrix in memory (uint8 ones): for a refresh, not per expansion."""
        f = self.inter.fused
        keep = (self.inter.codes.full() & MADE) != 0
        pos = np.flatnonzero(keep)
        csum = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])
        indptr = csum[np.asarray(f.indptr)].astype(f.indices.dtype)
        m = sp.csr_matrix((np.ones(len(pos), dtype=np.uint8), np.asarray(f.indices[pos]), indptr), shape=f.shape,
                          copy=False)
        m.has_sorted_indices = True
        return m

    def tocsr(self) -> sp.csr_matrix:
        return self.matrix()

    def tocoo(self):
        return self.matrix().tocoo()


class _MadeBits:
    """``MadeTo.data``: the MADE bit of the fused entries at the positions asked for, as 0/1."""

    def __init__(self, codes: Codes):
        self.codes = codes

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, pos):
        return ((self.codes[pos] & MADE) != 0).astype(np.uint8)


class Layers(Mapping):
    """The layers by name: the group layers as matrices, the interaction layer read from the fused matrix
    (built whole on access: use :meth:`rows` on a hot path)."""

    def __init__(self, groups: dict[str, sp.csr_matrix], inter: FusedInteraction, names: tuple[str, ...]):
        self.groups, self.inter, self.names = groups, inter, names

    def __getitem__(self, name: str) -> sp.csr_matrix:
        if name == "interaction":
            return self.inter.matrix()
        return self.groups[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def nnz(self, name: str) -> int:
        return self.inter.nnz if name == "interaction" else self.groups[name].nnz

    def rows(self, name: str, nodes) -> sp.csr_matrix:
        return self.inter.rows(nodes) if name == "interaction" else self.groups[name][nodes]


class CompactGraph(Graph):
    """A Graph whose interaction layer and kinds live in the fused matrix (see the module doc)."""

    inter: FusedInteraction

    @property
    def kinds(self) -> sp.csr_matrix:  # the whole kinds matrix, rebuilt: edge_kinds reads one entry instead
        return self.inter.matrix(kinds=True)

    @kinds.setter
    def kinds(self, value) -> None:  # Graph's constructor sets it; the bits are in self.inter
        pass

    def kind_bits(self, u: int, v: int) -> int:
        return self.inter.bits_of(u, v)

    def layer_rows(self, name: str, nodes) -> sp.csr_matrix:
        return self.layers.rows(name, nodes)

    def layer_nnz(self, name: str) -> int:
        return self.layers.nnz(name)

    def memory_bytes(self) -> int:
        """Bytes of the group layers, the kind bits and the side table (the fused matrix is Prepared's)."""
        seen: set[int] = set()
        total = 0
        for a in [*(x for m in self.layers.groups.values() for x in (m.data, m.indices, m.indptr)), *self.inter.arrays()]:
            key = a.__array_interface__["data"][0]
            if key not in seen:
                seen.add(key)
                total += a.nbytes
        return total


def compact(graph: Graph, fused: sp.csr_matrix) -> Graph:
    """`graph` with its interaction layer and kinds folded into `fused` (its full fused matrix), or
    `graph` itself when they do not fit (see FusedInteraction.of)."""
    inter = graph.layers.get("interaction")
    if inter is None:
        return graph
    fi = FusedInteraction.of(fused, inter, graph.kinds, graph.made_to)
    if fi is None:
        return graph
    g = compact_of(graph, {k: m for k, m in graph.layers.items() if k != "interaction"}, fi, tuple(graph.layers))
    if fi.has_made:
        g.made_to = MadeTo(fi)
    return g


def compact_of(graph: Graph, groups: dict[str, sp.csr_matrix], fi: FusedInteraction, names: tuple[str, ...]) -> CompactGraph:
    g = CompactGraph(ids=graph.ids, index=graph.index, layers=Layers(groups, fi, names), kinds=None,
                     group_keys=graph.group_keys, last_event_seq=graph.last_event_seq, made_to=graph.made_to,
                     declined=graph.declined, members=graph.members)
    g.inter = fi
    g.prepared.update(graph.prepared)
    return g



def induced(rows: sp.csr_matrix, nodes: np.ndarray) -> sp.csr_matrix:
    """The columns `nodes` of `rows` (the rows of the same nodes, all columns): the subgraph among them,
    by binary search of each entry's column in the sorted nodes (scipy's column indexing of a matrix this
    wide sorts and copies more than the call needs)."""
    if isinstance(rows, light.CSR):
        return light.induced(rows, nodes)
    nodes = np.asarray(nodes, dtype=np.int64)
    k = len(nodes)
    if k == 0 or rows.nnz == 0:
        return sp.csr_matrix((k, k), dtype=rows.dtype)
    order = np.argsort(nodes, kind="stable")
    sn = nodes[order]
    cols = np.asarray(rows.indices, dtype=np.int64)
    j = np.minimum(np.searchsorted(sn, cols), k - 1)
    hit = sn[j] == cols
    r = np.repeat(np.arange(k), np.diff(rows.indptr))[hit]
    return sp.csr_matrix((np.asarray(rows.data)[hit], (r, order[j[hit]])), shape=(k, k))
