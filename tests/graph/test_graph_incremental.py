"""The graph follows the store as events arrive: a refresh gives the graph a rebuild would give."""

from __future__ import annotations

import numpy as np

from netwarden.graph.build import LAYERS, build_graph
from netwarden.graph.expand import expand_network, load_graph
from netwarden.ingest.pipeline import ingest_files
from netwarden.store import open_store
from sample_events import make_events, write_jsonl


def _ties(graph, layer: str) -> dict[tuple[str, str], float]:
    """Ties by account ids, at the precision the loaded graph keeps (float32 weights)."""
    m = getattr(graph, layer) if layer in ("kinds", "made_to", "declined") else graph.layers[layer]
    m = m.tocoo()
    return {(graph.ids[int(r)], graph.ids[int(c)]): float(np.float32(v)) for r, c, v in zip(m.row, m.col, m.data,
                                                                                          strict=True) if v != 0}


def _count_builds(monkeypatch) -> list:
    from netwarden.graph import build

    calls: list = []
    real = build.build_graph
    monkeypatch.setattr(build, "build_graph", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def _ev(n: int, kind: str, data: dict) -> dict:
    return {"v": 1, "id": f"x{n:04d}", "kind": kind, "time": f"2026-03-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z",
            "data": data}


def test_refresh_equals_a_rebuild_as_events_arrive(db_url, tmp_path, monkeypatch):
    events = make_events(accounts=40, posts=160, seed=3)
    cut = len(events) // 2
    late = [  # out of order: likes, a reply and a repost of a post that arrives after them
        _ev(1, "like", {"account_id": "a1", "post_id": "late"}),
        _ev(2, "post", {"id": "r-late", "author_id": "a2", "text": "re", "reply_to": "late"}),
        _ev(3, "post", {"id": "rp-late", "author_id": "a3", "text": "", "repost_of": "late"}),
    ]
    after = [
        _ev(10, "post", {"id": "late", "author_id": "a39", "text": "#zzlatetag", "hashtags": ["zzlatetag"],
                         "mentions": ["a38"]}),
        _ev(11, "post", {"id": "late2", "author_id": "a37", "text": "#zzlatetag", "hashtags": ["zzlatetag"]}),
        _ev(12, "account", {"id": "newcomer", "handle": "newcomer"}),
        _ev(13, "follow", {"src": "newcomer", "dst": "a0"}),
        _ev(14, "follow", {"src": "a5", "dst": "a6"}),
        _ev(15, "unfollow", {"src": "a5", "dst": "a6"}),
        _ev(16, "post_edit", {"id": "late2", "text": "edited", "mentions": ["a36"]}),
    ]
    store = open_store(db_url)
    write_jsonl(tmp_path / "one.jsonl", events[:cut] + late)
    ingest_files(store, [tmp_path / "one.jsonl"])
    before, _ = load_graph(store, fresh=True)
    assert "newcomer" not in before.index

    write_jsonl(tmp_path / "two.jsonl", events[cut:] + after)
    ingest_files(store, [tmp_path / "two.jsonl"])
    builds = _count_builds(monkeypatch)
    graph, pri = load_graph(store)  # the cached graph, refreshed
    assert not builds and len(pri) == graph.n
    rebuilt = build_graph(store)
    assert sorted(graph.ids) == sorted(rebuilt.ids)
    for layer in (*LAYERS, "kinds", "made_to"):
        assert _ties(graph, layer) == _ties(rebuilt, layer), layer

    inter = _ties(graph, "interaction")
    assert ("newcomer", "a0") in inter  # a new account and its follow
    made = _ties(graph, "made_to")  # who made the tie: the newcomer followed a0, not the other way
    assert ("a0", "newcomer") in made and ("newcomer", "a0") not in made
    assert ("a1", "a39") in inter and ("a2", "a39") in inter and ("a3", "a39") in inter  # ties to a late post
    assert ("a37", "a36") in inter  # a mention added by an edit
    assert ("a39", "a37") in _ties(graph, "hashtag")  # a rare tag shared by two new posts
    assert graph.last_event_seq == rebuilt.last_event_seq
    # expansion runs on the refreshed graph: the newcomer's one tie is a0, so every path goes through it
    members = expand_network(store, ["newcomer"], top_k=40).members
    assert "a0" in {c.account_id for c in members}
    paths = [c.path for c in members if c.path and c.account_id != "a0"]
    assert paths and all(p[:2] == ["newcomer", "a0"] for p in paths)
    store.close()


def test_unfollow_removes_the_tie(sqlite_url, tmp_path):
    store = open_store(sqlite_url)
    base = [_ev(1, "account", {"id": "u1", "handle": "u1"}), _ev(2, "account", {"id": "u2", "handle": "u2"}),
            _ev(3, "follow", {"src": "u1", "dst": "u2"})]
    write_jsonl(tmp_path / "a.jsonl", base)
    ingest_files(store, [tmp_path / "a.jsonl"])
    g, _ = load_graph(store, fresh=True)
    i, j = g.index["u1"], g.index["u2"]
    assert g.layers["interaction"][i, j] > 0
    write_jsonl(tmp_path / "b.jsonl", [_ev(4, "unfollow", {"src": "u1", "dst": "u2"})])
    ingest_files(store, [tmp_path / "b.jsonl"])
    g, _ = load_graph(store)
    assert g.layers["interaction"][i, j] == 0 and g.kinds[i, j] == 0
    assert np.all(g.layers["interaction"].data > 0)
    store.close()


def test_many_new_events_rebuild_instead(sqlite_url, tmp_path, monkeypatch):
    from netwarden.graph import snapshot

    store = open_store(sqlite_url)
    write_jsonl(tmp_path / "a.jsonl", make_events(accounts=20, posts=40, seed=4))
    ingest_files(store, [tmp_path / "a.jsonl"])
    first, _ = load_graph(store, fresh=True)
    write_jsonl(tmp_path / "b.jsonl", [_ev(1, "follow", {"src": "a1", "dst": "a2"}),
                                       _ev(2, "follow", {"src": "a3", "dst": "a4"})])
    ingest_files(store, [tmp_path / "b.jsonl"])
    monkeypatch.setattr(snapshot, "REBUILD_AFTER", 1)
    builds = _count_builds(monkeypatch)
    graph, _ = load_graph(store)
    assert graph is not first and builds == [1]  # two new events > 1: rebuilt, not folded in
    assert _ties(graph, "interaction") == _ties(build_graph(store), "interaction")
    store.close()


def test_events_that_do_not_change_the_graph_are_read_past_once(sqlite_url, tmp_path, monkeypatch):
    """Sessions and account states after the last graph event: one refresh records the position, the next
    load does not refresh (nor recompute priors) again."""
    from netwarden.graph import snapshot

    store = open_store(sqlite_url)
    write_jsonl(tmp_path / "a.jsonl", make_events(accounts=20, posts=40, seed=4))
    ingest_files(store, [tmp_path / "a.jsonl"])
    graph, _ = load_graph(store, fresh=True)
    write_jsonl(tmp_path / "b.jsonl", [_ev(1, "session", {"account_id": "a1", "ip": "192.0.2.1"}),
                                       _ev(2, "account_state", {"id": "a2", "state": "suspended"})])
    ingest_files(store, [tmp_path / "b.jsonl"])
    calls = []
    real = snapshot.fresh_graph  # a splice (graph.splice) or a refresh: either reads the events since
    monkeypatch.setattr(snapshot, "fresh_graph", lambda *a, **k: calls.append(1) or real(*a, **k))
    refreshed = load_graph(store)[0]
    assert refreshed.last_event_seq > graph.last_event_seq
    for _ in range(3):
        assert load_graph(store)[0] is refreshed
    assert len(calls) == 1
    store.close()


def test_an_approved_request_is_one_tie(db_url, tmp_path):
    """Issue 16 item 4: an approved follow request is stored as the request and as the follow it
    became; the graph counts the relationship once, like a plain follow, and names it once."""
    accounts = [_ev(i, "account", {"id": a, "handle": a, "protected": a in ("b", "d")})
                for i, a in enumerate(["a", "b", "c", "d", "e", "f"])]
    store = open_store(db_url)
    write_jsonl(tmp_path / "one.jsonl", [
        *accounts,
        _ev(10, "follow", {"src": "e", "dst": "f"}),  # a plain follow, for comparison
        _ev(11, "follow_request", {"src": "a", "dst": "b", "state": "pending"}),
        _ev(12, "follow_request", {"src": "a", "dst": "b", "state": "approved"}),
        _ev(13, "follow_request", {"src": "c", "dst": "d", "state": "pending"}),
    ])
    ingest_files(store, [tmp_path / "one.jsonl"])
    graph, _ = load_graph(store, fresh=True)
    inter = _ties(graph, "interaction")
    assert inter[("a", "b")] == inter[("e", "f")] == 1.0
    # a pending request is no tie (d has not let c in): it is kept apart, as d declining c for now
    assert ("c", "d") not in inter and ("d", "c") not in inter
    assert _ties(graph, "declined") == {("d", "c"): 1.0}
    i = graph.index
    assert graph.edge_kinds(i["a"], i["b"]) == ["follow"]
    assert graph.edge_kinds(i["c"], i["d"]) == []
    # the same after a refresh: d approves c, then c unfollows d (the approved request no longer ties them)
    write_jsonl(tmp_path / "two.jsonl", [
        _ev(20, "follow_request", {"src": "c", "dst": "d", "state": "approved"}),
    ])
    ingest_files(store, [tmp_path / "two.jsonl"])
    graph, _ = load_graph(store)
    assert _ties(graph, "interaction")[("c", "d")] == 1.0
    assert graph.edge_kinds(i["c"], i["d"]) == ["follow"]
    assert _ties(graph, "declined") == {}  # approved: no longer declined
    write_jsonl(tmp_path / "three.jsonl", [_ev(30, "unfollow", {"src": "c", "dst": "d"})])
    ingest_files(store, [tmp_path / "three.jsonl"])
    graph, _ = load_graph(store)
    assert ("c", "d") not in _ties(graph, "interaction")
    # b rejects e's request: declined, after a refresh as after a rebuild
    write_jsonl(tmp_path / "four.jsonl", [
        _ev(40, "follow_request", {"src": "e", "dst": "b", "state": "pending"}),
        _ev(41, "follow_request", {"src": "e", "dst": "b", "state": "rejected"}),
    ])
    ingest_files(store, [tmp_path / "four.jsonl"])
    graph, _ = load_graph(store)
    assert _ties(graph, "declined") == {("b", "e"): 1.0}
    for layer in ("interaction", "kinds", "declined"):
        assert _ties(graph, layer) == _ties(build_graph(store), layer)
