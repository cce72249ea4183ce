"""Reference implementations the tests compare the product against (never used by the product).

brute_force: exact PDQ range search by full scan, for the index; ppr_numpy / ppr_arrays: Spark's
synchronous PageRank iterations in numpy and over a scipy matrix on Spark; sweep_with: the sweep with
another PageRank function.
"""

from __future__ import annotations

import math

import numpy as np

from netwarden.graph.expand import ALPHA
from netwarden.scale.spark_sweep import ppr_df


def brute_force(bank8: np.ndarray, queries8: np.ndarray, radius: int = 31):
    """Exact range search by full scan (reference for tests and recall measurement)."""
    b64 = np.ascontiguousarray(bank8).view(np.uint64).reshape(-1, 4)
    q64 = np.ascontiguousarray(queries8).view(np.uint64).reshape(-1, 4)
    outs_q, outs_i, outs_d = [], [], []
    step = max(1, 4_000_000 // max(len(b64), 1))
    for s in range(0, len(q64), step):
        qb = q64[s: s + step]
        d = np.zeros((len(qb), len(b64)), dtype=np.int32)
        for w in range(4):
            d += np.bitwise_count(qb[:, w, None] ^ b64[None, :, w]).astype(np.int32)
        qi, bi = np.nonzero(d <= radius)
        outs_q.append(qi + s)
        outs_i.append(bi)
        outs_d.append(d[qi, bi])
    if not outs_q:
        e = np.zeros(0, dtype=np.int64)
        return e, e, e
    q, i, d = (np.concatenate(x).astype(np.int64) for x in (outs_q, outs_i, outs_d))
    order = np.lexsort((i, d, q))
    return q[order], i[order], d[order]



def ppr_arrays(spark, matrix, seed_idx: list[int], alpha: float = ALPHA, tol: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """PPR on Spark over a scipy CSR matrix (the fused graph): (nodes, p) with p > 0."""
    coo = matrix.tocoo()
    edges = spark.createDataFrame(list(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True)),
                                  "src long, dst long, w double")
    degv = np.asarray(matrix.sum(axis=1)).ravel()
    deg = spark.createDataFrame([(i, float(d)) for i, d in enumerate(degv.tolist()) if d > 0], "id long, deg double")
    mass = 1.0 / max(1, len(seed_idx))
    seeds: dict[int, float] = {}
    for s in seed_idx:
        seeds[int(s)] = seeds.get(int(s), 0.0) + mass
    rows = ppr_df(spark, edges, deg, seeds, alpha, tol).where("p > 0").collect()
    nodes = np.array([r.id for r in rows], dtype=np.int64)
    p = np.array([r.p for r in rows], dtype=np.float64)
    order = np.argsort(nodes)
    return nodes[order], p[order]



def ppr_numpy(matrix, seed_idx: list[int], alpha: float = ALPHA, tol: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """The same synchronous iterations in numpy (a reference for the Spark version)."""
    deg = np.asarray(matrix.sum(axis=1)).ravel()
    trans = matrix.multiply(1.0 / np.maximum(deg, 1e-300)[:, None]).tocsr().T.tocsr()
    r = np.zeros(matrix.shape[0])
    for s in seed_idx:
        r[s] += 1.0 / max(1, len(seed_idx))
    p = np.zeros_like(r)
    for _ in range(max(1, math.ceil(math.log(tol) / math.log(1 - alpha)))):
        p += np.where(deg > 0, alpha * r, r)
        r = (1 - alpha) * (trans @ r)
    nodes = np.flatnonzero(p > 0)
    return nodes, p[nodes]



def sweep_with(store, ppr, seeds: list[str] | None = None, min_size: int | None = None):
    """`graph.sweep.sweep` with another PageRank function (matrix, seed indices) -> (nodes, p)."""
    from netwarden.graph import sweep as sw

    return sw.sweep(store, seeds, sw.MIN_GROUP if min_size is None else min_size,
                    ppr=lambda prep, seed_idx: ppr(prep.matrix, seed_idx))
