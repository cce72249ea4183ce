"""The signal type registry (netwarden.signal_types), and `url_md5` added through it in one module.

url_md5 is python-threatexchange's UrlMD5Signal: the MD5 of a link lower-cased without its scheme.
Hashes here are made with threatexchange's own `hash_from_str`, as a partner would make them.
"""

from __future__ import annotations

import json
import subprocess

import orjson
import pytest
from sqlalchemy import select

from clirun import CLI
from netwarden import risk, signal_types
from netwarden.ingest.pipeline import ingest_files
from netwarden.media.signals import normalize, read_csv, write_csv
from netwarden.signal_types import URL_MD5, LinkBank
from netwarden.signal_types.base import ExactMediaType, LinkType, MediaType
from netwarden.store import media_banks as mb
from netwarden.store import open_store
from netwarden.store.schema import signals
from netwarden.store.tables_media import media_hashes


def partner_hash(link: str) -> str:
    from threatexchange.signal_type.url_md5 import UrlMD5Signal

    return UrlMD5Signal.hash_from_str(link)


def test_every_type_is_registered_once_under_all_its_names():
    assert signal_types.names() == ("pdq", "md5", "sha256", "vpdq", "url", "domain", "url_md5")
    assert signal_types.names(signal_types.MEDIA) == ("pdq", "md5", "sha256", "vpdq")
    for t in signal_types.types():
        assert issubclass(t, MediaType if t.family == signal_types.MEDIA else LinkType)
        for n in t.accepted_names():
            assert signal_types.get(n) is t and signal_types.get(n.upper()) is t
        tx = t.tx()
        if tx is not None:  # the threatexchange SignalType it speaks for: its name on export and in exchanges
            assert t.tx_name() == tx.get_name() and tx in signal_types.tx_types()
    for t in signal_types.exact_media_types():  # the column every exact type is read from exists
        assert t.column in media_hashes.c
    with pytest.raises(ValueError, match="already registered"):
        signal_types.register(type("Again", (ExactMediaType,), {"name": "again", "aliases": ("md5",)}))
    assert signal_types.get("again") is None


def test_threatexchange_examples_are_valid_signals_of_their_type():
    for t in signal_types.types():
        tx = t.tx()
        for example in tx.get_examples() if tx is not None else ():
            st, s = normalize(tx.get_name(), example)
            assert st == t.name and t.normalize(s) == s


def test_url_md5_in_bank_files_and_on_export():
    h = partner_hash("https://files.example/d/AbC")
    rows, problems = read_csv(f"signal_type,signal,label\nurl_md5,{h.upper()},partner-a\nhash_url_md5 {h}\n"
                              "url_md5,not-hex\n", "links.csv")
    assert [(r.signal_type, r.signal, r.label) for r in rows] == [("url_md5", h, "partner-a"), ("url_md5", h, "")]
    assert problems == ["links.csv line 4: a url_md5 signal is 32 hex digits, got 'not-hex'"]
    assert "".join(write_csv(rows[:1], tx_names=True)).splitlines()[1] == f"url_md5,{h},partner-a"


def test_link_bank_matches_url_md5_as_written_or_normalized():
    as_written, normalized = partner_hash("http://Drop.example/X/"), partner_hash("https://files.example/d/AbC")
    b = LinkBank([("url_md5", as_written, "m1"), ("url_md5", normalized, "m2"), ("url", "https://other.example/", "m3")])
    assert b.match("https://drop.example/X", "http://Drop.example/X/") == [("url_md5", as_written, "m1")]
    assert b.match("HTTP://www.files.example/d/AbC/?utm_source=tw") == [("url_md5", normalized, "m2")]
    assert b.match("https://files.example/d/other") == []
    # threatexchange lower-cases the whole link before hashing, path too (unlike a url entry)
    assert b.match("https://files.example/d/abc") == [("url_md5", normalized, "m2")]


def test_ingest_and_risk_count_a_url_md5_bank_entry(sqlite_url, tmp_path):
    store = open_store(sqlite_url)
    with store.engine.begin() as conn:
        b = mb.create_bank(conn, "partner-hashed-links")
        mb.add_entries(conn, b["id"], [("url_md5", partner_hash("https://files.example/d/AbC"), "partner-a")])
    events = [{"v": 1, "id": f"e{i}", "kind": kind, "time": f"2026-01-01T00:00:0{i}Z", "data": data} for i, (kind, data) in
              enumerate([("account", {"id": "a1", "handle": "u1"}), ("account", {"id": "a2", "handle": "u2"}),
                         ("post", {"id": "p1", "author_id": "a1", "text": "new HTTP://www.Files.example/d/AbC/?utm_source=tw"}),
                         ("post", {"id": "p2", "author_id": "a2", "text": "https://files.example/d/other"})])]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    ingest_files(store, [path])
    with store.engine.begin() as conn:
        got = [(r.subject_id, json.loads(r.detail)) for r in conn.execute(select(signals).where(signals.c.kind == "url_match"))]
        risk.refresh(conn)
        a1, a2 = risk.get(conn, "a1"), risk.get(conn, "a2")
    assert [(s, d["signal_type"], d["bank"], d["url"]) for s, d in got] == [
        ("p1", "url_md5", "partner-hashed-links", "https://files.example/d/AbC")]
    assert [r["points"] for r in a1.reasons if r["kind"] == "url_match"] == [URL_MD5.risk_first]
    assert a2.score == 0.0
    ingest_files(store, [path])  # again: stored once
    with store.engine.connect() as conn:
        assert len(conn.execute(select(signals.c.id).where(signals.c.kind == "url_match")).all()) == 1
    store.close()


def test_cli_help_lists_the_registered_types():
    for cmd in (["bank", "add", "--help"], ["bank", "remove", "--help"]):
        out = subprocess.run([*CLI, *cmd], capture_output=True, text=True, timeout=120).stdout
        assert all(n in out for n in signal_types.names()), out


def test_the_hma_routes_offer_the_media_types_that_declare_an_hma_content_type():
    """HMA's names and content types (what HMA's own clients send) come from the registry, in its order."""
    from netwarden.web import hma

    assert hma.SIGNAL_TYPES == {"pdq": ("pdq", "photo", True), "video_md5": ("md5", "video", True),
                                "vpdq": ("vpdq", "video", False)}
    assert hma.CONTENT_TYPES == ("photo", "video")
    assert [n for n, (st, _, _) in hma.SIGNAL_TYPES.items() if signal_types.get(n).name != st] == []
