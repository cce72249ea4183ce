"""The typed, weighted account graph: one symmetric sparse layer per kind of tie, built from the store.

Layers (all symmetric, CSR, float64, no self-loops):

- ``interaction``: follow, approved / pending follow request, reply, mention, repost, quote, like.
  Each directed tie adds its kind's weight (repeats are log-compressed); a mutual tie adds the
  smaller direction once more, so mutual ties weigh more than one-way ones.
- ``handle``: accounts showing the same off-platform handle (bio, name, posts, links).
- ``media``: accounts that posted media matching the same bank entry, or byte-identical media.
- ``hashtag``: accounts using the same rare hashtag, weighted by inverse frequency; common tags ignored.
- ``avatar``: accounts with the same avatar image (shared stock avatars ignored).

Group layers (handle, media, hashtag, avatar) are cliques over small groups, each member's total
weight from one group bounded, so a group of 60 weighs like one strong tie, not 59.

The store is the source of truth; :class:`Graph` is an in-memory compressed copy. ``Graph.add_edges``
and ``refresh`` fold new rows (events ingested since the build) in without a rebuild.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sqlalchemy import text

INTERACTION_WEIGHTS: dict[str, float] = {
    "follow": 1.0, "request": 1.0, "request_pending": 0.5, "reply": 1.0, "mention": 0.7,
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


@dataclass
class Graph:
    """Account ids, one CSR matrix per layer, and the kinds behind each interaction edge."""

    ids: list[str]
    index: dict[str, int]
    layers: dict[str, sp.csr_matrix]
    kinds: sp.csr_matrix  # same pattern as interaction; bit mask of KIND_BITS
    group_keys: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)  # evidence for group edges
    last_event_seq: int = 0

    @property
    def n(self) -> int:
        return len(self.ids)

    def fused(self, weights: dict[str, float] | None = None, layers: Iterable[str] | None = None) -> sp.csr_matrix:
        use = set(layers) if layers is not None else set(self.layers)
        w = weights or {}
        out = sp.csr_matrix((self.n, self.n))
        for name, m in self.layers.items():
            if name in use and m.nnz:
                out = out + m * float(w.get(name, 1.0))
        out.sort_indices()
        return out.tocsr()

    def edges(self) -> int:
        return int(sum(m.nnz for m in self.layers.values()) // 2)

    def edge_kinds(self, u: int, v: int) -> list[str]:
        """Names of the ties between u and v, strongest evidence first."""
        out = []
        bits = int(self.kinds[u, v]) if self.kinds.nnz else 0
        out += [k for k, b in KIND_BITS.items() if bits & b]
        for name in GROUP_LAYERS:
            m = self.layers.get(name)
            if m is not None and m.nnz and m[u, v] != 0:
                key = self.group_keys.get(name, {}).get((min(u, v), max(u, v)))
                out.append(f"{name}:{key}" if key else name)
        return out

    def memory_bytes(self) -> int:
        total = 0
        for m in [*self.layers.values(), self.kinds]:
            total += m.data.nbytes + m.indices.nbytes + m.indptr.nbytes
        return total

    # -- incremental updates -------------------------------------------------------------------
    def _ensure(self, account: str) -> int:
        i = self.index.get(account)
        if i is None:
            i = len(self.ids)
            self.ids.append(account)
            self.index[account] = i
        return i

    def add_edges(self, edges: Iterable[tuple[str, str, str]]) -> int:
        """Fold new interaction ties (src, dst, kind) in; new accounts get new rows. Returns ties added."""
        rows, cols, vals, bits = [], [], [], []
        for s, d, kind in edges:
            if s == d or kind not in INTERACTION_WEIGHTS:
                continue
            a, b = self._ensure(s), self._ensure(d)
            w = INTERACTION_WEIGHTS[kind]
            rows += [a, b]
            cols += [b, a]
            vals += [w, w]
            bits += [KIND_BITS[kind]] * 2
        n = self.n
        for name, m in list(self.layers.items()):
            if m.shape[0] < n:
                self.layers[name] = _resize(m, n)
        if self.kinds.shape[0] < n:
            self.kinds = _resize(self.kinds, n)
        if not rows:
            return 0
        delta = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
        self.layers["interaction"] = (self.layers["interaction"] + delta).tocsr()
        ra, ca, ba = np.array(rows), np.array(cols), np.array(bits)
        for bit in KIND_BITS.values():
            sel = ba == bit
            if sel.any():
                self.kinds = _or_bit(self.kinds, _pattern(ra[sel], ca[sel], n), bit)
        return len(rows) // 2

    def refresh(self, store) -> int:
        """Fold in follow, request, post and like events ingested since the build (by event seq)."""
        import orjson

        with store.engine.connect() as conn:
            rows = conn.execute(text("SELECT seq, kind, payload FROM events WHERE seq > :s AND kind IN "
                                     "('follow','follow_request','post','like') ORDER BY seq"),
                                {"s": self.last_event_seq}).fetchall()
            if not rows:
                return 0
            edges: list[tuple[str, str, str]] = []
            need_posts: list[tuple[str, str, str]] = []  # (src, post id, kind)
            for seq, kind, payload in rows:
                self.last_event_seq = max(self.last_event_seq, int(seq))
                ev = orjson.loads(payload)
                d = ev.get("data", ev)
                if kind == "follow":
                    edges.append((d["src"], d["dst"], "follow"))
                elif kind == "follow_request":
                    st = d.get("state")
                    if st in ("approved", "pending"):
                        edges.append((d["src"], d["dst"], "request" if st == "approved" else "request_pending"))
                elif kind == "like":
                    need_posts.append((d["account_id"], d["post_id"], "like"))
                elif kind == "post":
                    a = d["author_id"]
                    if d.get("reply_to_account"):
                        edges.append((a, d["reply_to_account"], "reply"))
                    elif d.get("reply_to"):
                        need_posts.append((a, d["reply_to"], "reply"))
                    for key in ("repost_of", "quote_of"):
                        if d.get(key):
                            need_posts.append((a, d[key], key.split("_")[0]))
                    for m in d.get("mentions") or ():
                        edges.append((a, m, "mention"))
            pids = sorted({p for _, p, _ in need_posts})
            authors: dict[str, str] = {}
            for i in range(0, len(pids), 500):
                chunk = pids[i:i + 500]
                q = text("SELECT id, author_id FROM posts WHERE id IN (" + ",".join(f":p{j}" for j in range(len(chunk))) + ")")
                authors.update(dict(conn.execute(q, {f"p{j}": p for j, p in enumerate(chunk)}).fetchall()))
            for s, p, kind in need_posts:
                if authors.get(p):
                    edges.append((s, authors[p], kind))
        return self.add_edges(edges)


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


INTERACTION_SQL = {
    "follow": "SELECT src, dst FROM follows WHERE state = 'active'",
    "request": "SELECT src, dst FROM follow_requests WHERE state = 'approved'",
    "request_pending": "SELECT src, dst FROM follow_requests WHERE state = 'pending'",
    "reply": "SELECT p.author_id, COALESCE(p.reply_to_account, q.author_id) FROM posts p "
             "LEFT JOIN posts q ON q.id = p.reply_to WHERE p.reply_to IS NOT NULL",
    "repost": "SELECT p.author_id, q.author_id FROM posts p JOIN posts q ON q.id = p.repost_of",
    "quote": "SELECT p.author_id, q.author_id FROM posts p JOIN posts q ON q.id = p.quote_of",
    "mention": "SELECT p.author_id, m.account_id FROM post_mentions m JOIN posts p ON p.id = m.post_id",
    "like": "SELECT l.account_id, p.author_id FROM likes l JOIN posts p ON p.id = l.post_id WHERE l.state = 'active'",
}

GROUP_SQL = {
    "handle": "SELECT DISTINCT account_id, platform || ':' || handle FROM contacts",
    "media": "SELECT DISTINCT account_id, 'entry:' || json_extract(detail, '$.bank') || '/' || "
             "json_extract(detail, '$.entry') FROM signals WHERE kind = 'media_match' AND subject_type = 'account'",
    "media_bytes": "SELECT DISTINCT p.author_id, 'sha256:' || m.sha256 FROM post_media pm "
                   "JOIN posts p ON p.id = pm.post_id JOIN media m ON m.id = pm.media_id WHERE m.sha256 IS NOT NULL",
    "hashtag": "SELECT DISTINCT p.author_id, h.tag FROM post_hashtags h JOIN posts p ON p.id = h.post_id",
    "avatar": "SELECT a.id, COALESCE(m.sha256, m.uri, a.avatar_media_id) FROM accounts a "
              "LEFT JOIN media m ON m.id = a.avatar_media_id WHERE a.avatar_media_id IS NOT NULL",
}
POSTGRES_MEDIA = ("SELECT DISTINCT account_id, 'entry:' || (detail::json->>'bank') || '/' || (detail::json->>'entry') "
                  "FROM signals WHERE kind = 'media_match' AND subject_type = 'account'")


def build_graph(store, on_step=None) -> Graph:
    """Read the store once and build every layer."""
    with store.engine.connect() as conn:
        ids = _Ids([r[0] for r in conn.execute(text("SELECT id FROM accounts ORDER BY id"))])
        seq = conn.execute(text("SELECT COALESCE(MAX(seq), 0) FROM events")).scalar() or 0
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        kbits: list[np.ndarray] = []
        for kind, q in INTERACTION_SQL.items():
            pairs = [(r[0], r[1]) for r in conn.execute(text(q)) if r[0] and r[1] and r[0] != r[1]]
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
        groups: dict[str, dict[str, list[int]]] = {}
        for name, q in GROUP_SQL.items():
            if name == "media" and store.dialect == "postgresql":
                q = POSTGRES_MEDIA
            layer = "media" if name == "media_bytes" else name
            g = groups.setdefault(layer, defaultdict(list))
            for a, key in conn.execute(text(q)):
                if a and key:
                    g[str(key)].append(ids.get(a))
            if on_step:
                on_step(name)
    n = len(ids.ids)
    if rows:
        r, c, v, kb = (np.concatenate(x) for x in (rows, cols, vals, kbits))
    else:
        r = c = kb = np.zeros(0, dtype=np.int64)
        v = np.zeros(0)
    interaction, kinds = _interaction(r, c, v, kb, n)
    layers = {"interaction": interaction}
    keys: dict[str, dict[tuple[int, int], str]] = {}
    for name in GROUP_LAYERS:
        layers[name], keys[name] = _group_layer(name, groups.get(name, {}), n)
    return Graph(ids=ids.ids, index=ids.index, layers=layers, kinds=kinds, group_keys=keys, last_event_seq=int(seq))


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
    W.setdiag(0)
    W.eliminate_zeros()
    K = sp.csr_matrix((n, n))
    for bit in KIND_BITS.values():
        sel = ukind == bit
        if sel.any():
            K = _or_bit(K, _pattern(src[sel], dst[sel], n), bit)
    W.sort_indices()
    K.sort_indices()
    return W, K


def _group_layer(name: str, groups: dict[str, list[int]], n: int) -> tuple[sp.csr_matrix, dict[tuple[int, int], str]]:
    if name == "hashtag":
        cap = max(HASHTAG_MIN_MAX, int(HASHTAG_MAX_FRACTION * n))
    else:
        cap = MAX_GROUP[name]
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    keys: dict[tuple[int, int], str] = {}
    for key, members in groups.items():
        ms = sorted(set(members))
        k = len(ms)
        if k < 2 or k > cap:
            continue
        w = GROUP_WEIGHT[name] / (k - 1)
        if name == "hashtag":
            w *= math.log(n / k) / math.log(n)  # inverse frequency
        arr = np.array(ms)
        a, b = np.meshgrid(arr, arr)
        mask = a != b
        rows.extend(a[mask].tolist())
        cols.extend(b[mask].tolist())
        vals.extend([w] * int(mask.sum()))
        if k <= 60:
            for i in range(k):
                for j in range(i + 1, k):
                    keys.setdefault((ms[i], ms[j]), key)
    m = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    m.sum_duplicates()
    m.sort_indices()
    return m, keys
