"""Twitter/X API v2 payloads -> native events: shape, mapping, determinism, bad records, sniffing."""

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
SCHEMA = Path(twitter.__file__).parent / "events.schema.json"


def load(path: Path) -> list:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [json.loads(path.read_text())]


@cache
def schema_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))


def events_of(name: str) -> list[dict]:
    return [e for rec in load(FIX / "twitter" / name) for e in twitter.to_events(rec)]


def by_id(events: list[dict]) -> dict[str, dict]:
    return {e["id"]: e for e in events}


def posts(events: list[dict]) -> dict[str, dict]:
    return {e["data"]["id"]: e["data"] for e in events if e["kind"] == "post"}


def accounts(events: list[dict]) -> dict[str, dict]:
    return {e["data"]["id"]: e["data"] for e in events if e["kind"] == "account"}


ALL = ["tweets.jsonl", "follows.jsonl", "liking_users.json"]
FOX, MOTH, PEBBLE, MOSS = (f"150000000000000000{i}" for i in (1, 2, 3, 4))
ORIG, REPLY, QUOTE, RT = (f"18000000000000000{i}" for i in (10, 11, 12, 13))


@pytest.mark.parametrize("name", ALL)
def test_every_event_is_valid_native(name):
    evs = events_of(name)
    assert evs
    for e in evs:
        validate(e)
        schema_validator().validate(e)


def test_tweet_mapping():
    evs = events_of("tweets.jsonl")
    p = posts(evs)
    assert set(p) == {ORIG, REPLY, QUOTE, RT}
    reply = p[REPLY]
    assert reply["author_id"] == FOX
    assert reply["reply_to"] == ORIG
    assert reply["mentions"] == [PEBBLE]
    assert reply["urls"] == ["https://example.com/river-guide"]
    assert reply["text"] == "@PebbleCreek lovely light & calm water, see https://example.com/river-guide"
    assert reply["created_at"] == "2026-02-01T08:02:03Z"
    assert reply["lang"] == "en"
    assert by_id(evs)[f"tw:tweet:{REPLY}"]["time"] == "2026-02-01T08:02:03Z"

    quote = p[QUOTE]
    assert quote["quote_of"] == ORIG and "reply_to" not in quote and "repost_of" not in quote
    assert quote["hashtags"] == ["zqxplaceholder"]
    assert quote["mentions"] == [FOX]
    assert quote["visibility"] == "followers"  # the author is protected
    assert quote["lang"] == "es"
    video, gif = quote["media"]
    assert video["id"] == "7_1800000000000000102" and video["kind"] == "video"
    assert video["uri"].endswith("/720x1280/High.mp4") and video["mime"] == "video/mp4"
    assert (video["width"], video["height"]) == (720, 1280)
    assert gif["kind"] == "video" and gif["uri"].endswith("GifLoop.mp4")
    assert "VidLink04" not in quote["text"]  # the media's own t.co link is not a URL of the post

    assert p[RT]["repost_of"] == ORIG
    orig = p[ORIG]
    assert orig["hashtags"] == ["zqxplaceholder", "BlueHeron"]
    assert "urls" not in orig  # its only link is the photo's own
    (photo,) = orig["media"]
    assert photo == {
        "id": "3_1800000000000000101",
        "kind": "photo",
        "uri": "https://pbs.twimg.com/media/GaBcDeFgHiJ.jpg",
        "mime": "image/jpeg",
        "width": 1200,
        "height": 800,
        "alt_text": "A grey heron standing in shallow water",
    }
    assert orig["visibility"] == "public"


def test_user_mapping():
    evs = events_of("tweets.jsonl")
    a = accounts(evs)
    assert set(a) == {FOX, MOTH, PEBBLE}
    fox = a[FOX]
    assert fox["handle"] == "quiet_fox22" and fox["display_name"] == "Quiet Fox"
    assert fox["protected"] is False and a[MOTH]["protected"] is True
    assert fox["bio"].splitlines() == [
        "Birdwatching and tea. more at https://example.net/fox-notes & kik: quiet_fox22",
        "website: https://example.org/quietfox",
        "location: tg: @teapot_heron",
    ]
    assert fox["created_at"] == "2021-05-04T10:11:12Z"
    assert fox["avatar"]["kind"] == "photo"
    assert fox["avatar"]["uri"] == "https://pbs.twimg.com/profile_images/1600000000000000001/aB3dEfGh.jpg"
    # profile snapshots use the retrieval time from __twarc
    assert all(e["time"] == "2026-02-02T00:00:05Z" for e in evs[:3] if e["kind"] == "account")


def test_profile_hash_in_event_id():
    page = load(FIX / "twitter" / "tweets.jsonl")[0]
    same = twitter.to_events(copy.deepcopy(page))
    changed = copy.deepcopy(page)
    changed["includes"]["users"][0]["description"] = "now about owls"
    ids_same = {e["id"] for e in same if e["kind"] == "account"}
    ids_changed = {e["id"] for e in twitter.to_events(changed) if e["kind"] == "account"}
    assert ids_same == {e["id"] for e in twitter.to_events(page) if e["kind"] == "account"}
    assert len(ids_same - ids_changed) == 1
    assert all(i.startswith("tw:user:") for i in ids_same)


def test_follower_and_following_pages():
    evs = events_of("follows.jsonl")
    follows = {(e["data"]["src"], e["data"]["dst"]): e for e in evs if e["kind"] == "follow"}
    # __twarc url: GET /2/users/PEBBLE/followers; envelope: GET /2/users/FOX/following
    assert set(follows) == {(FOX, PEBBLE), (MOTH, PEBBLE), (MOSS, PEBBLE), (FOX, MOTH)}
    assert follows[(MOSS, PEBBLE)]["id"] == f"tw:follow:{MOSS}:{PEBBLE}"
    assert follows[(MOSS, PEBBLE)]["time"] == "2026-02-03T12:00:00Z"
    assert follows[(FOX, MOTH)]["time"] == "2026-02-03T12:05:00Z"
    assert accounts(evs)[MOSS]["protected"] is True


def test_liking_users():
    evs = events_of("liking_users.json")
    likes = {(e["data"]["account_id"], e["data"]["post_id"]) for e in evs if e["kind"] == "like"}
    assert likes == {(FOX, ORIG), (MOSS, ORIG)}


def test_liked_tweets_and_bare_tweet():
    tweet = load(FIX / "twitter" / "tweets.jsonl")[1]["data"]
    env = {"request": f"GET /2/users/{MOSS}/liked_tweets", "fetched_at": "2026-02-05T00:00:00Z", "response": {"data": [tweet]}}
    evs = twitter.to_events(env)
    assert {(e["data"]["account_id"], e["data"]["post_id"]) for e in evs if e["kind"] == "like"} == {(MOSS, ORIG)}
    flat = dict(tweet, author={"id": PEBBLE, "username": "PebbleCreek"})  # twarc2 flatten output
    assert twitter.sniff(flat)
    kinds = sorted(e["kind"] for e in twitter.to_events(flat))
    assert kinds == ["account", "post"]


def test_time_fallback_without_retrieval_time():
    page = load(FIX / "twitter" / "tweets.jsonl")[0]
    del page["__twarc"]
    evs = twitter.to_events(page)
    # the newest created_at in the page (the retweet at 10:00)
    assert {e["time"] for e in evs if e["kind"] == "account"} == {"2026-02-01T10:00:00Z"}
    assert twitter.to_events({"data": [], "meta": {"result_count": 0}}) == []
    lonely = {"data": [{"id": "9", "username": "x"}]}
    assert twitter.to_events(lonely)[0]["time"] == "1970-01-01T00:00:00Z"


@pytest.mark.parametrize("name", ALL)
def test_deterministic(name):
    assert events_of(name) == events_of(name)
    assert json.dumps(events_of(name)) == json.dumps(events_of(name))


def _broken_pages():
    page = load(FIX / "twitter" / "tweets.jsonl")[0]

    def mutate(fn):
        p = copy.deepcopy(page)
        fn(p)
        return p

    return [
        ("not an object", "just text"),
        ("data is a string", {"data": "nope"}),
        ("tweet without id", mutate(lambda p: p["data"][0].pop("id"))),
        ("tweet without author", mutate(lambda p: p["data"][0].pop("author_id"))),
        ("numeric id", mutate(lambda p: p["data"][0].__setitem__("id", 18000))),
        ("bad time", mutate(lambda p: p["data"][0].__setitem__("created_at", "yesterday"))),
        ("hashtags not a list", mutate(lambda p: p["data"][1]["entities"].__setitem__("hashtags", "x"))),
        ("media key not str", mutate(lambda p: p["data"][1]["attachments"].__setitem__("media_keys", [7]))),
        ("user without username", mutate(lambda p: p["includes"]["users"][0].pop("username"))),
        ("protected not bool", mutate(lambda p: p["includes"]["users"][0].__setitem__("protected", "yes"))),
        ("includes users not a list", mutate(lambda p: p["includes"].__setitem__("users", {}))),
        ("data item neither", {"data": [{"id": "1"}]}),
        ("unknown shape", {"hello": "world"}),
        ("mastodon envelope", {"request": "GET /api/v1/follow_requests", "response": {"data": []}}),
        ("envelope response list", {"request": "GET /2/users/1/followers", "response": []}),
    ]


@pytest.mark.parametrize(("label", "rec"), _broken_pages(), ids=[b[0] for b in _broken_pages()])
def test_malformed_records_raise_badrecord(label, rec):
    with pytest.raises(BadRecord):
        twitter.to_events(rec)


def test_sniff_distinguishes_formats():
    for name in ALL:
        for rec in load(FIX / "twitter" / name):
            assert twitter.sniff(rec) and not mastodon.sniff(rec)
    for name in ("timeline.jsonl", "edges.jsonl", "admin_accounts.json"):
        for rec in load(FIX / "mastodon" / name):
            assert not twitter.sniff(rec), rec
    native = {"v": 1, "id": "e1", "kind": "follow", "time": "2026-01-01T00:00:00Z", "data": {"src": "a", "dst": "b"}}
    assert not twitter.sniff(native)
    assert not twitter.sniff("text") and not twitter.sniff([]) and not twitter.sniff(None)
