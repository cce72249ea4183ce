"""Small deterministic native event streams covering every kind, for ingestion tests."""

from __future__ import annotations

import random

import orjson


def _t(i: int) -> str:
    return f"2026-01-{1 + i // 86400 % 28:02d}T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z"


def make_events(accounts: int = 30, posts: int = 120, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    ev: list[dict] = []
    n = [0]

    def add(kind: str, data: dict) -> None:
        n[0] += 1
        ev.append({"v": 1, "id": f"e{n[0]:06d}", "kind": kind, "time": _t(n[0] * 37), "data": data})

    ids = [f"a{i}" for i in range(accounts)]
    for i, a in enumerate(ids):
        add("account", {"id": a, "handle": f"user_{i}", "display_name": f"User {i}", "bio": f"bio of {i}",
                        "protected": i % 5 == 0, "created_at": _t(i),
                        "avatar": {"id": f"av{i}", "kind": "photo", "uri": f"media/av{i}.png"}})
    post_ids: list[str] = []
    for j in range(posts):
        author = rng.choice(ids)
        d = {"id": f"p{j}", "author_id": author, "text": f"post {j} #tag{j % 7} @user_{j % accounts}",
             "hashtags": [f"Tag{j % 7}"], "mentions": [ids[j % accounts]], "urls": [f"https://example.org/{j}"],
             "visibility": rng.choice(["public", "unlisted", "followers"]), "lang": "en"}
        if post_ids and rng.random() < 0.3:
            d["reply_to"] = rng.choice(post_ids)
        elif post_ids and rng.random() < 0.1:
            d["repost_of"] = rng.choice(post_ids)
        elif post_ids and rng.random() < 0.1:
            d["quote_of"] = rng.choice(post_ids)
        if rng.random() < 0.2:
            d["media"] = [{"id": f"m{j}", "kind": "photo", "uri": f"media/m{j}.jpg", "size": 1000 + j,
                           "mime": "image/jpeg", "alt_text": f"alt {j}"}]
        add("post", d)
        post_ids.append(f"p{j}")
    for _ in range(accounts * 3):
        s, d = rng.sample(ids, 2)
        add("follow", {"src": s, "dst": d})
    for _ in range(accounts // 2):
        s, d = rng.sample(ids, 2)
        add("unfollow", {"src": s, "dst": d})
    for _ in range(accounts):
        s, d = rng.sample(ids, 2)
        add("follow_request", {"src": s, "dst": d, "state": rng.choice(["pending", "approved", "rejected"])})
    for _ in range(posts):
        add("like", {"account_id": rng.choice(ids), "post_id": rng.choice(post_ids)})
    for _ in range(posts // 10):
        add("unlike", {"account_id": rng.choice(ids), "post_id": rng.choice(post_ids)})
    for j in rng.sample(range(posts), posts // 10):
        add("post_edit", {"id": f"p{j}", "text": f"edited {j}", "hashtags": ["edited"]})
    for j in rng.sample(range(posts), posts // 20):
        add("post_delete", {"id": f"p{j}"})
    for a in rng.sample(ids, min(3, accounts)):
        add("account_state", {"account_id": a, "state": "suspended", "reason": "test"})
    for a in rng.sample(ids, min(5, accounts)):
        add("account", {"id": a, "handle": f"renamed_{a}", "bio": "changed bio", "protected": True})
    for a in rng.sample(ids, min(5, accounts)):
        add("session", {"account_id": a, "ip": "192.0.2.7", "event": "login", "user_agent": "test-agent"})
    kinds = ("account", "anonymous", "trusted_flagger", "automated")
    for k in range(max(2, accounts // 3)):  # user reports, some resolved, some updated, some reopened
        rk = kinds[k % 4]
        d = {"id": f"r{k}", "account_id": rng.choice(ids), "category": rng.choice(["child_sexual_exploitation", "spam", "other"]),
             "reporter_kind": rk, "posts": rng.sample(post_ids, k % 3), "comment": f"report {k}", "source": "test"}
        if rk in ("account", "trusted_flagger"):
            d["reporter_id"] = rng.choice(ids) if rk == "account" else "flagger-org"
        add("report", d)
        if k % 3 == 0:
            add("report_resolution", {"report_id": f"r{k}", "outcome": rng.choice(["actioned", "no_violation"]),
                                      "by": "mod1", "note": "checked"})
        if k % 5 == 1:
            add("report", {**d, "category": "harassment", "comment": "updated"})
        if k % 6 == 0:
            add("report_resolution", {"report_id": f"r{k}", "outcome": "reopened", "by": "mod2"})
    return ev


def write_jsonl(path, events: list[dict]) -> None:
    with open(path, "wb") as f:
        for e in events:
            f.write(orjson.dumps(e) + b"\n")
