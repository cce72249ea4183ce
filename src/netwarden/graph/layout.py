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


class FusedInteraction:
    """The interaction layer and its kind bits over the fused matrix's pattern."""

    def __init__(self, fused: sp.csr_matrix, bits: np.ndarray, side_pos: np.ndarray, side_val: np.ndarray, nnz: int):
        self.fused, self.bits, self.side_pos, self.side_val, self.nnz = fused, bits, side_pos, side_val, int(nnz)

    @classmethod
    def of(cls, fused: sp.csr_matrix, inter: sp.csr_matrix, kinds: sp.csr_matrix) -> FusedInteraction | None:
        """From the separate layer and kinds (same sorted pattern); None when the interaction pattern is not
        inside the fused one or the kinds have another pattern (the graph is then kept as it is)."""
        if fused.shape != inter.shape or not (fused.has_sorted_indices and inter.has_sorted_indices):
            return None
        if not (np.array_equal(kinds.indptr, inter.indptr) and np.array_equal(kinds.indices, inter.indices)):
            return None
        pos = _positions(fused, inter)
        if pos is None:
            return None
        bits = np.zeros(fused.nnz, dtype=np.uint8)
        kb = np.asarray(kinds.data, dtype=np.uint8)
        bits[pos] = kb
        val = np.asarray(inter.data, dtype=fused.dtype)
        odd = (kb == 0) | (np.asarray(fused.data)[pos] != val)  # not recoverable from the fused weight alone
        return cls(fused, bits, pos[odd].astype(np.int64), val[odd].astype(np.float32), inter.nnz)

    def _entries(self, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Positions of the interaction entries among the fused entries [starts, ends) per row; values; row counts."""
        lens = (ends - starts).astype(np.int64)
        pos = np.repeat(starts.astype(np.int64) - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens) \
            + np.arange(int(lens.sum()), dtype=np.int64)
        keep = self.bits[pos] != 0
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
        data = self.bits[pos] if kinds else vals
        if isinstance(f, light.CSR):  # a snapshot mapped for one expansion (graph/csr.py)
            return light.CSR(data, np.asarray(f.indices[pos]), indptr, (len(nodes), f.shape[1]))
        m = sp.csr_matrix((data, np.asarray(f.indices[pos]), indptr), shape=(len(nodes), f.shape[1]), copy=False)
        m.has_sorted_indices = True
        return m

    def matrix(self, kinds: bool = False) -> sp.csr_matrix:
        """The whole layer (or its kinds), rebuilt in memory: for a refresh or a sweep, not per expansion."""
        f = self.fused
        keep = self.bits != 0
        keep[self.side_pos] = True
        pos = np.flatnonzero(keep)
        if kinds:
            data = self.bits[pos]
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
        return int(self.bits[i]) if i < b and f.indices[i] == v else 0

    def arrays(self) -> list[np.ndarray]:
        return [self.bits, self.side_pos, self.side_val]


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
    fi = FusedInteraction.of(fused, inter, graph.kinds)
    if fi is None:
        return graph
    return compact_of(graph, {k: m for k, m in graph.layers.items() if k != "interaction"}, fi, tuple(graph.layers))


def compact_of(graph: Graph, groups: dict[str, sp.csr_matrix], fi: FusedInteraction, names: tuple[str, ...]) -> CompactGraph:
    g = CompactGraph(ids=graph.ids, index=graph.index, layers=Layers(groups, fi, names), kinds=None,
                     group_keys=graph.group_keys, last_event_seq=graph.last_event_seq, made_to=graph.made_to)
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
