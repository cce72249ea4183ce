"""A compressed-sparse-row matrix over plain NumPy arrays, for the cold expand path.

Importing scipy.sparse costs a fresh process 0.25-0.3 s of CPU and ~21 MiB (its array-API layer walks every
NumPy submodule), more than a cold `netwarden expand` spends on the graph. An expansion from a current
snapshot reads only a few hundred rows of the mapped matrices, so `snapshot.open_current(light=True)` wraps
the mapped arrays in :class:`CSR` instead, and the steps an expansion runs on them (row slices, the
product with a vector, the candidates' subgraph, its re-weighting, row sums, the upper triangle Leiden
reads) are done here with the same floating-point operations in the same order as scipy does them, so
the ranking, paths, core and communities are bit for bit the same (tests/graph/test_graph_light.py checks
each against scipy and whole expansions against the scipy graph). Everything else (builds, refreshes,
sweeps, layers chosen with --layer) keeps scipy matrices: ``to_scipy()`` gives one over the same arrays.

``sp`` is scipy.sparse, imported on first use, for the modules of graph/ that use it off this path.
"""

from __future__ import annotations

import numpy as np


class _LazySparse:
    """`scipy.sparse`, imported when an attribute is first read."""

    def __getattr__(self, name: str):
        import scipy.sparse

        return getattr(scipy.sparse, name)


sp = _LazySparse()


class CSR:
    """Rows `indptr`, sorted columns `indices` and values `data` (canonical: no duplicates), shape (rows, cols)."""

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]):
        self.data, self.indices, self.indptr = data, indices, indptr
        self.shape = (int(shape[0]), int(shape[1]))
        self.has_sorted_indices = True
        self.has_canonical_format = True

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1]) if len(self.indptr) else 0

    @property
    def dtype(self):
        return self.data.dtype

    def _rows_of_entries(self) -> np.ndarray:
        return np.repeat(np.arange(self.shape[0]), np.diff(np.asarray(self.indptr)))

    def __getitem__(self, nodes) -> CSR:
        """Rows `nodes` (an index array), all columns, in that order (scipy's `m[nodes]`)."""
        nodes = np.atleast_1d(np.asarray(nodes, dtype=np.int64))
        starts = np.asarray(self.indptr[nodes], dtype=np.int64)
        lens = np.asarray(self.indptr[nodes + 1], dtype=np.int64) - starts
        pos = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens) + np.arange(int(lens.sum()))
        indptr = np.concatenate([[0], np.cumsum(lens)]).astype(self.indptr.dtype)
        return CSR(np.asarray(self.data[pos]), np.asarray(self.indices[pos]), indptr, (len(nodes), self.shape[1]))

    def __matmul__(self, x: np.ndarray) -> np.ndarray:
        """The product with a dense vector, in float64: each row summed in column order, as scipy's csr_matvec."""
        x = np.asarray(x)
        if x.ndim != 1:
            return NotImplemented
        w = np.asarray(self.data, dtype=np.float64) * x[np.asarray(self.indices)]
        return np.bincount(self._rows_of_entries(), weights=w, minlength=self.shape[0])

    def tocsr(self) -> CSR:
        return self

    def sum(self, axis: int) -> np.ndarray:
        """Row sums (axis 1), as scipy's `sum(axis=1)` computes them (np.add.reduceat over the non-empty rows)."""
        if axis != 1:
            raise ValueError("only row sums")
        ptr = np.asarray(self.indptr)
        out = np.zeros(self.shape[0], dtype=self.data.dtype if self.data.dtype.kind == "f" else np.float64)
        major = np.flatnonzero(np.diff(ptr))
        if len(major):
            out[major] = np.add.reduceat(np.asarray(self.data), ptr[major])
        return out

    def upper(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, cols, values) of the entries above the diagonal, in row order (scipy's `triu(m, 1).tocoo()`)."""
        r = self._rows_of_entries()
        keep = r < np.asarray(self.indices)
        return r[keep], np.asarray(self.indices)[keep], np.asarray(self.data)[keep]

    def to_scipy(self):
        m = sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape, copy=False)
        m.has_sorted_indices = True
        return m


def induced(rows: CSR, nodes: np.ndarray) -> CSR:
    """The columns `nodes` of `rows` (the rows of the same nodes): the subgraph among them, entries sorted by
    row, then column (what layout.induced builds with scipy)."""
    nodes = np.asarray(nodes, dtype=np.int64)
    k = len(nodes)
    if k == 0 or rows.nnz == 0:
        return CSR(np.zeros(0, dtype=rows.dtype), np.zeros(0, dtype=np.int32), np.zeros(k + 1, dtype=np.int32), (k, k))
    order = np.argsort(nodes, kind="stable")
    sn = nodes[order]
    cols = np.asarray(rows.indices, dtype=np.int64)
    j = np.minimum(np.searchsorted(sn, cols), k - 1)
    hit = sn[j] == cols
    r = np.repeat(np.arange(k), np.diff(np.asarray(rows.indptr)))[hit]
    c = order[j[hit]]
    data = np.asarray(rows.data)[hit]
    o = np.lexsort((c, r))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=k))]).astype(np.int32)
    return CSR(data[o], c[o].astype(np.int32), indptr, (k, k))


def scaled(sub: CSR, s: np.ndarray) -> CSR:
    """diag(s) @ sub @ diag(s) in float64, zeros dropped (what scipy's two products give, value for value)."""
    r = sub._rows_of_entries()
    idx = np.asarray(sub.indices)
    val = (s[r] * np.asarray(sub.data, dtype=np.float64)) * s[idx]
    keep = val != 0
    indptr = np.concatenate([[0], np.cumsum(np.bincount(r[keep], minlength=sub.shape[0]))]).astype(np.int32)
    return CSR(val[keep], idx[keep], indptr, sub.shape)
