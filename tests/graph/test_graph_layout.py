"""The compact layout: the interaction layer and its kinds read back from the fused matrix equal the
layer they were folded from, entry for entry, also where a group layer adds to a tie."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from netwarden.graph import layout
from netwarden.graph.build import GROUP_LAYERS, KIND_BITS, Graph
from netwarden.graph.snapshot import stored_form


def _sym(rng, n, m, scale):
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = src != dst
    a = sp.csr_matrix((rng.random(int(keep.sum())) * scale + 0.1, (src[keep], dst[keep])), shape=(n, n))
    return (a + a.T).tocsr()


def _graph(seed=0, n=300):
    rng = np.random.default_rng(seed)
    inter = _sym(rng, n, 1500, 2.0)
    kinds = inter.copy()
    kinds.data = rng.choice(list(KIND_BITS.values()), inter.nnz).astype(np.float64)
    handle = _sym(rng, n, 200, 1.0)
    handle = (handle + sp.csr_matrix((np.full(40, 0.3), (inter.tocoo().row[:40], inter.tocoo().col[:40])),
                                     shape=(n, n))).tocsr()  # ties in both layers
    handle = ((handle + handle.T) / 2).tocsr()
    layers = {"interaction": inter, **{name: sp.csr_matrix((n, n)) for name in GROUP_LAYERS}, "handle": handle}
    ids = [f"a{i}" for i in range(n)]
    return Graph(ids=ids, index={x: i for i, x in enumerate(ids)}, layers=layers, kinds=kinds,
                 group_keys={name: {} for name in GROUP_LAYERS})


def _dict(m):
    m = m.tocoo()
    return {(int(r), int(c)): float(v) for r, c, v in zip(m.row, m.col, m.data, strict=True)}


def test_the_interaction_layer_read_from_the_fused_matrix_equals_the_layer():
    plain = _graph()
    g = stored_form(plain)
    assert isinstance(g, layout.CompactGraph)
    inter32 = plain.layers["interaction"].astype(np.float32)
    assert _dict(g.layers["interaction"]) == _dict(inter32)
    assert _dict(g.kinds) == _dict(plain.kinds.astype(np.uint8))
    assert g.layer_nnz("interaction") == inter32.nnz and g.edges() == plain.edges()
    fi = g.inter
    assert 0 < len(fi.side_pos) < inter32.nnz // 10  # only the ties a group layer adds to
    nodes = np.array([5, 0, 17, 299, 5])
    assert _dict(g.layer_rows("interaction", nodes)) == _dict(inter32[nodes])
    assert _dict(g.layer_rows("handle", nodes)) == _dict(plain.layers["handle"].astype(np.float32)[nodes])
    f = g.prepared[next(iter(g.prepared))][0].tocoo()
    pairs = list(zip(f.row.tolist(), f.col.tolist(), strict=True))
    want = [plain.edge_kinds(u, v) for u, v in pairs]
    assert any(want) and [g.edge_kinds(u, v) for u, v in pairs] == want
    # the compact graph holds no second copy of the interaction layer
    assert g.memory_bytes() < inter32.data.nbytes + inter32.indices.nbytes


def test_a_tie_of_no_kind_and_an_unfused_weight_survive():
    plain = _graph(seed=3)
    plain.kinds.data[:7] = 0  # a tie with no kind bit: kept through the side table
    g = stored_form(plain)
    assert isinstance(g, layout.CompactGraph)
    assert _dict(g.layers["interaction"]) == _dict(plain.layers["interaction"].astype(np.float32))
    k = g.kinds
    assert k.nnz == plain.kinds.nnz and _dict(k) == _dict(plain.kinds.astype(np.uint8))
