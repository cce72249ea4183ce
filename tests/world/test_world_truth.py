"""truth.json agrees with what the events show: members, roles, protection, handles, re-registrations."""

from __future__ import annotations

import csv

from PIL import Image

from netwarden.world import vocab
from netwarden.world.images import hamming, pdq_hex


def _bank(world) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"pdq": [], "md5": []}
    with open(world.path / "bank.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and set(rows[0]) == {"signal_type", "signal", "label"}
    for r in rows:
        out[r["signal_type"]].append(r["signal"])
    return out


def test_members_exist_and_sizes_in_range(small_world):
    t = small_world.truth
    lo, hi = t["params"]["network_size"]
    all_members = [m for n in t["networks"] for m in n["members"]]
    assert len(all_members) == len(set(all_members)), "a member is in two networks"
    for n in t["networks"]:
        assert lo <= n["size"] == len(n["members"]) <= hi
        assert set(n["roles"]) == set(n["members"])
        for m in n["members"]:
            assert m in small_world.accounts
        assert set(n["roles"].values()) == {"poster", "commenter", "silent"}


def test_roles_match_behaviour(small_world):
    for n in small_world.truth["networks"]:
        tags = set(n["hashtags"])
        for m, role in n["roles"].items():
            posts = small_world.posts_by.get(m, [])
            if role == "silent":
                assert not posts, f"silent member {m} posted"
                assert not small_world.likes_by.get(m)
                assert not tags & set(small_world.accounts[m].get("bio", "").replace("#", " ").split())
                assert small_world.follows.get(m) or n["camouflage"] == 0
            elif role == "poster":
                if m not in n["suspended"] or posts:
                    assert any(p.get("media") for p in posts) or not posts
            else:
                assert not any(p.get("media") and tags & set(p.get("hashtags", [])) for p in posts)
        posters = [m for m, r in n["roles"].items() if r == "poster"]
        assert sum(1 for m in posters if any(p.get("media") for p in small_world.posts_by.get(m, []))) >= len(posters) * 0.8
        commenters = [m for m, r in n["roles"].items() if r == "commenter"]
        langs = {p.get("lang") for m in commenters for p in small_world.posts_by.get(m, []) if p.get("reply_to")}
        assert {"en", "ar", "es"} <= langs


def test_posted_known_media_matches_bank(small_world):
    bank = _bank(small_world)
    for n in small_world.truth["networks"]:
        assert n["media_posts"]
        for mp in n["media_posts"]:
            assert mp["post_id"] in small_world.posts
            assert small_world.posts[mp["post_id"]]["author_id"] == mp["author"]
            assert n["roles"][mp["author"]] == "poster"
        for uri in sorted({mp["uri"] for mp in n["media_posts"]}):
            h, _ = pdq_hex(Image.open(small_world.path / uri))
            assert min(hamming(h, b) for b in bank["pdq"]) <= 31, uri
        originals = [mp for mp in n["media_posts"] if mp["variant"] == "original"]
        assert originals and all(
            small_world.posts[mp["post_id"]]["media"][0]["md5"] in bank["md5"] for mp in originals
        )


def test_benign_media_does_not_match_bank(small_world):
    bank = _bank(small_world)
    for f in sorted((small_world.path / "media" / "benign").iterdir())[:60]:
        h, _ = pdq_hex(Image.open(f))
        assert min(hamming(h, b) for b in bank["pdq"]) > 45, f.name


def test_protected_fraction(small_world):
    for n in small_world.truth["networks"]:
        frac = len(n["protected"]) / n["size"]
        assert 0.1 <= frac <= 0.32
        for m in n["protected"]:
            assert small_world.accounts[m]["protected"] is True
        approved = {e["data"]["src"] for e in small_world.by_kind["follow_request"]
                    if e["data"]["dst"] in n["protected"] and e["data"]["state"] == "approved"}
        assert approved & set(n["members"]), "members reach protected members through follow requests"


def test_shared_handles_in_bios(small_world):
    t = small_world.truth
    for n in t["networks"]:
        (sh,) = n["shared_handles"]
        frac = t["params"]["shared_handle_fraction"]
        assert len(sh["members"]) >= round(frac * n["size"]) - 1
        for m in sh["members"]:
            assert sh["handle"] in small_world.accounts[m]["bio"]
        outsiders = [a for a, d in small_world.accounts.items() if sh["handle"] in d.get("bio", "")]
        assert set(outsiders) == set(sh["members"])


def test_reregistrations(small_world):
    t = small_world.truth
    assert t["reregistrations"]
    suspended = {e["data"]["account_id"]: e["time"] for e in small_world.by_kind["account_state"]
                 if e["data"]["state"] == "suspended"}
    nets = {n["id"]: n for n in t["networks"]}
    for rr in t["reregistrations"]:
        old, new = small_world.accounts[rr["old"]], small_world.accounts[rr["new"]]
        net = nets[rr["network"]]
        assert rr["old"] in net["members"] and rr["new"] in net["members"] and rr["old"] in net["suspended"]
        assert suspended[rr["old"]] < new["created_at"]
        assert old["handle"] != new["handle"]
        assert rr["carried"]
        if "handle" in rr["carried"]:
            contacts = net["contacts"][rr["old"]]
            assert contacts and all(c["handle"] in new["bio"] for c in contacts)
        if "avatar" in rr["carried"]:
            assert old["avatar"]["md5"] == new["avatar"]["md5"]
        if "follows" in rr["carried"]:
            a, b = small_world.follows[rr["old"]], small_world.follows[rr["new"]]
            assert a and len(a & b) >= 0.5 * len(a)
        # nothing posted by the old account after its suspension
        for p in small_world.posts_by.get(rr["old"], []):
            assert p["created_at"] <= suspended[rr["old"]]


def test_camouflage_fraction_of_follows(small_world):
    for n in small_world.truth["networks"]:
        members = set(n["members"])
        out = [d for m in members for d in small_world.follows.get(m, ())]
        outside = sum(1 for d in out if d not in members) / len(out)
        assert abs(outside - n["camouflage"]) < 0.12, (n["id"], outside)


def test_hashtags_and_decoys(small_world):
    t = small_world.truth
    signal = set(t["signal_hashtags"])
    assert signal and not signal & set(t["benign_hashtags"])
    assert signal <= set(vocab.SIGNAL_HASHTAGS)
    members = {m for n in t["networks"] for m in n["members"]}
    assert t["decoys"]
    for d in t["decoys"]:
        assert d["account"] not in members and d["hashtag"] in signal
        assert any(d["hashtag"] in p.get("hashtags", []) for p in small_world.posts_by[d["account"]])
    decoys = {d["account"] for d in t["decoys"]}
    for p in small_world.posts.values():
        if signal & set(p.get("hashtags", [])):
            assert p["author_id"] in members or p["author_id"] in decoys
