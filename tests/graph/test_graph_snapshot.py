"""The graph snapshot on disk: what a fresh process maps equals the graph built from the store, a
refreshed version equals a rebuilt one, and a stale or foreign version is never used as current."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from netwarden.graph import build, expand, layout, snapshot
from netwarden.graph.build import LAYERS, Graph, build_graph
from netwarden.ingest.pipeline import ingest_files
from netwarden.store import open_store
from sample_events import make_events, write_jsonl


def _ev(n: int, kind: str, data: dict) -> dict:
    return {"v": 1, "id": f"x{n:04d}", "kind": kind, "time": f"2026-03-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z",
            "data": data}


LATE = [
    _ev(1, "like", {"account_id": "a1", "post_id": "late"}),
    _ev(2, "post", {"id": "late", "author_id": "a29", "text": "#zzlatetag", "hashtags": ["zzlatetag"],
                    "mentions": ["a28"]}),
    _ev(3, "post", {"id": "late2", "author_id": "a27", "text": "#zzlatetag", "hashtags": ["zzlatetag"]}),
    _ev(4, "account", {"id": "newcomer", "handle": "newcomer"}),
    _ev(5, "follow", {"src": "newcomer", "dst": "a0"}),
    _ev(6, "follow", {"src": "a5", "dst": "a6"}),
    _ev(7, "unfollow", {"src": "a5", "dst": "a6"}),
    _ev(8, "post_edit", {"id": "late2", "text": "edited", "mentions": ["a26"]}),
]


@pytest.fixture(autouse=True)
def _fresh_process(monkeypatch):
    """Each test starts like a new process: no graph cached in memory."""
    monkeypatch.setattr(expand, "_CACHE", {})
    monkeypatch.delenv("NETWARDEN_GRAPH_DIR", raising=False)


def _store(tmp_path, events):
    store = open_store(f"sqlite:///{tmp_path / 'nw.db'}")
    write_jsonl(tmp_path / "a.jsonl", events)
    ingest_files(store, [tmp_path / "a.jsonl"])
    return store


def _add(store, tmp_path, events, name="b.jsonl"):
    write_jsonl(tmp_path / name, events)
    ingest_files(store, [tmp_path / name])


def _by_id(g: Graph, m) -> dict[tuple[str, str], float]:
    m = m.tocoo()
    return {(g.ids[int(r)], g.ids[int(c)]): float(v) for r, c, v in zip(m.row, m.col, m.data, strict=True)}


def _same_graph(a: Graph, pa: np.ndarray, b: Graph, pb: np.ndarray) -> None:
    """Equal as graphs of account ids, weight for weight at the stored precision (rows may be ordered differently)."""
    assert sorted(a.ids) == sorted(b.ids)
    for name in LAYERS:
        assert _by_id(a, a.layers[name]) == _by_id(b, b.layers[name]), name
    assert _by_id(a, a.kinds) == _by_id(b, b.kinds)
    assert a.made_to is not None and _by_id(a, a.made_to) == _by_id(b, b.made_to)  # who made each tie
    assert a.declined is not None and _by_id(a, a.declined) == _by_id(b, b.declined)  # requests not let in
    fa, da = a.prepared[snapshot._full_key()]
    fb, db = b.prepared[snapshot._full_key()]
    assert _by_id(a, fa) == _by_id(b, fb)
    pos = {x: i for i, x in enumerate(b.ids)}
    perm = np.array([pos[x] for x in a.ids])
    assert np.array_equal(da, db[perm]) and np.array_equal(pa, pb[perm])
    for name in build.GROUP_LAYERS:
        ka = {(a.ids[u], a.ids[v]): k for (u, v), k in snapshot.PairKeys.from_dict(a.group_keys[name]).items()}
        kb = {(b.ids[u], b.ids[v]): k for (u, v), k in snapshot.PairKeys.from_dict(b.group_keys[name]).items()}
        assert {tuple(sorted(p)): k for p, k in ka.items()} == {tuple(sorted(p)): k for p, k in kb.items()}, name


def test_the_mapped_snapshot_equals_the_graph_built_from_the_store(tmp_path):
    store = _store(tmp_path, make_events(accounts=30, posts=120, seed=5))
    root = snapshot.root_for(store)
    assert root == tmp_path / "nw.db.graph"
    g, pri, mark, how = snapshot.ensure(store, root)
    assert how == "build" and (root / "CURRENT").read_text().strip() == mark.version
    snap = snapshot.open_current(root, snapshot.store_identity(store))
    assert snap.mark == mark == snapshot.store_mark(store)
    built = snapshot.stored_form(build_graph(store))
    assert list(snap.graph.ids) == list(built.ids)  # same rows, not only the same ties
    _same_graph(snap.graph, snap.priors, built, expand.signal_priors(store, built)[0])
    f, deg = snap.graph.prepared[snapshot._full_key()]
    assert isinstance(f.data, np.ndarray) and f.data.dtype == np.float32 and f.indices.dtype == np.int32
    assert np.allclose(deg, np.asarray(build_graph(store).fused(None).sum(axis=1)).ravel(), rtol=1e-6)
    # the kinds and group keys of every tie, as the evidence paths name them, read from the mapped files
    raw = build_graph(store)
    fused = raw.fused(None).tocoo()
    pairs = [(int(u), int(v)) for u, v in zip(fused.row, fused.col, strict=True)]
    assert len(pairs) > 100
    for m in [*raw.layers.values(), raw.kinds]:
        m.has_sorted_indices = False  # the built graph answers by scipy's own indexing
    assert [snap.graph.edge_kinds(u, v) for u, v in pairs] == [raw.edge_kinds(u, v) for u, v in pairs]
    assert any(":" in k for u, v in pairs for k in raw.edge_kinds(u, v))  # group keys among them
    # the id index is a binary search over the mapped ids
    idx = snap.graph.index
    assert all(idx[a] == i for i, a in enumerate(built.ids)) and len(idx) == built.n
    assert "nobody" not in idx and idx.get("nobody") is None and idx.get("a1\0") is None
    with pytest.raises(KeyError):
        idx["nobody"]
    store.close()


def test_a_fresh_process_maps_the_snapshot_and_ranks_as_the_builder_did(tmp_path, monkeypatch):
    store = _store(tmp_path, make_events(accounts=30, posts=120, seed=6))
    want = expand.expand_network(store, ["a0"], top_k=15).as_dict()  # builds and writes the snapshot
    monkeypatch.setattr(expand, "_CACHE", {})
    monkeypatch.setattr(build, "build_graph", lambda *a, **k: pytest.fail("a current snapshot is not rebuilt"))
    monkeypatch.setattr(Graph, "refresh", lambda *a, **k: pytest.fail("a current snapshot is not refreshed"))
    graph, _ = expand.load_graph(store)
    assert isinstance(graph.ids, snapshot.SnapshotIds)  # mapped, not rebuilt
    assert expand.expand_network(store, ["a0"], top_k=15).as_dict() == want
    store.close()


def test_a_refreshed_version_equals_a_rebuilt_one(tmp_path, monkeypatch):
    events = make_events(accounts=30, posts=120, seed=7)
    store = _store(tmp_path, events[: len(events) // 2])
    root = snapshot.root_for(store)
    first = snapshot.ensure(store, root)[2]
    _add(store, tmp_path, events[len(events) // 2:] + LATE)
    old = snapshot.status(store, root)
    assert old["state"] == "stale" and old["events_behind"] > 0
    g, pri, mark, how = snapshot.ensure(store, root)
    assert how == f"refresh of {first.version} (rows spliced)" and "newcomer" in g.index
    assert snapshot.status(store, root)["state"] == "current"
    refreshed = snapshot.open_current(root)
    assert refreshed.mark == mark and sorted(p.name for p in root.iterdir() if p.name.startswith("v")) == sorted(
        [first.version, mark.version])  # the version before is kept for processes still mapping it
    rebuilt_g, rebuilt_pri, _, how = snapshot.ensure(store, root, full=True)
    assert how == "build"
    _same_graph(refreshed.graph, refreshed.priors, rebuilt_g, rebuilt_pri)
    ties = _by_id(refreshed.graph, refreshed.graph.layers["interaction"])
    assert ("newcomer", "a0") in ties and ("a1", "a29") in ties and ("a27", "a26") in ties
    assert ("a29", "a27") in _by_id(refreshed.graph, refreshed.graph.layers["hashtag"])
    store.close()


def test_stale_versions_are_detected_and_never_used(tmp_path, monkeypatch):
    store = _store(tmp_path, make_events(accounts=30, posts=120, seed=8))
    root = snapshot.root_for(store)
    snapshot.ensure(store, root)
    v1 = snapshot.current_version(root)
    # a signal alone (a bank match found by a later rescan) makes it stale: the media layer and priors read signals
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO signals (key, account_id, kind, subject_type, subject_id, weight, detail, "
                          "created_at) VALUES ('t:1', 'a3', 'term_hit', 'account', 'a3', 2.0, '{}', "
                          "'2026-03-01T00:00:00Z')"))
    st = snapshot.status(store, root)
    assert st["state"] == "stale" and st["signals_changed"] and st["events_behind"] == 0
    graph, pri = expand.load_graph(store)
    assert snapshot.current_version(root) != v1 and pri[graph.index["a3"]] > 1
    # events since: a fresh process refreshes rather than serving the old version
    monkeypatch.setattr(expand, "_CACHE", {})
    _add(store, tmp_path, LATE)
    graph, _ = expand.load_graph(store)
    assert "newcomer" in graph.index and snapshot.status(store, root)["state"] == "current"
    # a process holding the graph in memory sees new events too
    _add(store, tmp_path, [_ev(20, "follow", {"src": "a7", "dst": "newcomer"})], "c.jsonl")
    g2, _ = expand.load_graph(store)
    assert g2.layers["interaction"][g2.index["a7"], g2.index["newcomer"]] > 0
    store.close()


def test_a_snapshot_of_another_store_or_format_is_refused(tmp_path, monkeypatch):
    store = _store(tmp_path, make_events(accounts=20, posts=40, seed=9))
    shared = tmp_path / "shared.graph"
    store.graph_dir = str(shared)  # the graph_dir setting, as the face opening the store passes it
    assert snapshot.root_for(store) == shared
    snapshot.ensure(store, shared)
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other = _store(other_dir, make_events(accounts=20, posts=40, seed=9))
    assert snapshot.open_current(shared, snapshot.store_identity(other)) is None
    assert snapshot.status(other, shared)["state"] == "another store"
    meta_path = shared / snapshot.current_version(shared) / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "format": snapshot.FORMAT - 1}))
    assert snapshot.open_current(shared) is None and snapshot.status(store, shared)["state"] == "old format"
    _, _, _, how = snapshot.ensure(store, shared)
    # an unreadable version is rebuilt, not refreshed, and says why
    assert how == f"build (the snapshot on disk was format {snapshot.FORMAT - 1}, this version reads format {snapshot.FORMAT})"
    assert snapshot.status(store, shared)["state"] == "current"
    store.graph_dir = "off"
    assert snapshot.root_for(store) is None and snapshot.status(store, None)["state"] == "disabled"
    store.close()
    other.close()


def test_graph_build_and_status_commands(tmp_path):
    from netwarden.cli import app

    store = _store(tmp_path, make_events(accounts=20, posts=40, seed=10))
    db = str(tmp_path / "nw.db")
    runner = CliRunner()
    res = runner.invoke(app, ["graph", "status", "--db", db, "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["state"] == "missing"
    res = runner.invoke(app, ["graph", "build", "--db", db, "--json"])
    out = json.loads(res.stdout)
    assert res.exit_code == 0 and out["state"] == "current" and out["how"] == "build"
    assert out["snapshot"]["accounts"] == 20 and out["mib_per_million_edges"] > 0
    _add(store, tmp_path, LATE[3:5])
    res = runner.invoke(app, ["graph", "status", "--db", db])
    assert res.exit_code == 0 and "stale" in res.stdout and "events ahead" in res.stdout
    res = runner.invoke(app, ["graph", "build", "--db", db, "--json"])
    assert json.loads(res.stdout)["how"].startswith("refresh of ")
    res = runner.invoke(app, ["graph", "build", "--db", "sqlite://"])
    assert res.exit_code != 0 and "NETWARDEN_GRAPH_DIR" in str(res.exception)
    # a snapshot written by an older version (format 3: before the packed codes) is named and rebuilt
    root = snapshot.root_for(store)
    meta_path = root / snapshot.current_version(root) / "meta.json"
    meta_path.write_text(json.dumps({**json.loads(meta_path.read_text()), "format": 3}))
    res = runner.invoke(app, ["graph", "status", "--db", db])
    assert res.exit_code == 0 and f"written as format 3, this version reads format {snapshot.FORMAT}" in res.stdout
    res = runner.invoke(app, ["graph", "build", "--db", db])
    assert res.exit_code == 0 and "the snapshot on disk was format 3" in res.stdout and res.exception is None
    assert json.loads(runner.invoke(app, ["graph", "status", "--db", db, "--json"]).stdout)["state"] == "current"
    store.close()


@pytest.mark.parametrize("distinct", [1, 2, 3, 4, 5, 16, 17, 200, 256, 257, 300])
def test_packed_codes_read_back_every_value(distinct):
    rng = np.random.default_rng(distinct)
    palette = np.sort(rng.choice(512, distinct, replace=False)).astype(np.uint16)
    values = rng.permutation(np.concatenate([palette, palette[rng.integers(0, distinct, 1001)]]))  # each value once at least
    codes = layout.Codes.of(values)
    assert codes.width == next(w for w in (1, 2, 4, 8, 16) if distinct <= 1 << w)
    assert codes.packed.nbytes <= (len(values) * codes.width + 7) // 8 + 1
    assert np.array_equal(codes.full(), values) and len(codes) == len(values)
    pos = rng.integers(0, len(values), 300)
    assert np.array_equal(codes[pos], values[pos])
    assert [codes.at(int(i)) for i in pos] == values[pos].tolist()
    assert layout.Codes.of(np.zeros(0, np.uint16)).full().tolist() == []


def test_sparse_priors_read_as_the_dense_array():
    dense = np.ones(50)
    dense[[3, 17, 49]] = [1.2, 1.05, 1.25]
    p = snapshot.SparsePriors.of(dense)
    assert len(p.idx) == 3 and len(p) == 50 and np.array_equal(np.asarray(p), dense)
    rows = np.array([0, 3, 17, 49, 48, 3])
    assert np.array_equal(p[rows], dense[rows]) and p[17] == 1.05 and p[-1] == 1.25 and p[5] == 1.0
    with pytest.raises(IndexError):
        p[np.array([50])]
    none = snapshot.SparsePriors.of(np.ones(4))
    assert np.array_equal(none[np.arange(4)], np.ones(4))


def test_who_made_each_tie_is_a_bit_of_the_fused_codes(tmp_path):
    store = _store(tmp_path, make_events(accounts=30, posts=120, seed=12))
    built = build_graph(store)
    stored = snapshot.stored_form(built)
    assert isinstance(stored.made_to, layout.MadeTo)  # folded in: no matrix of its own
    want = built.made_to.tocsr()
    assert _by_id(stored, stored.made_to) == _by_id(built, want)
    rows = np.array([0, 4, 9, 4])
    assert (stored.made_to[rows] != want[rows]).nnz == 0
    u, v = want.nonzero()
    assert len(u) > 50
    from netwarden.graph.expand import made_back
    assert made_back(stored.made_to, u, v).all()
    fu, fv = stored.prepared[snapshot._full_key()][0].nonzero()
    hit = np.asarray(want[fu, fv]).ravel() > 0
    assert np.array_equal(made_back(stored.made_to, fu, fv), hit) and not hit.all()
    root = snapshot.root_for(store)
    snapshot.ensure(store, root)
    d = root / snapshot.current_version(root)
    assert not (d / "made_to.indices.npy").exists() and json.loads((d / "meta.json").read_text())["made_to"] == "fused"
    store.close()


def test_ingest_keeps_an_existing_snapshot_current(tmp_path):
    from netwarden.cli import app

    db = str(tmp_path / "nw.db")
    runner = CliRunner()
    write_jsonl(tmp_path / "a.jsonl", make_events(accounts=20, posts=40, seed=11))
    res = runner.invoke(app, ["ingest", str(tmp_path / "a.jsonl"), "--db", db, "--json"])
    assert res.exit_code == 0 and "graph_snapshot" not in json.loads(res.stdout)  # none made by an ingest
    assert runner.invoke(app, ["graph", "build", "--db", db]).exit_code == 0
    write_jsonl(tmp_path / "b.jsonl", LATE)
    res = runner.invoke(app, ["ingest", str(tmp_path / "b.jsonl"), "--db", db, "--json"])
    out = json.loads(res.stdout)
    assert res.exit_code == 0 and out["graph_snapshot"]["how"].startswith("refresh of ")
    assert json.loads(runner.invoke(app, ["graph", "status", "--db", db, "--json"]).stdout)["state"] == "current"
    write_jsonl(tmp_path / "c.jsonl", [_ev(30, "follow", {"src": "a3", "dst": "newcomer"})])
    res = runner.invoke(app, ["ingest", str(tmp_path / "c.jsonl"), "--db", db, "--no-graph", "--json"])
    assert res.exit_code == 0 and "graph_snapshot" not in json.loads(res.stdout)
    assert json.loads(runner.invoke(app, ["graph", "status", "--db", db, "--json"]).stdout)["state"] == "stale"


# ties only, between accounts the graph has: follows, unfollows, requests (pending, approved, rejected),
# likes and unlikes, some of them of ties that already exist, one between two protected accounts (a0, a5)
TIES_ONLY = [
    _ev(40, "follow", {"src": "a3", "dst": "a17"}),
    _ev(41, "follow", {"src": "a17", "dst": "a3"}),
    _ev(42, "unfollow", {"src": "a1", "dst": "a2"}),
    _ev(43, "follow_request", {"src": "a8", "dst": "a0", "state": "pending"}),
    _ev(44, "follow_request", {"src": "a9", "dst": "a5", "state": "rejected"}),
    _ev(45, "follow_request", {"src": "a11", "dst": "a10", "state": "approved"}),
    _ev(46, "follow_request", {"src": "a0", "dst": "a5", "state": "approved"}),
    _ev(47, "like", {"account_id": "a29", "post_id": "p1"}),
    _ev(48, "like", {"account_id": "a4", "post_id": "p7"}),
    _ev(49, "unlike", {"account_id": "a4", "post_id": "p7"}),
    _ev(50, "follow", {"src": "a22", "dst": "a23"}),
    _ev(51, "unfollow", {"src": "a22", "dst": "a23"}),
]


def _arrays(d) -> dict[str, np.ndarray]:
    return {p.name: np.load(p) for p in sorted(d.iterdir()) if p.suffix == ".npy"}


def _stale_then_current(tmp_path, events, delta):
    """A store of `events` with a snapshot, then `delta` ingested and the snapshot brought up to date:
    (store, root, the first version's mark, its folder, the new mark, how it was made)."""
    store = _store(tmp_path, events)
    root = snapshot.root_for(store)
    first = snapshot.ensure(store, root)[2]
    _add(store, tmp_path, delta)
    _, _, mark, how = snapshot.ensure(store, root)
    return store, root, first, root / first.version, mark, how


def _whole_refresh(monkeypatch, store, root, base, first, mark):
    """The version at `base` refreshed the whole-matrix way (the splice refused): graph, priors, how."""
    with monkeypatch.context() as m:
        m.setattr(snapshot.splice, "refresh", lambda *a: None)
        return snapshot.fresh_graph(store, snapshot.open_current(root, version=base.name).graph, first, mark)


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_a_ties_only_delta_is_spliced_into_the_rows_it_touches_and_equals_a_refresh_and_a_rebuild(tmp_path, monkeypatch, seed):
    store, root, first, base, mark, how = _stale_then_current(tmp_path, make_events(accounts=30, posts=120, seed=seed),
                                                              TIES_ONLY)
    assert how == f"refresh of {first.version} (rows spliced)" and mark.seq > first.seq
    spliced = root / mark.version
    for name in ("ids_sorted.npy", "ids_pos.npy", "ids_rank.npy", "gk_handle.key.npy"):  # linked, not written
        assert (spliced / name).stat().st_ino == (base / name).stat().st_ino, name
    assert (spliced / "fused.data.npy").stat().st_ino != (base / "fused.data.npy").stat().st_ino
    want = snapshot.open_current(root)
    # the same base refreshed the whole-matrix way (materialize, Graph.refresh, stored_form): every file equal
    slow = tmp_path / "slow"
    gs, ps, how_s = _whole_refresh(monkeypatch, store, root, base, first, mark)
    assert how_s == f"refresh of {first.version}"
    snapshot.write(slow, gs, ps, mark, snapshot.store_identity(store), how_s, 0.0)
    a, s = _arrays(spliced), _arrays(slow / mark.version)
    assert a.keys() == s.keys()
    for name in a:
        assert a[name].dtype == s[name].dtype and np.array_equal(a[name], s[name]), name
    # and as a graph of account ids, the same as a rebuild from the store
    rebuilt_g, rebuilt_pri, _, how = snapshot.ensure(store, root, full=True)
    assert how == "build"
    _same_graph(want.graph, want.priors, rebuilt_g, rebuilt_pri)
    ties = _by_id(want.graph, want.graph.layers["interaction"])
    assert ("a3", "a17") in ties and ("a0", "a5") in ties
    before = _arrays(base)
    assert not all(np.array_equal(before[f], a[f]) for f in ("fused.indices.npy", "fused.data.npy", "inter.codes.npy"))
    store.close()


SHA = ["ab" * 32, "cd" * 32]
# content: new posts joining a hashtag and media groups and making new ones, new accounts with a shared
# avatar and a shared contact, a profile edit that leaves an avatar group and a contact group, a post edit
# that drops a hashtag, an author the graph has never seen, and ties among them
CONTENT = [
    _ev(70, "post", {"id": "c1", "author_id": "a3", "text": "#Tag1 #zznew", "hashtags": ["Tag1", "zznew"],
                     "media": [{"id": "cm1", "kind": "photo", "sha256": SHA[0]}]}),
    _ev(71, "post", {"id": "c2", "author_id": "a4", "text": "#zznew", "hashtags": ["zznew"],
                     "media": [{"id": "cm2", "kind": "photo", "sha256": SHA[0]}]}),
    _ev(72, "account", {"id": "fresh1", "handle": "fresh1", "bio": "kik: zzshared_kik",
                        "avatar": {"id": "av7", "kind": "photo", "uri": "media/av7.png"}}),
    _ev(73, "account", {"id": "fresh2", "handle": "fresh2", "bio": "add me kik: zzshared_kik"}),
    _ev(74, "account", {"id": "a9", "handle": "user_9", "bio": "kik: zzshared_kik"}),
    _ev(75, "account", {"id": "a2", "handle": "user_2", "bio": "moved",
                        "avatar": {"id": "av3", "kind": "photo", "uri": "media/av3.png"}}),
    _ev(76, "post_edit", {"id": "p5", "text": "no tags now", "hashtags": []}),
    _ev(77, "post", {"id": "c3", "author_id": "stranger", "text": "#Tag2", "hashtags": ["Tag2"]}),
    _ev(78, "follow", {"src": "fresh1", "dst": "a3"}),
    _ev(79, "like", {"account_id": "fresh2", "post_id": "c1"}),
    _ev(80, "account", {"id": "a9", "handle": "user_9", "bio": "gone quiet"}),
    _ev(81, "post", {"id": "c4", "author_id": "a11", "text": "#zznew", "hashtags": ["zznew"],
                     "media": [{"id": "cm3", "kind": "photo", "sha256": SHA[1]}]}),
]


@pytest.mark.parametrize("seed", [24, 25, 26])
def test_a_content_delta_is_spliced_group_by_group_and_equals_a_rebuild(tmp_path, monkeypatch, seed):
    # 50 accounts and 3 new ones stay inside one step of build.group_scale (49.4 <= n < 53.8)
    store, root, first, base, mark, how = _stale_then_current(tmp_path, make_events(accounts=50, posts=150, seed=seed),
                                                              CONTENT)
    assert how == f"refresh of {first.version} (rows spliced)"
    want = snapshot.open_current(root)
    assert {"fresh1", "fresh2", "stranger"} <= set(want.graph.index)
    spliced = root / mark.version
    assert (spliced / "ids_sorted.npy").stat().st_ino != (base / "ids_sorted.npy").stat().st_ino  # accounts added
    # the same base refreshed the whole-matrix way, and a rebuild: the same graph of account ids
    gs, ps, how_s = _whole_refresh(monkeypatch, store, root, base, first, mark)
    assert how_s == f"refresh of {first.version}"
    _same_graph(want.graph, want.priors, gs, ps)
    rebuilt_g, rebuilt_pri, _, how = snapshot.ensure(store, root, full=True)
    assert how == "build"
    _same_graph(want.graph, want.priors, rebuilt_g, rebuilt_pri)
    lay = {name: _by_id(want.graph, want.graph.layers[name]) for name in build.GROUP_LAYERS}
    assert ("fresh1", "fresh2") in lay["handle"] and ("a9", "fresh1") in lay["handle"]  # a contact once shown stays
    assert ("a7", "fresh1") in lay["avatar"] and ("a2", "a3") in lay["avatar"]
    assert ("a3", "a4") in lay["media"] and ("a11", "a3") in lay["hashtag"]
    store.close()


def test_what_a_splice_does_not_take(tmp_path):
    """A removed signal, or a graph grown past a step of the hashtag weights' account count, takes the
    whole refresh (and the same graph as a rebuild)."""
    store = _store(tmp_path, make_events(accounts=30, posts=120, seed=27))
    root = snapshot.root_for(store)
    first = snapshot.ensure(store, root)[2]
    _add(store, tmp_path, [_ev(60, "follow", {"src": "a3", "dst": "brandnew"})])  # a new account, ties only
    g, _, second, how = snapshot.ensure(store, root)
    assert how == f"refresh of {first.version} (rows spliced)" and "brandnew" in g.index
    with store.engine.begin() as conn:  # a bank match for two accounts: the media layer changes
        for i, a in enumerate(("a3", "a8")):
            conn.execute(text("INSERT INTO signals (key, account_id, kind, subject_type, subject_id, weight, detail, "
                              f"created_at) VALUES ('t:{i}', '{a}', 'media_match', 'account', '{a}', 2.0, "
                              "'{\"bank\": \"b\", \"entry\": \"e1\"}', '2026-03-01T00:00:00Z')"))
    g, pri, third, how = snapshot.ensure(store, root)
    assert how == f"refresh of {second.version} (rows spliced)"
    assert g.layers["media"][g.index["a3"], g.index["a8"]] > 0 and pri[g.index["a3"]] > 1
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM signals WHERE key = 't:0'"))
    g, pri, fourth, how = snapshot.ensure(store, root)
    assert how == f"refresh of {third.version}" and g.layers["media"][g.index["a3"], g.index["a8"]] == 0
    # 30 accounts: 2^(39/8) = 29.3 <= n < 2^(40/8) = 32; two more signups cross the step
    assert build.group_scale(g.n) != build.group_scale(g.n + 2)
    _add(store, tmp_path, [_ev(61, "account", {"id": f"s{i}", "handle": f"s{i}"}) for i in range(2)], "c.jsonl")
    g, pri, fifth, how = snapshot.ensure(store, root)
    assert how == f"refresh of {fourth.version}"
    rebuilt_g, rebuilt_pri, _, _ = snapshot.ensure(store, root, full=True)
    _same_graph(snapshot.open_current(root).graph, snapshot.open_current(root).priors, rebuilt_g, rebuilt_pri)
    store.close()
