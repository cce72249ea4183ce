"""A stale snapshot brought up to date by rewriting only the rows the new events touched.

`Graph.refresh` folds new events into a graph with whole-matrix sparse arithmetic and re-reads every
group from the store when content arrived, and a snapshot then needs its fused matrix summed again
and its interaction layer folded into it again: at 10M accounts (51M edges) 1,000 new events cost a
minute or more, although they change a few thousand rows. Here each structure is rebuilt by copying
the untouched rows' spans as they are and putting the recomputed rows in their place:

- the interaction layer, its kinds and who made each tie, for the rows of the pairs the events touch,
  with the same replacement `Graph.refresh` applies to the whole layer (`build._replace` on the rows);
- each group layer, for the accounts the delta names (account events, authors of new and edited
  posts, the accounts of new signals): their groups are read from the store again and compared with
  the groups the snapshot stores (graph/members.py); only the entries the changed groups can move are
  evaluated again (`members.layer_rows`), and the pair keys of those groups (`members.pair_keys`);
- the fused rows summed from the new layer rows by the same `fused_of` (so each entry is summed
  exactly as in the whole matrix), and their degrees;
- the kind codes and the side table of the compact form over the new fused pattern, the declined
  requests' rows; new accounts get rows after the old ones (and their ids merged into the sorted ids).

What a delta leaves as it was (ids, a group layer, its keys, its groups) is the base's own object, and
the writer links its files from the version before (`shared_parts`). The result is the graph a rebuild
gives (tests/graph/test_graph_snapshot.py). None (the caller takes `Graph.refresh`) for a delta with a
removed signal, one that grows the graph past a step of `build.group_scale`, one that reweights a
group larger than `members.BIG_REWEIGHT`, or a base without its groups.
"""

from __future__ import annotations

import numpy as np

from ..store import layer_queries as lq
from . import build as _build
from . import layout
from . import members as _members
from .build import GROUP_LAYERS, LAYERS, Graph
from .csr import sp


def spliceable(base: Graph) -> bool:
    """A compact graph whose made_to is a bit of its codes (or absent): what a splice can rewrite."""
    return isinstance(base, layout.CompactGraph) and (base.made_to is None or isinstance(base.made_to, layout.MadeTo))


def shared_parts(g: Graph, base: Graph) -> set[str]:
    """The parts of `base` that `g` holds themselves (what a splice left as it was), so a version of `g`
    may link their files from `base`'s version instead of writing them: 'ids', 'layer:<name>',
    'keys:<name>', 'members:<name>'."""
    if not (isinstance(g, layout.CompactGraph) and isinstance(base, layout.CompactGraph)):
        return set()
    out = {"ids"} if g.ids is base.ids else set()
    for name, m in g.layers.groups.items():
        if base.layers.groups.get(name) is m:
            out.add(f"layer:{name}")
    for name, k in g.group_keys.items():
        if base.group_keys.get(name) is k:
            out.add(f"keys:{name}")
    for name, m in g.members.items():
        if base.members.get(name) is m:
            out.add(f"members:{name}")
    return out


class _Index:
    """The base's id index and the accounts a delta adds after its rows."""

    def __init__(self, base, new: dict[str, int]):
        self.base, self.new = base, new

    def get(self, a, default=None):
        i = self.base.get(a)
        return self.new.get(a, default) if i is None else i

    def __getitem__(self, a):
        i = self.get(a)
        if i is None:
            raise KeyError(a)
        return i


def refresh(store, base: Graph, base_mark=None, mark=None) -> Graph | None:
    """`base` (compact, at its last_event_seq and `base_mark`) with the events and signals since folded in,
    or None when the delta is not one a splice covers (removed signals, the graph grown past a step of
    build.group_scale, a large group reweighted, a base without its groups) or the result would not be
    compact."""
    if not spliceable(base):
        return None
    n0 = base.n
    new_ids: list[str] = []
    new_index: dict[str, int] = {}

    def ensure(account: str) -> None:
        if base.index.get(account) is None and account not in new_index:
            new_index[account] = n0 + len(new_ids)
            new_ids.append(account)

    signals = base_mark is not None and mark is not None and \
        (mark.signals, mark.signal_max) != (base_mark.signals, base_mark.signal_max)
    rows: dict[str, dict[int, set[str]]] = {}
    with store.engine.connect() as conn:
        d = _build.read_delta(conn, base.last_event_seq, ensure)
        named = set(d.accounts)
        if signals:
            count, about = lq.signal_accounts_after(conn, base_mark.signal_max)
            if mark.signals - base_mark.signals != count:  # a signal went: not something a splice can follow
                return None
            named |= about
        if named:
            if set(base.members) != set(GROUP_LAYERS):
                return None
            names = sorted(named)
            for q in lq.GROUP_SQL:
                layer = "media" if q == "media_bytes" else q
                got = rows.setdefault(layer, {})
                for a, key in lq.group_rows_of(conn, q, store.dialect, names):
                    if a and key:
                        ensure(a)
                        got.setdefault(new_index.get(a, base.index.get(a)), set()).add(str(key))
            for layer in GROUP_LAYERS:
                got = rows.setdefault(layer, {})
                for a in names:
                    i = base.index.get(a, new_index.get(a))
                    if i is not None:
                        got.setdefault(i, set())
    n = n0 + len(new_ids)
    seq = max(base.last_event_seq, d.hi)
    if not d.pairs and not named and n == n0:
        return _at(base, base.prepared, base.inter, base.declined, seq)
    if named and _build.group_scale(n) != _build.group_scale(n0):
        return None
    return _spliced(base, d, _Index(base.index, new_index), new_ids, n, rows)


def _rows(get, R: np.ndarray, n0: int, n: int, dtype=np.float32) -> sp.csr_matrix:
    """Rows R (sorted) of an n0-row matrix read by `get(rows)`, as len(R) x n: rows past n0 are empty."""
    inside = R[R < n0]
    if len(inside):
        part = get(inside)
        data, indices, indptr = np.asarray(part.data), np.asarray(part.indices), np.asarray(part.indptr)
    else:
        data, indices, indptr = np.zeros(0, dtype=dtype), np.zeros(0, dtype=np.int32), np.zeros(1, dtype=np.int32)
    indptr = np.concatenate([indptr, np.full(len(R) - len(inside), indptr[-1], dtype=indptr.dtype)])
    m = sp.csr_matrix((data, indices, indptr), shape=(len(R), n), copy=False)
    m.has_sorted_indices = True
    return m


def _grown(m: sp.csr_matrix, n: int) -> tuple[np.ndarray, ...]:
    """(indptr, indices, data) of `m` with empty rows added up to n."""
    return _members._grown(m.indptr, n), m.indices, m.data


def _spliced(base: layout.CompactGraph, d: _build.Delta, index: _Index, new_ids: list[str], n: int,
             rows_by_layer: dict[str, dict[int, set[str]]]) -> Graph | None:
    from .expand import LAYER_WEIGHTS
    from .snapshot import PairKeys, _canonical, _full_key

    n0 = base.n
    # the group layers: only the groups of the accounts the delta names, rewritten where they changed
    groups = dict(base.layers.groups)
    keys = dict(base.group_keys)
    members_now = dict(base.members)
    R_parts: list[np.ndarray] = []
    for name, got in rows_by_layer.items():
        old_m = base.members[name]
        ch = _members.changed(old_m, got, n)
        members_now[name] = ch.members
        if not len(ch.accounts):
            if n > n0:
                groups[name] = _grow_csr(groups[name], n)
            continue
        res = _members.layer_rows(name, groups[name], ch, n0, n)
        if res is None:
            return None
        R_L, new_rows = res
        layer = groups[name]
        new_rows = _canonical(new_rows, np.float32)
        indptr, indices, data = _grown(layer, n)
        ip, (ix, dx) = splice_rows(indptr, [indices, data], R_L, new_rows.indptr,
                                   [new_rows.indices.astype(indices.dtype, copy=False), new_rows.data])
        groups[name] = _csr(dx, ix, ip, n)
        R_parts.append(R_L)
        pk = PairKeys.from_dict(keys.get(name, {}))
        gid = _members.find_bytes(old_m, np.asarray(pk.names))[np.asarray(pk.val, dtype=np.int64)] \
            if len(pk.key) else np.zeros(0, dtype=np.int64)
        if len(gid) and gid.min() < 0:
            return None
        k2, g2 = _members.pair_keys(name, np.asarray(pk.key, dtype=np.int64), gid, ch, n, _build.KEYED_GROUP)
        keys[name] = PairKeys(k2, g2.astype(np.int32), ch.members.keys)
    for name in groups:
        if groups[name].shape[0] < n:
            groups[name] = _grow_csr(groups[name], n)
    dm = _build.delta_matrices(d, index, n) if d.pairs else None
    if dm is not None:
        R_parts.append(dm.rows)
    R = np.unique(np.concatenate(R_parts)) if R_parts else np.zeros(0, dtype=np.int64)
    fi = base.inter
    fused, deg = base.prepared[_full_key()]
    old_inter = _rows(fi.rows, R, n0, n)
    if dm is not None:
        mask = dm.mask[R]
        inter = _canonical(_build._replace(old_inter, mask, dm.weights[R]), np.float32)
        kinds = _canonical(_build._replace(_rows(lambda x: fi.rows(x, kinds=True), R, n0, n, np.uint8), mask,
                                           dm.kinds[R]), np.uint8)
    else:
        inter = _canonical(old_inter, np.float32)
        kinds = _canonical(_rows(lambda x: fi.rows(x, kinds=True), R, n0, n, np.uint8), np.uint8)
    if not (np.array_equal(kinds.indptr, inter.indptr) and np.array_equal(kinds.indices, inter.indices)):
        return None
    made = None
    if base.made_to is not None:
        made = _rows(lambda x: base.made_to[x], R, n0, n, np.uint8)
        if dm is not None:
            made = _build._replace(made, mask, dm.made_to[R])
        made = _canonical(made, np.uint8)
    rows = {name: groups[name][R] for name in groups}
    rows["interaction"] = inter
    frows = _build.fused_of(rows, LAYERS, LAYER_WEIGHTS, n, rows=len(R))
    # the compact form's codes for the new rows: kind bits where an interaction tie is, MADE where one was made
    got = layout.entry_codes(frows, inter, kinds, made)
    if got is None or (made is not None and made.nnz and not got[3]):
        return None
    bits, side_local, side_vals, _ = got
    f_indptr, f_indices, f_data = _grown(fused, n)
    new_indptr, (indices, data, codes) = splice_rows(
        f_indptr, [f_indices, f_data, fi.codes.full()], R, frows.indptr,
        [frows.indices.astype(fused.indices.dtype, copy=False), frows.data, bits])
    new_fused = _csr(data, indices, new_indptr, n)
    new_deg = np.zeros(n, dtype=np.float64)
    new_deg[:n0] = deg
    new_deg[R] = _build.degrees(frows)
    # the side table: entries of untouched rows moved by the rows' change of length, then the new rows' own
    old_indptr = np.asarray(f_indptr, dtype=np.int64)
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
    if declined is not None and (dm is not None or n > n0):
        drows = _rows(lambda x: declined[x], R, n0, n, np.uint8)
        if dm is not None:
            drows = _build._replace(drows, mask, dm.declined[R])
        drows = _canonical(drows, np.uint8)
        d_indptr, d_indices, d_data = _grown(declined, n)
        dp, (di, dd) = splice_rows(d_indptr, [d_indices, d_data], R, drows.indptr,
                                   [drows.indices.astype(declined.indices.dtype, copy=False), drows.data])
        declined = _csr(dd, di, dp, n)
    ids, idx = _ids_with(base, new_ids)
    return _at(base, {_full_key(): (new_fused, new_deg)}, new_fi, declined, max(base.last_event_seq, d.hi),
               groups=groups, keys=keys, members=members_now, ids=ids, index=idx)


def _csr(data, indices, indptr, n: int) -> sp.csr_matrix:
    m = sp.csr_matrix((data, indices, indptr), shape=(n, n), copy=False)
    m.has_sorted_indices = True
    return m


def _grow_csr(m: sp.csr_matrix, n: int) -> sp.csr_matrix:
    indptr, indices, data = _grown(m, n)
    return _csr(data, indices, indptr, n)


def _ids_with(base: Graph, new_ids: list[str]):
    """The base's ids and index with `new_ids` added after its rows (the base's own objects when none)."""
    from .snapshot import SnapshotIds, SnapshotIndex, _encode

    if not new_ids:
        return base.ids, base.index
    if not isinstance(base.ids, SnapshotIds) or not isinstance(base.index, SnapshotIndex):
        ids = [*base.ids, *new_ids]
        return ids, {a: i for i, a in enumerate(ids)}
    enc = _encode(new_ids)
    s_old = np.asarray(base.ids._s)
    width = max(s_old.dtype.itemsize, enc.dtype.itemsize)
    s_old, enc = s_old.astype(f"S{width}"), enc.astype(f"S{width}")
    n0 = len(s_old)
    o = np.argsort(enc, kind="stable")
    at = np.searchsorted(s_old, enc[o])
    it = np.int32 if n0 + len(enc) < 2**31 else np.int64
    s = np.insert(s_old, at, enc[o])
    pos = np.insert(np.asarray(base.index._pos, dtype=it), at, (n0 + o).astype(it))
    rank = np.empty(len(s), dtype=it)
    rank[pos] = np.arange(len(s), dtype=it)
    return SnapshotIds(s, rank), SnapshotIndex(s, pos)


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
    # the untouched spans (before R[0], between R's rows, after the last) and the sub-matrix's rows, interleaved:
    # one concatenate per array (at the cost of a plain copy; a per-span loop cost 1 s more at 100M entries)
    R = np.asarray(R, dtype=np.int64)
    starts = indptr[np.concatenate([[0], R + 1])].tolist()
    ends = indptr[np.concatenate([R, [len(indptr) - 1]])].tolist()
    sub_indptr = np.asarray(sub_indptr, dtype=np.int64)
    sa, sb = sub_indptr[:-1].tolist(), sub_indptr[1:].tolist()
    outs = []
    for src, sub in zip(arrays, subs, strict=True):
        pieces: list = [None] * (2 * len(R) + 1)
        pieces[0::2] = [src[x:y] for x, y in zip(starts, ends, strict=True)]
        pieces[1::2] = [sub[x:y] for x, y in zip(sa, sb, strict=True)]
        outs.append(np.concatenate(pieces).astype(src.dtype, copy=False) if pieces else np.zeros(0, dtype=src.dtype))
    return new_indptr.astype(it), outs


def _at(base: layout.CompactGraph, prepared: dict, fi: layout.FusedInteraction, declined, seq: int,
        groups=None, keys=None, members=None, ids=None, index=None) -> Graph:
    g = layout.compact_of(Graph(ids=base.ids if ids is None else ids, index=base.index if index is None else index,
                                layers={}, kinds=None, group_keys=base.group_keys if keys is None else keys,
                                last_event_seq=seq, declined=declined,
                                members=base.members if members is None else members),
                          base.layers.groups if groups is None else groups, fi, base.layers.names)
    if base.made_to is not None:
        g.made_to = layout.MadeTo(fi)
    g.prepared.update(prepared)
    return g
