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


def status_mib(field: str) -> float:
    """A /proc/self/status figure (VmRSS, VmHWM, RssAnon, RssFile) in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def power_law_graph(n: int, m: int, seed: int = 0) -> sp.csr_matrix:
    """m random ties (sources uniform, targets power-law), symmetric, int32 indices and float32 weights
    (the number of draws of each tie), built in chunks so a 100M-edge graph does not need int64 copies."""
    rng = np.random.default_rng(seed)
    pop = rng.pareto(1.5, n) + 1
    cdf = np.cumsum(pop / pop.sum())
    src = np.empty(m, dtype=np.int32)
    dst = np.empty(m, dtype=np.int32)
    for a in range(0, m, 10_000_000):
        b = min(m, a + 10_000_000)
        src[a:b] = rng.integers(0, n, b - a, dtype=np.int32)
        dst[a:b] = np.minimum(np.searchsorted(cdf, rng.random(b - a)), n - 1)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    rows, cols = np.concatenate([src, dst]), np.concatenate([dst, src])
    del src, dst, keep
    a = sp.coo_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, n))
    del rows, cols
    a = a.tocsr()
    a.sum_duplicates()
    return a


def handle_groups(n: int, m: int, seed: int = 1, size: int = 4) -> sp.csr_matrix:
    """A group layer like the handle layer: groups of `size` accounts sharing a handle (3.0 per member in
    total), about 2% of the interaction edges, some on interaction ties (which the compact layout keeps
    in its side table)."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n, (max(1, m // 300), size), dtype=np.int32)
    iu, ju = np.triu_indices(size, k=1)
    r, c = groups[:, iu].ravel(), groups[:, ju].ravel()
    keep = r != c
    r, c = r[keep], c[keep]
    w = np.full(len(r), 3.0 / (size - 1), dtype=np.float32)
    g = sp.coo_matrix((np.concatenate([w, w]), (np.concatenate([r, c]), np.concatenate([c, r]))), shape=(n, n)).tocsr()
    g.sum_duplicates()
    return g


def graph_of(a: sp.csr_matrix, handle: sp.csr_matrix | None = None) -> Graph:
    """The synthetic graph (every interaction tie a follow, plus a handle layer) in the snapshot's stored
    form, its ids a fixed-width byte array as a snapshot holds them (no Python string per account)."""
    from netwarden.graph.snapshot import SnapshotIds, SnapshotIndex

    n = a.shape[0]
    ids = np.char.add(b"a", np.arange(n).astype("S12"))
    order = np.argsort(ids, kind="stable")
    kinds = sp.csr_matrix((np.full(a.nnz, KIND_BITS["follow"], dtype=np.uint8), a.indices, a.indptr), shape=a.shape)
    layers = {"interaction": a, **{name: sp.csr_matrix((n, n), dtype=np.float32) for name in GROUP_LAYERS}}
    if handle is not None:
        layers["handle"] = handle
    g = Graph(ids=SnapshotIds(ids), index=SnapshotIndex(ids[order], order.astype(np.int32)), layers=layers,
              kinds=kinds, group_keys={name: {} for name in GROUP_LAYERS})
    return stored_form(g)


def held_bytes(g: Graph) -> int:
    """Bytes of the arrays the graph holds: layers (or the compact form's group layers, kind bits and side
    table), the fused matrix, degrees and the id arrays."""
    total = g.memory_bytes()
    seen = set()
    for m, deg in g.prepared.values():
        for a in (m.data, m.indices, m.indptr, deg):
            if a.__array_interface__["data"][0] not in seen:
                seen.add(a.__array_interface__["data"][0])
                total += a.nbytes
    seen_ids = set()
    for a in (getattr(g.ids, "_s", None), getattr(g.ids, "_rank", None), getattr(g.index, "_s", None),
              getattr(g.index, "_pos", None)):
        if isinstance(a, np.ndarray) and id(a) not in seen_ids:
            seen_ids.add(id(a))
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
    ap.add_argument("--dir", help="write the snapshot here (default: a temporary folder, removed after)")
    ap.add_argument("--child", help=argparse.SUPPRESS)  # the fresh process that maps the snapshot
    ap.add_argument("--seeds", help=argparse.SUPPRESS)
    ap.add_argument("--db", help="instead: time the whole expand_network (signals included) on this store's "
                                 "graph snapshot, warm, from --seed-file or the store's first accounts")
    args = ap.parse_args()
    if args.db:
        return bench_store(args)
    if args.child:
        return bench_mapped(args)

    import gc
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from netwarden.graph import snapshot

    rss0 = rss_mib()
    n = args.edges // 10
    (g, t_build, _) = timed(lambda: graph_of(power_law_graph(n, args.edges), handle_groups(n, args.edges)))
    edges, fused_edges = g.edges(), g.prepared[next(iter(g.prepared))][0].nnz // 2
    held = held_bytes(g)
    print(f"graph: {g.n:,} accounts, {edges:,} edges ({fused_edges:,} fused; a handle layer beside the ties), "
          f"built in {t_build:.1f} s CPU; its arrays {held / 2**20:.0f} MiB ({held / 2**20 / (edges / 1e6):.1f} per "
          f"million edges: fused matrix, kind bits, handle layer, degrees, ids); builder RSS {rss0:.0f} -> {rss_mib():.0f} MiB")
    rng = np.random.default_rng(1)
    seeds = [int(s) for s in rng.integers(0, g.n, args.warmup + args.queries)]
    with tempfile.TemporaryDirectory(dir=args.dir) as d:
        mark = snapshot.Mark(0, 0, 0)
        c = time.process_time()
        snapshot.write(Path(d), g, np.ones(g.n), mark, "bench", "bench", 0.0)
        c = time.process_time() - c
        size = sum(p.stat().st_size for p in (Path(d) / mark.version).iterdir())
        print(f"snapshot: {size / 2**20:.0f} MiB on disk ({size / 2**20 / (edges / 1e6):.1f} per million edges), "
              f"written in {c:.1f} s CPU; the builder frees the graph, a fresh process maps it and expands", flush=True)
        del g
        gc.collect()
        cmd = [sys.executable, __file__, "--child", d, "--seeds", ",".join(map(str, seeds)), "--top", str(args.top),
               "--warmup", str(args.warmup), "--exact-queries", str(args.exact_queries), "--exact-tol", str(args.exact_tol),
               "--edges", str(edges)]
        subprocess.run(cmd, check=True)

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


def mapped_mib(root: str) -> float:
    """Resident MiB of the snapshot's files in this process (page cache, shared with every other mapper);
    a file mapped twice (a shared pattern) is counted once."""
    per_file, path = {}, None
    with open("/proc/self/smaps") as f:
        for line in f:
            parts = line.split()
            if parts and "-" in parts[0] and not parts[0].endswith(":"):
                path = parts[5] if len(parts) >= 6 and parts[5].startswith(root) else None
            elif path and parts[0] == "Rss:":
                per_file[path] = max(per_file.get(path, 0), int(parts[1]))
    return sum(per_file.values()) / 1024


def bench_mapped(args) -> None:
    """In a fresh process: map the snapshot, time the whole warm call and its parts, then the peer."""
    from pathlib import Path

    from netwarden.graph import snapshot

    seeds = [int(x) for x in args.seeds.split(",")]
    edges = args.edges / 1e6
    # the libraries (numba's compiled push, igraph, leidenalg, csgraph) loaded on a tiny graph first: their
    # memory is the process's, not the graph's, and is reported apart
    r_lib0 = status_mib("VmRSS")
    tiny = graph_of(power_law_graph(2000, 20000, seed=5), handle_groups(2000, 20000))
    for s in range(3):
        ex.expand_prepared(ex.Prepared(tiny, None, None), [tiny.ids[s]], args.top)
    del tiny
    r0 = status_mib("VmRSS")
    snap, t_open, _ = timed(lambda: snapshot.open_current(Path(args.child)))
    g, pri = snap.graph, snap.priors
    parts: dict[str, list[float]] = {k: [] for k in ("prepared", "rank", "layers", "paths", "core", "total")}
    walls: list[float] = []
    for qi, s in enumerate(seeds):
        c0, w0 = time.process_time(), time.perf_counter()
        prep, t_prep, _ = timed(lambda: ex.Prepared(g, None, pri))
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
    e2e, e2e_wall = [], []
    for s in seeds[args.warmup:]:
        _, c, w = timed(lambda s=s: ex.expand_prepared(ex.Prepared(g, None, pri), [g.ids[s]], args.top))
        e2e.append(c)
        e2e_wall.append(w)
    r2, hwm = status_mib("VmRSS"), status_mib("VmHWM")
    mapped = mapped_mib(args.child)
    print(f"whole expand_prepared (rank, layer shares, paths, core; top {args.top}) in a fresh process mapping the "
          f"snapshot (opened in {t_open * 1e3:.0f} ms CPU), {len(e2e)} seeds after {args.warmup} warm-up: "
          f"p50 {pct(e2e, 50):.1f} ms, p95 {pct(e2e, 95):.1f} ms CPU (wall p95 {pct(e2e_wall, 95):.1f} ms)")
    print("  parts p50 / p95 ms CPU: " + ", ".join(f"{k} {pct(v, 50):.1f} / {pct(v, 95):.1f}" for k, v in parts.items()))
    held = r2 - r0
    print(f"memory: process RSS {r_lib0:.0f} MiB, {r0:.0f} MiB with the libraries loaded -> {r2:.0f} MiB after {len(seeds) + len(e2e)} expansions: "
          f"held = {held:.0f} MiB = {held / edges:.1f} MiB per million edges (of it the snapshot's pages mapped "
          f"{mapped:.0f} MiB, page cache shared by every process mapping it; the rest private); peak RSS "
          f"{hwm:.0f} MiB ({(hwm - r0) / edges:.1f} per million edges, the per-call arrays of the push included)", flush=True)

    # the peer: exact PPR by scipy power iteration, and the overlap of the top |R| with push
    exp = ExactPrepared(g, None, pri)
    prep = ex.Prepared(g, None, pri)
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
    if len(t_exact) < args.exact_queries:
        raise SystemExit(f"measured exact PPR on {len(t_exact)} seeds, asked for {args.exact_queries}: raise --queries")
    print(f"exact PPR by scipy power iteration (L1 change < {args.exact_tol:g}, {int(np.median(iters))} iterations): median "
          f"{np.median(t_exact) * 1e3:.0f} ms CPU; push median {np.median(t_push) * 1e3:.1f} ms: "
          f"{np.median(t_exact) / np.median(t_push):.1f}x; top-{args.top} overlap with exact: stage 1 (PPR ranked "
          f"p/deg^0.5) {min(ov1):.2f}-{max(ov1):.2f}, final two-stage ranking {min(ovf):.2f}-{max(ovf):.2f} "
          f"over {len(ov1)} seeds")


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
