"""Seed expansion speed: push PPR p95 on a large graph, networkx personalized PageRank beside it.

Run by hand: .venv/bin/python bench/graph.py --edges 10000000 --nx-edges 1000000
Times are CPU time (time.process_time): the machine is shared, wall time is noisy.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp

from netwarden.graph.build import GROUP_LAYERS, Graph
from netwarden.graph.expand import Prepared


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


def prepared(a: sp.csr_matrix) -> Prepared:
    n = a.shape[0]
    ids = [f"a{i}" for i in range(n)]
    layers = {"interaction": a, **{name: sp.csr_matrix((n, n)) for name in GROUP_LAYERS}}
    g = Graph(ids=ids, index={x: i for i, x in enumerate(ids)}, layers=layers, kinds=sp.csr_matrix((n, n)))
    return Prepared(g, {"interaction"})


def bench_push(a: sp.csr_matrix, queries: int, seed: int = 1) -> list[float]:
    """CPU time of one ranking (both stages: push PPR, then ties into the top-200 set), top 200."""
    prep = prepared(a)
    prep.rank([0], 200)  # compile
    rng = np.random.default_rng(seed)
    times = []
    for s in rng.integers(0, a.shape[0], queries):
        t = time.process_time()
        top, _, _, _ = prep.rank([int(s)], 200)
        times.append(time.process_time() - t)
        assert len(top)
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--edges", type=int, default=10_000_000)
    ap.add_argument("--nx-edges", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--nx-queries", type=int, default=3)
    args = ap.parse_args()
    big = power_law_graph(args.edges // 10, args.edges)
    mem = (big.data.nbytes + big.indices.nbytes + big.indptr.nbytes) / (big.nnz / 2) * 1e6
    t = bench_push(big, args.queries)
    print(f"ranking (push PPR + cohesion), {big.nnz // 2:,} edges: p50 {np.percentile(t, 50) * 1e3:.1f} ms, "
          f"p95 {np.percentile(t, 95) * 1e3:.1f} ms CPU; CSR memory {mem / 2**20:.1f} MiB per million edges")
    import networkx as nx

    small = power_law_graph(args.nx_edges // 10, args.nx_edges, seed=2)
    g = nx.from_scipy_sparse_array(small)
    rng = np.random.default_rng(3)
    seeds = rng.integers(0, small.shape[0], args.nx_queries)
    nx_t = []
    for s in seeds:
        t0 = time.process_time()
        nx.pagerank(g, alpha=0.9, personalization={int(s): 1.0}, tol=1e-6)
        nx_t.append(time.process_time() - t0)
    ours = bench_push(small, args.queries)
    ratio = np.median(nx_t) / np.median(ours)
    print(f"{small.nnz // 2:,} edges: networkx personalized PageRank median {np.median(nx_t):.2f} s CPU, "
          f"push median {np.median(ours) * 1e3:.1f} ms CPU: {ratio:.0f}x")


if __name__ == "__main__":
    main()
