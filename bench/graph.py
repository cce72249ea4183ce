"""Seed expansion speed, end to end: the whole warm call (ranking, layer shares, paths, core) and its
parts on a large graph held as the snapshot holds it, beside exact personalized PageRank by scipy power
iteration (the peer a user could pick), with how far push's top |R| overlaps the exact one.

Run by hand: .venv/bin/python bench/graph.py --edges 10000000 --queries 30
Times are CPU time (time.process_time) with wall beside: the machine is shared, wall time is noisy.
Memory is what the process holds: the graph's arrays (counted from the arrays themselves) and the
process's resident set before and after building it. `--nx-edges N` adds networkx's PageRank (it
converts nothing per call here, but is a global iteration in Python: the weakest peer, kept for history).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import scipy.sparse as sp

from netwarden.graph import expand as ex
from netwarden.graph.build import GROUP_LAYERS, KIND_BITS, Graph
from netwarden.graph.core import mark_core
from netwarden.graph.snapshot import stored_form


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def power_law_graph(n: int, m: int, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    pop = rng.pareto(1.5, n) + 1
    p = pop / pop.sum()
    src = rng.integers(0, n, m)
    dst = rng.choice(n, m, p=p)
    keep = src != dst
    a = sp.csr_matrix((np.ones(int(keep.sum())), (src[keep], dst[keep])), shape=(n, n))
    a = (a + a.T).tocsr()
    a.sum_duplicates()
    return a


def graph_of(a: sp.csr_matrix) -> Graph:
    """The synthetic graph as one interaction layer (every tie a follow), in the snapshot's stored form."""
    n = a.shape[0]
    ids = [f"a{i}" for i in range(n)]
    kinds = a.copy()
    kinds.data[:] = KIND_BITS["follow"]
    layers = {"interaction": a, **{name: sp.csr_matrix((n, n)) for name in GROUP_LAYERS}}
    g = Graph(ids=ids, index={x: i for i, x in enumerate(ids)}, layers=layers, kinds=kinds,
              group_keys={name: {} for name in GROUP_LAYERS})
    return stored_form(g)


def held_bytes(g: Graph) -> int:
    """Bytes of the arrays the ranking process holds for the graph: layers, kinds, fused matrix, degrees."""
    total = g.memory_bytes()
    seen = {a.__array_interface__["data"][0] for m in [*g.layers.values(), g.kinds] for a in (m.data, m.indices, m.indptr)}
    for m, deg in g.prepared.values():
        for a in (m.data, m.indices, m.indptr, deg):
            if a.__array_interface__["data"][0] not in seen:
                total += a.nbytes
    return total


def exact_ppr(prep: ex.Prepared, seed: int, alpha: float = ex.ALPHA, tol: float = 1e-8) -> tuple[np.ndarray, int]:
    """Personalized PageRank from one seed by power iteration with scipy (x = a e_s + (1 - a) A D^-1 x)
    until the L1 change is below `tol`. Returns (p over all nodes, iterations)."""
    m = prep.matrix
    inv = np.where(prep.deg > 0, 1.0 / np.maximum(prep.deg, 1e-300), 0.0)
    x = np.zeros(m.shape[0])
    x[seed] = 1.0
    e = x.copy()
    for it in range(1, 1000):
        nxt = alpha * e + (1 - alpha) * (m @ (x * inv))
        nxt[prep.deg <= 0] += (1 - alpha) * x[prep.deg <= 0]  # dangling mass stays
        if np.abs(nxt - x).sum() < tol:
            return nxt, it
        x = nxt
    return x, it


class ExactPrepared(ex.Prepared):
    """Prepared whose stage 1 is exact PPR (power iteration) instead of push: the rest of the ranking is shared."""

    exact: dict[int, np.ndarray] = {}  # seed -> p, computed once by the timed run

    def ppr(self, seed_idx, alpha=None, eps=None):
        p = self.exact[int(seed_idx[0])]
        nodes = np.flatnonzero(p > 0)
        return nodes, p[nodes]


def stage1_top(nodes: np.ndarray, p: np.ndarray, prep: ex.Prepared, seed: int, k: int) -> set[int]:
    score = p / np.maximum(prep.deg[nodes], 1e-12) ** ex.HUB_DAMPING
    keep = nodes != seed
    order = np.argsort(-score[keep], kind="stable")[:k]
    return set(nodes[keep][order].tolist())


def timed(fn):
    c, w = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - c, time.perf_counter() - w


def pct(xs, q) -> float:
    return float(np.percentile(xs, q)) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--edges", type=int, default=10_000_000)
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--top", type=int, default=200)
    ap.add_argument("--exact-queries", type=int, default=5, help="seeds also ranked with exact PPR (the peer)")
    ap.add_argument("--exact-tol", type=float, default=1e-8, help="power iteration stops below this L1 change")
    ap.add_argument("--nx-edges", type=int, default=0, help="also time networkx PageRank on a graph this size")
    ap.add_argument("--mapped", action="store_true", help="also write the graph as a snapshot and time the same "
                    "expansions in a fresh process that maps it (its RSS is what one more worker costs)")
    ap.add_argument("--db", help="instead: time the whole expand_network (signals included) on this store's "
                                 "graph snapshot, warm, from --seed-file or the store's first accounts")
    args = ap.parse_args()
    if args.db:
        return bench_store(args)

    rss0 = rss_mib()
    (g, t_build, _) = timed(lambda: graph_of(power_law_graph(args.edges // 10, args.edges)))
    edges = g.edges()
    rss1 = rss_mib()
    held = held_bytes(g)
    print(f"graph: {g.n:,} accounts, {edges:,} edges, built in {t_build:.1f} s CPU; arrays held "
          f"{held / 2**20:.0f} MiB = {held / 2**20 / (edges / 1e6):.1f} MiB per million edges "
          f"(fused matrix alone {sum(x.nbytes for x in (g.prepared[next(iter(g.prepared))][0].data, g.prepared[next(iter(g.prepared))][0].indices)) / 2**20 / (edges / 1e6):.1f}); "
          f"process RSS {rss0:.0f} -> {rss1:.0f} MiB")

    rng = np.random.default_rng(1)
    seeds = [int(s) for s in rng.integers(0, g.n, args.warmup + args.queries)]
    parts: dict[str, list[float]] = {k: [] for k in ("prepared", "rank", "layers", "paths", "core", "total")}
    walls: list[float] = []
    for qi, s in enumerate(seeds):
        c0, w0 = time.process_time(), time.perf_counter()
        prep, t_prep, _ = timed(lambda: ex.Prepared(g, None, None))
        (top, scores, S, sw), t_rank, _ = timed(lambda p=prep, s=s: p.rank([s], args.top))
        members = [ex.Candidate(account_id=g.ids[int(i)], score=float(x), rank=r + 1)
                   for r, (i, x) in enumerate(zip(top, scores, strict=True))]
        _, t_lay, _ = timed(lambda p=prep, S=S, sw=sw, top=top, m=members: ex._contributions(p, S, sw, top, m))
        _, t_path, _ = timed(lambda p=prep, s=s, top=top, m=members: ex._paths(p, [s], top, m))
        _, t_core, _ = timed(lambda p=prep, s=s, top=top, m=members: mark_core(g, p.layer_names, [s], top, m))
        total, wall = time.process_time() - c0, time.perf_counter() - w0
        if qi < args.warmup:  # compilation and first-touch of pages land here, not in the figures
            continue
        for k, v in zip(parts, (t_prep, t_rank, t_lay, t_path, t_core, total), strict=True):
            parts[k].append(v)
        walls.append(wall)
    # the same call as one function, as the CLI and web app make it (minus the store's signal query)
    e2e = []
    for s in seeds[args.warmup:]:
        prep = ex.Prepared(g, None, None)
        c = time.process_time()
        ex.expand_prepared(prep, [g.ids[s]], args.top)
        e2e.append(time.process_time() - c)
    print(f"whole expand_prepared (rank, layer shares, paths, core; top {args.top}), {len(e2e)} seeds after "
          f"{args.warmup} warm-up: p50 {pct(e2e, 50):.1f} ms, p95 {pct(e2e, 95):.1f} ms CPU "
          f"(wall p95 of the timed parts {pct(walls, 95):.1f} ms)")
    print("  parts p50 / p95 ms CPU: " + ", ".join(f"{k} {pct(v, 50):.1f} / {pct(v, 95):.1f}" for k, v in parts.items()))
    print(f"  process RSS after the queries {rss_mib():.0f} MiB")

    # the peer: exact PPR by scipy power iteration, and the overlap of the top |R| with push
    exp = ExactPrepared(g, None, None)
    prep = ex.Prepared(g, None, None)
    t_exact, t_push, ov1, ovf, iters = [], [], [], [], []
    for s in seeds[args.warmup:args.warmup + args.exact_queries]:
        (p_ex, it), c, _ = timed(lambda s=s: exact_ppr(prep, s, tol=args.exact_tol))
        ExactPrepared.exact[s] = p_ex
        t_exact.append(c)
        iters.append(it)
        (nodes, p), c, _ = timed(lambda s=s: prep.ppr([s]))
        t_push.append(c)
        allnodes = np.flatnonzero(p_ex > 0)
        ov1.append(len(stage1_top(nodes, p, prep, s, args.top) & stage1_top(allnodes, p_ex[allnodes], prep, s, args.top))
                   / args.top)
        a = set(prep.rank([s], args.top)[0].tolist())
        b = set(exp.rank([s], args.top)[0].tolist())
        ovf.append(len(a & b) / args.top)
    print(f"exact PPR by scipy power iteration (L1 change < {args.exact_tol:g}, {int(np.median(iters))} iterations): median "
          f"{np.median(t_exact) * 1e3:.0f} ms CPU; push median {np.median(t_push) * 1e3:.1f} ms: "
          f"{np.median(t_exact) / np.median(t_push):.1f}x; top-{args.top} overlap with exact: stage 1 (PPR ranked "
          f"p/deg^0.5) {min(ov1):.2f}-{max(ov1):.2f}, final two-stage ranking {min(ovf):.2f}-{max(ovf):.2f} "
          f"over {len(ov1)} seeds")

    if args.mapped:
        bench_mapped(g, seeds[args.warmup:], args)

    if args.nx_edges:
        import networkx as nx

        small = power_law_graph(args.nx_edges // 10, args.nx_edges, seed=2)
        gx = nx.from_scipy_sparse_array(small)
        sp_ = graph_of(small)
        sprep = ex.Prepared(sp_, None, None)
        sprep.rank([0], args.top)
        nx_t, ours = [], []
        for s in np.random.default_rng(3).integers(0, small.shape[0], 3):
            _, c, _ = timed(lambda s=s: nx.pagerank(gx, alpha=1 - ex.ALPHA, personalization={int(s): 1.0}, tol=1e-6))
            nx_t.append(c)
            _, c, _ = timed(lambda s=s: sprep.rank([int(s)], args.top))
            ours.append(c)
        print(f"{small.nnz // 2:,} edges: networkx personalized PageRank median {np.median(nx_t):.2f} s CPU, "
              f"ranking median {np.median(ours) * 1e3:.1f} ms CPU: {np.median(nx_t) / np.median(ours):.0f}x")


MAPPED_CHILD = """
import resource, sys, time, numpy as np
from pathlib import Path
from netwarden.graph import snapshot
from netwarden.graph import expand as ex
def rss():
    return int(open('/proc/self/statm').read().split()[1]) * resource.getpagesize() / 2**20
def mapped_rss():  # resident MiB of the snapshot's files in this process (shared with every other mapper)
    per_file, path = {}, None
    for line in open('/proc/self/smaps'):
        parts = line.split()
        if parts and '-' in parts[0] and not parts[0].endswith(':'):  # a mapping's header (its path, if any, 6th)
            path = parts[5] if len(parts) >= 6 and parts[5].startswith(sys.argv[1]) else None
        elif path and parts[0] == 'Rss:':  # a file mapped twice (a shared pattern) is counted once
            per_file[path] = max(per_file.get(path, 0), int(parts[1]))
    return sum(per_file.values()) / 1024
seeds = [int(x) for x in sys.argv[2].split(',')]
r0 = rss()
c = time.process_time()
snap = snapshot.open_current(Path(sys.argv[1]))
g = snap.graph
t_open = time.process_time() - c
r1 = rss()
times = []
for i, s in enumerate(seeds):
    c = time.process_time()
    ex.expand_prepared(ex.Prepared(g, None, snap.priors), [g.ids[s]], int(sys.argv[3]))
    if i >= 2:
        times.append(time.process_time() - c)
print(f"{t_open * 1e3:.1f} {r0:.0f} {r1:.0f} {rss():.0f} {np.percentile(times, 50) * 1e3:.1f} {np.percentile(times, 95) * 1e3:.1f} {mapped_rss():.1f}")
"""


def bench_mapped(g: Graph, seeds: list[int], args) -> None:
    """Write `g` as a snapshot, then expand from the same seeds in a fresh process that maps it."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from netwarden.graph import snapshot

    with tempfile.TemporaryDirectory() as d:
        mark = snapshot.Mark(0, 0, 0)
        c = time.process_time()
        snapshot.write(Path(d), g, np.ones(g.n), mark, "bench", "bench", 0.0)
        t_write = time.process_time() - c
        size = sum(p.stat().st_size for p in (Path(d) / mark.version).iterdir())
        out = subprocess.run([sys.executable, "-c", MAPPED_CHILD, d, ",".join(map(str, seeds[:2] + seeds)),
                              str(args.top)], capture_output=True, text=True, check=True).stdout.split()
    t_open, r0, r1, r2, p50, p95, mapped = map(float, out)
    edges = g.edges() / 1e6
    print(f"mapped snapshot: {size / 2**20:.0f} MiB on disk ({size / 2**20 / edges:.1f} MiB per million edges), written in "
          f"{t_write:.1f} s CPU; a fresh process opens it in {t_open:.0f} ms CPU (RSS {r0:.0f} -> {r1:.0f} MiB), and "
          f"after {len(seeds)} expansions holds {mapped:.0f} MiB of its pages ({mapped / edges:.1f} MiB per million edges; "
          f"page cache, shared by every process mapping it; process RSS {r2:.0f} MiB with the libraries); "
          f"expand p50 {p50:.1f} ms, p95 {p95:.1f} ms CPU")


def bench_store(args) -> None:
    """Warm expand_network on a real store: the first call maps (or builds) the snapshot, then each call
    is what a web worker does per request."""
    from sqlalchemy import text

    from netwarden.store import open_store

    store = open_store(args.db if "://" in args.db else f"sqlite:///{args.db}")
    (g, _), c_load, w_load = timed(lambda: ex.load_graph(store))
    with store.engine.connect() as conn:
        seeds = [r[0] for r in conn.execute(text(
            "SELECT account_id FROM signals WHERE account_id IS NOT NULL GROUP BY account_id ORDER BY account_id "
            "LIMIT :n"), {"n": args.warmup + args.queries})]
    times, walls = [], []
    for i, s in enumerate(seeds):
        _, c, w = timed(lambda s=s: ex.expand_network(store, [s], args.top))
        if i >= args.warmup:
            times.append(c)
            walls.append(w)
    print(f"{args.db}: {g.n:,} accounts, {g.edges():,} edges; load_graph {c_load:.2f} s CPU ({w_load:.2f} s wall); "
          f"warm expand_network (top {args.top}, signals included), {len(times)} seeds with signals after "
          f"{args.warmup} warm-up: p50 {pct(times, 50):.1f} ms, p95 {pct(times, 95):.1f} ms CPU "
          f"(wall p95 {pct(walls, 95):.1f} ms); RSS {rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
