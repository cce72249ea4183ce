"""Ranking behaviour on small hand-built graphs: hub damping, silent members, evidence paths."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from netwarden.graph.build import GROUP_LAYERS, KIND_BITS, Graph
from netwarden.graph.expand import Prepared, expand_prepared


def _graph(edges: list[tuple[int, int, str]], n: int) -> Graph:
    r = [a for a, b, _ in edges] + [b for a, b, _ in edges]
    c = [b for a, b, _ in edges] + [a for a, b, _ in edges]
    w = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, n))
    w.sum_duplicates()
    bits = [KIND_BITS[k] for _, _, k in edges] * 2
    kinds = sp.csr_matrix((np.array(bits, dtype=float), (r, c)), shape=(n, n))
    layers = {"interaction": w.tocsr(), **{name: sp.csr_matrix((n, n)) for name in GROUP_LAYERS}}
    ids = [f"a{i}" for i in range(n)]
    return Graph(ids=ids, index={a: i for i, a in enumerate(ids)}, layers=layers, kinds=kinds.tocsr())


def _world(rng_seed: int = 0):
    """Members 0-11 (posting ring 0-7, silent 8-11 that only follow members), a hub 12 followed by
    every member and by 2000 outsiders, outsiders 13.. forming a sparse random background."""
    rng = np.random.default_rng(rng_seed)
    n = 13 + 2000
    edges = []
    for i in range(8):
        for j in range(i + 1, 8):
            if rng.random() < 0.8:
                edges.append((i, j, "reply"))
    for s in range(8, 12):
        for m in rng.choice(8, 4, replace=False):
            edges.append((s, int(m), "follow"))
    for m in range(12):
        edges.append((m, 12, "follow"))
        edges.append((m, int(13 + rng.integers(2000)), "follow"))  # camouflage
    for o in range(13, n):
        edges.append((o, 12, "follow"))
        for t in rng.choice(np.arange(13, n), 3, replace=False):
            if int(t) != o:
                edges.append((o, int(t), "follow"))
    return _graph(edges, n)


def test_hub_is_damped_and_members_rank_first():
    g = _world()
    exp = expand_prepared(Prepared(g), ["a0"], top_k=11, explain=False)
    top = [c.account_id for c in exp.members]
    assert "a12" not in top  # the celebrity every member follows is not a member
    assert len(set(top) & {f"a{i}" for i in range(1, 12)}) >= 10


def test_silent_members_are_found():
    g = _world(1)
    exp = expand_prepared(Prepared(g), ["a0"], top_k=11, explain=False)
    top = {c.account_id for c in exp.members}
    assert len({f"a{i}" for i in range(8, 12)} & top) >= 3


def test_seeds_are_excluded_and_extra_seeds_refresh_the_ranking():
    g = _world()
    one = expand_prepared(Prepared(g), ["a0"], top_k=20, explain=False)
    two = expand_prepared(Prepared(g), ["a0", "a8"], top_k=20, explain=False)
    assert "a0" not in [c.account_id for c in one.members]
    assert "a8" not in [c.account_id for c in two.members]
    assert [c.rank for c in two.members] == list(range(1, 21))


def test_evidence_path_with_edge_kinds():
    # seed 0 -reply- 1 -follow- 2 ; 2 is reachable only through 1
    g = _graph([(0, 1, "reply"), (1, 2, "follow"), (0, 3, "like"), (3, 1, "mention")], 5)
    exp = expand_prepared(Prepared(g), ["a0"], top_k=3)
    c2 = next(c for c in exp.members if c.account_id == "a2")
    assert c2.path == ["a0", "a1", "a2"]
    assert c2.path_edges == ["reply", "follow"]
    assert c2.layers == {"interaction": 1.0}
    assert all(isinstance(c.core, bool) for c in exp.members)


def test_group_layer_links_accounts_without_interaction():
    g = _graph([(0, 1, "follow"), (1, 2, "follow")], 6)
    # accounts 2 and 4 share a handle; 5 is unrelated
    h = sp.csr_matrix((np.array([3.0, 3.0]), ([2, 4], [4, 2])), shape=(6, 6))
    g.layers["handle"] = h
    g.group_keys["handle"] = {(2, 4): "kik:zzplaceholder"}
    with_handle = [c.account_id for c in expand_prepared(Prepared(g), ["a0"], top_k=5).members]
    without = [c.account_id for c in expand_prepared(Prepared(g, {"interaction"}), ["a0"], top_k=5, explain=False).members]
    assert "a4" in with_handle and "a4" not in without
    c4 = next(c for c in expand_prepared(Prepared(g), ["a0"], top_k=5).members if c.account_id == "a4")
    assert c4.path_edges[-1] == "handle:kik:zzplaceholder"
    assert c4.layers.get("handle") == 1.0


def _camouflaged_world(rng_seed: int = 0):
    """Members 0-9 reply to each other; silent members 10-13 only follow five members each; the seed
    (0) also follows 30 low-degree outsiders 14-43 (camouflage), and every member follows a hub (44)
    that 1000 outsiders 45.. follow too; outsiders follow each other sparsely."""
    rng = np.random.default_rng(rng_seed)
    n = 45 + 1000
    edges = []
    for i in range(10):
        for j in range(i + 1, 10):
            if rng.random() < 0.7:
                edges.append((i, j, "reply"))
    for s in range(10, 14):
        for m in rng.choice(10, 5, replace=False):
            edges.append((s, int(m), "follow"))
    for o in range(14, 44):
        edges.append((0, o, "follow"))
        edges.append((o, int(45 + rng.integers(1000)), "follow"))
    for m in range(14):
        edges.append((m, 44, "follow"))
    for o in range(45, n):
        edges.append((o, 44, "follow"))
        for t in rng.choice(np.arange(45, n), 2, replace=False):
            if int(t) != o:
                edges.append((o, int(t), "follow"))
    return _graph(edges, n)


def test_silent_members_outrank_the_seeds_incidental_contacts():
    # PPR alone keeps much of its mass next to the seed: its 30 one-tie contacts outranked silent
    # members whose only ties are follows into the network; the cohesion stage ranks by ties into it
    for rng_seed in range(3):
        g = _camouflaged_world(rng_seed)
        exp = expand_prepared(Prepared(g), ["a0"], top_k=13, explain=False)
        top = {c.account_id for c in exp.members}
        assert {f"a{i}" for i in range(10, 14)} <= top  # every silent member
        assert len(top & {f"a{i}" for i in range(1, 14)}) >= 12
        assert "a44" not in top  # the hub every member follows


def test_layer_shares_are_ties_into_the_network():
    g = _camouflaged_world()
    exp = expand_prepared(Prepared(g), ["a0"], top_k=13)
    for c in exp.members:
        assert abs(sum(c.layers.values()) - 1.0) < 1e-3
        assert c.path[0] == "a0"


def test_core_subgraph_from_candidate_rows_equals_the_whole_graph_slice():
    """mark_core fuses only the candidates' rows; it must give what slicing the whole fused graph gives."""
    from netwarden.graph.core import camouflage_scale, camouflage_weighted

    g = _world()
    g.layers["handle"] = g.layers["interaction"][::-1, ::-1].tocsr() * 0.5  # a second layer, other pattern
    nodes = np.array([3, 0, 12, 9, 40, 7, 500], dtype=np.int64)
    full = g.fused(None, ["interaction", "handle"])
    want = camouflage_scale(full[nodes][:, nodes].tocsr(), np.diff(full.indptr)[nodes])
    got = camouflage_weighted(g, ["interaction", "handle"], nodes)
    assert abs(got - want).max() < 1e-12 and got.nnz == want.nnz > 0


def _made(g: Graph, edges: list[tuple[int, int, str]]) -> Graph:
    """`g` knowing who made each tie: (a, b, kind) is a tie a made toward b."""
    from netwarden.graph.build import made_to

    g.made_to = made_to(np.array([a for a, _, _ in edges]), np.array([b for _, b, _ in edges]), g.n)
    return g


def _blended_world(rng_seed: int = 0) -> tuple[Graph, list[tuple[int, int, str]]]:
    """Members 0-19 follow each other (0-9 also reply); silent members 12-19 only follow. Every member
    also follows and likes accounts of one ordinary community 20-79 (camouflage), mostly its five
    most popular ones 20-24, which every member follows; the community's accounts follow each other,
    never a member; outsiders 80.. follow the community and each other."""
    rng = np.random.default_rng(rng_seed)
    n = 80 + 400
    edges: list[tuple[int, int, str]] = []
    for i in range(20):
        for j in rng.choice(20, 6, replace=False):
            if int(j) != i:
                edges.append((i, int(j), "follow"))
        for j in range(i + 1, 10 if i < 10 else 0):
            if rng.random() < 0.5:
                edges.append((i, j, "reply"))
        for t in range(20, 25):
            edges.append((i, t, "follow"))
            edges.append((i, t, "like"))
        for t in rng.choice(np.arange(25, 80), 8, replace=False):
            edges.append((i, int(t), "follow"))
    for c in range(20, 80):
        for t in rng.choice(np.arange(20, 80), 6, replace=False):
            if int(t) != c:
                edges.append((c, int(t), "follow"))
    for o in range(80, n):
        for t in rng.choice(np.arange(20, n), 3, replace=False):
            if int(t) != o:
                edges.append((o, int(t), "follow"))
    return _graph(edges, n), edges


def test_camouflage_targets_that_make_no_tie_to_the_network_rank_below_its_members():
    # the five community accounts every member follows look like members by their ties alone; what
    # tells them apart is that they never follow, like or answer a member
    for rng_seed in range(3):
        g, edges = _blended_world(rng_seed)
        hubs = {f"a{i}" for i in range(20, 25)}
        members = {f"a{i}" for i in range(1, 20)}
        blind = {c.account_id for c in expand_prepared(Prepared(g), ["a0"], top_k=19, explain=False).members}
        assert blind & hubs  # without direction the camouflage targets take members' places
        g = _made(g, edges)
        top = {c.account_id for c in expand_prepared(Prepared(g), ["a0"], top_k=19, explain=False).members}
        assert not top & hubs
        assert len(top & members) == 19  # silent members included


def test_an_account_that_makes_ties_to_the_network_is_not_discounted(monkeypatch):
    # only ties an account received are discounted, and only when it made under MADE_SHARE of its ties
    # into the network itself: silent members (who made most of theirs) score exactly as before, a
    # community account every member follows loses most of its score (one round, the mirror off)
    from netwarden.graph import expand

    monkeypatch.setattr(expand, "COHESION_ROUNDS", 1)
    monkeypatch.setattr(expand, "RECV_SHARE", 0.0)
    g, edges = _blended_world(0)
    s_blind = {c.account_id: c.score for c in expand_prepared(Prepared(g), ["a0"], top_k=80, explain=False).members}
    g = _made(g, edges)
    s_made = {c.account_id: c.score for c in expand_prepared(Prepared(g), ["a0"], top_k=80, explain=False).members}
    for i in range(12, 20):
        assert abs(s_made[f"a{i}"] - s_blind[f"a{i}"]) < 1e-9 * s_blind[f"a{i}"]
    for i in range(20, 25):
        assert s_made.get(f"a{i}", 0.0) < 0.5 * s_blind[f"a{i}"]


def test_an_account_that_only_follows_members_and_gets_nothing_back_is_discounted(monkeypatch):
    # the mirror of the above: outsiders 80-84 each follow 10 members and no member follows, likes or
    # answers them; silent members 12-19 follow members and are followed by some. With RECV_SHARE on
    # the followers lose most of their score and every member, silent ones included, ranks above them
    from netwarden.graph import expand

    monkeypatch.setattr(expand, "COHESION_ROUNDS", 1)
    g0, edges = _blended_world(1)
    edges = edges + [(o, m, "follow") for o in range(80, 85) for m in range(o - 80, o - 80 + 10)]
    g = _made(_graph(edges, g0.n), edges)
    monkeypatch.setattr(expand, "RECV_SHARE", 0.0)
    before = {c.account_id: c.score for c in expand_prepared(Prepared(g), ["a0"], top_k=100, explain=False).members}
    monkeypatch.setattr(expand, "RECV_SHARE", 0.1)
    after = {c.account_id: c.score for c in expand_prepared(Prepared(g), ["a0"], top_k=100, explain=False).members}
    for o in range(80, 85):
        assert after.get(f"a{o}", 0.0) < 0.5 * before[f"a{o}"]
    top = {c.account_id for c in expand_prepared(Prepared(g), ["a0"], top_k=19, explain=False).members}
    assert top == {f"a{i}" for i in range(1, 20)}  # silent members included, no follower


def test_made_back_reads_the_transpose_without_making_it():
    from netwarden.graph.expand import made_back

    rng = np.random.default_rng(3)
    for n, density in ((50, 0.1), (300, 0.02), (5, 0.0)):
        m = sp.random(n, n, density=density, random_state=rng, format="csr", data_rvs=lambda k: rng.integers(0, 3, k))
        m = m.astype(np.uint8)
        m.sort_indices()
        v, u = rng.integers(0, n, 400), rng.integers(0, n, 400)
        want = np.asarray(m.T.tocsr()[u, v] > 0).ravel() if n else np.zeros(0, bool)
        assert np.array_equal(made_back(m, v, u), want)
        assert n < 50 or made_back(m, v, u).any()


def test_the_mirror_ranks_the_same_by_lookup_as_by_the_transpose(monkeypatch):
    # the lookup (sorted made_to) and the transpose (the fallback for unsorted rows) give the same scores, bit for bit
    from netwarden.graph import expand

    g0, edges = _blended_world(2)
    edges = edges + [(o, m, "follow") for o in range(80, 85) for m in range(o - 80, o - 80 + 10)]
    g = _made(_graph(edges, g0.n), edges)
    g.made_to.sort_indices()
    assert g.made_to.has_canonical_format
    fast = Prepared(g).rank([0], 60)
    g2 = _made(_graph(edges, g0.n), edges)
    g2.made_to.has_canonical_format = False
    slow = Prepared(g2).rank([0], 60)
    for a, b in zip(fast, slow, strict=True):
        assert np.array_equal(a, b)
    monkeypatch.setattr(expand, "made_back", lambda *a: np.zeros(len(a[1]), dtype=bool))  # the check can fail
    assert not np.array_equal(Prepared(g).rank([0], 60)[1], fast[1])


def test_an_account_whose_requests_members_left_unapproved_ranks_below_members(monkeypatch):
    # outsiders 80-84 each follow 10 members and are followed back by two (the mirror does not discount
    # them); three protected members left each outsider's follow request pending or rejected. Without
    # DECLINED_PENALTY they take members' places; with it every member, silent ones included, ranks above
    from netwarden.graph import expand
    from netwarden.graph.build import declined_of

    g0, edges = _blended_world(1)
    edges = edges + [(o, m, "follow") for o in range(80, 85) for m in range(o - 80, o - 80 + 10)]
    edges = edges + [(m, o, "follow") for o in range(80, 85) for m in (o - 80 + 10, o - 80 + 11)]
    g = _made(_graph(edges, g0.n), edges)
    req = np.array([o for o in range(80, 85) for _ in range(3)])
    by = np.array([m for o in range(80, 85) for m in (o - 80 + 12, o - 80 + 13, o - 80 + 14)])
    g.declined = declined_of(req, by, g.n)
    outsiders = {f"a{o}" for o in range(80, 85)}
    members = {f"a{i}" for i in range(1, 20)}
    monkeypatch.setattr(expand, "DECLINED_PENALTY", 0.0)
    blind = {c.account_id for c in expand_prepared(Prepared(g), ["a0"], top_k=19, explain=False).members}
    assert blind & outsiders  # the check can fail: without the penalty they rank among the members
    monkeypatch.setattr(expand, "DECLINED_PENALTY", 1.0)
    top = {c.account_id for c in expand_prepared(Prepared(g), ["a0"], top_k=19, explain=False).members}
    assert top == members
    g.declined = None  # a graph without the matrix ranks as without the penalty
    assert {c.account_id for c in expand_prepared(Prepared(g), ["a0"], top_k=19, explain=False).members} == blind
