"""The 2-hop BFS baselines: hop order, neutral and repeatable inside a hop; the ranked variant."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from netwarden.graph.build import GROUP_LAYERS, Graph
from netwarden.graph.evaluate import bfs_ratios, two_hop, two_hop_ranked
from netwarden.graph.expand import Prepared


def _graph(edges: list[tuple[int, int, str]], n: int) -> Graph:
    r = [a for a, b, _ in edges] + [b for a, b, _ in edges]
    c = [b for a, b, _ in edges] + [a for a, b, _ in edges]
    w = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, n))
    layers = {"interaction": w.tocsr(), **{name: sp.csr_matrix((n, n)) for name in GROUP_LAYERS}}
    ids = [f"a{i}" for i in range(n)]
    return Graph(ids=ids, index={a: i for i, a in enumerate(ids)}, layers=layers, kinds=sp.csr_matrix((n, n)))


def _star():
    # seed 0: contacts 1-4; 2-hop accounts 5-9 (5 reached from all four contacts, the rest from one)
    edges = [(0, i, "follow") for i in range(1, 5)]
    edges += [(i, 5, "follow") for i in range(1, 5)]
    edges += [(1, 6, "follow"), (2, 7, "follow"), (3, 8, "follow"), (4, 9, "follow")]
    return Prepared(_graph(edges, 10), {"interaction"})


def test_two_hop_is_hop_ordered_neutral_and_repeatable():
    prep = _star()
    out = two_hop(prep, 0, 100)
    assert set(out[:4]) == {1, 2, 3, 4} and set(out[4:]) == {5, 6, 7, 8, 9}
    assert out == two_hop(prep, 0, 100)
    assert len(two_hop(prep, 0, 6)) == 6


def test_two_hop_ranked_puts_the_shared_contact_first():
    assert two_hop_ranked(_star(), 0, 5)[4] == 5


def test_bfs_ratio_is_recall_over_the_baselines():
    summary = [{"camouflage": 0.3, "method": "netwarden", "recall@|R|": 0.9},
               {"camouflage": 0.3, "method": "2-hop", "recall@|R|": 0.3},
               {"camouflage": 0.3, "method": "2-hop-ranked", "recall@|R|": 0.6}]
    assert bfs_ratios(summary) == [{"camouflage": 0.3, "netwarden": 0.9, "x 2-hop": 3.0, "x 2-hop-ranked": 1.5}]
