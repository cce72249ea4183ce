"""A small generated world shared by the world tests (a couple of thousand accounts: seconds)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import orjson
import pytest

from netwarden.world import generate

SMALL = {"accounts": 2000, "seed": 11, "networks": 2, "network_size": (40, 70), "camouflage": (0.1, 0.5)}


class World:
    def __init__(self, path: Path):
        self.path = path
        self.truth = json.loads((path / "truth.json").read_text())
        self.events = [orjson.loads(line) for line in (path / "events.jsonl").read_bytes().splitlines()]
        self.by_kind: dict[str, list[dict]] = defaultdict(list)
        for e in self.events:
            self.by_kind[e["kind"]].append(e)
        self.accounts = {e["data"]["id"]: e["data"] for e in self.by_kind["account"]}
        self.posts = {e["data"]["id"]: e["data"] for e in self.by_kind["post"]}
        self.posts_by: dict[str, list[dict]] = defaultdict(list)
        for p in self.posts.values():
            self.posts_by[p["author_id"]].append(p)
        self.likes_by: dict[str, list[str]] = defaultdict(list)
        for e in self.by_kind["like"]:
            self.likes_by[e["data"]["account_id"]].append(e["data"]["post_id"])
        self.follows: dict[str, set[str]] = defaultdict(set)
        for e in self.by_kind["follow"]:
            self.follows[e["data"]["src"]].add(e["data"]["dst"])
        for e in self.by_kind["follow_request"]:
            if e["data"]["state"] == "approved":
                self.follows[e["data"]["src"]].add(e["data"]["dst"])


@pytest.fixture(scope="session")
def small_world(tmp_path_factory) -> World:
    out = tmp_path_factory.mktemp("world") / "w"
    generate(out, **SMALL)
    return World(out)
