"""Mastodon REST entities -> native events: shape, mapping, determinism, bad records, sniffing."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path

import jsonschema
import pytest

from netwarden.ingest import mastodon, twitter
from netwarden.ingest.events import BadRecord, validate

FIX = Path(__file__).parent / "fixtures"
SCHEMA = Path(mastodon.__file__).parent / "events.schema.json"
ALL = ["timeline.jsonl", "edges.jsonl", "admin_accounts.json"]
FOX, MOTH, PEBBLE, MOSS, REED = (f"11000000000000000{i}" for i in (1, 2, 3, 4, 5))
ORIG, REPLY, BOOST, PRIV, QUOTE, DM = (f"1110000000000000{i}" for i in (10, 11, 13, 14, 15, 16))


def load(path: Path) -> list:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [json.loads(path.read_text())]


@cache
def schema_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))


def events_of(name: str, index: int | None = None) -> list[dict]:
    recs = load(FIX / "mastodon" / name)
    if index is not None:
        recs = [recs[index]]
    return [e for rec in recs for e in mastodon.to_events(rec)]


def of_kind(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["kind"] == kind]


def posts(events: list[dict]) -> dict[str, dict]:
    return {e["data"]["id"]: e["data"] for e in of_kind(events, "post")}


def accounts(events: list[dict]) -> dict[str, dict]:
    return {e["data"]["id"]: e["data"] for e in of_kind(events, "account")}


@pytest.mark.parametrize("name", ALL)
def test_every_event_is_valid_native(name):
    evs = events_of(name)
    assert evs
    for e in evs:
        validate(e)
        schema_validator().validate(e)


def test_timeline_statuses():
    evs = events_of("timeline.jsonl", 0)
    p = posts(evs)
    assert set(p) == {ORIG, REPLY, BOOST, PRIV, QUOTE, DM}

    orig = p[ORIG]
    assert orig["author_id"] == PEBBLE
    assert orig["text"] == "Morning walk by the river #zqxplaceholder #BlueHeron"
    assert orig["hashtags"] == ["zqxplaceholder", "blueheron"]
    assert "urls" not in orig  # hashtag links are not URLs of the post
    image, gifv = orig["media"]
    assert image == {
        "id": "112000000000000101",
        "kind": "photo",
        "uri": "https://files.social.example/media_attachments/files/112/000/101/original/p101.png",
        "width": 1200,
        "height": 800,
        "alt_text": "A grey heron in shallow water",
    }
    assert gifv["kind"] == "video" and "alt_text" not in gifv
    assert orig["visibility"] == "public" and orig["lang"] == "en"

    reply = p[REPLY]
    assert reply["reply_to"] == ORIG
    assert reply["mentions"] == [PEBBLE]
    assert reply["urls"] == ["https://example.com/river-guide"]
    assert reply["text"] == "@pebble lovely light & calm water, see https://example.com/river-guide"
    assert reply["visibility"] == "unlisted"

    boost = p[BOOST]
    assert boost["repost_of"] == ORIG and boost["author_id"] == MOTH
    assert boost["visibility"] == "followers"  # Mastodon "private"

    assert p[PRIV]["text"] == "cw: birds\n\nhola @quiet_fox"  # the content warning is kept as text
    assert p[PRIV]["visibility"] == "followers" and p[PRIV]["lang"] == "es"
    assert p[QUOTE]["quote_of"] == ORIG
    dm = p[DM]
    assert dm["visibility"] == "direct" and dm["text"] == "@lantern_moth ok\ntomorrow"
    assert dm["mentions"] == [MOTH]
    (video,) = dm["media"]
    assert video["kind"] == "video" and video["uri"].endswith("/v103.mp4")  # remote_url when url is null

    ids = {e["id"] for e in evs}
    assert f"md:status:{ORIG}" in ids
    assert {e["time"] for e in of_kind(evs, "account")} == {"2026-02-02T00:00:05Z"}  # fetched_at


def test_edit_event_uses_edited_at():
    evs = events_of("timeline.jsonl", 0)
    (edit,) = of_kind(evs, "post_edit")
    assert edit["id"] == f"md:edit:{REPLY}:2026-02-01T08:10:00Z"
    assert edit["time"] == "2026-02-01T08:10:00Z"
    assert edit["data"]["id"] == REPLY and edit["data"]["text"].startswith("@pebble lovely")
    post = next(e for e in evs if e["id"] == f"md:status:{REPLY}")
    assert post["time"] == "2026-02-01T08:02:03Z"


def test_account_mapping():
    evs = events_of("timeline.jsonl", 0)
    a = accounts(evs)
    assert set(a) == {FOX, MOTH, PEBBLE}
    fox = a[FOX]
    assert fox["handle"] == "quiet_fox" and fox["display_name"] == "Quiet Fox \u263a"
    assert fox["bio"] == "Tea, rivers & herons.\nsecond line\nthird line\nKik: quiet_fox22\nSite: https://example.org/fox"
    assert "<" not in fox["bio"]
    assert fox["protected"] is False and a[MOTH]["protected"] is True
    assert a[MOTH]["handle"] == "lantern_moth@other.example"
    assert fox["url"] == "https://social.example/@quiet_fox"
    assert fox["avatar"]["uri"].endswith("/a001.png") and fox["avatar"]["kind"] == "photo"
    assert "header" not in fox  # Mastodon's missing.png placeholder is no image
    assert a[PEBBLE]["header"]["uri"].endswith("/h003.jpg")
    assert fox["created_at"] == "2024-03-16T00:00:00Z"


def test_bare_entities_and_time_fallback():
    bare_status, bare_account = load(FIX / "mastodon" / "timeline.jsonl")[1:]
    evs = mastodon.to_events(bare_status)
    # no fetched_at: the profile snapshot takes the newest created_at in the record
    assert [e["time"] for e in of_kind(evs, "account")] == ["2026-02-01T07:30:00Z"]
    (acc,) = mastodon.to_events(bare_account)
    assert acc["time"] == "2019-11-30T00:00:00Z"


def test_follow_lists_requests_relationships_likes():
    evs = events_of("edges.jsonl")
    follows = {(e["data"]["src"], e["data"]["dst"]) for e in of_kind(evs, "follow")}
    assert follows == {
        (FOX, PEBBLE),  # followers of PEBBLE
        (MOTH, PEBBLE),
        (MOSS, PEBBLE),
        (MOSS, FOX),  # relationship: viewer MOSS following FOX
        (FOX, MOSS),  # relationship: followed_by
    }
    requests = {(e["data"]["src"], e["data"]["dst"], e["data"]["state"]) for e in of_kind(evs, "follow_request")}
    assert requests == {
        (FOX, MOTH, "pending"),  # follow_requests to viewer MOTH
        (MOSS, MOTH, "pending"),  # relationship: requested (also in MOTH's requests: one event id)
        (REED, MOSS, "pending"),  # relationship: requested_by
    }
    ids = [e["id"] for e in of_kind(evs, "follow_request")]
    assert ids.count(f"md:follow_request:{MOSS}:{MOTH}:pending") == 2  # same id from both sources
    likes = {(e["data"]["account_id"], e["data"]["post_id"]) for e in of_kind(evs, "like")}
    assert likes == {(FOX, ORIG), (REED, ORIG)}
    assert accounts(evs)[MOSS]["bio"] == "wa in fields\nWhatsApp: +00 0000 0000 (invented)"
    (state,) = of_kind(evs, "account_state")
    assert state["data"] == {"account_id": REED, "state": "suspended"}


def test_admin_accounts():
    evs = events_of("admin_accounts.json")
    states = {e["data"]["account_id"]: e["data"] for e in of_kind(evs, "account_state")}
    assert states[FOX]["state"] == "active"
    assert states[REED] == {"account_id": REED, "state": "suspended", "reason": "silenced, disabled"}
    sessions = {(e["data"]["account_id"], e["data"]["ip"], e["data"]["event"], e["time"]) for e in of_kind(evs, "session")}
    assert sessions == {
        (FOX, "192.0.2.10", "other", "2026-02-01T08:00:00Z"),
        (FOX, "2001:db8::7", "other", "2026-01-15T20:00:00Z"),
        (FOX, "192.0.2.10", "login", "2026-02-01T08:00:00Z"),
        (REED, "198.51.100.23", "other", "2026-01-02T03:04:05Z"),
        (REED, "198.51.100.23", "login", "2026-01-02T03:04:05Z"),
    }
    assert set(accounts(evs)) == {FOX, REED}


@pytest.mark.parametrize("name", ALL)
def test_deterministic(name):
    assert json.dumps(events_of(name)) == json.dumps(events_of(name))


def _broken():
    timeline = load(FIX / "mastodon" / "timeline.jsonl")[0]
    edges = load(FIX / "mastodon" / "edges.jsonl")

    def mutate(rec, fn):
        r = copy.deepcopy(rec)
        fn(r)
        return r

    return [
        ("not an object", 42),
        ("status without id", mutate(timeline, lambda r: r["response"][0].pop("id"))),
        ("status without account", mutate(timeline, lambda r: r["response"][0].__setitem__("account", None))),
        ("account id numeric", mutate(timeline, lambda r: r["response"][0]["account"].__setitem__("id", 5))),
        ("locked not bool", mutate(timeline, lambda r: r["response"][0]["account"].__setitem__("locked", "no"))),
        ("bad created_at", mutate(timeline, lambda r: r["response"][0].__setitem__("created_at", "soon"))),
        ("mentions not list", mutate(timeline, lambda r: r["response"][0].__setitem__("mentions", {}))),
        ("mention without id", mutate(timeline, lambda r: r["response"][0]["mentions"][0].pop("id"))),
        ("response is a string", {"request": "GET /api/v1/timelines/public", "response": "x"}),
        ("requests without viewer", mutate(edges[2], lambda r: r.pop("viewer"))),
        ("relationships without viewer", mutate(edges[3], lambda r: r.pop("viewer"))),
        ("follower is not an account", mutate(edges[0], lambda r: r["response"][0].pop("acct"))),
        ("unknown entity", {"hello": "world"}),
        ("twitter envelope", {"request": "GET /2/users/1/followers", "response": []}),
        ("bare relationship", {"id": "1", "following": True, "followed_by": False}),
    ]


@pytest.mark.parametrize(("label", "rec"), _broken(), ids=[b[0] for b in _broken()])
def test_malformed_records_raise_badrecord(label, rec):
    with pytest.raises(BadRecord):
        mastodon.to_events(rec)


def test_sniff_distinguishes_formats():
    for name in ALL:
        for rec in load(FIX / "mastodon" / name):
            assert mastodon.sniff(rec) and not twitter.sniff(rec)
    for name in ("tweets.jsonl", "follows.jsonl", "liking_users.json"):
        for rec in load(FIX / "twitter" / name):
            assert not mastodon.sniff(rec)
    native = {"v": 1, "id": "e1", "kind": "account", "time": "2026-01-01T00:00:00Z", "data": {"id": "a", "handle": "h"}}
    assert not mastodon.sniff(native)
    statuses = load(FIX / "mastodon" / "timeline.jsonl")[0]["response"]
    assert mastodon.sniff(statuses)  # a JSON array line of Statuses
    assert len(posts(mastodon.to_events(statuses))) == 6
    assert not mastodon.sniff("x") and not mastodon.sniff([]) and not mastodon.sniff({})
