"""The explanation paths' Dijkstra (heapq over CSR) against scipy's on random symmetric graphs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from netwarden.graph.expand import shortest_paths


@pytest.mark.parametrize("seed", range(6))
def test_heapq_dijkstra_matches_scipy_distances_and_paths_are_real(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 120))
    m = sp.random(n, n, density=float(rng.uniform(0.01, 0.15)), random_state=seed, format="csr")
    m = (m + m.T).tocsr()
    m.setdiag(0)
    m.eliminate_zeros()
    cost = m.copy()
    cost.data = 1.0 + 1.0 / (1.0 + cost.data)
    ns = int(rng.integers(1, 4))
    ref = dijkstra(cost, directed=False, indices=list(range(ns)), min_only=True)
    dist, pred = shortest_paths(cost.indptr, cost.indices, cost.data, ns)
    assert np.array_equal(np.isinf(np.array(dist)), np.isinf(ref))
    fin = np.isfinite(ref)
    assert np.allclose(np.array(dist)[fin], ref[fin])
    dense = cost.toarray()
    for v in range(n):
        if not math.isfinite(dist[v]):
            assert pred[v] == -1
            continue
        # walk the predecessors back to a source: the edge costs add up to the distance
        total, u = 0.0, v
        while pred[u] >= 0:
            total += dense[pred[u], u]
            u = pred[u]
        assert u < ns
        assert total == pytest.approx(dist[v])


def test_unreachable_and_sources():
    indptr, indices, cost = np.array([0, 1, 2, 2]), np.array([1, 0]), np.array([1.5, 1.5])
    dist, pred = shortest_paths(indptr, indices, cost, 1)
    assert dist == [0.0, 1.5, math.inf]
    assert pred == [-1, 0, -1]
