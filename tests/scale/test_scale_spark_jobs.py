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
    return Prepared(graph, None, pri).matrix, seeds


def test_spark_pagerank_equals_the_same_iterations_on_one_machine(spark, at_ingest):
    """Multi-seed PPR by iterated DataFrame joins == the same synchronous iterations in numpy."""
    import numpy as np

    from netwarden.scale.spark_sweep import ppr_arrays, ppr_numpy

    matrix, seeds = _fused(at_ingest)
    assert len(seeds) >= 5
    n1, p1 = ppr_arrays(spark, matrix, seeds, tol=0.35)  # 10 iterations: the algorithm, not the precision
    n2, p2 = ppr_numpy(matrix, seeds, tol=0.35)
    assert n1.tolist() == n2.tolist()
    assert np.allclose(p1, p2, rtol=1e-9, atol=1e-15)


def test_sweep_with_iterated_pagerank_finds_the_single_machine_groups(at_ingest):
    """At the production tolerance the iterations (run by Spark above) give the push PPR's groups."""
    from netwarden.graph.sweep import sweep
    from netwarden.scale.spark_sweep import ppr_numpy, sweep_with

    store = open_store(at_ingest)
    a = sweep(store)  # the single-machine sweep itself
    b = sweep_with(store, lambda m, s: ppr_numpy(m, s, tol=1e-4))
    store.close()
    assert a, "the world's networks must show up as groups"
    assert [(sorted(g.accounts), sorted(g.core)) for g in a] == [(sorted(g.accounts), sorted(g.core)) for g in b]


def test_spark_evasion_links_equal_the_single_machine_links(spark, at_ingest):
    """Candidates by Spark joins and MinHashLSH, scored by the same rules: graph.evasion's links."""
    from netwarden.graph.evasion import find_evasion
    from netwarden.scale.spark_evasion import evasion_spark

    store = open_store(at_ingest)
    want = [lk.as_dict() for lk in find_evasion(store)]
    got = [lk.as_dict() for lk in evasion_spark(store, spark)]
    store.close()
    assert want, "the world's re-registrations must be linked"
    assert got == want
