"""Who is in which group of a group layer, kept beside the graph so a group can be rewritten alone.

A group layer (handle, media, hashtag, avatar: graph/build.py) is a sum of cliques, one per group key
(a contact, a bank entry or media hash, a hashtag, an avatar). Its entries cannot tell which groups
made them, so a snapshot that must take in a new post with a hashtag would have to read every group
from the store again (a minute at 10M accounts). :class:`Members` keeps the groups themselves: the key
of each group, and the account x group incidence both ways (CSR), written with the snapshot. With it
graph/splice.py takes in a delta by re-reading only the groups of the accounts the delta names
(:func:`changed`) and recomputing only the layer entries those changes can move (:func:`layer_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .build import group_weight
from .csr import sp

BIG_REWEIGHT = 4096  # a group this large whose weight changes makes the splice give way to a whole refresh
CHUNK = 1_000_000  # layer entries evaluated at a time


def _encode(keys: list[str], width: int = 1) -> np.ndarray:
    enc = [k.encode() for k in keys]
    return np.array(enc, dtype=f"S{max([len(b) for b in enc] + [width, 1])}")


@dataclass
class Members:
    """One group layer's groups: `keys[g]` (UTF-8, fixed width) and the incidence as `acc` (row: an
    account, columns: its groups, sorted) and `grp` (row: a group, columns: its members, sorted), 0/1
    patterns. `order` sorts `keys` (lookup by binary search)."""

    keys: np.ndarray
    order: np.ndarray
    acc_indptr: np.ndarray
    acc_indices: np.ndarray
    grp_indptr: np.ndarray
    grp_indices: np.ndarray

    @property
    def groups(self) -> int:
        return len(self.keys)

    @property
    def accounts(self) -> int:
        return len(self.acc_indptr) - 1

    def sizes(self) -> np.ndarray:
        return np.diff(np.asarray(self.grp_indptr)).astype(np.int64)

    def groups_of(self, i: int) -> np.ndarray:
        if i >= self.accounts:
            return np.zeros(0, dtype=np.int64)
        return np.asarray(self.acc_indices[int(self.acc_indptr[i]):int(self.acc_indptr[i + 1])], dtype=np.int64)

    def members_of(self, g: int) -> np.ndarray:
        return np.asarray(self.grp_indices[int(self.grp_indptr[g]):int(self.grp_indptr[g + 1])], dtype=np.int64)

    def find(self, keys: list[str]) -> np.ndarray:
        """Group ids of `keys` (-1 for a key with no group)."""
        return find_bytes(self, _encode(keys)) if keys else np.zeros(0, dtype=np.int64)

    def incidence(self, n: int | None = None) -> sp.csr_matrix:
        """accounts x groups, 0/1 (float64), `n` rows (default: the accounts it has)."""
        n = self.accounts if n is None else n
        indptr = _grown(np.asarray(self.acc_indptr, dtype=np.int64), n)
        return sp.csr_matrix((np.ones(len(self.acc_indices)), np.asarray(self.acc_indices), indptr),
                             shape=(n, self.groups))

    def arrays(self) -> dict[str, np.ndarray]:
        return {"keys": self.keys, "order": self.order, "acc_indptr": self.acc_indptr,
                "acc_indices": self.acc_indices, "grp_indptr": self.grp_indptr, "grp_indices": self.grp_indices}


def of_groups(groups: dict[str, list[int]], n: int) -> Members:
    """Members from the build's groups (key -> member rows, in the order the build met them)."""
    keys = list(groups)
    sizes, flat = [], []
    for key in keys:
        ms = np.unique(np.asarray(groups[key], dtype=np.int64))
        sizes.append(len(ms))
        flat.append(ms)
    return _from_grp(_encode(keys), np.asarray(sizes, dtype=np.int64),
                     np.concatenate(flat) if flat else np.zeros(0, dtype=np.int64), n)


def _idx(n: int):
    return np.int32 if n < 2**31 - 1 else np.int64


def _from_grp(keys: np.ndarray, sizes: np.ndarray, members: np.ndarray, n: int) -> Members:
    G = len(keys)
    grp_indptr = np.zeros(G + 1, dtype=np.int64)
    np.cumsum(sizes, out=grp_indptr[1:])
    gid = np.repeat(np.arange(G, dtype=np.int64), sizes)
    order = np.lexsort((gid, members))  # by account, then group
    acc_indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(members, minlength=n)[:n], out=acc_indptr[1:])
    it = _idx(max(n, G, len(members)))
    return Members(keys, np.argsort(keys, kind="stable").astype(it), acc_indptr.astype(it), gid[order].astype(it),
                   grp_indptr.astype(it), members.astype(it))


@dataclass
class Change:
    """What a delta does to one layer's groups: the Members after it, the accounts whose groups changed
    (sorted rows), and per group id (of the new Members) its size before (0 for a new group) and after."""

    members: Members
    accounts: np.ndarray
    size_before: np.ndarray
    size_after: np.ndarray
    was: dict[int, np.ndarray]  # the member rows before, of each group whose members changed


def changed(old: Members, rows: dict[int, set[str]], n: int) -> Change:
    """`old` with the groups of the accounts in `rows` (row -> every group key it has now, read from the
    store) replaced; `n` accounts after the delta (new accounts have rows past `old.accounts`)."""
    cand = sorted(rows)
    all_keys = sorted({k for ks in rows.values() for k in ks})
    gids = old.find(all_keys)
    new_keys = [k for k, g in zip(all_keys, gids, strict=True) if g < 0]
    G0 = old.groups
    gid_of = {k: int(g) for k, g in zip(all_keys, gids, strict=True) if g >= 0}
    gid_of.update({k: G0 + i for i, k in enumerate(new_keys)})
    G = G0 + len(new_keys)
    added: list[tuple[int, int]] = []  # (group, account)
    removed: list[tuple[int, int]] = []
    accounts = []
    for a in cand:
        before = set(old.groups_of(a).tolist())
        after = {gid_of[k] for k in rows[a]}
        if before != after:
            accounts.append(a)
            added += [(g, a) for g in after - before]
            removed += [(g, a) for g in before - after]
    size_before = np.concatenate([old.sizes(), np.zeros(len(new_keys), dtype=np.int64)])
    if not accounts:  # (a new key is a group some account joined: there is none either)
        m = old if n == old.accounts else Members(old.keys, old.order, _grown(old.acc_indptr, n), old.acc_indices,
                                                   old.grp_indptr, old.grp_indices)
        return Change(m, np.zeros(0, dtype=np.int64), size_before, size_before.copy(), {})
    # the groups' new member lists: the old lists with the removals dropped and the additions put in
    touched = sorted({g for g, _ in added} | {g for g, _ in removed})
    was = {g: old.members_of(g) if g < G0 else np.zeros(0, dtype=np.int64) for g in touched}
    lists = {g: set(was[g].tolist()) for g in touched}
    for g, a in removed:
        lists[g].discard(a)
    for g, a in added:
        lists[g].add(a)
    sizes = size_before.copy()
    for g in touched:
        sizes[g] = len(lists[g])
    from .splice import splice_rows

    it = _idx(max(n, G, int(sizes.sum())))
    # both directions of the incidence, with only the changed groups' and accounts' rows rewritten
    T = np.asarray(touched, dtype=np.int64)
    sub = [np.array(sorted(lists[g]), dtype=it) for g in touched]
    grp_indptr, (grp_indices,) = splice_rows(_grown(old.grp_indptr, G), [np.asarray(old.grp_indices, dtype=it)], T,
                                             _indptr_of(sub), [_cat(sub, it)])
    A = np.asarray(accounts, dtype=np.int64)
    sub = [np.array(sorted(gid_of[k] for k in rows[a]), dtype=it) for a in accounts]
    acc_indptr, (acc_indices,) = splice_rows(_grown(old.acc_indptr, n), [np.asarray(old.acc_indices, dtype=it)], A,
                                             _indptr_of(sub), [_cat(sub, it)])
    keys, order = old.keys, old.order
    if new_keys:  # appended as groups G0.., put in their sorted places in `order`
        width = max(old.keys.dtype.itemsize, *(len(k.encode()) for k in new_keys))
        enc = _encode(new_keys, width)
        keys = np.concatenate([old.keys.astype(f"S{width}"), enc])
        at = np.searchsorted(np.asarray(old.keys).astype(f"S{width}")[np.asarray(old.order)], enc)  # new_keys sorted
        order = np.insert(np.asarray(old.order, dtype=it), at, np.arange(G0, G, dtype=it))
    m = Members(keys, np.asarray(order, dtype=it), acc_indptr.astype(it), acc_indices.astype(it, copy=False),
                grp_indptr.astype(it), grp_indices.astype(it, copy=False))
    return Change(m, A, size_before, sizes, was)


def _grown(indptr: np.ndarray, rows: int) -> np.ndarray:
    """A row pointer with empty rows added up to `rows`."""
    indptr = np.asarray(indptr)
    if len(indptr) - 1 >= rows:
        return indptr
    return np.concatenate([indptr, np.full(rows + 1 - len(indptr), indptr[-1], dtype=indptr.dtype)])


def _indptr_of(parts: list[np.ndarray]) -> np.ndarray:
    out = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum([len(p) for p in parts], out=out[1:])
    return out


def _cat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)


def weights(name: str, sizes: np.ndarray, n: int) -> np.ndarray:
    """build.group_weight of each group size (evaluated once per distinct size)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    u, inv = np.unique(sizes, return_inverse=True)
    return np.array([group_weight(name, int(k), n) for k in u], dtype=np.float64)[inv] if len(u) else np.zeros(0)


def layer_rows(name: str, layer: sp.csr_matrix, ch: Change, n_before: int, n: int):
    """The rows of group layer `name` a change moves, recomputed: (rows, their new rows as a CSR, float64),
    or None when a group larger than BIG_REWEIGHT changes weight (a whole refresh is then cheaper).

    An entry (u, v) of the layer is the sum of group_weight over the groups u and v share. A change
    moves the entries of the accounts whose groups changed (their rows and, the layer being symmetric,
    their columns) and, where a group's weight changed (its size crossed a step of build.group_size,
    or the cap), every pair of its members before and after. Those entries are evaluated again from
    the new incidence; every other entry stays as it is."""
    w_old = weights(name, ch.size_before, n_before)
    w_new = weights(name, ch.size_after, n)
    reweighted = np.flatnonzero(w_old != w_new)
    big = np.maximum(ch.size_before[reweighted], ch.size_after[reweighted]) > BIG_REWEIGHT
    if big.any():
        return None
    m = ch.members
    inc = m.incidence(n)
    C = ch.accounts
    # entries to evaluate: rows C as they were and as they become, both directions, and the reweighted groups' pairs
    old_rows = _rows_of(layer, C, n_before, n)
    # the members of the groups with weight, group by group (the incidence's other direction, as stored)
    live = np.asarray(m.grp_indptr, dtype=np.int64)
    grp = sp.csr_matrix(((w_new > 0).astype(np.float64)[np.repeat(np.arange(m.groups), np.diff(live))],
                         np.asarray(m.grp_indices), live), shape=(m.groups, n))
    new_pat = (inc[C] @ grp).tocsr() if len(C) else sp.csr_matrix((0, n))
    pr, pc = [], []
    for part in (old_rows, new_pat):
        part = part.tocoo()
        pr.append(C[part.row])
        pc.append(part.col.astype(np.int64))
    for g in reweighted:
        ms = np.union1d(m.members_of(int(g)), ch.was.get(int(g), np.zeros(0, dtype=np.int64)))
        a, b = np.meshgrid(ms, ms)
        pr.append(a.ravel())
        pc.append(b.ravel())
    r = np.concatenate(pr) if pr else np.zeros(0, dtype=np.int64)
    c = np.concatenate(pc) if pc else np.zeros(0, dtype=np.int64)
    r, c = np.concatenate([r, c]), np.concatenate([c, r])
    keep = r != c
    key = np.unique(r[keep] * n + c[keep])
    r, c = key // n, key % n
    if not len(r):
        return np.zeros(0, dtype=np.int64), sp.csr_matrix((0, n))
    vals = np.empty(len(r))
    for lo in range(0, len(r), CHUNK):
        hi = min(len(r), lo + CHUNK)
        a = inc[r[lo:hi]]
        a.data = w_new[a.indices]
        vals[lo:hi] = np.asarray(a.multiply(inc[c[lo:hi]]).sum(axis=1)).ravel()
    R = np.unique(r)
    local = np.searchsorted(R, r)
    mask = sp.csr_matrix((np.ones(len(r)), (local, c)), shape=(len(R), n))
    new = sp.csr_matrix((vals, (local, c)), shape=(len(R), n))
    base = _rows_of(layer, R, n_before, n)
    out = (base - base.multiply(mask) + new).tocsr()
    out.eliminate_zeros()
    out.sort_indices()
    return R, out


def _rows_of(layer: sp.csr_matrix, R: np.ndarray, n_before: int, n: int) -> sp.csr_matrix:
    """Rows R of `layer` (n_before x n_before) as a len(R) x n float64 matrix; rows past it are empty."""
    inside = R[R < n_before]
    part = layer[inside].astype(np.float64) if len(inside) else sp.csr_matrix((0, n_before))
    part = sp.csr_matrix((part.data, part.indices, part.indptr), shape=(len(inside), n))
    if len(inside) == len(R):
        return part
    extra = len(R) - len(inside)
    indptr = np.concatenate([part.indptr, np.full(extra, part.indptr[-1])])
    return sp.csr_matrix((part.data, part.indices, indptr), shape=(len(R), n))


def find_bytes(m: Members, q: np.ndarray) -> np.ndarray:
    """Group ids of fixed-width byte keys `q` (-1 where none)."""
    if not len(m.keys) or not len(q):
        return np.full(len(q), -1, dtype=np.int64)
    width = max(m.keys.dtype.itemsize, q.dtype.itemsize)
    s = np.asarray(m.keys).astype(f"S{width}")[np.asarray(m.order)]
    q = np.asarray(q).astype(f"S{width}")
    j = np.minimum(np.searchsorted(s, q), len(s) - 1)
    return np.where(s[j] == q, np.asarray(m.order)[j], -1).astype(np.int64)


def pair_keys(name: str, key: np.ndarray, gid: np.ndarray, ch: Change, n: int, keyed: int):
    """The group key behind each group-layer edge after a change, as (pair codes u << 32 | v sorted, group
    ids): `key`, `gid` before (group ids of ch.members). A pair's key is the smallest group with weight
    that both are in, of at most `keyed` members, the first key among equals (as build._group_layer).
    The pairs recomputed: those with an account whose groups changed, and those inside a changed group."""
    m = ch.members
    C = ch.accounts
    touched = np.array(sorted(ch.was), dtype=np.int64)
    sizes = m.sizes()
    w = weights(name, sizes, n)
    is_keyed = (sizes <= keyed) & (w > 0)
    small = [g for g in touched if is_keyed[g] or 2 <= len(ch.was[g]) <= keyed]
    # the recomputed pairs
    rec = []
    for g in small:
        ms = np.union1d(m.members_of(g), ch.was[g])
        a, b = np.meshgrid(ms, ms)
        sel = a < b
        rec.append(a[sel] << 32 | b[sel])
    u, v = key >> 32, key & 0xFFFFFFFF
    drop = np.isin(u, C) | np.isin(v, C)
    rec_codes = np.unique(np.concatenate(rec)) if rec else np.zeros(0, dtype=np.int64)
    drop |= np.isin(key, rec_codes)
    # candidates: every keyed group of the changed accounts and of the changed groups' members
    who = np.union1d(C, np.concatenate([m.members_of(g) for g in small]) if small else np.zeros(0, dtype=np.int64))
    cand_pairs, cand_gid = [], []
    for a in who:
        for g in m.groups_of(int(a)):
            if not is_keyed[g]:
                continue
            ms = m.members_of(int(g))
            lo, hi = np.minimum(ms, a), np.maximum(ms, a)
            sel = lo != hi
            cand_pairs.append(lo[sel] << 32 | hi[sel])
            cand_gid.append(np.full(int(sel.sum()), g, dtype=np.int64))
    if cand_pairs:
        pc, pg = np.concatenate(cand_pairs), np.concatenate(cand_gid)
        cu, cv = pc >> 32, pc & 0xFFFFFFFF
        want = np.isin(cu, C) | np.isin(cv, C) | np.isin(pc, rec_codes)
        pc, pg = pc[want], pg[want]
        rank = np.empty(m.groups, dtype=np.int64)
        rank[np.asarray(m.order, dtype=np.int64)] = np.arange(m.groups)
        order = np.lexsort((rank[pg], sizes[pg], pc))  # per pair: the smallest group, then the first key
        pc, pg = pc[order], pg[order]
        first = np.concatenate([[True], pc[1:] != pc[:-1]]) if len(pc) else np.zeros(0, dtype=bool)
        pc, pg = pc[first], pg[first]
    else:
        pc = pg = np.zeros(0, dtype=np.int64)
    out_k = np.concatenate([key[~drop], pc])
    out_g = np.concatenate([gid[~drop], pg])
    order = np.argsort(out_k, kind="stable")
    return out_k[order], out_g[order]
