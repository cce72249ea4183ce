"""Spark batch jobs in local mode give the same results as the single-machine code on the same world."""

from __future__ import annotations

import json
import random

import pytest
from sqlalchemy import select

from netwarden.ingest.pipeline import ingest_files
from netwarden.media.hashing import MediaHashes
from netwarden.media.matcher import BankInfo, Matcher
from netwarden.store import media_banks as mb
from netwarden.store import open_store
from netwarden.store.schema import signals

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spark():
    from netwarden.scale.spark_common import spark_session

    s = spark_session("local[2]", "netwarden-tests", shuffle_partitions=4)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from netwarden.world import generate

    out = tmp_path_factory.mktemp("sw") / "w"
    generate(out, accounts=400, seed=3, networks=1, network_size=(30, 50))
    return out


def _import_bank(url, world) -> None:
    from netwarden.media.signals import read_csv

    rows, _ = read_csv((world / "bank.csv").read_text(), "bank.csv")
    store = open_store(url)
    with store.engine.begin() as conn:
        b = mb.create_bank(conn, "demo", exist_ok=True)
        mb.add_entries(conn, b["id"], [(r.signal_type, r.signal, r.label) for r in rows])
    store.close()


def _media_signals(url) -> dict[str, tuple]:
    store = open_store(url)
    out = {}
    with store.engine.connect() as conn:
        for r in conn.execute(select(signals).where(signals.c.kind == "media_match")):
            d = json.loads(r.detail)
            if r.subject_type == "media":
                d.pop("role", None)  # which of a media's uses the hook saw first
            out[r.key] = (r.account_id, r.subject_type, r.subject_id, r.weight, d)
    store.close()
    return out


@pytest.fixture(scope="module")
def at_ingest(world, tmp_path_factory) -> str:
    """The world ingested with its bank in place: the ingest hook matched the media."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sa') / 'a.db'}"
    _import_bank(url, world)
    store = open_store(url)
    ingest_files(store, [world / "events.jsonl"])
    store.close()
    return url


def test_retro_match_equals_matching_at_ingest(spark, world, at_ingest, tmp_path):
    """Bank first then ingest (the ingest hook matches) == ingest first, bank later, Spark retro-match."""
    from netwarden.scale.spark_retro import run_retro_match

    retro = f"sqlite:///{tmp_path / 'b.db'}"
    store = open_store(retro)
    ingest_files(store, [world / "events.jsonl"])
    store.close()
    assert _media_signals(retro) == {}
    _import_bank(retro, world)
    store = open_store(retro)
    summary = run_retro_match(store, spark=spark)
    store.close()
    expected = _media_signals(at_ingest)
    assert expected, "the world's known media must match its bank"
    assert summary["signals_written"] == len(expected)
    assert _media_signals(retro) == expected


def _flip(hexs: str, bits: list[int]) -> str:
    v = int(hexs, 16)
    for b in bits:
        v ^= 1 << b
    return f"{v:064x}"


def test_retro_pdq_edges_match_the_single_machine_matcher(spark):
    """Distances around each bank's threshold, several variants, exact hashes and a negative bank."""
    from netwarden.scale.spark_retro import match_df

    rng = random.Random(4)
    bank_h = [f"{rng.getrandbits(256):064x}" for _ in range(30)]
    banks = [BankInfo(1, "b1", threshold=31), BankInfo(2, "b2", threshold=20), BankInfo(3, "neg", negative=True),
             BankInfo(4, "off", enabled=False)]
    entries = []
    for i, h in enumerate(bank_h):
        entries.append({"id": i + 1, "bank_id": 1 if i % 3 else 2, "signal_type": "pdq", "signal": h, "label": f"l{i}"})
    entries.append({"id": 100, "bank_id": 4, "signal_type": "pdq", "signal": bank_h[0], "label": "off"})
    entries.append({"id": 101, "bank_id": 1, "signal_type": "md5", "signal": "ab" * 16, "label": "x"})
    media = []
    for n in range(150):
        base = rng.choice(bank_h)
        d = rng.choice([0, 5, 16, 17, 19, 20, 21, 30, 31, 32, 33, 40])
        orig = _flip(base, rng.sample(range(256), d))
        variants = {"orig": f"{rng.getrandbits(256):064x}" if n % 5 == 0 else orig,
                    "rot90": _flip(base, rng.sample(range(256), rng.choice([3, 25, 31, 60]))),
                    "flipx": f"{rng.getrandbits(256):064x}"}
        media.append(MediaHashes(name=f"m{n}", md5="ab" * 16 if n % 17 == 0 else None, pdq=variants["orig"],
                                 quality=40 if n % 23 == 0 else 90, variants=variants))
    # a negative-bank entry near one media suppresses its positive matches
    entries.append({"id": 102, "bank_id": 3, "signal_type": "pdq", "signal": media[7].variants["rot90"], "label": "n"})

    m = Matcher(banks)
    m.add_entries(entries)
    want = set()
    for h, res in zip(media, m.match_many(media), strict=True):
        for x in res.matches:
            want.add((h.name, x.entry_id, x.signal_type, x.distance, x.variant))
    assert len(want) > 40

    mdf = spark.createDataFrame([(h.name, h.md5, None, h.pdq, h.quality, json.dumps(h.variants)) for h in media],
                                "media_id string, md5 string, sha256 string, pdq string, quality int, variants string")
    edf = spark.createDataFrame([(e["id"], e["bank_id"], e["signal_type"], e["signal"], e["label"]) for e in entries],
                                "id int, bank_id int, signal_type string, signal string, label string")
    bdf = spark.createDataFrame([(b.id, b.name, b.threshold, b.enabled, b.negative) for b in banks],
                                "id int, name string, threshold int, enabled boolean, negative boolean")
    got = {(r.media_id, r.entry_id, r.signal_type, r.distance, r.variant) for r in match_df(mdf, edf, bdf).collect()}
    assert got == want


def _fused(url):
    from netwarden.graph.expand import Prepared, load_graph
    from netwarden.graph.sweep import confirmed_accounts

    store = open_store(url)
    graph, pri = load_graph(store)
    seeds = [graph.index[a] for a in confirmed_accounts(store) if a in graph.index]
    store.close()
    # float64 copies of the loaded graph's float32 weights: both sides iterate in double precision
    return Prepared(graph, None, pri).matrix.astype("float64"), seeds


def test_spark_pagerank_equals_the_same_iterations_on_one_machine(spark, at_ingest):
    """Multi-seed PPR by iterated DataFrame joins == the same synchronous iterations in numpy."""
    import numpy as np

    from support.oracles import ppr_arrays, ppr_numpy

    matrix, seeds = _fused(at_ingest)
    assert len(seeds) >= 5
    n1, p1 = ppr_arrays(spark, matrix, seeds, tol=0.35)  # 10 iterations: the algorithm, not the precision
    n2, p2 = ppr_numpy(matrix, seeds, tol=0.35)
    assert n1.tolist() == n2.tolist()
    assert np.allclose(p1, p2, rtol=1e-9, atol=1e-15)


def test_sweep_with_iterated_pagerank_finds_the_single_machine_groups(at_ingest):
    """At the production tolerance the iterations (run by Spark above) give the push PPR's groups."""
    from netwarden.graph.sweep import sweep
    from support.oracles import ppr_numpy, sweep_with

    store = open_store(at_ingest)
    a = sweep(store)  # the single-machine sweep itself
    b = sweep_with(store, lambda m, s: ppr_numpy(m, s, tol=1e-4))
    store.close()
    assert a, "the world's networks must show up as groups"
    assert [(sorted(g.accounts), sorted(g.core)) for g in a] == [(sorted(g.accounts), sorted(g.core)) for g in b]


def _driver_loads_refused(*a, **k):
    raise AssertionError("the Spark job must not load this on the driver")


def test_spark_evasion_links_equal_the_single_machine_links(spark, at_ingest, monkeypatch):
    """Inputs and candidates (joins, MinHashLSH) on Spark, scored by the same rules: graph.evasion's links."""
    from netwarden.graph import evasion
    from netwarden.scale.spark_evasion import evasion_spark

    store = open_store(at_ingest)
    want = [lk.as_dict() for lk in evasion.find_evasion(store, kinds=evasion.SPARK_BLOCKS)]
    monkeypatch.setattr(evasion, "load_inputs", _driver_loads_refused)
    got = [lk.as_dict() for lk in evasion_spark(store, spark)]
    store.close()
    assert want, "the world's re-registrations must be linked"
    assert got == want


def _frame_list(hexes: list[str], qualities: list[int]) -> list[dict]:
    return [{"frame": i, "quality": q, "pdq": h, "timestamp": float(i)} for i, (h, q) in enumerate(zip(hexes, qualities,
                                                                                                       strict=True))]


def test_retro_vpdq_equals_the_single_machine_matcher(spark):
    """Videos whose share of near frames falls around 80%, frame distances around two thresholds, duplicate
    and low-quality frames, JSON and line-format bank entries, a negative and a disabled bank."""
    from netwarden.scale.spark_retro import match_df, to_match

    rng = random.Random(8)
    banks = [BankInfo(1, "b1", threshold=31), BankInfo(2, "b2", threshold=20), BankInfo(3, "neg", negative=True),
             BankInfo(4, "off", enabled=False)]
    bank_videos = []
    for _ in range(8):
        n = rng.randint(4, 12)
        hexes = [f"{rng.getrandbits(256):064x}" for _ in range(n)]
        bank_videos.append(_frame_list(hexes, [30 if rng.random() < 0.15 else 90 for _ in range(n)]))
    entries = []
    for i, frames in enumerate(bank_videos):
        sig = (json.dumps(frames) if i % 2 else
               ";".join(f"{f['frame']},{f['quality']},{f['pdq']},{f['timestamp']}" for f in frames))
        entries.append({"id": i + 1, "bank_id": 1 if i % 3 else 2, "signal_type": "vpdq", "signal": sig, "label": f"v{i}"})
    entries.append({"id": 50, "bank_id": 4, "signal_type": "vpdq", "signal": json.dumps(bank_videos[0]), "label": "off"})
    entries.append({"id": 51, "bank_id": 1, "signal_type": "pdq", "signal": bank_videos[1][0]["pdq"], "label": "photo"})

    media = []
    for n in range(80):
        src = rng.choice(bank_videos)
        near = rng.choice([0, 10, 20, 21, 30, 31, 32, 45])
        hexes = []
        for f in src:
            r = rng.random()
            if r < 0.1:
                hexes.append(f"{rng.getrandbits(256):064x}")  # a frame the bank video does not have
            elif r < 0.2 and hexes:
                hexes.append(hexes[-1])  # a repeated frame counts once
            else:
                hexes.append(_flip(f["pdq"], rng.sample(range(256), rng.choice([0, 3, near]))))
        quals = [40 if rng.random() < 0.05 else 80 for _ in hexes]
        media.append(MediaHashes(name=f"v{n}", kind="video", md5=None, vpdq=_frame_list(hexes, quals)))
    # a negative-bank video near one media suppresses its positive matches
    entries.append({"id": 52, "bank_id": 3, "signal_type": "vpdq", "signal": json.dumps(media[5].vpdq), "label": "n"})

    m = Matcher(banks)
    m.add_entries(entries)
    want = set()
    for h, res in zip(media, m.match_many(media), strict=True):
        for x in res.matches:
            want.add((h.name, x.entry_id, x.signal, x.distance, x.variant, json.dumps(x.detail)))
    assert len(want) > 20 and any(d != 0 for _, _, _, d, _, _ in want), "matches below 100% must be covered"

    mdf = spark.createDataFrame([(h.name, None, None, None, None, None, json.dumps(h.vpdq)) for h in media],
                                "media_id string, md5 string, sha256 string, pdq string, quality int, variants string, "
                                "vpdq string")
    edf = spark.createDataFrame([(e["id"], e["bank_id"], e["signal_type"], e["signal"], e["label"]) for e in entries],
                                "id int, bank_id int, signal_type string, signal string, label string")
    bdf = spark.createDataFrame([(b.id, b.name, b.threshold, b.enabled, b.negative) for b in banks],
                                "id int, name string, threshold int, enabled boolean, negative boolean")
    names = {b.id: b.name for b in banks}
    got = set()
    for r in match_df(mdf, edf, bdf).collect():
        x = to_match(r.asDict(), names)
        got.add((r.media_id, x.entry_id, x.signal, x.distance, x.variant, json.dumps(x.detail)))
    assert got == want


def _video(path, scenes: list[int], shift: int = 0, size: int = 128, fps: int = 2) -> None:
    """An abstract video: one random block pattern per second (seeded by `scenes`), brightened by
    `shift`, encoded with mpeg4 by PyAV."""
    import av
    import numpy as np

    with av.open(str(path), "w") as out:
        st = out.add_stream("mpeg4", rate=fps)
        st.width = st.height = size
        st.pix_fmt = "yuv420p"
        for s in scenes:
            blocks = np.random.default_rng(s).integers(0, 240, (8, 8, 3), dtype=np.uint8) + np.uint8(shift)
            img = np.kron(blocks, np.ones((size // 8, size // 8, 1), dtype=np.uint8))
            for _ in range(fps):
                out.mux(st.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(st.encode())


def test_retro_match_of_videos_equals_matching_at_ingest(spark, tmp_path):
    """A store with posted videos: bank first then ingest == ingest first, then Spark retro-match."""
    from netwarden.media.video import vpdq_file
    from netwarden.scale.spark_retro import run_retro_match

    d = tmp_path / "w"
    d.mkdir()
    _video(d / "a.mp4", [1, 2, 3, 4, 5])
    _video(d / "a_light.mp4", [1, 2, 3, 4, 5], shift=12)  # brightened and re-encoded: frames 15-22 bits off
    _video(d / "a_cut.mp4", [1, 2, 9, 10, 11])  # shares 2 of 5 seconds: below 80%
    _video(d / "b.mp4", [6, 7, 8])
    _video(d / "c.mp4", [12, 13, 14, 15])
    bank = [("vpdq", json.dumps([f.to_dict() for f in vpdq_file(d / "a.mp4")]), "video-a"),
            ("vpdq", "\n".join(f.line() for f in vpdq_file(d / "b.mp4")), "video-b")]
    events = [{"v": 1, "id": f"acc-{a}", "kind": "account", "time": "2026-01-01T00:00:00Z",
               "data": {"id": a, "handle": f"h_{a}"}} for a in ("u1", "u2", "u3", "u4")]
    for n, (author, name) in enumerate([("u1", "a"), ("u2", "a_light"), ("u3", "a_cut"), ("u3", "b"), ("u4", "c")]):
        events.append({"v": 1, "id": f"post-{n}", "kind": "post", "time": f"2026-01-02T00:00:0{n}Z",
                       "data": {"id": f"p{n}", "author_id": author, "text": "clip",
                                "media": [{"id": f"m-{name}", "kind": "video", "uri": f"{name}.mp4"}]}})
    (d / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))

    def add_bank(url):
        store = open_store(url)
        with store.engine.begin() as conn:
            b = mb.create_bank(conn, "videos", exist_ok=True)
            mb.add_entries(conn, b["id"], bank)
        store.close()

    first = f"sqlite:///{tmp_path / 'first.db'}"
    add_bank(first)
    store = open_store(first)
    ingest_files(store, [d / "events.jsonl"])
    store.close()
    expected = _media_signals(first)
    matched = {v[2] for v in expected.values() if v[1] == "media"}
    assert matched == {"m-a", "m-a_light", "m-b"}

    later = f"sqlite:///{tmp_path / 'later.db'}"
    store = open_store(later)
    ingest_files(store, [d / "events.jsonl"])
    store.close()
    add_bank(later)
    store = open_store(later)
    summary = run_retro_match(store, spark=spark)
    store.close()
    assert summary["signals_written"] == len(expected)
    assert _media_signals(later) == expected


def test_spark_built_graph_equals_graph_build(spark, at_ingest):
    """The fused graph built on Spark from the store's tables == graph/build.py's fused matrix (same node
    order, same edges, weights to 1e-12), with the same priors."""
    import numpy as np
    import scipy.sparse as sp

    from netwarden.graph.build import build_graph
    from netwarden.graph.expand import Prepared, signal_priors
    from netwarden.scale.spark_graph import fused_edges, priors_df, register_views

    store = open_store(at_ingest)
    graph = build_graph(store)  # float64 weights: the driver's build itself, not the float32 stored form
    pri, _ = signal_priors(store, graph)
    register_views(spark, store)
    store.close()
    edges, nodes = fused_edges(spark)
    order = sorted((r.idx, r.account_id) for r in nodes.collect())
    assert [a for _, a in order] == graph.ids
    rows = edges.collect()
    n = graph.n
    got = sp.csr_matrix(([r.w for r in rows], ([r.src for r in rows], [r.dst for r in rows])), shape=(n, n))
    got1 = sp.csr_matrix(([r.w1 for r in rows], ([r.src for r in rows], [r.dst for r in rows])), shape=(n, n))
    for mine, want in ((got, Prepared(graph, None, pri).matrix), (got1, graph.fused(None))):
        want = want.tocsr()
        assert mine.nnz == want.nnz > 1000
        assert (mine != 0).toarray().tolist() == (want != 0).toarray().tolist()
        assert np.allclose(mine.toarray(), want.toarray(), rtol=1e-12, atol=0)
    for layer in ("handle", "media", "hashtag", "avatar"):
        assert graph.layers[layer].nnz, f"the world must exercise the {layer} layer"
    spri = np.ones(n)
    for r in priors_df(spark, nodes).collect():
        spri[r.idx] = r.pri
    assert np.allclose(spri, pri, rtol=1e-12) and (pri > 1).sum() > 10


def test_spark_sweep_on_the_spark_graph_finds_the_same_groups(spark, at_ingest, monkeypatch):
    """Graph, PageRank and candidate ranking on Spark == the same iterations on the driver-built graph; the
    run is stored (method spark, audited) like a single-machine sweep, without building the graph on the driver."""
    from netwarden import audit
    from netwarden.graph import build, expand, sweep
    from netwarden.scale.spark_sweep import run_sweep
    from support.oracles import ppr_numpy, sweep_with

    store = open_store(at_ingest)
    want = sweep_with(store, lambda m, s: ppr_numpy(m, s, tol=0.35))  # 10 iterations, as below
    for mod, name in ((build, "build_graph"), (expand, "load_graph"), (sweep, "load_graph")):
        monkeypatch.setattr(mod, name, _driver_loads_refused)
    out = run_sweep(store, spark=spark, actor="analyst:sp", tol=0.35)
    run = sweep.sweep_run(store, out["run"])
    with store.engine.connect() as conn:
        logged = audit.entries(conn, action="sweep.run")
    store.close()
    assert want, "the world's networks must show up as groups"
    got = run["groups"]
    assert [(g["accounts"], g["core"], g["reasons"]) for g in got] == [(g.accounts, g.core, g.reasons) for g in want]
    assert [round(g["score"], 9) for g in got] == [round(g.score, 9) for g in want]
    assert run["method"] == "spark" and run["actor"] == "analyst:sp" and out["groups"] and logged


def test_a_postgres_store_is_read_by_the_executors_over_jdbc(spark, world, pg_server, monkeypatch):
    """With the store on PostgreSQL the Spark jobs read its tables with Spark's JDBC source (split by a hash of
    the first column), not through the driver; the views hold the same rows, and evasion gives the same links."""
    from sqlalchemy import text

    from netwarden.graph import evasion
    from netwarden.scale import spark_common
    from netwarden.scale.spark_evasion import evasion_spark

    assert spark_common.jdbc_jar(), "scripts/install-sysdeps.sh installs libpostgresql-jdbc-java"
    url = pg_server.create_db("sparkjdbc")
    _import_bank(url, world)
    store = open_store(url)
    ingest_files(store, [world / "events.jsonl"])
    want = [lk.as_dict() for lk in evasion.find_evasion(store, kinds=evasion.SPARK_BLOCKS)]
    monkeypatch.setattr(evasion, "load_inputs", _driver_loads_refused)
    monkeypatch.setattr(spark_common, "_driver_df", _driver_loads_refused)
    spark_common.register_views(spark, store, ["accounts", "follows", "signals"])
    with store.engine.connect() as conn:
        n_acc = conn.execute(text("SELECT count(*) FROM accounts")).scalar()
        follows = sorted(tuple(r) for r in conn.execute(text("SELECT src, dst, state FROM follows")))
    assert spark.table("accounts").count() == n_acc > 0
    assert sorted(tuple(r) for r in spark.table("follows").collect()) == follows
    part = spark_common.jdbc_df(spark, store, select(signals.c.account_id, signals.c.kind), "account_id string, kind string",
                                partitions=4)
    assert part.rdd.getNumPartitions() == 4
    got = [lk.as_dict() for lk in evasion_spark(store, spark)]
    store.close()
    assert want and got == want


def test_retro_match_finds_event_supplied_pdq_as_the_stream_lookup_would(spark, tmp_path):
    """The stream's `--media lookup` keeps event-supplied hashes (no file read); a bank added later
    finds them on Spark with the same signals the lookup writes when the bank is there first."""
    import orjson

    from netwarden.ingest.pipeline import Ingestor
    from netwarden.scale.hash_lookup import stream_hooks
    from netwarden.scale.spark_retro import run_retro_match

    rng = random.Random(11)
    entries = [f"{rng.getrandbits(256):064x}" for _ in range(3)]
    md5 = f"{rng.getrandbits(128):032x}"
    media = [{"id": "m0", "pdq": entries[0], "pdq_quality": 90},
             {"id": "m1", "pdq": _flip(entries[1], rng.sample(range(256), 25)), "pdq_quality": 60},
             {"id": "m2", "pdq": _flip(entries[2], rng.sample(range(256), 40)), "pdq_quality": 90},  # too far
             {"id": "m3", "pdq": entries[0], "pdq_quality": 20},  # unusable
             {"id": "m4", "md5": md5, "pdq": f"{rng.getrandbits(256):064x}", "pdq_quality": 90},  # by its md5
             {"id": "m5", "md5": md5}]  # no pdq: no media_hashes row; retro-matching reads the media table's md5
    events = tmp_path / "ev.jsonl"
    events.write_bytes(b"\n".join(orjson.dumps(
        {"v": 1, "id": f"e{i}", "kind": "post", "time": "2026-03-01T12:00:00Z",
         "data": {"id": f"p{i}", "author_id": f"a{i % 2}", "media": [m]}}) for i, m in enumerate(media)) + b"\n")

    def add_bank(url):
        store = open_store(url)
        with store.engine.begin() as conn:
            b = mb.create_bank(conn, "later")
            mb.add_entries(conn, b["id"], [("pdq", e, "x") for e in entries] + [("md5", md5, "x")])
        store.close()

    def lookup_ingest(url):
        store = open_store(url)
        Ingestor(store, "native", 10, stream_hooks(store, None, "lookup")).run([events], None)
        store.close()

    first = f"sqlite:///{tmp_path / 'first.db'}"
    add_bank(first)
    lookup_ingest(first)
    later = f"sqlite:///{tmp_path / 'later.db'}"
    lookup_ingest(later)
    assert _media_signals(later) == {}
    add_bank(later)
    store = open_store(later)
    summary = run_retro_match(store, spark=spark)
    store.close()
    expected = _media_signals(first)
    assert {d["media_id"] for _, _, _, _, d in expected.values()} == {"m0", "m1", "m4", "m5"}
    assert summary["signals_written"] == len(expected) == 12
    assert _media_signals(later) == expected
