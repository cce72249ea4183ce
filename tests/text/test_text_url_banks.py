"""URL and domain banks: bank import (CSV, threatexchange-style lines, the `file` exchange), and
matching of links in posts, post link lists and bios during ingestion, on SQLite and PostgreSQL.

All hosts are under the reserved `.example` / `.invalid` names; nothing is fetched.
"""

from __future__ import annotations

import json
import subprocess

import orjson
from sqlalchemy import func, select

from clirun import CLI
from netwarden import risk, signal_types
from netwarden.findings import text as url_rules
from netwarden.ingest.batch import Batch
from netwarden.ingest.pipeline import ingest_files
from netwarden.ingest.text_signals import TextSignals
from netwarden.media.matcher import BankInfo, Matcher
from netwarden.media.signals import normalize, read_csv
from netwarden.store import media_banks as mb
from netwarden.store import open_store
from netwarden.store.schema import signals


def run(*args):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)


def test_csv_and_threatexchange_lines_hold_urls_and_domains():
    text = ("signal_type,signal,label\n"
            "url,HTTP://WWW.Files.Example/d/AbC/?utm_source=x&fbclid=1,partner-a\n"
            "domain,*.BadHost.example,partner-b\n"
            "uri https://drop.example/x\n"          # ThreatExchange indicator type, threatexchange file line
            "domain_name bücher-falle.example\n"    # IDN, stored as punycode
            "url,ftp://files.example/a,bad\n"
            "domain,https://files.example/,bad\n"
            "url,not a link\n"
            "domain,nodot\n")
    rows, problems = read_csv(text, "links.csv")
    assert [(r.signal_type, r.signal, r.label) for r in rows] == [
        ("url", "https://files.example/d/AbC", "partner-a"),
        ("domain", "badhost.example", "partner-b"),
        ("url", "https://drop.example/x", ""),
        ("domain", "xn--bcher-falle-thb.example", ""),
    ]
    assert [p.split(":")[0] for p in problems] == [f"links.csv line {n}" for n in (6, 7, 8, 9)]
    assert "http(s)" in problems[0] and "signal type url" in problems[1]
    assert normalize("URL", "https://Files.example/d/AbC#top") == ("url", "https://files.example/d/AbC")


def test_media_matcher_skips_link_entries():
    m = Matcher([BankInfo(id=1, name="links")])
    used = m.add_entries([{"id": 1, "bank_id": 1, "signal_type": "url", "signal": "https://files.example/d/AbC"},
                          {"id": 2, "bank_id": 1, "signal_type": "domain", "signal": "badhost.example"},
                          {"id": 3, "bank_id": 1, "signal_type": "md5", "signal": "d41d8cd98f00b204e9800998ecf8427e"}])
    assert used == 1 and m.max_entry_id == 3 and len(m.exact) == 1


def test_bank_commands_with_links(tmp_path):
    db = str(tmp_path / "nw.db")
    good = tmp_path / "links.csv"
    good.write_text("url,https://files.example/d/AbC?utm_medium=x,partner-a\ndomain,badhost.example,partner-b\n"
                    "url,ftp://files.example/a\n")
    r = run("bank", "import", "links", str(good), "--db", db, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["added"] == 2 and len(out["problems"]) == 1 and "line 3" in out["problems"][0]
    assert json.loads(run("bank", "import", "links", str(good), "--db", db, "--json").stdout)["added"] == 0

    bad = tmp_path / "bad.csv"
    bad.write_text("signal_type,signal,label\ndomain,https://x.example/,oops\n")
    r = run("bank", "import", "links", str(bad), "--db", db)
    assert r.returncode == 2 and "bad.csv line 2" in r.stderr and "Traceback" not in r.stderr

    r = run("bank", "add", "links", "domain", "two words.example", "--db", db)
    assert r.returncode == 2 and "two words.example" in r.stderr and "Traceback" not in r.stderr

    # python-threatexchange's `file` exchange: one `signal_type signal` a line, `url` is its URLSignal
    f = tmp_path / "tx.txt"
    f.write_text("url https://Drop.example/Z?utm_source=q\n")
    r = run("bank", "fetch", "links", "--exchange", "file", "--set", f"filename={f}", "--db", db, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["added"] == 1

    r = run("bank", "export", "links", "--tx-names", "--db", db)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1:] == ["url,https://files.example/d/AbC,partner-a", "domain,badhost.example,partner-b",
                                         "url,https://drop.example/Z,"]


def _banks(conn) -> dict[str, int]:
    urls = mb.create_bank(conn, "partner-urls", label="links shared by a partner")
    doms = mb.create_bank(conn, "partner-domains")
    ok = mb.create_bank(conn, "known-ok", negative=True)
    mb.add_entries(conn, urls["id"], [("url", normalize("url", u)[1], "partner-a")
                                      for u in ("https://files.example/d/AbC", "https://bit.ly/3xYzQ")])
    mb.add_entries(conn, doms["id"], [("domain", normalize("domain", d)[1], "partner-b")
                                      for d in ("badhost.example", "bücher-falle.example")])
    mb.add_entries(conn, ok["id"], [("url", "https://cdn.badhost.example/public/logo", "cleared")])
    return {"urls": urls["id"], "domains": doms["id"]}


def _events() -> list[dict]:
    ev = []

    def add(kind, data):
        ev.append({"v": 1, "id": f"e{len(ev)}", "kind": kind, "time": f"2026-01-01T00:00:{len(ev):02d}Z", "data": data})

    bios = {"a1": "mirror at https://cdn.eu.BadHost.example/f/1 ok", "a2": "see https://notbadhost.example/x",
            "a3": "nothing here"}
    for i in range(1, 9):
        a = f"a{i}"
        add("account", {"id": a, "handle": f"user{i}", "bio": bios.get(a, "")})
    posts = [
        ("p1", "a4", "new drop HTTP://files.example/d/AbC/?utm_source=tw&fbclid=9 here", []),  # tracking params
        ("p2", "a5", "", ["https://bit.ly/3xYzQ?si=abc"]),  # banked short link, in the link list
        ("p3", "a6", "", ["https://bit.ly/other"]),  # a short link is never fetched: no match
        ("p4", "a7", "logo https://cdn.badhost.example/public/logo", []),  # negative bank suppresses
        ("p5", "a8", "https://files.example/d/abc", []),  # path case differs: another link
        ("p6", "a4", "again https://files.example/d/AbC", ["https://files.example/d/AbC"]),  # reported once
        ("p7", "a3", "https://www.BÜCHER-falle.example/k", []),  # IDN host
    ]
    for pid, author, text, urls in posts:
        add("post", {"id": pid, "author_id": author, "text": text, "urls": urls})
    return ev


def _url_signals(store) -> list[dict]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(signals).where(signals.c.kind == "url_match").order_by(signals.c.subject_id))
        return [{**r._mapping, "detail": json.loads(r.detail)} for r in rows]


def test_ingest_matches_links_against_url_and_domain_banks(db_url, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in _events()))
    store = open_store(db_url)
    try:
        with store.engine.begin() as conn:
            ids = _banks(conn)
        ingest_files(store, [path])
        got = _url_signals(store)
        assert {(s["subject_type"], s["subject_id"], s["detail"]["field"], s["detail"]["signal_type"],
                 s["detail"]["matched"]) for s in got} == {
            ("account", "a1", "bio", "domain", "badhost.example"),
            ("post", "p1", "post", "url", "https://files.example/d/AbC"),
            ("post", "p2", "url", "url", "https://bit.ly/3xYzQ"),
            ("post", "p6", "post", "url", "https://files.example/d/AbC"),
            ("post", "p7", "post", "domain", "xn--bcher-falle-thb.example"),
        }
        by = {s["subject_id"]: s for s in got}
        d = by["a1"]["detail"]
        assert d["bank"] == "partner-domains" and d["bank_id"] == ids["domains"] and d["label"] == "partner-b"
        assert d["host"] == "cdn.eu.badhost.example" and by["a1"]["account_id"] == "a1"
        s, e = d["span"]
        assert "mirror at https://cdn.eu.BadHost.example/f/1 ok"[s:e] == d["raw"] == "https://cdn.eu.BadHost.example/f/1"
        assert by["p2"]["detail"]["link_kind"] == "shortener" and by["p2"]["detail"]["span"] is None
        assert by["p1"]["detail"]["url"] == "https://files.example/d/AbC" and by["p1"]["account_id"] == "a4"

        with store.engine.begin() as conn:
            risk.refresh(conn)
            a4 = risk.get(conn, "a4")
            a1 = risk.get(conn, "a1")
            assert risk.get(conn, "a7").score == 0.0  # suppressed by the negative bank
        url_reasons = [r for r in a4.reasons if r["kind"] == "url_match"]
        assert [r["points"] for r in url_reasons] == [signal_types.URL.risk_first]  # p1 and p6: one entry, once
        assert "partner-urls" in url_reasons[0]["text"] and "https://files.example/d/AbC" in url_reasons[0]["text"]
        assert [r["points"] for r in a1.reasons if r["kind"] == "url_match"] == [signal_types.DOMAIN.risk_first]

        ingest_files(store, [path])  # the same events again: nothing new
        assert len(_url_signals(store)) == len(got)
    finally:
        store.close()


def test_hook_follows_bank_changes(db_url):
    store = open_store(db_url)
    try:
        hook = TextSignals(store)

        def apply(n: int, bio: str) -> set[str]:
            batch = Batch(accounts=[{"id": f"b{n}", "handle": f"h{n}", "display_name": "", "bio": bio}])
            with store.engine.begin() as conn:
                hook.on_batch(conn, batch)
            return {s["detail"]["signal"] for s in _url_signals(store) if s["subject_id"] == f"b{n}"}

        assert apply(1, "https://later.example/a") == set()  # no link banks at all
        with store.engine.begin() as conn:
            b = mb.create_bank(conn, "later")
            mb.add_entries(conn, b["id"], [("domain", "later.example", "")])
        assert apply(2, "https://later.example/a") == {"later.example"}  # added entries: used at once
        with store.engine.begin() as conn:
            mb.update_bank(conn, "later", enabled=False)
        assert apply(3, "https://later.example/a") == set()  # disabled bank
        with store.engine.begin() as conn:
            mb.update_bank(conn, "later", enabled=True)
            neg = mb.create_bank(conn, "later-ok", negative=True)
            mb.add_entries(conn, neg["id"], [("domain", "ok.later.example", "")])
        assert apply(4, "https://ok.later.example/a https://x.later.example/") == {"later.example"}
        with store.engine.connect() as conn:
            n = conn.execute(select(func.count()).select_from(signals).where(signals.c.subject_id == "b4")).scalar()
        assert n == 1  # only the link off the negative domain
    finally:
        store.close()


def test_risk_weighs_url_hits_below_media_and_explains_them():
    def hit(signal_type, entry, field="bio"):
        return {"kind": "url_match", "subject_type": "account", "subject_id": "a", "weight": 1.0,
                "detail": {"bank": "partner", "bank_id": 1, "entry": entry, "signal_type": signal_type,
                           "signal": "badhost.example", "label": "l", "url": "https://x.badhost.example/", "field": field}}

    media = risk.score("m", [{"kind": "media_match", "subject_type": "account", "subject_id": "m", "weight": 1.0,
                              "detail": {"label": "k", "distance": 0, "bank": "b", "media_id": "m1", "signal_type": "md5"}}])
    url = risk.score("u", [hit("url", 1)])
    dom = risk.score("d", [hit("domain", 2), hit("domain", 2, field="post")])  # one entry counts once
    many = risk.score("x", [hit("domain", i) for i in range(20)])
    assert media.score > url.score > dom.score > 0
    assert dom.score == signal_types.DOMAIN.risk_first and many.score == url_rules.URL_CAP
    assert "in bank partner" in url.reasons[0]["text"] and "https://x.badhost.example/" in url.reasons[0]["text"]


def test_clearing_a_url_hit_as_false_positive(tmp_path):
    """A reviewer clears an account whose link matched a bank: the link joins the negative bank (audited), stops
    counting toward that account's risk, stays stored as evidence, and no longer matches anyone's posts."""
    from netwarden import audit, cases

    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in _events()))
    store = open_store(f"sqlite:///{tmp_path / 'nw.db'}")
    try:
        with store.engine.begin() as conn:
            _banks(conn)
        ingest_files(store, [path])
        with store.engine.begin() as conn:
            risk.refresh(conn)
            before = risk.get(conn, "a4")
        assert any(r["kind"] == "url_match" for r in before.reasons)
        cid = cases.create_case(store, [cases.Member("a4", 1.0, 1, False, {}, [])], "test", origin="seeds")
        with store.engine.begin() as conn:
            cases.decide_members(conn, cid, ["a4"], "clear", "alice", negative_bank=True)
            did = cases.case_decisions(conn, cid)[-1]["id"]  # the proposed negative-bank entries
            cases.approve(conn, did, "bob")  # take effect when a second reviewer approves them
        with store.engine.connect() as conn:
            after = risk.get(conn, "a4")
            bank = mb.bank_row(conn, cases.NEGATIVE_BANK)
            neg = {(e["signal_type"], e["signal"]) for e in mb.entries(conn, bank["id"])}
            logged = audit.entries(conn, action="bank.negative_add")
        assert not any(r["kind"] == "url_match" for r in after.reasons) and after.score < before.score
        assert ("url", "https://files.example/d/AbC") in neg and bank["negative"]
        assert logged and "https://files.example/d/AbC" in json.dumps(logged[0])
        assert any(s["subject_id"] == "p1" for s in _url_signals(store))  # kept as evidence

        more = tmp_path / "more.jsonl"
        more.write_bytes(orjson.dumps({"v": 1, "id": "e99", "kind": "post", "time": "2026-01-02T00:00:00Z",
                                       "data": {"id": "p99", "author_id": "a2",
                                                "text": "https://files.example/d/AbC?utm_source=z"}}) + b"\n")
        ingest_files(store, [more])
        assert not any(s["subject_id"] == "p99" for s in _url_signals(store))  # suppressed for everyone now
    finally:
        store.close()


def test_url_hits_count_in_network_expansion(tmp_path):
    """A URL-bank hit is one of an account's own signals in expansion: it raises the account's prior and is
    listed, with its reason, among the member's signals."""
    from netwarden.graph.build import build_graph
    from netwarden.graph.expand import Candidate, attach_signals, signal_priors

    path = tmp_path / "events.jsonl"
    evs = _events() + [{"v": 1, "id": f"f{i}", "kind": "follow", "time": "2026-01-01T00:01:00Z",
                        "data": {"src": f"a{i}", "dst": f"a{i % 8 + 1}"}} for i in range(1, 9)]
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in evs))
    store = open_store(f"sqlite:///{tmp_path / 'nw.db'}")
    try:
        with store.engine.begin() as conn:
            _banks(conn)
        ingest_files(store, [path])
        graph = build_graph(store)
        pri, strength = signal_priors(store, graph)
        assert strength["a4"] > 0 and pri[graph.index["a4"]] > 1.0  # two links matching one URL entry
        assert "a2" not in strength and pri[graph.index["a2"]] == 1.0  # its link is off the banked domain
        members = [Candidate("a4", 1.0, 1), Candidate("a2", 0.5, 2)]
        attach_signals(store, members)
        reasons = [s["reason"] for s in members[0].signals if s["kind"] == "url_match"]
        assert reasons and "https://files.example/d/AbC" in reasons[0] and "partner-urls" in reasons[0]
        assert not members[1].signals
    finally:
        store.close()


def test_rescan_matches_content_ingested_before_the_bank_had_the_links(db_url, tmp_path):
    """Links added to a bank after ingestion are found in old posts, link lists and bios by `netwarden rescan`
    (only new signals are stored; a second run adds nothing); new terms find old posts the same way."""
    from netwarden.ingest.rescan import rescan_text

    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in _events()))
    store = open_store(db_url)
    try:
        ingest_files(store, [path])  # no link banks yet: nothing to match
        assert _url_signals(store) == []
        with store.engine.begin() as conn:
            _banks(conn)
        out = rescan_text(store, chunk=3)  # several chunks per table
        assert out["scanned"]["accounts"] == 8 and out["scanned"]["posts"] == 7
        got = {(s["subject_type"], s["subject_id"], s["detail"]["field"]) for s in _url_signals(store)}
        assert got == {("account", "a1", "bio"), ("post", "p1", "post"), ("post", "p2", "url"), ("post", "p6", "post"),
                       ("post", "p7", "post")}  # what ingesting with the banks in place finds (test above)
        assert out["added"]["url_match"] == 5
        again = rescan_text(store)
        assert all(v == 0 for v in again["added"].values())

        terms = tmp_path / "terms.yaml"
        terms.write_text("name: t\nterms:\n  - {term: drop, category: codeword, weight: 1.0, lang: en, mode: word}\n")
        later = rescan_text(store, terms=str(terms), since="2026-01-01T00:00:08Z")  # the posts, not the profiles
        assert later["scanned"] == {"posts": 7}
        hits = {s.subject_id for s in _signals(store, "term_hit")}
        assert later["added"]["term_hit"] == 1 and hits == {"p1"}  # "new drop ..."
        assert rescan_text(store, terms=str(terms), since="2026-01-01T00:00:09Z")["scanned"] == {"posts": 6}
    finally:
        store.close()


def _signals(store, kind: str):
    with store.engine.connect() as conn:
        return conn.execute(select(signals).where(signals.c.kind == kind)).all()


def test_rescan_command(tmp_path):
    db = str(tmp_path / "nw.db")
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in _events()))
    assert run("ingest", str(path), "--db", db).returncode == 0
    links = tmp_path / "links.csv"
    links.write_text("domain,badhost.example,partner-b\n")
    assert run("bank", "import", "partner", str(links), "--db", db).returncode == 0
    r = run("rescan", "--db", db, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["added"]["url_match"] == 2  # a1's bio and p4 (no negative bank here)
    r = run("rescan", "--since", "last tuesday", "--db", db)
    assert r.returncode == 2 and "--since" in r.stderr and "ISO 8601" in r.stderr and "Traceback" not in r.stderr


def test_a_negative_domain_added_later_stops_stored_hits_counting(tmp_path):
    """Risk applies negative banks the way ingestion does (parent domains too), also to hits stored before."""
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in _events()))
    store = open_store(f"sqlite:///{tmp_path / 'nw.db'}")
    try:
        with store.engine.begin() as conn:
            _banks(conn)
        ingest_files(store, [path])
        with store.engine.begin() as conn:
            risk.refresh(conn)
            assert any(r["kind"] == "url_match" for r in risk.get(conn, "a1").reasons)  # cdn.eu.badhost.example
            ok = mb.create_bank(conn, "ok-later", negative=True)
            mb.add_entries(conn, ok["id"], [("domain", "eu.badhost.example", "cleared")])
            risk.recompute(conn, ["a1", "a4"])
            assert not any(r["kind"] == "url_match" for r in risk.get(conn, "a1").reasons)
            assert any(r["kind"] == "url_match" for r in risk.get(conn, "a4").reasons)  # files.example: still banked
        assert any(s["subject_id"] == "a1" for s in _url_signals(store))  # kept as evidence
    finally:
        store.close()
