"""Issue 12, PostgreSQL parity: every value the validator accepts stores on SQLite and PostgreSQL.

The limits live in netwarden.limits; the validator, the JSON Schema file and the column types use
them. These tests ingest values at every limit (multi-byte, case-folding, index-keyed), NUL
characters in every text field, and a batch the store refuses, on both backends (`db_url`).
"""

from __future__ import annotations

import json
import random
from importlib.resources import files

import jsonschema
import orjson
import pytest
from sqlalchemy import select

from netwarden import limits as L
from netwarden.ingest.events import BadRecord, validate
from netwarden.ingest.pipeline import Ingestor, ingest_files
from netwarden.store import open_store
from netwarden.store import schema as t
from netwarden.store.tables_reports import reports

T = "2026-01-01T00:00:00Z"
RNG = random.Random(12)


def _rand(n: int, lo: int = 0x4E00, hi: int = 0x9FFF) -> str:
    """n random characters (CJK by default: 3 bytes each in UTF-8, and incompressible)."""
    return "".join(chr(RNG.randint(lo, hi)) for _ in range(n))


def _ev(eid: str, kind: str, data: dict) -> dict:
    return {"v": 1, "id": eid, "kind": kind, "time": T, "data": data}


LINK_CJK = "https://example.org/" + _rand((L.LINK - 20) // 3)  # just under LINK bytes, CJK
LINK_ASCII = "https://example.org/" + "a" * (L.LINK - 20)
EMOJI_TAG = _rand(L.TAG, 0x1F300, 0x1F5FF)  # 4 bytes each


def at_limit_events() -> list[dict]:
    """One event per kind with every stored field at its longest accepted value."""
    media = {"id": "m" * L.ID, "kind": "photo", "uri": "u" * L.URI, "mime": "i" * L.MIME,
             "alt_text": _rand(2000), "sha256": "a" * 64, "md5": "b" * 32}
    return [
        _ev("e" * L.EVENT_ID, "account", {
            "id": _rand(L.ID), "handle": "\ufb03" * L.HANDLE,  # 'ﬃ' casefolds to 'ffi': handle_lc is 3x
            "display_name": _rand(L.SHORT), "bio": _rand(5000), "url": "h" * L.URI, "email": "e" * L.EMAIL,
            "avatar": media}),
        _ev("e2", "post", {
            "id": _rand(L.ID), "author_id": _rand(L.ID), "text": _rand(5000), "reply_to": "r" * L.ID,
            "reply_to_account": "q" * L.ID, "mentions": [_rand(L.ID)], "lang": "l" * L.LANG,
            "hashtags": ["\ufb03" * L.TAG, EMOJI_TAG], "urls": [LINK_ASCII, LINK_CJK],
            "media": [{**media, "id": "n" * L.ID}]}),
        _ev("e3", "post_edit", {"id": "p-edit", "text": "x", "hashtags": [EMOJI_TAG], "urls": [LINK_CJK]}),
        _ev("e4", "session", {"account_id": "a" * L.ID, "ip": "9" * L.IP, "user_agent": _rand(L.SHORT),
                              "device_id": _rand(L.DEVICE)}),
        _ev("e5", "report", {"id": "r" * L.ID, "account_id": "a", "category": "spam", "reporter_kind": "automated",
                             "source": "s" * L.SOURCE, "lang": "l" * L.LANG, "comment": _rand(3000),
                             "rules": [_rand(L.SHORT)]}),
        _ev("e6", "report_resolution", {"report_id": "r" * L.ID, "outcome": "resolved", "by": _rand(L.ACTOR),
                                        "note": _rand(3000)}),
    ]


# (event index, path to a string field, its limit): one past the limit must be refused
LIMITED = [
    (0, ("id",), L.EVENT_ID), (0, ("data", "handle"), L.HANDLE), (0, ("data", "display_name"), L.SHORT),
    (0, ("data", "url"), L.URI), (0, ("data", "email"), L.EMAIL), (0, ("data", "avatar", "uri"), L.URI),
    (0, ("data", "avatar", "mime"), L.MIME), (0, ("data", "id"), L.ID), (1, ("data", "lang"), L.LANG),
    (1, ("data", "hashtags", 0), L.TAG), (1, ("data", "urls", 0), L.LINK), (1, ("data", "mentions", 0), L.ID),
    (2, ("data", "urls", 0), L.LINK), (2, ("data", "hashtags", 0), L.TAG),
    (3, ("data", "ip"), L.IP), (3, ("data", "device_id"), L.DEVICE), (4, ("data", "source"), L.SOURCE),
    (4, ("data", "lang"), L.LANG), (5, ("data", "by"), L.ACTOR),
]


def _set(obj, path, value):
    for k in path[:-1]:
        obj = obj[k]
    obj[path[-1]] = value


def _schema():
    return jsonschema.Draft202012Validator(json.loads(files("netwarden.ingest").joinpath("events.schema.json").read_text()))


def test_validator_and_json_schema_accept_every_value_at_its_limit_and_refuse_one_more():
    schema = _schema()
    for e in at_limit_events():
        validate(e)
        schema.validate(e)
    for i, path, limit in LIMITED:
        e = at_limit_events()[i]
        _set(e, path, "z" * (limit + 1))
        with pytest.raises(BadRecord, match="oversized"):
            validate(e)
        assert not schema.is_valid(e), path


def test_a_link_is_limited_in_utf8_bytes_too():
    e = at_limit_events()[1]
    e["data"]["urls"] = ["https://example.org/" + "\u00e9" * (L.LINK - 30)]  # fewer characters, more bytes
    with pytest.raises(BadRecord, match="bytes in UTF-8"):
        validate(e)


def _ingest(url, path, **kw):
    store = open_store(url)
    try:
        return ingest_files(store, [path], signals=False, **kw)
    finally:
        store.close()


def test_values_at_every_limit_store_unchanged_on_both_backends(db_url, tmp_path):
    events = at_limit_events()
    path = tmp_path / "limits.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    summary = _ingest(db_url, path)
    assert (summary.events, summary.dead) == (len(events), 0)
    acc, post = events[0]["data"], events[1]["data"]
    store = open_store(db_url)
    with store.engine.connect() as c:
        row = c.execute(select(t.accounts).where(t.accounts.c.id == acc["id"])).one()
        assert (row.handle, row.handle_lc, row.display_name, row.email) == (
            acc["handle"], "ffi" * L.HANDLE, acc["display_name"], acc["email"])
        assert set(c.scalars(select(t.post_urls.c.url))) == {LINK_ASCII, LINK_CJK}
        assert set(c.scalars(select(t.post_hashtags.c.tag))) == {"ffi" * L.TAG, EMOJI_TAG}
        assert c.scalar(select(t.posts.c.lang).where(t.posts.c.id == post["id"])) == post["lang"]
        assert c.scalar(select(t.media.c.mime).where(t.media.c.id == "n" * L.ID)) == "i" * L.MIME
        assert c.scalar(select(t.account_sessions.c.device_id)) == events[3]["data"]["device_id"]
        r = c.execute(select(reports)).one()
        assert (r.source, r.resolved_by) == (events[4]["data"]["source"], events[5]["data"]["by"])
    store.close()


def test_nul_characters_in_every_text_field_store_as_replacement_characters(db_url, tmp_path):
    """A NUL (U+0000) in any string of a record, native or foreign, becomes U+FFFD on both backends."""
    nul = "a\u0000b"
    native = [
        _ev("n1", "account", {"id": "a1", "handle": nul, "display_name": nul, "bio": nul, "url": nul, "email": nul,
                              "avatar": {"id": "m1", "uri": nul, "mime": nul, "alt_text": nul}}),
        _ev("n2", "post", {"id": "p1", "author_id": "a1", "text": nul, "hashtags": [nul], "urls": [nul],
                           "lang": nul, "mentions": ["a1"]}),
        _ev("n3", "session", {"account_id": "a1", "ip": nul, "user_agent": nul, "device_id": nul}),
    ]
    path = tmp_path / "nul.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in native))
    assert b"\\u0000" in path.read_bytes()
    summary = _ingest(db_url, path)
    assert (summary.events, summary.dead) == (3, 0)
    mastodon = {"id": "109", "username": nul, "acct": nul, "display_name": nul, "note": f"<p>{nul}</p>",
                "url": "https://example.social/@x", "created_at": T}
    mpath = tmp_path / "nul-mastodon.jsonl"
    mpath.write_bytes(orjson.dumps(mastodon) + b"\n")
    assert _ingest(db_url, mpath, fmt="mastodon").dead == 0
    fixed = "a\ufffdb"
    store = open_store(db_url)
    with store.engine.connect() as c:
        a = c.execute(select(t.accounts).where(t.accounts.c.id == "a1")).one()
        assert (a.handle, a.display_name, a.bio, a.url, a.email) == (fixed,) * 5
        assert c.scalar(select(t.posts.c.text)) == fixed and c.scalar(select(t.post_urls.c.url)) == fixed
        assert c.scalar(select(t.post_hashtags.c.tag)) == fixed
        assert c.execute(select(t.media.c.uri, t.media.c.mime, t.media.c.alt_text)).one() == (fixed,) * 3
        assert c.execute(select(t.account_sessions.c.ip, t.account_sessions.c.device_id)).one() == (fixed,) * 2
        m = c.execute(select(t.accounts).where(t.accounts.c.id == "109")).one()
        assert (m.handle, m.display_name, m.bio) == (fixed,) * 3
        for payload in c.scalars(select(t.events.c.payload)):  # the event log holds the replaced text too
            assert "\\u0000" not in payload and "\x00" not in payload
    store.close()


def test_a_raw_nul_byte_is_a_dead_letter_that_stores(db_url, tmp_path):
    path = tmp_path / "raw-nul.jsonl"
    good = orjson.dumps(_ev("g1", "follow", {"src": "a", "dst": "b"}))
    path.write_bytes(b'{"v":1,"id":"x\x00"}\n' + good + b"\n")
    summary = _ingest(db_url, path, dead_letter=tmp_path / "dead.jsonl")
    assert (summary.events, summary.dead) == (1, 1)
    dead = orjson.loads((tmp_path / "dead.jsonl").read_bytes())
    assert dead["line"] == 1 and "malformed JSON" in dead["reason"] and "\ufffd" in dead["record"]


class _Refuses:
    """A signal hook whose write the store refuses (a NOT NULL column) for posts saying 'refuse me'."""

    def on_batch(self, conn, batch):
        for p in batch.posts:
            if "refuse me" in (p.get("text") or ""):
                conn.execute(t.accounts.insert().values(id="bad-" + p["id"], handle=None))


def test_a_batch_the_store_refuses_dead_letters_the_line_and_reruns_cleanly(db_url, tmp_path):
    events = [_ev(f"p{i}", "post", {"id": f"p{i}", "author_id": "a", "text": "refuse me" if i == 5 else "fine"})
              for i in range(12)]
    path = tmp_path / "refused.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    for run in range(2):  # the rerun resumes from the checkpoint: nothing fails, nothing doubles
        store = open_store(db_url)
        try:
            summary = Ingestor(store, batch_size=5, hooks=[_Refuses()]).run([path])
            assert (summary.events, summary.dead) == ((11, 1) if run == 0 else (0, 0))
            with store.engine.connect() as c:
                assert set(c.scalars(select(t.posts.c.id))) == {f"p{i}" for i in range(12)} - {"p5"}
                dead = c.execute(select(t.dead_letters)).all()
                assert [(d.line, d.reason[:29]) for d in dead] == [(6, "the store refused this record")]
                assert c.scalar(select(t.ingest_checkpoints.c.done))
        finally:
            store.close()
