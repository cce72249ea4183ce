"""Local personalized PageRank by push (Andersen-Chung-Lang), compiled with numba.

Work depends on 1/(alpha*eps), not on the graph's size: only nodes whose residual exceeds
eps times their degree are ever pushed.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _push(indptr, indices, data, deg, seeds, mass, alpha, eps, max_pushes):  # pragma: no cover - compiled
    n = deg.shape[0]
    p = np.zeros(n)
    r = np.zeros(n)
    inq = np.zeros(n, dtype=np.bool_)
    cap = 1024
    queue = np.empty(cap, dtype=np.int64)
    head = 0
    tail = 0
    touched = np.empty(cap, dtype=np.int64)
    nt = 0
    seen = np.zeros(n, dtype=np.bool_)
    for i in range(seeds.shape[0]):
        s = seeds[i]
        r[s] += mass[i]
        if not seen[s]:
            seen[s] = True
            if nt == touched.shape[0]:
                touched = np.concatenate((touched, np.empty(touched.shape[0], dtype=np.int64)))
            touched[nt] = s
            nt += 1
        if not inq[s]:
            inq[s] = True
            if tail == queue.shape[0]:
                queue = np.concatenate((queue, np.empty(queue.shape[0], dtype=np.int64)))
            queue[tail] = s
            tail += 1
    pushes = 0
    while head < tail and pushes < max_pushes:
        u = queue[head]
        head += 1
        inq[u] = False
        ru = r[u]
        du = deg[u]
        if du <= 0.0:
            p[u] += ru
            r[u] = 0.0
            continue
        if ru < eps * du:
            continue
        pushes += 1
        p[u] += alpha * ru
        r[u] = 0.0
        share = (1.0 - alpha) * ru / du
        for j in range(indptr[u], indptr[u + 1]):
            v = indices[j]
            r[v] += share * data[j]
            if not seen[v]:
                seen[v] = True
                if nt == touched.shape[0]:
                    touched = np.concatenate((touched, np.empty(touched.shape[0], dtype=np.int64)))
                touched[nt] = v
                nt += 1
            if not inq[v] and r[v] >= eps * deg[v]:
                inq[v] = True
                if tail == queue.shape[0]:
                    # compact the consumed head before growing
                    queue = np.concatenate((queue[head:tail], np.empty(queue.shape[0], dtype=np.int64)))
                    tail -= head
                    head = 0
                queue[tail] = v
                tail += 1
    t = touched[:nt]
    return t, p[t], r[t], pushes


def ppr_push(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, deg: np.ndarray, seeds: np.ndarray,
             alpha: float = 0.1, eps: float = 1e-7, max_pushes: int = 5_000_000,
             mass: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Approximate PPR from `seeds` (mass split evenly unless given). Returns (nodes, p, residual)."""
    seeds = np.asarray(seeds, dtype=np.int64)
    if mass is None:
        mass = np.full(len(seeds), 1.0 / max(1, len(seeds)))
    # int32 or int64 indices, float32 or float64 weights, as the graph holds them (no copy); read-only
    # views so arrays from memory and from a mapped snapshot share one compiled version per dtype
    indptr, indices, data, deg = (_readonly(a) for a in (indptr, indices, data, np.asarray(deg, dtype=np.float64)))
    nodes, p, r, _ = _push(indptr, indices, data, deg, seeds,
                           np.asarray(mass, dtype=np.float64), float(alpha), float(eps), int(max_pushes))
    return nodes, p, r


def _readonly(a: np.ndarray) -> np.ndarray:
    v = np.asarray(a).view()
    v.flags.writeable = False
    return v
