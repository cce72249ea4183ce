"""Native ingestion on SQLite and PostgreSQL: idempotent, order-tolerant, bad records dead-lettered."""

from __future__ import annotations

import random

import orjson
import pytest
from sqlalchemy import func, select

from netwarden.errors import UserError
from netwarden.ingest.pipeline import ingest_files
from netwarden.store import open_store
from netwarden.store import schema as t
from sample_events import make_events, write_jsonl
from storedump import dump


def _ingest(url, paths, **kw):
    store = open_store(url)
    try:
        return ingest_files(store, paths, signals=False, **kw)
    finally:
        store.close()


def test_projection_of_every_kind(db_url, tmp_path):
    events = make_events()
    path = tmp_path / "events.jsonl"
    write_jsonl(path, events)
    summary = _ingest(db_url, [path])
    assert summary.events == len(events) and summary.dead == 0
    store = open_store(db_url)
    with store.engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(t.events)) == len(events)
        assert c.scalar(select(func.count()).select_from(t.accounts)) == 30
        assert c.scalar(select(func.count()).select_from(t.posts)) == 120
        # a renamed account keeps its newest handle; suspension is tracked apart from the profile
        renamed = {e["data"]["id"] for e in events if e["kind"] == "account" and e["data"]["handle"].startswith("renamed")}
        for r in c.execute(select(t.accounts).where(t.accounts.c.id.in_(renamed))):
            assert r.handle == f"renamed_{r.id}" and r.protected and r.bio == "changed bio"
        suspended = {e["data"]["account_id"] for e in events if e["kind"] == "account_state"}
        states = dict(c.execute(select(t.accounts.c.id, t.accounts.c.state)).all())
        assert {a for a, s in states.items() if s == "suspended"} == suspended
        # edits win over the original text; deletes are marked, not removed
        edited = {e["data"]["id"] for e in events if e["kind"] == "post_edit"}
        for r in c.execute(select(t.posts).where(t.posts.c.id.in_(edited))):
            assert r.text.startswith("edited") and r.edited_at is not None
        deleted = {e["data"]["id"] for e in events if e["kind"] == "post_delete"}
        got = set(c.scalars(select(t.posts.c.id).where(t.posts.c.deleted_at.is_not(None))))
        assert got == deleted
        assert c.scalar(select(func.count()).select_from(t.post_hashtags)) > 0
        assert c.scalar(select(func.count()).select_from(t.account_sessions)) > 0
        # approved follow requests become follows
        approved = {(e["data"]["src"], e["data"]["dst"]) for e in events
                    if e["kind"] == "follow_request" and e["data"]["state"] == "approved"}
        follows = set(c.execute(select(t.follows.c.src, t.follows.c.dst)).all())
        assert approved <= follows
        # history is kept: the original text of an edited post is still in the event log
        payloads = [orjson.loads(p) for p in c.scalars(select(t.events.c.payload).where(t.events.c.kind == "post"))]
        assert any(p["data"]["id"] in edited and not p["data"]["text"].startswith("edited") for p in payloads)
    store.close()


def test_idempotent(db_url, tmp_path):
    path = tmp_path / "events.jsonl"
    write_jsonl(path, make_events())
    _ingest(db_url, [path])
    first = dump(db_url, skip_tables=("ingest_checkpoints",))
    # the same input again, also under another name (no checkpoint to lean on)
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(path.read_bytes())
    again = _ingest(db_url, [path, copy])
    assert again.files[0].events == 0  # checkpoint: nothing re-read
    assert again.files[1].events == len(make_events())  # re-read whole, stored once
    assert dump(db_url, skip_tables=("ingest_checkpoints",)) == first


@pytest.mark.parametrize("order", ["made_first", "edit_first"])
@pytest.mark.parametrize("batch_size", [1, 100])
def test_a_profile_edit_without_created_at_keeps_when_the_account_was_made(db_url, tmp_path, order, batch_size):
    """A newer profile event that does not repeat created_at (a bio edit) takes its bio and keeps the
    creation time, in the same batch or the next, whichever arrives first: ban evasion reads it."""
    made = {"v": 1, "id": "e-made", "kind": "account", "time": "2026-03-01T10:00:00Z",
            "data": {"id": "acct-1", "handle": "fox", "bio": "old", "created_at": "2026-03-01T09:59:00Z"}}
    edit = {"v": 1, "id": "e-edit", "kind": "account", "time": "2026-03-02T10:00:00Z",
            "data": {"id": "acct-1", "handle": "fox", "bio": "new"}}
    path = tmp_path / "events.jsonl"
    write_jsonl(path, [made, edit] if order == "made_first" else [edit, made])
    assert _ingest(db_url, [path], batch_size=batch_size).dead == 0
    store = open_store(db_url)
    try:
        with store.engine.connect() as c:
            row = c.execute(select(t.accounts.c.bio, t.accounts.c.created_at)).one()
    finally:
        store.close()
    assert (row.bio, str(row.created_at)[:16].replace(" ", "T")) == ("new", "2026-03-01T09:59")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_order_tolerant(tmp_path, seed):
    events = make_events(seed=seed)
    ordered, shuffled = tmp_path / "a" / "ev.jsonl", tmp_path / "b" / "ev.jsonl"
    ordered.parent.mkdir()
    shuffled.parent.mkdir()
    write_jsonl(ordered, events)
    mixed = events[:]
    random.Random(seed).shuffle(mixed)
    write_jsonl(shuffled, mixed)
    url_a, url_b = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    _ingest(url_a, [ordered], batch_size=17)
    _ingest(url_b, [shuffled], batch_size=13)
    skip = ("ingest_checkpoints",)
    assert dump(url_a, skip) == dump(url_b, skip)


def test_order_tolerant_postgres(db_url, tmp_path):
    events = make_events(seed=9)
    mixed = list(reversed(events))
    path = tmp_path / "rev.jsonl"
    write_jsonl(path, mixed)
    ref = tmp_path / "ref.jsonl"
    write_jsonl(ref, events)
    _ingest(db_url, [path], batch_size=11)
    ref_url = f"sqlite:///{tmp_path / 'ref.db'}"
    _ingest(ref_url, [ref])
    skip = ("ingest_checkpoints",)
    assert dump(db_url, skip) == dump(ref_url, skip)


BAD = [
    (b"{not json", "malformed JSON"),
    (b'{"v":1,"id":"x1","kind":"post","time":"2026-01-01T00:00:00Z","data":{"id":"p"}}', "missing field data.author_id"),
    (b'{"v":1,"id":"x2","kind":"post","time":"2026-01-01T00:00:00Z","data":{"id":"p","author_id":7}}', "must be a string"),
    (b'{"v":1,"id":"x3","kind":"teleport","time":"2026-01-01T00:00:00Z","data":{}}', "unknown kind"),
    (b'{"v":1,"id":"x4","kind":"account","time":"2026-01-01T00:00:00Z","data":{"id":"a","handle":"h","bio":"' + b"x" * 100_001 + b'"}}', "oversized"),
    (b'{"v":1,"id":"x5","kind":"account","time":"2026-01-01T00:00:00Z","data":{"id":"a","handle":"\xff\xfe"}}', "invalid UTF-8"),
    (b'{"v":1,"id":"x6","kind":"follow","time":"yesterday","data":{"src":"a","dst":"b"}}', "ISO 8601"),
    (b'{"v":2,"id":"x7","kind":"follow","time":"2026-01-01T00:00:00Z","data":{"src":"a","dst":"b"}}', "schema version"),
    (b'[1, 2, 3]', "must be a JSON object"),
    (b'{"v":1,"id":"x8","kind":"follow","time":"2026-01-01T00:00:00Z"}', "missing field data"),
    (b'{"v":1,"id":"x9","kind":"like","time":"2026-01-01T00:00:00Z","data":{"account_id":"a","post_id":""}}', "is empty"),
    (b'{"v":1,"id":"x11","kind":"post","time":"2026-01-01T00:00:00Z","data":{"id":"p","author_id":"a","media":[{"id":"m","pdq":"' + b"f" * 63 + b'g","pdq_quality":90}]}}', "data.media[0].pdq must be a PDQ hash"),
    (b'{"v":1,"id":"x12","kind":"post","time":"2026-01-01T00:00:00Z","data":{"id":"p","author_id":"a","media":[{"id":"m","pdq":"' + b"f" * 64 + b'"}]}}', "data.media[0].pdq_quality is missing"),
    (b'{"v":1,"id":"x13","kind":"account","time":"2026-01-01T00:00:00Z","data":{"id":"a","handle":"h","avatar":{"id":"m","pdq":"' + b"0" * 64 + b'","pdq_quality":101}}}', "data.avatar.pdq_quality must be an integer from 0 to 100"),
    (b'{"v":1,"id":"x14","kind":"report","time":"2026-01-01T00:00:00Z","data":{"id":"r","account_id":"a","category":"spam","reporter_kind":"account"}}', "missing field data.reporter_id"),
    (b'{"v":1,"id":"x15","kind":"report","time":"2026-01-01T00:00:00Z","data":{"id":"r","account_id":"a","category":"rude","reporter_kind":"anonymous"}}', "data.category is 'rude'"),
    (b'{"v":1,"id":"x16","kind":"report_resolution","time":"2026-01-01T00:00:00Z","data":{"report_id":"r","outcome":"done"}}', "data.outcome is 'done'"),
    (b'{"v":1,"id":"x10","kind":"follow","time":"2026-01-01T00:00:00Z","data":{"src":"a","dst":"b"},"pad":"' + b"y" * (1 << 20) + b'"}', "oversized record"),
]


def test_bad_records_go_to_dead_letter_and_run_goes_on(db_url, tmp_path):
    good = make_events(accounts=5, posts=5)
    lines = [orjson.dumps(e) for e in good]
    expected = {}
    for i, (raw, _reason) in enumerate(BAD):
        pos = 2 * i + 1
        lines.insert(pos, raw)
    for n, raw in enumerate(lines, start=1):
        for bad, reason in BAD:
            if raw is bad:
                expected[n] = reason
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    dl = tmp_path / "dead.jsonl"
    summary = _ingest(db_url, [path], dead_letter=dl, batch_size=4)
    assert summary.dead == len(BAD)
    assert summary.events == len(good)
    got = {r["line"]: r for r in map(orjson.loads, dl.read_bytes().splitlines())}
    assert set(got) == set(expected)
    for line, reason in expected.items():
        assert reason in got[line]["reason"], (line, got[line]["reason"])
        assert got[line]["source"] == str(path.resolve())


def test_wrong_format_stops_before_anything_is_written(sqlite_url, tmp_path):
    native = tmp_path / "native.jsonl"
    write_jsonl(native, make_events(accounts=3, posts=3))
    other = tmp_path / "statuses.jsonl"
    other.write_text('{"id": "1", "content": "<p>hi</p>", "account": {"id": "9", "acct": "x", "username": "x"}, '
                     '"created_at": "2026-01-01T00:00:00.000Z", "visibility": "public", "media_attachments": []}\n')
    with pytest.raises(UserError) as e:
        _ingest(sqlite_url, [native, other])
    assert "statuses.jsonl" in str(e.value) and "native" in str(e.value)
    store = open_store(sqlite_url)
    with store.engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(t.events)) == 0
    store.close()


def test_missing_file_is_one_clear_error(sqlite_url, tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        _ingest(sqlite_url, [tmp_path / "nope.jsonl"])


def test_json_schema_file_agrees_with_validator():
    import json
    from importlib.resources import files

    import jsonschema

    from netwarden.ingest.events import BadRecord, validate

    schema = json.loads(files("netwarden.ingest").joinpath("events.schema.json").read_text())
    v = jsonschema.Draft202012Validator(schema)
    with_pdq = {"v": 1, "id": "e-pdq", "kind": "post", "time": "2026-01-01T00:00:00Z",
                "data": {"id": "p", "author_id": "a", "media": [{"id": "m", "md5": "0" * 32, "pdq": "Ab" * 32,
                                                                 "pdq_quality": 0}]}}
    for e in [*make_events(accounts=4, posts=10), with_pdq]:
        validate(e)
        v.validate(e)
    for raw, reason in BAD:
        if reason == "oversized record":  # a line-level limit, not a schema rule
            continue
        try:
            rec = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        with pytest.raises(BadRecord):
            validate(rec)
        assert not v.is_valid(rec), raw[:80]


def test_validator_fast_path_gives_the_full_checks_answers():
    """validate() lets well-formed posts, follows and likes through a fast path; on records mutated
    in every field it must return the same subject or raise the same reason (and canonicalize the
    same times) as the full checks alone."""
    import copy
    import random

    from netwarden.ingest import events as ev

    slow_kinds = {**ev.KINDS, "post": ev._post, "follow": ev._pair, "unfollow": ev._pair, "like": ev._like,
                  "unlike": ev._like}
    rng = random.Random(4)
    odd = [None, "", "x", "x" * 129, "x" * 1001, "x" * 100_001, 7, True, 1.5, [], ["a"], ["a", 3], ["y" * 129], {}, {"id": "m"},
           [{"id": "m1", "kind": "photo"}], [{"id": ""}], [{"kind": "sketch", "id": "m"}], [None],
           "2026-03-01T10:00:00Z", "2026-03-01T10:00:00+02:00", "2026-03-01T10:00:00.5Z", "2026-03-01", "2026-03-01T10:00:0xZ",
           "2026-02-30T10:00:00Z", "public", "direct", "loud", ["x"] * 1001,
           [{"id": "m2", "pdq": "a" * 64, "pdq_quality": 80}], [{"id": "m3", "pdq": "A" * 64, "pdq_quality": 0}],
           [{"id": "m4", "pdq": "a" * 63, "pdq_quality": 80}], [{"id": "m5", "pdq": "a" * 64}],
           [{"id": "m6", "pdq": "a" * 64, "pdq_quality": 100.0}], [{"id": "m7", "pdq_quality": -1}],
           [{"id": "m8", "pdq": 7, "pdq_quality": 50}], [{"id": "m9", "pdq": "z" * 64, "pdq_quality": 50}]]
    base = [e for e in make_events(accounts=6, posts=40) if e["kind"] in ("post", "follow", "like", "account")]
    base += [{"v": 1, "id": "u1", "kind": k, "time": "2026-03-01T10:00:00Z", "data": {"src": "a", "dst": "b"}}
             for k in ("follow", "unfollow")]
    base += [{"v": 1, "id": "l1", "kind": k, "time": "2026-03-01T10:00:00Z",
              "data": {"account_id": "a", "post_id": "p"}} for k in ("like", "unlike")]
    fields = {"post": ["id", "author_id", "text", "created_at", "reply_to", "reply_to_account", "repost_of",
                       "quote_of", "mentions", "hashtags", "urls", "media", "visibility", "lang"],
              "follow": ["src", "dst"], "unfollow": ["src", "dst"], "like": ["account_id", "post_id"],
              "unlike": ["account_id", "post_id"], "account": ["id", "handle", "created_at"]}

    def outcome(rec, kinds):
        old = ev.KINDS
        ev.KINDS = kinds
        try:
            return ("ok", ev.validate(rec) if kinds is old else ev._validate(rec), rec)
        except ev.BadRecord as e:
            return ("bad", str(e), rec)
        finally:
            ev.KINDS = old

    checked = bad = 0
    for _ in range(20_000):
        rec = copy.deepcopy(rng.choice(base))
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            where = rng.random()
            if where < 0.15:
                rec[rng.choice(["v", "id", "kind", "time", "data"])] = rng.choice(odd + [1, "post", "like"])
            elif isinstance(rec.get("data"), dict):
                kind = rec.get("kind")
                f = rng.choice(fields[kind] if isinstance(kind, str) and kind in fields else ["id", "src"])
                if rng.random() < 0.2:
                    rec["data"].pop(f, None)
                else:
                    rec["data"][f] = copy.deepcopy(rng.choice(odd))
        fast = outcome(copy.deepcopy(rec), ev.KINDS)
        full = outcome(copy.deepcopy(rec), slow_kinds)
        assert fast == full, rec
        checked += 1
        bad += fast[0] == "bad"
    assert 3000 < bad < checked - 3000  # both paths were exercised


def test_batch_for_hooks_holds_each_posts_children_from_every_event():
    """The hooks' view of a batch: one entry per post (the last event's row; an edit's text), with the
    hashtags, mentions and links of all of the batch's events for it, in event order."""
    from netwarden.ingest.apply import Rows

    def post(eid, t, data):
        return {"v": 1, "id": eid, "kind": "post", "time": t, "data": data}

    rows = Rows()
    events = [
        post("e1", "2026-03-01T10:00:00Z", {"id": "p1", "author_id": "a1", "text": "one", "hashtags": ["#Zorb"],
                                             "mentions": ["a2"], "media": [{"id": "m1", "md5": "ab" * 16}]}),
        post("e2", "2026-03-01T10:00:01Z", {"id": "p2", "author_id": "a2", "text": "two", "urls": ["https://x.example/"]}),
        post("e3", "2026-03-01T09:00:00Z", {"id": "p1", "author_id": "a1", "text": "one again", "hashtags": ["zorb"]}),
        {"v": 1, "id": "e4", "kind": "post_edit", "time": "2026-03-01T11:00:00Z",
         "data": {"id": "p1", "text": "edited", "hashtags": ["Vantro", ""], "urls": ["https://y.example/"]}},
        {"v": 1, "id": "e5", "kind": "post_edit", "time": "2026-03-01T11:00:00Z", "data": {"id": "p9", "text": "lone"}},
    ]
    for e in events:
        rows.add(e, None, e["data"]["id"], "native")
    b = rows.batch(None)
    got = {p["id"]: (p["author_id"], p["text"], p["hashtags"], p["mentions"], p["urls"]) for p in b.posts}
    assert list(got) == ["p1", "p2", "p9"]
    assert got["p1"] == ("a1", "edited", ["zorb", "zorb", "vantro"], ["a2"], ["https://y.example/"])
    assert got["p2"] == ("a2", "two", [], [], ["https://x.example/"])
    assert got["p9"] == (None, "lone", [], [], [])
    assert [(m["id"], m["post_id"], m["account_id"], m["role"], m["md5"]) for m in b.media] == [
        ("m1", "p1", "a1", "post", "ab" * 16)]
    assert sorted(rows.hashtags) == [("p1", "vantro"), ("p1", "zorb"), ("p1", "zorb")]
