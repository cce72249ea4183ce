"""The typed, weighted account graph: one symmetric sparse layer per kind of tie, built from the store.

Layers (all symmetric, CSR, float64, no self-loops):

- ``interaction``: follow, approved follow request, reply, mention, repost, quote, like.
  Each directed tie adds its kind's weight (repeats are log-compressed); a mutual tie adds the
  smaller direction once more, so mutual ties weigh more than one-way ones.

Beside the layers, ``Graph.declined``: the follow requests a protected account has not approved
(pending or rejected, no follow standing for them). They are no tie (the account did not let the
requester in); the ranking counts them against the requester (graph/expand.py, ``DECLINED_PENALTY``).
- ``handle``: accounts showing the same off-platform handle (bio, name, posts, links).
- ``media``: accounts that posted media matching the same bank entry, or byte-identical media.
- ``hashtag``: accounts using the same rare hashtag, weighted by inverse frequency; common tags ignored.
- ``avatar``: accounts with the same avatar image (shared stock avatars ignored).

Group layers (handle, media, hashtag, avatar) are cliques over small groups, each member's total
weight from one group bounded, so a group of 60 weighs like one strong tie, not 59.

The store is the source of truth; :class:`Graph` is an in-memory compressed copy. ``Graph.refresh``
folds the events ingested since the build in without a rebuild and gives the same graph a rebuild
would: the account pairs those events touch are recomputed from the store (unfollows and unlikes
remove ties), and the group layers are re-read.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..model import GRAPH_KINDS
from ..store import graph_queries
from ..store import layer_queries as lq
from .csr import sp

INTERACTION_WEIGHTS: dict[str, float] = {
    "follow": 1.0, "request": 1.0, "reply": 1.0, "mention": 0.7,
    "repost": 0.8, "quote": 0.8, "like": 0.5,
}
KIND_BITS: dict[str, int] = {k: 1 << i for i, k in enumerate(INTERACTION_WEIGHTS)}
GROUP_LAYERS = ("handle", "media", "hashtag", "avatar")
LAYERS = ("interaction", *GROUP_LAYERS)
# Total weight one group gives each member, per layer (an interaction tie weighs 1-3).
GROUP_WEIGHT = {"handle": 3.0, "media": 2.0, "hashtag": 1.0, "avatar": 3.0}
MAX_GROUP = {"handle": 300, "media": 500, "avatar": 5}  # larger groups carry no information
HASHTAG_MAX_FRACTION = 0.002  # tags used by more than this fraction of accounts are ignored
HASHTAG_MIN_MAX = 50
KEYED_GROUP = 60  # pairs of groups up to this size keep the group key behind their edge (explanations)


@dataclass
class Graph:
    """Account ids, one CSR matrix per layer, and the kinds behind each interaction edge."""

    ids: list[str]
    index: dict[str, int]
    layers: dict[str, sp.csr_matrix]
    kinds: sp.csr_matrix  # same pattern as interaction; bit mask of KIND_BITS
    group_keys: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)  # evidence for group edges
    last_event_seq: int = 0
    # (layer names, weights) -> (fused matrix, weighted degrees), filled by Prepared; cleared on refresh
    prepared: dict = field(default_factory=dict, repr=False, compare=False)
    # who made each interaction tie: row u, column v set when v followed, liked, replied to, ... u
    # (the direction the symmetric layer loses; the ranking tells ties an account made from ties it only received)
    made_to: sp.csr_matrix | None = None
    # follow requests a protected account has not approved: row u (the protected account), column v (the
    # requester) set for a pending or rejected request v -> u with no active follow (not a tie; see expand.py)
    declined: sp.csr_matrix | None = None
    # group layer -> its groups (graph/members.py): what lets a snapshot take in new content group by group
    members: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n(self) -> int:
        return len(self.ids)

    def fused(self, weights: dict[str, float] | None = None, layers: Iterable[str] | None = None) -> sp.csr_matrix:
        use = set(layers) if layers is not None else set(self.layers)
        return fused_of(self.layers, use, weights or {}, self.n)

    def edges(self) -> int:
        return int(sum(self.layer_nnz(name) for name in self.layers) // 2)

    def layer_nnz(self, name: str) -> int:
        return self.layers[name].nnz

    def layer_rows(self, name: str, nodes) -> sp.csr_matrix:
        """Rows `nodes` of one layer (all columns): what the explanations read, not the whole layer."""
        return self.layers[name][nodes]

    def kind_bits(self, u: int, v: int) -> int:
        return int(_entry(self.kinds, u, v)) if self.kinds.nnz else 0

    def edge_kinds(self, u: int, v: int) -> list[str]:
        """Names of the ties between u and v, strongest evidence first."""
        out = []
        bits = self.kind_bits(u, v)
        out += [k for k, b in KIND_BITS.items() if bits & b]
        for name in GROUP_LAYERS:
            m = self.layers.get(name)
            if m is not None and m.nnz and _entry(m, u, v) != 0:
                key = self.group_keys.get(name, {}).get((min(u, v), max(u, v)))
                out.append(f"{name}:{key}" if key else name)
        return out

    def memory_bytes(self) -> int:
        """Bytes of the layers' and kinds' arrays (an array shared by two matrices counted once)."""
        seen: set[int] = set()
        total = 0
        for m in [*self.layers.values(), self.kinds]:
            for a in (m.data, m.indices, m.indptr):
                key = a.__array_interface__["data"][0]  # the buffer, not the view
                if key not in seen:
                    seen.add(key)
                    total += a.nbytes
        return total

    # -- incremental updates -------------------------------------------------------------------
    def _ensure(self, account: str) -> int:
        i = self.index.get(account)
        if i is None:
            i = len(self.ids)
            self.ids.append(account)
            self.index[account] = i
        return i

    def refresh(self, store, groups: bool | None = None) -> int:
        """Fold in the events ingested since the build (by event ``seq``), exactly as a rebuild would.

        Every pair of accounts a new event can change (follow, unfollow, follow request, like,
        unlike, post, edit; a post also re-reads the likes, replies, reposts and quotes that arrived
        before it) has its interaction weight and kinds recomputed from the store; new accounts get
        new rows. The group layers (handle, media, hashtag, avatar) depend on whole groups and are
        re-read from the store when ``groups`` is true, or by default when account, post or edit
        events or new accounts arrived (follows and likes between known accounts cannot change
        them). Returns the number of pairs recomputed.
        """
        self.prepared.clear()
        with store.engine.connect() as conn:
            n_before = self.n
            d = read_delta(conn, self.last_event_seq, self._ensure)
            pairs = d.pairs
            if groups is None:  # new accounts change the hashtag layer's inverse frequencies too
                groups = self.n != n_before or d.content
            if groups:
                group_rows = _read_groups(conn, store.dialect, self._ensure)
            self.last_event_seq = max(self.last_event_seq, d.hi)
        n = self.n
        for name, m in list(self.layers.items()):
            if m.shape[0] < n:
                self.layers[name] = _resize(m, n)
        if self.kinds.shape[0] < n:
            self.kinds = _resize(self.kinds, n)
        if self.made_to is not None and self.made_to.shape[0] < n:
            self.made_to = _resize(self.made_to, n)
        if self.declined is not None and self.declined.shape[0] < n:
            self.declined = _resize(self.declined, n)
        if pairs:
            dm = delta_matrices(d, self.index, n)
            self.layers["interaction"] = _replace(self.layers["interaction"], dm.mask, dm.weights)
            self.kinds = _replace(self.kinds, dm.mask, dm.kinds)
            if self.made_to is not None:
                self.made_to = _replace(self.made_to, dm.mask, dm.made_to)
            if self.declined is not None:
                self.declined = _replace(self.declined, dm.mask, dm.declined)
        if groups:
            from .members import of_groups

            for name in GROUP_LAYERS:
                self.layers[name], self.group_keys[name] = _group_layer(name, group_rows.get(name, {}), n)
                self.members[name] = of_groups(group_rows.get(name, {}), n)
        return len(pairs)


@dataclass
class Delta:
    """What the events after a graph's position change: the account pairs whose interaction ties are
    recomputed (each pair once, smaller id first), every directed tie between them (src, dst, kind),
    the declined follow requests among them, the newest event seq read, whether account, post or
    edit events arrived (they can change the group layers), and the accounts they name (the accounts
    of account events, the authors of posts and edited posts: whose groups may have changed)."""

    hi: int
    pairs: set[tuple[str, str]]
    directed: list[tuple[str, str, str]]
    declined: list[tuple[str, str]]
    content: bool
    accounts: set[str] = field(default_factory=set)


def read_delta(conn, since: int, ensure) -> Delta:
    """The Delta of the events after seq `since`, read with the build's own queries; `ensure(account)` is
    called for every account the delta names (new accounts first, in event order), so a caller can add
    rows for them or notice them."""
    # read up to the newest event of any kind, and record that position even when none of the
    # events since changes the graph (sessions, account states): else every call would refresh again
    hi = graph_queries.last_event_seq(conn)
    rows = lq.events_since(conn, since, hi, GRAPH_KINDS)
    pairs, posts, new_accounts, edited, named = _touched(rows)
    for a in new_accounts:
        ensure(a)
    authors = _authors(conn, sorted({p for _, p in posts} | edited))
    named |= {authors[p] for p in edited if authors.get(p)}
    for a, p in posts:
        if a is not None and authors.get(p):
            pairs.add((a, authors[p]))
    pairs |= _inbound(conn, sorted({p for a, p in posts if a is None}), authors)
    pairs = {(a, b) if a < b else (b, a) for a, b in pairs if a and b and a != b}
    for a, b in pairs:
        ensure(a)
        ensure(b)
    touched = sorted({x for pr in pairs for x in pr})
    directed = _out_ties(conn, touched, pairs)
    declined_rows = [(a, b) for a, b in lq.declined_pairs(conn, touched)
                     if a and b and a != b and ((a, b) if a < b else (b, a)) in pairs]
    content = any(r[1] in ("account", "post", "post_edit") for r in rows)
    return Delta(hi, pairs, directed, declined_rows, content, named)


@dataclass
class DeltaMatrices:
    """A Delta as n x n matrices: `mask` (1 at both (a, b) and (b, a) of every recomputed pair), and the
    interaction weights, kinds, made_to and declined entries those pairs now hold."""

    mask: sp.csr_matrix
    weights: sp.csr_matrix
    kinds: sp.csr_matrix
    made_to: sp.csr_matrix
    declined: sp.csr_matrix
    rows: np.ndarray  # the accounts of the pairs (sorted rows): the only rows the delta changes


def delta_matrices(d: Delta, index, n: int) -> DeltaMatrices:
    r = np.array([index[a] for a, _, _ in d.directed], dtype=np.int64)
    c = np.array([index[b] for _, b, _ in d.directed], dtype=np.int64)
    v = np.array([INTERACTION_WEIGHTS[k] for _, _, k in d.directed], dtype=np.float64)
    kb = np.array([KIND_BITS[k] for _, _, k in d.directed], dtype=np.int64)
    W_sub, K_sub = _interaction(r, c, v, kb, n)
    pr = np.array([(index[a], index[b]) for a, b in d.pairs], dtype=np.int64).reshape(-1, 2)
    dr = np.array([index[a] for a, _ in d.declined], dtype=np.int64)
    dc = np.array([index[b] for _, b in d.declined], dtype=np.int64)
    return DeltaMatrices(_pattern(pr[:, 0], pr[:, 1], n), W_sub, K_sub, made_to(r, c, n), declined_of(dr, dc, n),
                         np.unique(pr.ravel()))


def _entry(m: sp.csr_matrix, u: int, v: int):
    """m[u, v] by binary search in row u (scipy's scalar indexing costs ~0.3 ms a call: paths ask hundreds)."""
    if not m.has_sorted_indices:
        return m[u, v]
    a, b = int(m.indptr[u]), int(m.indptr[u + 1])
    i = a + int(np.searchsorted(m.indices[a:b], v))
    return m.data[i] if i < b and m.indices[i] == v else 0


def fused_of(layers: dict[str, sp.csr_matrix], names: Iterable[str], weights: dict[str, float], n: int,
             rows: int | None = None) -> sp.csr_matrix:
    """Sum of the named layers times their weights (default 1), in LAYERS order, summed in float64.
    Float32 with int32 indices (while they fit) when every summed layer is float32 (the stored form,
    graph.snapshot), else float64. With `rows`, the layers are that many rows of the graph (all n
    columns), e.g. the rows a refresh changed: each entry is summed exactly as in the whole matrix."""
    use = set(names)
    shape = (n if rows is None else rows, n)
    out = sp.csr_matrix(shape)
    f32 = True
    for name in LAYERS:
        m = layers.get(name)
        if name in use and m is not None and m.nnz:
            f32 = f32 and m.dtype == np.float32
            out = out + m.astype(np.float64) * float(weights.get(name, 1.0))
    out = out.tocsr()
    out.sort_indices()
    if not f32:
        return out
    it = np.int32 if out.nnz < 2**31 - 1 and n < 2**31 - 1 else np.int64
    f = sp.csr_matrix((out.data.astype(np.float32), out.indices.astype(it), out.indptr.astype(it)), shape=shape)
    f.has_sorted_indices = True
    return f


def degrees(m: sp.csr_matrix) -> np.ndarray:
    """Weighted degree per row, summed in float64."""
    rows = np.repeat(np.arange(m.shape[0], dtype=np.int32 if m.shape[0] < 2**31 else np.int64), np.diff(m.indptr))
    return np.bincount(rows, weights=np.asarray(m.data, dtype=np.float64), minlength=m.shape[0])


def _touched(rows) -> tuple[set[tuple[str, str]], list[tuple[str | None, str]], list[str], set[str], set[str]]:
    """From new event rows: the account pairs they touch, (account, post) pairs whose post author is
    needed (account None for a new post: its inbound ties are re-read), new account ids, the posts
    edited, and the accounts of account events and authors of new posts."""
    import orjson

    pairs: set[tuple[str, str]] = set()
    posts: list[tuple[str | None, str]] = []
    accounts: list[str] = []
    edited: set[str] = set()
    named: set[str] = set()
    for _, kind, payload in rows:
        ev = orjson.loads(payload)
        d = ev.get("data", ev)
        if kind == "account":
            accounts.append(d["id"])
            named.add(d["id"])
        elif kind in ("follow", "unfollow", "follow_request"):
            pairs.add((d["src"], d["dst"]))
        elif kind in ("like", "unlike"):
            posts.append((d["account_id"], d["post_id"]))
        elif kind == "post":
            a = d["author_id"]
            named.add(a)
            if d.get("reply_to_account"):
                pairs.add((a, d["reply_to_account"]))
            for key in ("reply_to", "repost_of", "quote_of"):
                if d.get(key):
                    posts.append((a, d[key]))
            for m in d.get("mentions") or ():
                pairs.add((a, m))
            posts.append((None, d["id"]))
        elif kind == "post_edit":
            edited.add(d["id"])
            for m in d.get("mentions") or ():
                posts.append((m, d["id"]))
    return pairs, posts, accounts, edited, named


def _authors(conn, post_ids: list[str]) -> dict[str, str]:
    return {p: a for p, a in lq.rows_in(conn, lq.AUTHORS_SQL, post_ids)}


def _inbound(conn, post_ids: list[str], authors: dict[str, str]) -> set[tuple[str, str]]:
    """Pairs (other account, author) for likes, replies, reposts and quotes of these posts (they may
    have been ingested before the post itself)."""
    out: set[tuple[str, str]] = set()
    for q in lq.INBOUND_SQL:
        for a, p in lq.rows_in(conn, q, post_ids):
            if authors.get(p):
                out.add((a, authors[p]))
    return out


def ties_among(conn, accounts: Iterable[str], keep=None) -> list[tuple[str, str, str]]:
    """Every directed interaction tie (src, dst, kind) whose both ends are in `accounts`, read with
    the build's own queries (so the network view and the graph agree on what a tie is); `keep(a, b)`
    narrows further."""
    ids = sorted(set(accounts))
    inside = set(ids)
    out = []
    for kind in lq.INTERACTION_SQL:
        for a, b in lq.ties_from(conn, kind, ids):
            if a and b and a != b and b in inside and (keep is None or keep(a, b)):
                out.append((a, b, kind))
    return out


def _out_ties(conn, accounts: list[str], pairs: set[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """Every directed tie (src, dst, kind) between the accounts of `pairs`, read with the build's queries."""
    return ties_among(conn, accounts, lambda a, b: ((a, b) if a < b else (b, a)) in pairs)


def _replace(m: sp.csr_matrix, mask: sp.csr_matrix, new: sp.csr_matrix) -> sp.csr_matrix:
    """`m` with the entries under `mask` replaced by those of `new` (absent in `new`: removed)."""
    out = (m - m.multiply(mask) + new.multiply(mask)).tocsr()
    out.eliminate_zeros()
    out.sort_indices()
    return out


def _pattern(r: np.ndarray, c: np.ndarray, n: int) -> sp.csr_matrix:
    """Symmetric 0/1 matrix with ones at (r, c) and (c, r)."""
    m = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, n))
    m = m + m.T
    m.data[:] = 1.0
    return m.tocsr()


def _or_bit(K: sp.csr_matrix, B: sp.csr_matrix, bit: int) -> sp.csr_matrix:
    """K | (bit where B is set), on float-coded bit masks."""
    has = K.copy().tocsr()
    if has.nnz:
        has.data = ((has.data.astype(np.int64) & bit) > 0).astype(np.float64)
        has.eliminate_zeros()
    add = (B - B.multiply(has)) * float(bit)
    out = (K + add).tocsr()
    out.eliminate_zeros()
    out.sort_indices()
    return out


def _resize(m: sp.csr_matrix, n: int) -> sp.csr_matrix:
    m = m.tocsr()
    indptr = np.concatenate([m.indptr, np.full(n - m.shape[0], m.indptr[-1], dtype=m.indptr.dtype)])
    return sp.csr_matrix((m.data, m.indices, indptr), shape=(n, n))


class _Ids:
    def __init__(self, ids: list[str]):
        self.ids = ids
        self.index = {a: i for i, a in enumerate(ids)}

    def get(self, a: str) -> int:
        i = self.index.get(a)
        if i is None:
            i = len(self.ids)
            self.ids.append(a)
            self.index[a] = i
        return i


def build_graph(store, on_step=None) -> Graph:
    """Read the store once and build every layer."""
    with store.engine.connect() as conn:
        ids = _Ids(lq.account_ids(conn))
        seq = graph_queries.last_event_seq(conn)
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        kbits: list[np.ndarray] = []
        for kind in lq.INTERACTION_SQL:
            pairs = [(r[0], r[1]) for r in lq.interaction_pairs(conn, kind) if r[0] and r[1] and r[0] != r[1]]
            if on_step:
                on_step(kind)
            if not pairs:
                continue
            s = np.fromiter((ids.get(a) for a, _ in pairs), dtype=np.int64, count=len(pairs))
            d = np.fromiter((ids.get(b) for _, b in pairs), dtype=np.int64, count=len(pairs))
            rows.append(s)
            cols.append(d)
            vals.append(np.full(len(s), INTERACTION_WEIGHTS[kind]))
            kbits.append(np.full(len(s), KIND_BITS[kind], dtype=np.int64))
        dec = [(ids.get(a), ids.get(b)) for a, b in lq.declined_pairs(conn) if a and b and a != b]
        groups = _read_groups(conn, store.dialect, ids.get, on_step)
    n = len(ids.ids)
    if rows:
        r, c, v, kb = (np.concatenate(x) for x in (rows, cols, vals, kbits))
    else:
        r = c = kb = np.zeros(0, dtype=np.int64)
        v = np.zeros(0)
    interaction, kinds = _interaction(r, c, v, kb, n)
    layers = {"interaction": interaction}
    keys: dict[str, dict[tuple[int, int], str]] = {}
    from .members import of_groups

    members = {}
    for name in GROUP_LAYERS:
        layers[name], keys[name] = _group_layer(name, groups.get(name, {}), n)
        members[name] = of_groups(groups.get(name, {}), n)
    return Graph(ids=ids.ids, index=ids.index, layers=layers, kinds=kinds, group_keys=keys, last_event_seq=int(seq),
                 made_to=made_to(r, c, n),
                 declined=declined_of(np.array([a for a, _ in dec], dtype=np.int64),
                                      np.array([b for _, b in dec], dtype=np.int64), n), members=members)


def made_to(src: np.ndarray, dst: np.ndarray, n: int) -> sp.csr_matrix:
    """0/1 matrix with (dst, src) set for every directed tie src -> dst: row u holds who made a tie toward u."""
    m = sp.csr_matrix((np.ones(len(src), dtype=np.float32), (dst, src)), shape=(n, n))
    m.sum_duplicates()
    m.data[:] = 1.0
    m.sort_indices()
    return m


def declined_of(src: np.ndarray, dst: np.ndarray, n: int) -> sp.csr_matrix:
    """0/1 matrix with (dst, src) set for every declined request src -> dst (row u: who u has not let in)."""
    m = sp.csr_matrix((np.ones(len(src), dtype=np.float32), (dst, src)), shape=(n, n))
    m.sum_duplicates()
    m.data[:] = 1.0
    m.sort_indices()
    return m


def _read_groups(conn, dialect: str, index, on_step=None) -> dict[str, dict[str, list[int]]]:
    """Layer -> group key -> member indices (`index(account id)` gives, or makes, an account's row)."""
    groups: dict[str, dict[str, list[int]]] = {}
    for name in lq.GROUP_SQL:
        layer = "media" if name == "media_bytes" else name
        g = groups.setdefault(layer, defaultdict(list))
        for a, key in lq.group_rows(conn, name, dialect):
            if a and key:
                g[str(key)].append(index(a))
        if on_step:
            on_step(name)
    return groups


def _interaction(r, c, v, kb, n) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    # Directed weight per (src, dst): sum of kind weights, repeats of a kind log-compressed.
    key = r * n + c
    # collapse repeats of the same (src, dst, kind) first
    k3 = np.stack([key, kb])
    uniq, counts = np.unique(k3, axis=1, return_counts=True)
    ukey, ukind = uniq
    w_kind = np.array([INTERACTION_WEIGHTS[k] for k in KIND_BITS])
    bit_index = {b: i for i, b in enumerate(KIND_BITS.values())}
    wk = w_kind[np.array([bit_index[int(b)] for b in ukind], dtype=np.int64)] if len(ukind) else np.zeros(0)
    w = wk * (1.0 + np.log(counts))
    src, dst = ukey // n, ukey % n
    D = sp.csr_matrix((w, (src, dst)), shape=(n, n))
    D.sum_duplicates()
    DT = D.T.tocsr()
    W = (D + DT + D.minimum(DT)).tocsr()
    _drop_diagonal(W)
    K = sp.csr_matrix((n, n))
    for bit in KIND_BITS.values():
        sel = ukind == bit
        if sel.any():
            K = _or_bit(K, _pattern(src[sel], dst[sel], n), bit)
    W.sort_indices()
    K.sort_indices()
    return W, K


def group_scale(n: int) -> float:
    """The account count the hashtag weights and cap use: n rounded down to a step of 2^(1/8) (9%), so
    a new account changes no group weight until the graph grows past the next step (graph/splice.py
    keeps a stale snapshot's group layers and rewrites only the groups that changed)."""
    if n < 2:
        return 1.0
    return 2.0 ** (math.floor(8 * math.log2(n) + 1e-9) / 8)


def group_size(k: int) -> float:
    """The member count a group's weight uses: k up to 32, above that k rounded down to a step of
    2^(1/16) (4%), so one member more or less changes a large group's weight only when it crosses a
    step (the total weight it gives a member stays within 4.4% of GROUP_WEIGHT)."""
    if k <= 32:
        return float(k)
    return max(32.0, 2.0 ** (math.floor(16 * math.log2(k) + 1e-9) / 16))


def group_cap(name: str, n: int) -> int:
    """The largest group of a layer that carries information (larger ones give no edges)."""
    if name == "hashtag":
        return max(HASHTAG_MIN_MAX, int(HASHTAG_MAX_FRACTION * group_scale(n)))
    return MAX_GROUP[name]


def group_weight(name: str, k: int, n: int) -> float:
    """The weight a group of k distinct accounts gives each pair of its members (0 when it carries none):
    GROUP_WEIGHT / (k' - 1) with k' = group_size(k), times ln(n' / k') / ln(n') for hashtags (inverse
    frequency, n' = group_scale(n))."""
    if k < 2 or k > group_cap(name, n):
        return 0.0
    kq = group_size(k)
    w = GROUP_WEIGHT[name] / (kq - 1)
    if name == "hashtag":
        s = group_scale(n)
        w *= max(0.0, math.log(s / kq) / math.log(s)) if s > 1 else 0.0
    return w


def _drop_diagonal(m: sp.csr_matrix) -> None:
    """Remove m's diagonal entries in place (scipy's setdiag(0) costs a pass over all n rows' structure:
    a second a call at 10M accounts, for a delta of a few thousand ties)."""
    rows = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))
    m.data[m.indices == rows] = 0
    m.eliminate_zeros()


def _group_layer(name: str, groups: dict[str, list[int]], n: int) -> tuple[sp.csr_matrix, dict[tuple[int, int], str]]:
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    best: dict[tuple[int, int], tuple[int, str]] = {}
    for key, members in groups.items():
        ms = sorted(set(members))
        k = len(ms)
        w = group_weight(name, k, n)
        if w <= 0:
            continue
        arr = np.array(ms)
        a, b = np.meshgrid(arr, arr)
        mask = a != b
        rows.extend(a[mask].tolist())
        cols.extend(b[mask].tolist())
        vals.extend([w] * int(mask.sum()))
        if k <= KEYED_GROUP:  # the evidence named for a pair: the smallest group it shares, then the first key
            for i in range(k):
                for j in range(i + 1, k):
                    p = (ms[i], ms[j])
                    if p not in best or (k, key) < best[p]:
                        best[p] = (k, key)
    keys = {p: key for p, (_, key) in best.items()}
    m = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    m.sum_duplicates()
    m.sort_indices()
    return m, keys
