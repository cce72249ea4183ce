"""Dense cores: camouflage-resistant greedy peeling (FRAUDAR-style) and Leiden communities.

Peeling: the edges of the candidate subgraph are re-weighted by ``1 / log(deg + 5)`` of their
endpoints' *global* degree (FRAUDAR's column weighting): ties to popular accounts, which
camouflage adds cheaply, count for little. Nodes are removed one at a time by smallest weighted
degree; the subset with the highest average weighted degree seen on the way is the core. Edges
a member adds to outsiders never lower the core's density, so camouflage cannot hide it.
"""

from __future__ import annotations

import heapq

import numpy as np

from . import csr as light
from .build import LAYERS, Graph
from .csr import sp
from .layout import induced


def peel(sub: sp.csr_matrix) -> tuple[np.ndarray, float]:
    """Greedy densest-subgraph peeling on a symmetric weighted matrix. Returns (mask of core, density)."""
    n = sub.shape[0]
    if n == 0:
        return np.zeros(0, dtype=bool), 0.0
    sub = sub.tocsr()
    deg_arr = np.asarray(sub.sum(axis=1)).ravel().astype(float)
    total = float(deg_arr.sum() / 2.0)
    # Python floats and ints (the same IEEE doubles, so the same peeling order and density): numpy scalars
    # cost ~5x more per step of this loop
    deg = deg_arr.tolist()
    ptr, idx, dat = sub.indptr.tolist(), sub.indices.tolist(), np.asarray(sub.data, dtype=float).tolist()
    alive = [True] * n
    heap = [(deg[i], i) for i in range(n)]
    heapq.heapify(heap)
    order: list[int] = []
    best, best_size = total / n, n
    size = n
    while heap and size > 1:
        d, i = heapq.heappop(heap)
        if not alive[i] or d != deg[i]:
            continue
        alive[i] = False
        order.append(i)
        size -= 1
        total -= deg[i]
        for j in range(ptr[i], ptr[i + 1]):
            v = idx[j]
            if alive[v]:
                deg[v] -= dat[j]
                heapq.heappush(heap, (deg[v], v))
        dens = total / size
        if dens > best:
            best, best_size = dens, size
    mask = np.ones(n, dtype=bool)
    mask[order[: n - best_size]] = False
    return mask, float(best)


def camouflage_weighted(graph: Graph, layer_names: list[str], nodes: np.ndarray) -> sp.csr_matrix:
    """The candidates' subgraph of the unweighted fused layers, camouflage-weighted.

    Only the candidates' rows are fused (not the whole graph, which cost seconds per call at 100M
    edges): read from the fused matrix Prepared holds when it is this unweighted sum (every layer
    weight 1), else summed from the layers' rows; their neighbour counts are their global degrees."""
    names = tuple(name for name in LAYERS if name in layer_names)
    hit = graph.prepared.get((names, (1.0,) * len(names)))
    if hit is not None:
        rows = hit[0][nodes]
    else:
        rows = sp.csr_matrix((len(nodes), graph.n))
        for name in names:
            if name in graph.layers and graph.layer_nnz(name):
                rows = rows + graph.layer_rows(name, nodes)
        rows = rows.tocsr()
    return camouflage_scale(induced(rows, nodes), np.diff(rows.indptr))


def camouflage_scale(sub: sp.csr_matrix, gdeg: np.ndarray) -> sp.csr_matrix:
    """Re-weight a subgraph's edges by 1 / log(deg + 5) of their endpoints' global degree (neighbour count)."""
    s = 1.0 / np.log(np.asarray(gdeg, dtype=float) + 5.0)
    if isinstance(sub, light.CSR):
        return light.scaled(sub, np.sqrt(s))
    d = sp.diags(np.sqrt(s))
    return (d @ sub @ d).tocsr()


def communities(sub: sp.csr_matrix, seed: int = 0) -> list[int]:
    """Leiden communities (modularity) of a weighted symmetric subgraph."""
    import igraph as ig
    import leidenalg

    if isinstance(sub, light.CSR):
        row, col, data = sub.upper()
    else:
        coo = sp.triu(sub, k=1).tocoo()
        row, col, data = coo.row, coo.col, coo.data
    g = ig.Graph(n=sub.shape[0], edges=list(zip(row.tolist(), col.tolist(), strict=True)))
    g.es["weight"] = data.tolist()
    part = leidenalg.find_partition(g, leidenalg.ModularityVertexPartition, weights="weight", seed=seed)
    return list(part.membership)


def mark_core(graph: Graph, layer_names: list[str], seed_idx: list[int], top: np.ndarray, members: list) -> float:
    """Set `.core` and `.community` on candidates; returns the core's density."""
    nodes = np.array(list(dict.fromkeys([*seed_idx, *map(int, top)])), dtype=np.int64)
    sub = camouflage_weighted(graph, layer_names, nodes)
    mask, dens = peel(sub)
    comm = communities(sub) if sub.nnz else [0] * len(nodes)
    pos = {int(v): i for i, v in enumerate(nodes)}
    for c in members:
        i = pos[graph.index[c.account_id]]
        c.core = bool(mask[i])
        c.community = int(comm[i])
    return dens
