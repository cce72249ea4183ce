"""A world ships its placeholder vocabulary as an operator term list that scans its own content."""

from __future__ import annotations

from netwarden.text.scanner import Scanner
from netwarden.text.terms import load_terms


def test_terms_file_covers_planted_hashtags_and_scans_network_comments(small_world):
    terms = load_terms(small_world.path / "terms.yaml")
    listed = {t.term.lstrip("#") for t in terms.terms if t.category == "signal_hashtag"}
    planted = {tag for n in small_world.truth["networks"] for tag in n["hashtags"]}
    assert planted and planted <= listed
    members = {m for n in small_world.truth["networks"] for m in n["members"]}
    scanner = Scanner(terms)
    flagged_members = {p["author_id"] for p in small_world.posts.values() if scanner.scan(p.get("text", ""))}
    assert flagged_members and flagged_members <= members | {d["account"] for d in small_world.truth["decoys"]}
