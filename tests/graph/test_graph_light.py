"""graph/csr.py: the CSR a cold expansion maps the snapshot with gives scipy's results bit for bit, and a
whole expansion over it equals the one over scipy matrices (ranking, scores, layers, paths, core, communities)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from netwarden.graph import core, csr, expand, layout, snapshot
from netwarden.ingest.pipeline import ingest_files
from netwarden.store import open_store
from sample_events import make_events, write_jsonl


def _random(rng, k, n, dtype=np.float32):
    m = sp.random(k, n, density=float(rng.uniform(0.02, 0.5)), random_state=rng, format="csr")
    m.data = (m.data * rng.uniform(0.1, 50)).astype(dtype)
    m.sort_indices()
    return m, csr.CSR(m.data, m.indices, m.indptr, m.shape)


def test_each_operation_equals_scipys():
    rng = np.random.default_rng(0)
    for _ in range(150):
        n = int(rng.integers(2, 200))
        m, c = _random(rng, n, n)
        nodes = rng.permutation(n)[: int(rng.integers(1, n + 1))]
        a, b = m[nodes], c[nodes]
        assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices) and np.array_equal(a.data, b.data)
        x = rng.random(n) * rng.uniform(1e-3, 10)
        assert np.array_equal(np.asarray(m @ x).ravel(), c @ x)
        sym = (m + m.T).tocsr()
        sym.sort_indices()
        csym = csr.CSR(sym.data, sym.indices, sym.indptr, sym.shape)
        want, got = layout.induced(sym[nodes], nodes), layout.induced(csym[nodes], nodes)
        assert isinstance(got, csr.CSR)
        for part in ("indptr", "indices", "data"):
            assert np.array_equal(getattr(want, part), getattr(got, part)), part
        gdeg = np.diff(sym[nodes].indptr)
        want, got = core.camouflage_scale(want, gdeg), core.camouflage_scale(got, gdeg)
        for part in ("indptr", "indices", "data"):
            assert np.array_equal(getattr(want, part), getattr(got, part)), part
        assert np.array_equal(np.asarray(want.sum(axis=1)).ravel(), got.sum(axis=1))
        tri = sp.triu(want, k=1).tocoo()
        r, cc, d = got.upper()
        assert np.array_equal(tri.row, r) and np.array_equal(tri.col, cc) and np.array_equal(tri.data, d)
        assert core.peel(want)[1] == core.peel(got)[1] and np.array_equal(core.peel(want)[0], core.peel(got)[0])
        if want.nnz:
            assert core.communities(want) == core.communities(got)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_expansion_over_the_light_snapshot_equals_the_scipy_one(tmp_path, monkeypatch, seed):
    monkeypatch.setattr(expand, "_CACHE", {})
    monkeypatch.setattr(expand, "_LIGHT", {})
    monkeypatch.delenv("NETWARDEN_GRAPH_DIR", raising=False)
    store = open_store(f"sqlite:///{tmp_path / 'nw.db'}")
    write_jsonl(tmp_path / "a.jsonl", make_events(accounts=60, posts=300, seed=seed))
    ingest_files(store, [tmp_path / "a.jsonl"])
    root = snapshot.root_for(store)
    snapshot.ensure(store, root)
    sid = snapshot.store_identity(store)
    heavy, lite = snapshot.open_current(root, sid), snapshot.open_current(root, sid, lite=True)
    # who made each tie is a bit of the fused entries' codes; its rows are read as the light CSR
    assert isinstance(lite.graph.made_to, layout.MadeTo) and isinstance(lite.graph.made_to[[0, 1]], csr.CSR)
    assert isinstance(lite.graph.prepared[snapshot._full_key()][0], csr.CSR)
    for seeds in (["a0"], ["a1", "a5"], ["a7"]):
        want = expand.expand_prepared(expand.Prepared(heavy.graph, None, heavy.priors), seeds, 40, store=store).as_dict()
        got = expand.expand_prepared(expand.Prepared(lite.graph, None, lite.priors), seeds, 40, store=store).as_dict()
        assert got == want and len(want["members"]) == 40
        assert any(m["core"] for m in want["members"]) and any(m["path_edges"] for m in want["members"])
    # expand_network maps the light form for all layers, the scipy one for chosen layers
    assert expand.expand_network(store, ["a0"], 40).as_dict() == \
        expand.expand_prepared(expand.Prepared(heavy.graph, None, heavy.priors), ["a0"], 40, store=store).as_dict()
    assert isinstance(expand._LIGHT[store.key][0].made_to[[0]], csr.CSR)
    expand.expand_network(store, ["a0"], 40, {"interaction", "handle"})
    assert not isinstance(expand._CACHE[store.key][0].made_to[[0]], csr.CSR)
    store.close()
