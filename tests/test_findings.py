"""The registry of signal kinds (netwarden.findings): every kind declares its key, risk, prior, label and
words, and a kind counts in risk, the graph priors, the queue filter and the case reasons.

SAMPLES holds one finding of each registered kind: a kind registered without a sample here fails
`test_every_kind_counts_everywhere`, so a new kind cannot be registered without showing that it counts.
"""

from __future__ import annotations

import json

import orjson
import pytest
from PIL import Image

from netwarden import cases, findings, risk
from netwarden.findings import RiskInputs, Signal
from netwarden.findings.media import MEDIA_FIRST
from netwarden.ingest.pipeline import ingest_files
from netwarden.store import open_store
from netwarden.store import schema as t

SAMPLES = {
    "media_match": Signal("media_match", "account", "a1", "a1", 1.0,
                          {"bank": "demo", "entry": 3, "signal_type": "pdq", "distance": 4, "media_id": "m1"}, (1, 3, "m1")),
    "media_classifier": Signal("media_classifier", "account", "a1", "a1", 0.9,
                               {"classifier": "c", "version": "1", "score": 0.9, "threshold": 0.8, "media_id": "m1"},
                               ("c", "1", "m1")),
    "url_match": Signal("url_match", "post", "p1", "a1", 1.0,
                        {"bank": "links", "bank_id": 2, "entry": 5, "signal_type": "url", "signal": "https://x.example/a",
                         "url": "https://x.example/a", "field": "post"}, ("post", 2, 5, "https://x.example/a")),
    "term_hit": Signal("term_hit", "post", "p1", "a1", 1.0, {"term": "zzplaceholder", "term_id": "t1",
                                                             "category": "demo", "field": "post"}, ("post", "t1", 0, 5, "v1")),
    "off_platform_route": Signal("off_platform_route", "account", "a1", "a1", 0.5,
                                 {"url": "https://chat.example/inv", "route": "invite", "field": "bio"},
                                 ("bio", "https://chat.example/inv")),
    "ban_evasion": Signal("ban_evasion", "account", "a1", "a1", 1.9,
                          {"suspended_account": "a0", "score": 1.9, "reasons": ["same avatar image"]}, ("a0",)),
}
DERIVED = {"contact": {"contacts": [{"platform": "kik", "handle": "zz_x", "field": "bio"}]},
           "proximity": {"proximity": [{"case_id": 1, "rank": 2, "core": True}]},
           "user_report": {"reports": [{"id": "r1", "category": "child_sexual_exploitation", "reporter_kind": "account",
                                        "reporter_id": "u1", "outcome": None, "weight": 1.0,
                                        "credibility": "account, no earlier resolved reports"}]}}


def test_every_kind_declares_what_the_system_reads():
    names = [k.name for k in findings.kinds()]
    assert len(names) == len(set(names))
    assert set(names) == set(SAMPLES) | set(DERIVED), "add a sample of the new kind to SAMPLES or DERIVED"
    for k in findings.kinds():
        assert k.label  # the queue filter's name
        assert k.prior >= 0 and (k.prior > 0) == k.stored  # every stored kind feeds the graph priors
    with pytest.raises(ValueError, match="already registered"):
        findings.register(findings.get("term_hit"))
    with pytest.raises(KeyError, match="not registered"):
        _ = Signal("no_such_kind", "account", "a", "a", 1.0, {}).key
    with pytest.raises(ValueError, match="never stored"):
        _ = Signal("contact", "account", "a", "a", 1.0, {}).key


@pytest.mark.parametrize("name", sorted(SAMPLES) + sorted(DERIVED))
def test_every_kind_counts_everywhere(name):
    kind = findings.get(name)
    if name in SAMPLES:
        s = SAMPLES[name]
        r = risk.score("a1", [s])
        assert findings.describe(name, s.detail) not in ("", name)
        row = s.row("2026-01-01T00:00:00Z")
        assert row["kind"] == name and row["key"] == s.key and json.loads(row["detail"]) == s.detail
    else:
        r = risk.score("a1", [], **DERIVED[name])
    assert r.score > 0 and name in r.kinds
    assert kind.risk(RiskInputs({}, [], [])) == []  # nothing found, nothing counts


def test_key_schemes_are_those_of_stored_rows():
    """Keys are the idempotency contract with rows already stored: they must not change."""
    term = Signal("term_hit", "post", "p1", "a1", 1.0, {}, ("post", "t7", 3, 9, "v2"))
    route = Signal("off_platform_route", "account", "a1", "a1", 0.5, {}, ("bio", "https://chat.example/inv"))
    url = Signal("url_match", "post", "p1", "a1", 1.0, {}, ("url", 4, 12, "https://files.example/d/x"))
    assert term.key == "term_hit:post:p1:8f561324347391b479a2100f"
    assert route.key == "route:account:a1:5d412efa9aa8a22b48558cc6"
    assert url.key == "url_match:post:p1:e50bc6cd4f06492e52642802"
    media = findings.on_media("media_match", {"id": "m1", "post_id": "p1", "account_id": "a1"}, 1.0, {}, (3, 17))
    assert [s.key for s in media] == ["media_match:3:17:media:m1", "media_match:3:17:post:p1:m1",
                                      "media_match:3:17:account:a1:m1"]
    assert [s.subject_type for s in findings.on_media("media_match", {"id": "m2"}, 1.0, {}, (3, 17))] == ["media"]


def test_vpdq_closeness_is_measured_in_frames_not_pdq_bits():
    def pts(detail):
        return risk.score("a", [{"kind": "media_match", "subject_type": "account", "subject_id": "a", "weight": 1.0,
                                 "detail": {"bank": "b", "entry": 1, "media_id": "m", **detail}}]).score

    assert pts({"signal_type": "pdq", "distance": 0}) == pts({"signal_type": "md5", "distance": 0}) == MEDIA_FIRST
    assert pts({"signal_type": "pdq", "distance": 31}) == MEDIA_FIRST / 2  # at the PDQ threshold: half
    assert pts({"signal_type": "vpdq", "distance": 0, "query_match_percent": 100.0}) == MEDIA_FIRST
    at_threshold = pts({"signal_type": "vpdq", "distance": 20, "query_match_percent": 80.0})
    assert at_threshold == MEDIA_FIRST / 2  # 80% of the frames is vPDQ's threshold, as 31 bits is PDQ's
    assert pts({"signal_type": "vpdq", "distance": 10, "query_match_percent": 90.0}) == MEDIA_FIRST * 0.75
    best = risk.score("a", [{"kind": "media_match", "subject_type": "account", "subject_id": "a", "weight": 1.0,
                             "detail": {"bank": "b", "entry": e, "media_id": "m", "label": f"L{e}", **d}}
                            for e, d in ((1, {"signal_type": "vpdq", "distance": 15, "query_match_percent": 85.0}),
                                         (2, {"signal_type": "pdq", "distance": 16}))])
    assert "pdq distance 16" in best.reasons[0]["text"] and "85.0% of its frames" in best.reasons[1]["text"]


def test_a_classifier_hit_counts_in_risk_priors_queue_and_reasons(tmp_path):
    """The classifier's signal, written by the ingest hook, reaches every reader of the registry."""
    from netwarden.config import Settings
    from netwarden.graph.build import build_graph
    from netwarden.graph.expand import Candidate, attach_signals, signal_priors

    settings = Settings(classifier="netwarden.media.classifier:PixelPropertyDouble")
    red = Image.new("RGB", (128, 128), (230, 20, 20))
    red.paste((20, 20, 230), (0, 0, 30, 30))
    red.save(tmp_path / "red.png")
    Image.new("RGB", (128, 128), (20, 120, 20)).save(tmp_path / "green.png")
    ev = []

    def add(kind, data):
        ev.append({"v": 1, "id": f"e{len(ev)}", "kind": kind, "time": f"2026-01-01T00:00:{len(ev):02d}Z", "data": data})

    for i in range(1, 5):
        add("account", {"id": f"a{i}", "handle": f"user{i}"})
    add("post", {"id": "p1", "author_id": "a1", "text": "x", "media": [{"id": "m1", "kind": "photo", "uri": "red.png"}]})
    add("post", {"id": "p2", "author_id": "a2", "text": "y", "media": [{"id": "m2", "kind": "photo", "uri": "green.png"}]})
    for s, d in (("a1", "a2"), ("a2", "a3"), ("a3", "a4"), ("a4", "a1")):
        add("follow", {"src": s, "dst": d})
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in ev))
    store = open_store(f"sqlite:///{tmp_path / 'nw.db'}")
    try:
        ingest_files(store, [path], signals=True, settings=settings)
        with store.engine.begin() as conn:
            kinds = {(r.kind, r.account_id) for r in conn.execute(t.signals.select())}
            assert kinds == {("media_classifier", "a1")}
            risk.refresh(conn)
            r = risk.get(conn, "a1")
            assert [x["kind"] for x in r.reasons] == ["media_classifier"] and r.score > 0
            assert "pixel-property-double" in r.reasons[0]["text"] and risk.get(conn, "a2").score == 0
            assert [q["account_id"] for q in cases.account_queue(conn, kind="media_classifier")] == ["a1"]
        graph = build_graph(store)
        pri, strength = signal_priors(store, graph)
        assert pri[graph.index["a1"]] > 1.0 and pri[graph.index["a2"]] == 1.0
        members = [Candidate("a1", 1.0, 1), Candidate("a2", 0.5, 2)]
        attach_signals(store, members)
        assert [s["kind"] for s in members[0].signals] == ["media_classifier"]  # the account row, once
        assert "scored" in members[0].signals[0]["reason"] and not members[1].signals
    finally:
        store.close()


def test_report_weight_follows_the_reporters_record():
    from netwarden.findings.reports import CHILD_SAFETY, credibility
    from netwarden.model import CHILD_SAFETY as VOCABULARY
    from netwarden.model import REPORT_CATEGORIES

    assert CHILD_SAFETY is VOCABULARY and set(CHILD_SAFETY) <= set(REPORT_CATEGORIES)
    new, _ = credibility("account")
    cleared, why = credibility("account", upheld=0, cleared=3)
    upheld, _ = credibility("account", upheld=3, cleared=0)
    flagger, _ = credibility("trusted_flagger")
    assert cleared < new < upheld <= flagger and "3 cleared" in why
    rep = {"id": "r1", "category": "child_sexual_exploitation", "reporter_kind": "account", "reporter_id": "u1",
           "outcome": None, "credibility": "x"}
    low = risk.score("a1", [], reports=[{**rep, "weight": cleared}])
    high = risk.score("a1", [], reports=[{**rep, "weight": flagger}])
    assert 0 < low.score < high.score and "weight" in high.reasons[0]["text"]
    assert risk.score("a1", [], reports=[{**rep, "weight": 1.0, "outcome": "no_violation"}]).score == 0
