"""End to end: the Twitter v2 and Mastodon fixtures through `ingest_files` into a SQLite store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from netwarden.errors import UserError
from netwarden.ingest.pipeline import ingest_files
from netwarden.store import open_store
from netwarden.store import schema as t
from storedump import dump

FIX = Path(__file__).parent / "fixtures"


def _ingest(url, paths, fmt):
    store = open_store(url)
    try:
        return ingest_files(store, paths, fmt=fmt, signals=False)
    finally:
        store.close()


def _copy(tmp_path, sub):
    out = []
    for p in sorted((FIX / sub).iterdir()):
        dst = tmp_path / f"{sub}-{p.name}"
        shutil.copy(p, dst)
        out.append(dst)
    return out


def test_twitter_fixtures_into_sqlite(db_url, tmp_path):
    sqlite_url = db_url  # runs on both backends
    paths = _copy(tmp_path, "twitter")
    summary = _ingest(sqlite_url, paths, "twitter-v2")
    assert summary.dead == 0 and summary.events > 0
    before = dump(sqlite_url)
    again = _ingest(sqlite_url, paths, "twitter-v2")  # idempotent
    assert again.dead == 0
    assert dump(sqlite_url) == before
    store = open_store(sqlite_url)
    with store.engine.connect() as c:
        accounts = {r.id: r for r in c.execute(select(t.accounts))}
        assert accounts["1500000000000000002"].protected
        assert accounts["1500000000000000001"].handle == "quiet_fox22"
        assert "kik: quiet_fox22" in accounts["1500000000000000001"].bio
        posts = {r.id: r for r in c.execute(select(t.posts))}
        assert posts["1800000000000000011"].reply_to == "1800000000000000010"
        assert posts["1800000000000000012"].quote_of == "1800000000000000010"
        assert posts["1800000000000000013"].repost_of == "1800000000000000010"
        tags = set(c.execute(select(t.post_hashtags.c.post_id, t.post_hashtags.c.tag)).all())
        assert ("1800000000000000012", "zqxplaceholder") in tags
        follows = set(c.execute(select(t.follows.c.src, t.follows.c.dst)).all())
        assert ("1500000000000000004", "1500000000000000003") in follows
        assert c.scalar(select(func.count()).select_from(t.likes)) == 2
        media = {r.id: r for r in c.execute(select(t.media))}
        assert media["3_1800000000000000101"].kind == "photo"
        assert media["7_1800000000000000102"].kind == "video"
    store.close()


def test_mastodon_fixtures_into_sqlite(db_url, tmp_path):
    sqlite_url = db_url  # runs on both backends
    paths = _copy(tmp_path, "mastodon")
    summary = _ingest(sqlite_url, paths, "mastodon")
    assert summary.dead == 0 and summary.events > 0
    store = open_store(sqlite_url)
    with store.engine.connect() as c:
        accounts = {r.id: r for r in c.execute(select(t.accounts))}
        assert accounts["110000000000000002"].protected
        assert accounts["110000000000000005"].state == "suspended"
        assert "<" not in accounts["110000000000000001"].bio
        posts = {r.id: r for r in c.execute(select(t.posts))}
        assert posts["111000000000000013"].repost_of == "111000000000000010"
        assert posts["111000000000000011"].reply_to == "111000000000000010"
        assert posts["111000000000000011"].edited_at is not None
        assert posts["111000000000000014"].visibility == "followers"
        reqs = set(c.execute(select(t.follow_requests.c.src, t.follow_requests.c.dst, t.follow_requests.c.state)).all())
        assert ("110000000000000001", "110000000000000002", "pending") in reqs
        assert c.scalar(select(func.count()).select_from(t.account_sessions)) >= 3
    store.close()


def test_wrong_format_is_refused_before_writing(sqlite_url, tmp_path):
    (mastodon_file,) = [p for p in _copy(tmp_path, "mastodon") if p.name.endswith("edges.jsonl")]
    with pytest.raises(UserError):
        _ingest(sqlite_url, [mastodon_file], "twitter-v2")
    twitter_file = _copy(tmp_path, "twitter")[0]
    with pytest.raises(UserError):
        _ingest(sqlite_url, [twitter_file], "mastodon")


def test_bad_twitter_record_goes_to_dead_letters(sqlite_url, tmp_path):
    good = (FIX / "twitter" / "tweets.jsonl").read_text().splitlines()
    bad = json.loads(good[0])
    del bad["data"][0]["author_id"]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join([good[0], json.dumps(bad), good[1]]) + "\n")
    summary = _ingest(sqlite_url, [path], "twitter-v2")
    assert summary.dead == 1
