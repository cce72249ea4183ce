"""Seed expansion: from confirmed accounts to the ranked network around them, each with its reasons.

1. Fuse the layers into one weighted graph (``LAYER_WEIGHTS``; chosen on generated worlds, never
   per seed) so a walk can go seed -> interaction neighbour -> the clique sharing its Kik handle.
2. Personalized PageRank from the seeds by local push (:mod:`.push`): work is independent of
   the graph's size.
3. Hub damping: rank by ``p(v) / deg(v) ** HUB_DAMPING``. A celebrity followed by many members
   collects mass from all of them but spreads over a huge degree; members collect mass from
   many members with a small degree.
4. Signal priors: an account's own signals (every registered kind with a prior, netwarden.findings:
   media matches and classifier hits, URL-bank hits, term hits, off-platform routes) multiply its score by at most ``1 + PRIOR_GAIN``, so a flagged account ranks above an
   otherwise equal silent one without silent members being pushed out.
5. Each candidate gets its layer contributions (the share of its PPR mass that arrived over each
   layer), its shortest evidence path from a seed inside the candidate set, with the kinds of
   tie on each step, its own signals with reasons, and whether it is in the dense core.
"""

from __future__ import annotations

import heapq
import json
import math
import threading
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from .. import findings
from ..errors import UserError
from ..store import graph_queries as gq
from . import csr as light
from .build import LAYERS, Graph, degrees
from .csr import sp
from .layout import induced
from .push import ppr_push

LAYER_WEIGHTS = {"interaction": 1.0, "handle": 1.0, "media": 1.0, "hashtag": 1.0, "avatar": 1.0}
ALPHA = 0.1  # restart probability (chosen on generated worlds, see docs/graph.md)
EPS = 1e-6  # push threshold (residual per unit degree)
HUB_DAMPING = 0.5
COHESION_SET = 200  # accounts ranked highest by PPR that stage 2 measures ties into (see Prepared.rank)
PRIOR_GAIN = 0.25
# stage 2: a candidate making less than this share of its ties into S itself counts the ties it only
# received in proportion (chosen on one 12k hard world, docs/evaluation.md; 0.25-0.33 gave the same figures)
MADE_SHARE = 0.3
# and the mirror: a candidate receiving less than this share of its ties into S (no member follows, likes
# or answers it back) counts the ties it only made in proportion (chosen on hw50, docs/evaluation.md)
RECV_SHARE = 0.1
COHESION_ROUNDS = 2  # stage 2 run again with S re-taken from its own top COHESION_SET (see Prepared.rank)
# stage 2: tie weight taken off a candidate per follow request of its that an account of S (a protected
# account) has not approved, times that account's weight in S (Graph.declined; docs/evaluation.md: 0.5-1.5
# gave the same figures on the dev worlds)
DECLINED_PENALTY = 1.0


@dataclass
class Candidate:
    account_id: str
    score: float
    rank: int
    layers: dict[str, float] = field(default_factory=dict)  # layer -> share of the PPR mass it brought
    path: list[str] = field(default_factory=list)  # account ids, seed first
    path_edges: list[str] = field(default_factory=list)  # kinds of tie on each step ("follow+like")
    signals: list[dict] = field(default_factory=list)
    core: bool = False
    community: int | None = None

    def as_dict(self) -> dict:
        return {"account_id": self.account_id, "score": self.score, "rank": self.rank, "layers": self.layers,
                "path": self.path, "path_edges": self.path_edges, "signals": self.signals, "core": self.core,
                "community": self.community}


@dataclass
class Expansion:
    seeds: list[str]
    members: list[Candidate]
    layers: list[str]
    core_density: float = 0.0

    def as_dict(self) -> dict:
        return {"seeds": self.seeds, "layers": self.layers, "core_density": self.core_density,
                "members": [m.as_dict() for m in self.members]}


class Prepared:
    """A graph fused for one set of layers, with degrees and priors, ready for many expansions."""

    def __init__(self, graph: Graph, layers: set[str] | None = None, priors: np.ndarray | None = None,
                 weights: dict[str, float] | None = None, kernel_dir: str | None = None):
        self.graph = graph
        self.kernel_dir = kernel_dir  # the kernel_dir setting (graph.push.kernel_path), from Store.kernel_dir
        self.layer_names = [name for name in LAYERS if layers is None or name in layers]
        w = weights or LAYER_WEIGHTS
        self.weights = {name: float(w.get(name, 1.0)) for name in self.layer_names}
        # the fused matrix and degrees depend on the graph's version and the layers, never on the seeds:
        # made once per graph (a snapshot brings the full one with it), shared by every expansion
        key = (tuple(self.layer_names), tuple(self.weights[name] for name in self.layer_names))
        hit = graph.prepared.get(key)
        if hit is None:
            m = graph.fused(self.weights, self.layer_names)
            hit = graph.prepared[key] = (m, degrees(m))
        self.matrix, self.deg = hit
        self.indptr, self.indices, self.data = self.matrix.indptr, self.matrix.indices, self.matrix.data
        self.priors = priors if priors is not None else np.ones(graph.n)

    def ppr(self, seed_idx: list[int], alpha: float | None = None, eps: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        nodes, p, _ = ppr_push(self.indptr, self.indices, self.data, self.deg, np.array(seed_idx),
                               ALPHA if alpha is None else alpha, EPS if eps is None else eps,
                               kernel_dir=self.kernel_dir)
        keep = p > 0
        return nodes[keep], p[keep]

    def rank(self, seed_idx: list[int], top_k: int, use_priors: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Top-k node indices (seeds excluded) with scores; plus the cohesion set S and its weights.

        Stage 1: PPR by push from the seeds, ranked by ``p / deg ** HUB_DAMPING`` (times priors).
        Stage 2: S = the seeds and the ``COHESION_SET`` accounts stage 1 ranks highest, each weighted
        by its stage-1 score relative to the best non-seed (seeds 1); every account is scored by its
        weighted tie weight into S, ``sum_u x(u) w(u, v) / deg(v) ** HUB_DAMPING`` (times priors).
        Stage 1 alone keeps much of its mass next to the seed, so the seed's incidental contacts
        (low degree, one tie to the network) outrank members whose many ties all run through other
        members, above all silent ones; stage 2 asks each account how much of it points into the
        network PPR found, which a member answers with dozens of ties and a bystander with one.
        Stage 2 runs ``COHESION_ROUNDS`` times: each later round re-takes S from the previous round's
        top ``COHESION_SET`` (weighted by its score relative to the best), which holds more members and
        fewer of the seed's incidental contacts than stage 1's top set.
        """
        nodes, p = self.ppr(seed_idx)
        d = np.maximum(self.deg[nodes], 1e-12)
        stage1 = p / d ** HUB_DAMPING
        if use_priors:
            stage1 = stage1 * self.priors[nodes]
        order = np.argsort(-stage1, kind="stable")
        seeds = np.unique(np.asarray(seed_idx, dtype=np.int64))
        top1 = order[~np.isin(nodes[order], seeds)][:COHESION_SET]
        cap = float(stage1[top1[0]]) if len(top1) else 1.0
        # S weighted by stage-1 score (capped at the best non-seed, so the seed counts as one strong
        # member, not as the whole network); accounts far down stage 1 add little
        S = np.concatenate([seeds, nodes[top1]])
        sw = np.concatenate([np.ones(len(seeds)), np.minimum(stage1[top1], cap) / max(cap, 1e-300)])
        cand, score, s1 = self._cohesion(S, sw, nodes, stage1, seeds, use_priors)
        for _ in range(COHESION_ROUNDS - 1):
            best = np.lexsort((-s1, -score))[:COHESION_SET]
            cap = float(score[best[0]]) if len(best) else 1.0
            S = np.concatenate([seeds, cand[best]])
            sw = np.concatenate([np.ones(len(seeds)), np.minimum(score[best], cap) / max(cap, 1e-300)])
            cand, score, s1 = self._cohesion(S, sw, nodes, stage1, seeds, use_priors)
        # by cohesion; accounts with no tie into S (if any are needed) by their stage-1 score
        top = np.lexsort((-s1, -score))[:top_k]
        return cand[top], score[top], S, sw

    def _cohesion(self, S, sw, nodes, stage1, seeds, use_priors):
        """Stage 2: every account's tie weight into S (ties it only received discounted, _made_ties)."""
        starts, ends = self.indptr[S], self.indptr[S + 1]
        idx = np.concatenate([self.indices[a:b] for a, b in zip(starts, ends, strict=True)])
        wts = np.concatenate([self.data[a:b] * x for a, b, x in zip(starts, ends, sw, strict=True)])
        # candidates: every account touched by the push or tied to S
        cand, inv = np.unique(np.concatenate([nodes, idx]), return_inverse=True)
        tie = np.bincount(inv[len(nodes):], weights=wts, minlength=len(cand))
        s1 = np.zeros(len(cand))
        s1[inv[:len(nodes)]] = stage1
        tie = self._made_ties(S, sw, cand, tie)
        tie = self._declined(S, sw, cand, tie)
        score = tie / np.maximum(self.deg[cand], 1e-12) ** HUB_DAMPING
        if use_priors:
            score = score * self.priors[cand]
        keep = ~np.isin(cand, seeds)
        return cand[keep], score[keep], s1[keep]

    def _made_ties(self, S: np.ndarray, sw: np.ndarray, cand: np.ndarray, tie: np.ndarray) -> np.ndarray:
        """Stage 2's tie weight into S with the ties a candidate only received discounted when it made
        few of its own: ``made + received * min(1, made / (MADE_SHARE * (made + received)))``.

        Camouflage is what a network does to outsiders (follows, likes, replies to them); the outsiders
        do not answer. An account the network's members follow while it follows, likes or answers none of
        them is a camouflage target (an ordinary account in the community the network blends into, a
        celebrity), however many members chose it; a member makes ties to the network too. Ties over
        the group layers (shared contacts, media, tags, avatars) have no direction and count as made.
        The mirror (``RECV_SHARE``): a candidate that received under that share of its weighted ties into
        S (no account of S follows, likes or answers it back) counts the ties it only made in proportion:
        an ordinary account that follows a dozen members unknowingly made every one of those ties and got
        none back; a member with only two or three ties inside is followed by a member or two.
        Needs the graph's ``made_to`` (who made each interaction tie); without it the ties count as before."""
        made_to = self.graph.made_to
        if made_to is None or "interaction" not in self.layer_names:
            return tie
        inter = self.graph.layer_rows("interaction", S)  # rows S, sorted columns
        if isinstance(inter, light.CSR):
            return self._made_ties_light(S, sw, cand, tie, inter, made_to)
        made = made_to[S]  # made[i, v]: v made a tie toward S[i]
        recv = inter - inter.multiply(made > 0)  # interaction ties of S that the other end never made
        recv = recv.tocsr()
        recv.eliminate_zeros()
        got = self._into_cand(np.repeat(np.arange(len(S)), np.diff(recv.indptr)), recv.indices, recv.data, sw, cand)
        made_w = np.maximum(tie - got, 0.0)
        share = made_w / np.maximum(tie, 1e-300)
        out = made_w + got * np.minimum(1.0, share / MADE_SHARE)
        if RECV_SHARE <= 0:
            return out
        mine = inter.multiply(made > 0).tocsr()  # ties of S the other end made
        if mine.has_canonical_format and made_to.has_canonical_format:
            # ... and S's account never made back: made_to[v, u] looked up for each such tie (u in S, v the other
            # end), the entries of `mine - mine.multiply(made_to.T[S] > 0)` without transposing the whole of made_to
            rows = np.repeat(np.arange(len(S)), np.diff(mine.indptr))
            keep = ~made_back(made_to, mine.indices, S[rows]) & (mine.data != 0)
            rows, only_idx, only_data = rows[keep], np.asarray(mine.indices)[keep], np.asarray(mine.data)[keep]
        else:  # rows not sorted (a graph not in stored form): the transpose, as before
            only = mine - mine.multiply(made_to.T.tocsr()[S] > 0)
            only = sp.csr_matrix(only)
            only.eliminate_zeros()
            rows, only_idx, only_data = np.repeat(np.arange(len(S)), np.diff(only.indptr)), only.indices, only.data
        mo = self._into_cand(rows, only_idx, only_data, sw, cand)
        rshare = np.maximum(tie - mo, 0.0) / np.maximum(tie, 1e-300)
        return out - mo + mo * np.minimum(1.0, rshare / RECV_SHARE)

    def _declined(self, S: np.ndarray, sw: np.ndarray, cand: np.ndarray, tie: np.ndarray) -> np.ndarray:
        """Stage 2's tie weight less ``DECLINED_PENALTY`` per request of the candidate that an account u of S
        has left pending or rejected, times u's weight in S (never below 0).

        A protected member lets members in; an ordinary account that follows a few members without knowing
        what they are is often kept waiting or refused. The request is no tie (graph/build.py), and it is
        evidence against the requester: the network it asked into did not answer."""
        dec = self.graph.declined
        if dec is None or DECLINED_PENALTY <= 0 or "interaction" not in self.layer_names or not len(S):
            return tie
        ptr = np.asarray(dec.indptr)
        starts, ends = ptr[S], ptr[S + 1]
        if not int((ends - starts).sum()):
            return tie
        idx = np.concatenate([np.asarray(dec.indices[a:b]) for a, b in zip(starts, ends, strict=True)])
        rows = np.repeat(np.arange(len(S)), ends - starts)
        pen = self._into_cand(rows, idx, np.ones(len(idx)), sw, cand)
        return np.maximum(tie - DECLINED_PENALTY * pen, 0.0)

    def _into_cand(self, rows: np.ndarray, idx: np.ndarray, data: np.ndarray, sw: np.ndarray, cand: np.ndarray) -> np.ndarray:
        """Per candidate (sorted ``cand``), the interaction weight of the ties (row ``rows`` of S, other end
        ``idx``, weight ``data``) reaching it, each weighted by its S account's ``sw`` and the interaction
        layer's weight; ties whose other end is not in ``cand`` are dropped."""
        j = np.searchsorted(cand, idx)
        ok = (j < len(cand)) & (cand[np.minimum(j, len(cand) - 1)] == idx)
        w = np.asarray(data, dtype=np.float64)[ok] * sw[rows[ok]] * self.weights["interaction"]
        return np.bincount(j[ok], weights=w, minlength=len(cand))


    def _made_ties_light(self, S, sw, cand, tie, inter, made_to) -> np.ndarray:
        """_made_ties over a snapshot mapped without scipy (graph/csr.py): the same entries, values and order
        as the scipy expressions there, from masks over the rows of S (`inter - inter.multiply(made > 0)` is
        the ties whose other end never made them, `inter.multiply(made > 0)` the others, zeros dropped)."""
        rows = np.repeat(np.arange(len(S)), np.diff(np.asarray(inter.indptr)))
        idx, val = np.asarray(inter.indices), np.asarray(inter.data)
        made = made_back(made_to, S[rows], idx)  # made_to[S[i], v] > 0: v made a tie toward S[i]

        def into_cand(keep):
            return self._into_cand(rows[keep], idx[keep], val[keep], sw, cand)

        got = into_cand(~made & (val != 0))
        made_w = np.maximum(tie - got, 0.0)
        share = made_w / np.maximum(tie, 1e-300)
        out = made_w + got * np.minimum(1.0, share / MADE_SHARE)
        if RECV_SHARE <= 0:
            return out
        mine = made & (val != 0)
        mo = into_cand(mine & ~made_back(made_to, idx, S[rows]))  # ... and S's account never made back
        rshare = np.maximum(tie - mo, 0.0) / np.maximum(tie, 1e-300)
        return out - mo + mo * np.minimum(1.0, rshare / RECV_SHARE)


def made_back(made_to, v: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each pair, whether ``made_to[v, u] > 0`` (u made a tie toward v): a binary search of u in row v of
    made_to (sorted columns), all pairs at once; reads only those rows, not the whole matrix."""
    v = np.asarray(v, dtype=np.int64)
    u = np.asarray(u, dtype=np.int64)
    ptr, idx = made_to.indptr, made_to.indices
    lo = np.asarray(ptr[v], dtype=np.int64)
    end = np.asarray(ptr[v + 1], dtype=np.int64)
    hi = end.copy()
    live = lo < hi
    while live.any():
        mid = (lo + hi) // 2
        less = live & (np.asarray(idx[np.minimum(mid, len(idx) - 1)], dtype=np.int64) < u)
        lo = np.where(less, mid + 1, lo)
        hi = np.where(live & ~less, mid, hi)
        live = lo < hi
    at = np.minimum(lo, max(len(idx) - 1, 0))
    if not len(idx):
        return np.zeros(len(v), dtype=bool)
    return (lo < end) & (np.asarray(idx[at], dtype=np.int64) == u) & (np.asarray(made_to.data[at]) > 0)


def signal_priors(store, graph: Graph) -> tuple[np.ndarray, dict[str, float]]:
    """Per-account prior in [1, 1 + PRIOR_GAIN] from the account's own signals."""
    strength: dict[str, float] = defaultdict(float)
    factors = findings.prior_factors()  # e.g. a media match is recorded on media, post and account: a third each
    with store.reading() as conn:
        for acc, kind, w in gq.signal_sums(conn, factors):
            strength[acc] += float(w or 0.0) * factors[kind]
    pri = np.ones(graph.n)
    for acc, s in strength.items():
        i = graph.index.get(acc)
        if i is not None:
            pri[i] = 1.0 + PRIOR_GAIN * (1.0 - math.exp(-s / 2.0))
    return pri, strength


_CACHE: dict[str, tuple] = {}  # store URL -> (graph, priors, mark)
_LIGHT: dict[str, tuple] = {}  # the same, for snapshots mapped without scipy (load_graph's `light`)
_LOCK = threading.Lock()


def load_graph(store, fresh: bool = False, light: bool = False) -> tuple[Graph, np.ndarray]:
    """The store's graph and priors at the store's current events and signals.

    From this process's cache when it is current; else from the snapshot on disk (graph.snapshot,
    memory-mapped) when that is current; else the cached graph or the snapshot refreshed with the
    events since (a rebuild past snapshot.REBUILD_AFTER of them, or with `fresh`), written as the
    snapshot's next version. A store with no snapshot folder (in memory) is built in this process.

    With `light`, a current snapshot is mapped with graph/csr.py's CSR instead of scipy matrices: only for
    `expand_prepared` over all layers (what expand_network runs without --layer), which gives the same
    expansion on either; a fresh process then never imports scipy."""
    from . import snapshot

    key = store.key
    root = snapshot.root_for(store)
    with _LOCK:
        mark = snapshot.store_mark(store)
        hit = _CACHE.get(key)
        if hit is not None and not fresh and hit[2] == mark:
            return hit[0], hit[1]
        if light and not fresh and root is not None:
            lit = _LIGHT.get(key)
            if lit is not None and lit[2] == mark:
                return lit[0], lit[1]
            snap = snapshot.open_current(root, snapshot.store_identity(store), lite=True)
            if snap is not None and snap.mark == mark:
                _LIGHT[key] = (snap.graph, snap.priors, mark)
                return snap.graph, snap.priors
        cached = (hit[0], hit[2]) if hit is not None and not fresh else None
        if root is not None:
            g, pri, mark, _ = snapshot.ensure(store, root, mark, full=fresh, cached=cached)
        else:
            base, base_mark = cached or (None, None)
            g, pri, _ = snapshot.fresh_graph(store, base, base_mark, mark, full=fresh)
            mark = snapshot.Mark(g.last_event_seq, mark.signals, mark.signal_max)
        _CACHE[key] = (g, pri, mark)
        return g, pri


def expand_network(store, seeds: list[str], top_k: int = 200, layers: set[str] | None = None) -> Expansion:
    """The ranked network around `seeds` (confirmed accounts), with reasons. See the module doc."""
    if not seeds:
        raise UserError("No seed account given; pass at least one --seed ACCOUNT.")
    if layers is not None:
        bad = sorted(set(layers) - set(LAYERS))
        if bad:
            raise UserError(f"Unknown layer {bad[0]!r}; use one of {', '.join(LAYERS)}.")
    graph, pri = load_graph(store, light=layers is None)
    missing = [s for s in seeds if s not in graph.index]
    if missing:
        raise UserError(f"Seed account {missing[0]!r} is not in the store; check the id or ingest its events first.")
    prep = Prepared(graph, layers, pri, kernel_dir=getattr(store, "kernel_dir", None))
    return expand_prepared(prep, seeds, top_k, store=store)


def expand_prepared(prep: Prepared, seeds: list[str], top_k: int = 200, store=None, explain: bool = True) -> Expansion:
    graph = prep.graph
    seed_idx = [graph.index[s] for s in dict.fromkeys(seeds)]
    top, scores, S, sw = prep.rank(seed_idx, top_k)
    members = [Candidate(account_id=graph.ids[int(i)], score=float(s), rank=r + 1)
               for r, (i, s) in enumerate(zip(top, scores, strict=True))]
    exp = Expansion(seeds=list(dict.fromkeys(seeds)), members=members, layers=prep.layer_names)
    if not explain or not members:
        return exp
    _contributions(prep, S, sw, top, members)
    _paths(prep, seed_idx, top, members)
    from .core import mark_core

    exp.core_density = mark_core(prep.graph, prep.layer_names, seed_idx, top, members)
    if store is not None:
        attach_signals(store, members)
    return exp


def _contributions(prep: Prepared, S: np.ndarray, w: np.ndarray, top: np.ndarray, members: list[Candidate]) -> None:
    """Each candidate's tie weight into the cohesion set S, split by layer (shares sum to 1). A candidate
    whose ties reach only accounts of S weighted 0 (ranked by stage 1 alone: a small graph, or its ties
    declined) gets the shares of its ties into S unweighted."""
    x = np.zeros(prep.graph.n)
    x[S] = w
    ones = np.zeros(prep.graph.n)
    ones[S] = 1.0
    parts, plain = {}, {}
    for name in prep.layer_names:
        if prep.graph.layer_nnz(name) == 0:
            continue
        rows = prep.graph.layer_rows(name, top)
        parts[name] = np.asarray(rows @ x).ravel() * prep.weights[name]
        plain[name] = np.asarray(rows @ ones).ravel() * prep.weights[name]
    for j, c in enumerate(members):
        for by in (parts, plain):
            tot = sum(float(v[j]) for v in by.values())
            if tot > 0:
                c.layers = {k: round(float(v[j]) / tot, 4) for k, v in by.items() if v[j] > 0}
                break


def _paths(prep: Prepared, seed_idx: list[int], top: np.ndarray, members: list[Candidate]) -> None:
    sub_nodes = np.array(list(dict.fromkeys([*seed_idx, *map(int, top)])), dtype=np.int64)
    sub = induced(prep.matrix[sub_nodes], sub_nodes)
    ns = len(dict.fromkeys(seed_idx))
    dist, pred = shortest_paths(sub.indptr, sub.indices, 1.0 + 1.0 / (1.0 + sub.data), ns)
    local = {int(g): i for i, g in enumerate(sub_nodes)}
    g = prep.graph
    for c in members:
        i = local[g.index[c.account_id]]
        if not math.isfinite(dist[i]):
            # not reachable inside the candidate set
            c.path = []
            continue
        chain = [i]
        while pred[chain[-1]] >= 0:
            chain.append(int(pred[chain[-1]]))
        chain.reverse()
        ids = [int(sub_nodes[k]) for k in chain]
        c.path = [g.ids[k] for k in ids]
        c.path_edges = ["+".join(g.edge_kinds(a, b)) for a, b in zip(ids, ids[1:], strict=False)]


def shortest_paths(indptr: np.ndarray, indices: np.ndarray, cost: np.ndarray, sources: int) -> tuple[list[float], list[int]]:
    """Dijkstra from nodes 0..sources-1 (distance to the nearest) over a symmetric CSR pattern.

    Returns (dist, pred): inf where unreachable, pred -1 at the sources and unreachable nodes.
    Plain heapq over a few hundred nodes: cheaper in a fresh process than importing scipy.sparse.csgraph
    (~0.2-0.7 s); ties go to the smaller distance, then the smaller node index."""
    n = len(indptr) - 1
    ptr, idx, w = indptr.tolist(), indices.tolist(), cost.tolist()
    dist = [math.inf] * n
    pred = [-1] * n
    done = [False] * n
    heap = [(0.0, s) for s in range(min(sources, n))]
    for _, s in heap:
        dist[s] = 0.0
    while heap:
        d, u = heapq.heappop(heap)
        if done[u]:
            continue
        done[u] = True
        for j in range(ptr[u], ptr[u + 1]):
            v = idx[j]
            nd = d + w[j]
            if nd < dist[v] and not done[v]:
                dist[v] = nd
                pred[v] = u
                heapq.heappush(heap, (nd, v))
    return dist, pred


def attach_signals(store, members: list[Candidate], limit: int = 20) -> None:
    by_id = {c.account_id: c for c in members}
    ids = list(by_id)
    stored = findings.kinds(stored=True)
    per_media, names = {k.name for k in stored if k.per_media}, [k.name for k in stored]
    with store.reading() as conn:
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            for acc, kind, st, sid, w, detail in gq.account_signal_rows(conn, chunk, names):
                c = by_id[acc]
                if kind in per_media and st != "account":
                    continue
                if len(c.signals) >= limit:
                    continue
                try:
                    d = json.loads(detail)
                except ValueError:
                    d = {}
                c.signals.append({"kind": kind, "subject_type": st, "subject_id": sid, "weight": w,
                                  "reason": findings.describe(kind, d)})


def neighbours(graph: Graph, i: int, layers: list[str] | None = None) -> sp.csr_matrix:
    m = graph.fused(None, layers)
    return m[i]
