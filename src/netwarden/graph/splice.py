"""A stale snapshot brought up to date by rewriting only the rows the new events touched.

`Graph.refresh` folds new events into a graph with whole-matrix sparse arithmetic, and a snapshot
then needs its fused matrix summed again and its interaction layer folded into it again: at 10M
accounts (51M edges) 1,000 new follows cost a minute, although they change a few thousand rows.
When the events since a compact snapshot only change interaction ties between accounts it already
has (follows, unfollows, follow requests, likes, unlikes: no new account, no post or profile, no new
signal), each structure is rebuilt by copying the untouched rows' spans as they are and putting the
recomputed rows in their place:

- the interaction layer, its kinds and who made each tie, for those rows, with the same replacement
  `Graph.refresh` applies to the whole layer (`build._replace` on the rows alone);
- the fused rows summed from the new interaction rows and the unchanged group rows by the same
  `fused_of` (so each entry is summed exactly as in the whole matrix), and their degrees;
- the kind codes and the side table of the compact form over the new fused pattern, the declined
  requests' rows.

The group layers, their keys, the ids and the priors do not change (the writer links their files
from the version before instead of writing them again). The result equals a refresh followed by
`stored_form`, array for array (tests/graph/test_graph_splice.py); any other delta returns None and
takes the refresh.
"""

from __future__ import annotations

import numpy as np

from . import build as _build
from . import layout
from .build import LAYERS, Graph
from .csr import sp


def spliceable(base: Graph) -> bool:
    """A compact graph whose made_to is a bit of its codes (or absent): what a splice can rewrite."""
    return isinstance(base, layout.CompactGraph) and (base.made_to is None or isinstance(base.made_to, layout.MadeTo))


def shares_files(g: Graph, base: Graph) -> bool:
    """Whether `g` holds `base`'s ids, group layers and group keys themselves (what a splice leaves as
    they were), so a version of `g` may link those files from `base`'s version instead of writing them."""
    return isinstance(g, layout.CompactGraph) and isinstance(base, layout.CompactGraph) and g.ids is base.ids \
        and g.layers.groups is base.layers.groups and g.group_keys is base.group_keys


def refresh(store, base: Graph) -> Graph | None:
    """`base` (compact, at its last_event_seq) with the events since folded in, or None when the delta
    is not one a splice covers (new accounts, content events) or the result would not be compact."""
    if not spliceable(base):
        return None
    missing: list[str] = []

    def ensure(account: str) -> None:
        if base.index.get(account) is None:
            missing.append(account)

    with store.engine.connect() as conn:
        d = _build.read_delta(conn, base.last_event_seq, ensure)
    if missing or d.content:
        return None
    if not d.pairs:
        return _at(base, base.prepared, base.inter, base.declined, max(base.last_event_seq, d.hi))
    return _spliced(base, d)


def _spliced(base: layout.CompactGraph, d: _build.Delta) -> Graph | None:
    from .expand import LAYER_WEIGHTS
    from .snapshot import _canonical, _full_key

    n = base.n
    dm = _build.delta_matrices(d, base.index, n)
    R = dm.rows
    fi = base.inter
    fused, deg = base.prepared[_full_key()]
    mask = dm.mask[R]
    # the interaction rows as Graph.refresh replaces them, in the stored precision
    old_inter = fi.rows(R)
    inter = _canonical(_build._replace(old_inter, mask, dm.weights[R]), np.float32)
    kinds = _canonical(_build._replace(fi.rows(R, kinds=True), mask, dm.kinds[R]), np.uint8)
    if not (np.array_equal(kinds.indptr, inter.indptr) and np.array_equal(kinds.indices, inter.indices)):
        return None
    made = None
    if base.made_to is not None:
        made = _canonical(_build._replace(base.made_to[R], mask, dm.made_to[R]), np.uint8)
    rows = {name: base.layers.groups[name][R] for name in base.layers.groups}
    rows["interaction"] = inter
    frows = _build.fused_of(rows, LAYERS, LAYER_WEIGHTS, n, rows=len(R))
    # the compact form's codes for the new rows: kind bits where an interaction tie is, MADE where one was made
    got = layout.entry_codes(frows, inter, kinds, made)
    if got is None or (made is not None and not got[3]):
        return None
    bits, side_local, side_vals, _ = got
    new_indptr, (indices, data, codes) = splice_rows(
        fused.indptr, [fused.indices, fused.data, fi.codes.full()], R, frows.indptr,
        [frows.indices.astype(fused.indices.dtype, copy=False), frows.data, bits])
    new_fused = sp.csr_matrix((data, indices, new_indptr), shape=(n, n), copy=False)
    new_fused.has_sorted_indices = True
    new_deg = np.array(deg, dtype=np.float64)
    new_deg[R] = _build.degrees(frows)
    # the side table: entries of untouched rows moved by the rows' change of length, then the new rows' own
    old_indptr = np.asarray(fused.indptr, dtype=np.int64)
    sp_old = np.asarray(fi.side_pos, dtype=np.int64)
    row_of = np.searchsorted(old_indptr, sp_old, side="right") - 1
    keep = ~np.isin(row_of, R)
    shift = np.asarray(new_indptr, dtype=np.int64) - old_indptr
    new_rows_at = np.asarray(new_indptr, dtype=np.int64)[R]
    sub_indptr = np.asarray(frows.indptr, dtype=np.int64)
    local_row = np.searchsorted(sub_indptr, side_local, side="right") - 1
    side_new = new_rows_at[local_row] + (side_local - sub_indptr[local_row])
    side_pos = np.concatenate([sp_old[keep] + shift[row_of[keep]], side_new])
    side_val = np.concatenate([np.asarray(fi.side_val, dtype=np.float32)[keep], side_vals])
    order = np.argsort(side_pos, kind="stable")
    nnz = fi.nnz - old_inter.nnz + inter.nnz
    new_fi = layout.FusedInteraction(new_fused, layout.Codes.of(codes), side_pos[order], side_val[order], nnz)
    new_fi.has_made = base.made_to is not None
    declined = base.declined
    if declined is not None:
        drows = _canonical(_build._replace(declined[R], mask, dm.declined[R]), np.uint8)
        dp, (di, dd) = splice_rows(declined.indptr, [declined.indices, declined.data], R, drows.indptr,
                                   [drows.indices.astype(declined.indices.dtype, copy=False), drows.data])
        declined = sp.csr_matrix((dd, di, dp), shape=(n, n), copy=False)
        declined.has_sorted_indices = True
    return _at(base, {_full_key(): (new_fused, new_deg)}, new_fi, declined, max(base.last_event_seq, d.hi))


def splice_rows(indptr: np.ndarray, arrays: list[np.ndarray], R: np.ndarray, sub_indptr: np.ndarray,
                subs: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """A CSR's row pointer and per-entry arrays with rows R (sorted) replaced by the rows of a sub-matrix
    (its row pointer and arrays, one row per entry of R): the untouched spans are copied as they are."""
    indptr = np.asarray(indptr)
    lens = np.diff(indptr).astype(np.int64)
    lens[R] = np.diff(np.asarray(sub_indptr)).astype(np.int64)
    new_indptr = np.zeros(len(indptr), dtype=np.int64)
    np.cumsum(lens, out=new_indptr[1:])
    total = int(new_indptr[-1])
    it = indptr.dtype if total < np.iinfo(indptr.dtype).max else np.int64
    outs = [np.empty(total, dtype=a.dtype) for a in arrays]
    prev = 0  # first row of the untouched span before R[k]
    rs = [int(x) for x in R]
    sub_indptr = np.asarray(sub_indptr, dtype=np.int64)
    for k, r in enumerate([*rs, len(indptr) - 1]):
        a, b = int(indptr[prev]), int(indptr[r])
        if b > a:
            o = int(new_indptr[prev])
            for out, src in zip(outs, arrays, strict=True):
                out[o:o + b - a] = src[a:b]
        if k < len(rs):
            sa, sb = int(sub_indptr[k]), int(sub_indptr[k + 1])
            if sb > sa:
                o = int(new_indptr[r])
                for out, sub in zip(outs, subs, strict=True):
                    out[o:o + sb - sa] = sub[sa:sb]
            prev = r + 1
    return new_indptr.astype(it), outs


def _at(base: layout.CompactGraph, prepared: dict, fi: layout.FusedInteraction, declined, seq: int) -> Graph:
    g = layout.compact_of(Graph(ids=base.ids, index=base.index, layers={}, kinds=None, group_keys=base.group_keys,
                                last_event_seq=seq, declined=declined),
                          base.layers.groups, fi, base.layers.names)
    if base.made_to is not None:
        g.made_to = layout.MadeTo(fi)
    g.prepared.update(prepared)
    return g
