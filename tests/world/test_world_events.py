"""Every line of a generated world is a valid native event, in time order, pointing at real files."""

from __future__ import annotations

import ipaddress
import re

import orjson

from netwarden.ingest.events import validate

DOC_NETS = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]


def test_every_line_validates(small_world):
    n = 0
    for line in (small_world.path / "events.jsonl").read_bytes().splitlines():
        validate(orjson.loads(line))
        n += 1
    assert n == small_world.truth["events"] == len(small_world.events)


def test_time_order_and_unique_ids(small_world):
    times = [e["time"] for e in small_world.events]
    assert times == sorted(times)
    assert len({e["id"] for e in small_world.events}) == len(small_world.events)
    assert len(small_world.accounts) == small_world.truth["accounts"]
    assert len({a["handle"] for a in small_world.accounts.values()}) == len(small_world.accounts)


def test_every_kind_of_edge_is_there(small_world):
    posts = small_world.posts.values()
    assert any(p.get("reply_to") for p in posts)
    assert any(p.get("repost_of") for p in posts)
    assert any(p.get("quote_of") for p in posts)
    assert any(p.get("mentions") for p in posts)
    assert any(p.get("media") for p in posts)
    states = {e["data"]["state"] for e in small_world.by_kind["follow_request"]}
    assert states == {"pending", "approved", "rejected"}
    assert small_world.by_kind["like"] and small_world.by_kind["account_state"]


def test_referenced_posts_and_accounts_exist(small_world):
    for p in small_world.posts.values():
        assert p["author_id"] in small_world.accounts
        for key in ("reply_to", "repost_of", "quote_of"):
            if p.get(key):
                assert p[key] in small_world.posts
    for e in small_world.by_kind["follow"]:
        assert e["data"]["src"] in small_world.accounts and e["data"]["dst"] in small_world.accounts


def test_media_files_exist_and_are_small(small_world):
    seen = set()
    for p in small_world.posts.values():
        for m in p.get("media", []):
            seen.add(m["uri"])
    for a in small_world.accounts.values():
        if a.get("avatar"):
            seen.add(a["avatar"]["uri"])
    assert seen
    for uri in seen:
        f = small_world.path / uri
        assert f.is_file() and f.stat().st_size < 100_000, uri


def test_sessions_use_documentation_addresses(small_world):
    for e in small_world.by_kind["session"]:
        ip = ipaddress.ip_address(e["data"]["ip"])
        assert any(ip in net for net in DOC_NETS)


def test_phone_numbers_are_fictional(small_world):
    phones = re.compile(r"\+1 \d{3} \d{3} \d{4}")
    for a in small_world.accounts.values():
        for number in phones.findall(a.get("bio", "")):
            assert number.split()[2] == "555" and number.split()[3].startswith("01"), number
