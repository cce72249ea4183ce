"""Issue 12, adapter fidelity: what real Mastodon and Twitter v2 output carries is kept (or refused clearly).

Fixtures are written from the APIs' documentation (Mastodon's entity pages, Twitter API v2's
response shapes, twarc2's flatten layout), never copied from recorded data.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from netwarden.ingest import mastodon, twitter
from netwarden.ingest.events import BadRecord, validate
from netwarden.ingest.pipeline import ingest_files
from netwarden.store import open_store
from netwarden.store import schema as t

FIX = Path(__file__).parent / "fixtures"
FOX, MOTH, PEBBLE, MOSS, REED = (f"11000000000000000{i}" for i in (1, 2, 3, 4, 5))


def _pages() -> list[dict]:
    return [json.loads(x) for x in (FIX / "mastodon" / "pages.jsonl").read_text().splitlines()]


def _kinds(evs: list[dict], kind: str) -> list[dict]:
    return [e for e in evs if e["kind"] == kind]


def _valid(evs: list[dict]) -> list[dict]:
    for e in evs:
        validate(e)
    return evs


# -- Mastodon ---------------------------------------------------------------------------------------


def test_mastodon_reply_keeps_the_parent_account_when_the_parent_is_absent():
    notif = _pages()[1]
    evs = _valid(mastodon.to_events(notif))
    reply = next(e["data"] for e in _kinds(evs, "post") if e["data"]["id"] == "111000000000000023")
    assert reply["reply_to"] == "111000000000000022" and reply["reply_to_account"] == FOX


def test_mastodon_status_history_pages_are_the_versions_of_the_post():
    evs = _valid(mastodon.to_events(_pages()[0]))
    sid = "111000000000000021"
    assert not _kinds(evs, "post")  # a StatusEdit has no visibility: the Status itself brings the post
    assert {e["data"]["id"] for e in _kinds(evs, "account")} == {FOX}
    edits = _kinds(evs, "post_edit")
    assert [(e["id"], e["data"]["text"]) for e in edits] == [
        (f"md:edit:{sid}:2026-02-01T10:00:00Z", "first words"),
        (f"md:edit:{sid}:2026-02-01T10:05:00Z", "second words #zqxplaceholder"),
        (f"md:edit:{sid}:2026-02-01T10:09:00Z", "cw\n\nthird words, see example.org/river"),
    ]
    assert edits[1]["data"]["hashtags"] == ["zqxplaceholder"] and edits[2]["data"]["urls"] == ["https://example.org/river"]
    # the last edit is the one a Status's edited_at gives: one event id for both sources
    status = {"id": sid, "created_at": "2026-02-01T10:00:00Z", "edited_at": "2026-02-01T10:09:00.000Z", "content": "<p>x</p>",
              "visibility": "public", "account": {"id": FOX, "username": "quiet_fox", "acct": "quiet_fox"}}
    assert edits[-1]["id"] in {e["id"] for e in mastodon.to_events(status)}
    never_edited = {**_pages()[0], "response": _pages()[0]["response"][:1]}
    assert [e["kind"] for e in mastodon.to_events(never_edited)] == ["account"]
    bare = _pages()[0]["response"][0]
    with pytest.raises(BadRecord, match="StatusEdit .*statuses/<id>/history"):
        mastodon.to_events(bare)


def test_mastodon_admin_account_keeps_its_exact_created_at_and_email():
    doc = json.loads((FIX / "mastodon" / "admin_accounts.json").read_text())
    evs = _valid(mastodon.to_events(doc))
    fox = next(e["data"] for e in _kinds(evs, "account") if e["data"]["id"] == FOX)
    assert fox["created_at"] == "2024-03-16T09:01:02Z"  # not the inner account's 2024-03-16T00:00:00Z
    assert fox["email"] == "quiet_fox@mail.example"


def test_mastodon_attachment_kinds_and_visibilities():
    evs = _valid(mastodon.to_events(_pages()[3]))
    posts = {e["data"]["id"]: e["data"] for e in _kinds(evs, "post")}
    song, listed = posts["111000000000000025"], posts["111000000000000026"]
    assert [m["kind"] for m in song["media"]] == ["audio", "other"]  # not photos
    assert song["visibility"] == "unlisted"  # Akkoma/Pleroma local-only: this instance, not federated
    assert listed["visibility"] == "followers"  # list-only: a chosen audience, not public
    odd = copy.deepcopy(_pages()[3])
    odd["response"][0]["visibility"] = "mutuals_only"  # a server's own visibility: never taken for public
    assert next(e for e in mastodon.to_events(odd) if e["kind"] == "post")["data"]["visibility"] == "followers"


def test_mastodon_unfilled_template_request_is_a_clear_dead_letter(sqlite_url, tmp_path):
    """A request line copied from the API docs with its placeholder left in."""
    template = {"request": "GET /api/v1/accounts/:id/followers", "fetched_at": "2026-02-03T00:00:00Z",
                "response": [_pages()[1]["response"][0]["account"]]}
    with pytest.raises(BadRecord, match="unfilled placeholder ':id'"):
        mastodon.to_events(template)
    for req in ("GET /2/users/{id}/followers", "GET /2/tweets/<id>/liking_users"):
        with pytest.raises(BadRecord, match="unfilled placeholder"):
            twitter.to_events({"request": req, "response": {"data": [_user(U1, "fox")]}})
    path = tmp_path / "pages.jsonl"
    path.write_text((FIX / "mastodon" / "pages.jsonl").read_text() + json.dumps(template) + "\n")
    store = open_store(sqlite_url)
    summary = ingest_files(store, [path], fmt="mastodon", signals=False)
    with store.engine.connect() as c:
        (dead,) = c.execute(select(t.dead_letters)).all()
        assert dead.line == 5 and "unfilled placeholder ':id'" in dead.reason
        assert not c.execute(select(t.follows).where(t.follows.c.dst == ":id")).all()
    store.close()
    assert summary.dead == 1


def test_mastodon_notifications_give_their_edges_to_the_viewer():
    evs = _valid(mastodon.to_events(_pages()[1]))
    assert [(e["data"]["src"], e["data"]["dst"], e["time"]) for e in _kinds(evs, "follow")] == [
        (PEBBLE, FOX, "2026-02-01T12:00:00Z")]
    assert [(e["data"]["src"], e["data"]["state"]) for e in _kinds(evs, "follow_request")] == [(MOSS, "pending")]
    assert [(e["data"]["account_id"], e["data"]["post_id"]) for e in _kinds(evs, "like")] == [
        (MOTH, "111000000000000022")]
    assert {e["data"]["id"] for e in _kinds(evs, "account")} == {FOX, MOTH, PEBBLE, MOSS, REED}
    assert {e["data"]["id"] for e in _kinds(evs, "post")} == {"111000000000000022", "111000000000000023"}
    no_viewer = {k: v for k, v in _pages()[1].items() if k != "viewer"}
    with pytest.raises(BadRecord, match="needs an envelope with a viewer"):
        mastodon.to_events(no_viewer)


def test_mastodon_conversations_give_participants_and_the_last_status():
    evs = _valid(mastodon.to_events(_pages()[2]))
    (dm,) = _kinds(evs, "post")
    assert dm["data"]["visibility"] == "direct" and dm["data"]["mentions"] == [FOX]
    assert {e["data"]["id"] for e in _kinds(evs, "account")} == {MOTH}


# -- Twitter ----------------------------------------------------------------------------------------

U1, U2, U3 = "1500000000000000001", "1500000000000000002", "1500000000000000003"
T1, T2, T3 = "1800000000000000101", "1800000000000000102", "1800000000000000103"


def _user(uid: str, name: str, **kw) -> dict:
    return {"id": uid, "username": name, "name": name.title(), "created_at": "2021-05-04T10:11:12.000Z",
            "protected": False, "description": "", "profile_image_url": f"https://pbs.twimg.com/profile_images/{uid}/p_normal.jpg",
            **kw}


def test_twitter_reply_keeps_the_parent_author_when_the_parent_is_absent():
    page = {"data": [{"id": T1, "text": "@creek yes", "author_id": U1, "in_reply_to_user_id": U3,
                      "referenced_tweets": [{"type": "replied_to", "id": T3}], "edit_history_tweet_ids": [T1]}]}
    (post,) = _kinds(_valid(twitter.to_events(page)), "post")
    assert post["data"]["reply_to"] == T3 and post["data"]["reply_to_account"] == U3


def test_twitter_refuses_a_mastodon_account_after_the_sniffed_lines():
    moss = {"id": "110000000000000004", "username": "moss_step", "acct": "moss_step", "note": "<p>hi</p>",
            "url": "https://social.example/@moss_step"}
    with pytest.raises(BadRecord, match="Mastodon entity.*--format mastodon"):
        twitter.to_events(moss)


def test_twitter_old_capture_media_link_is_not_text_nor_a_link():
    """Before url entities carried media_key, the media's t.co link is known by its expanded url."""
    page = {"data": [{"id": T1, "author_id": U1, "text": "heron https://t.co/PicLink01",
                      "attachments": {"media_keys": ["3_1"]},
                      "entities": {"urls": [{"start": 6, "end": 28, "url": "https://t.co/PicLink01",
                                             "expanded_url": f"https://twitter.com/fox/status/{T1}/photo/1",
                                             "display_url": "pic.twitter.com/PicLink01"}]}}],
            "includes": {"media": [{"media_key": "3_1", "type": "photo", "url": "https://pbs.twimg.com/media/p1.jpg"}]}}
    (post,) = _kinds(_valid(twitter.to_events(page)), "post")
    assert post["data"]["text"] == "heron" and "urls" not in post["data"]
    assert post["data"]["media"][0]["uri"] == "https://pbs.twimg.com/media/p1.jpg"


def _unflattened_page() -> dict:
    """A search page as the API returns it: a reply quoting a tweet, with a photo and a mention."""
    return {
        "data": [{"id": T1, "text": "@creek look https://t.co/PicLink02", "author_id": U1, "in_reply_to_user_id": U3,
                  "created_at": "2026-02-01T08:00:00.000Z", "attachments": {"media_keys": ["3_9"]},
                  "referenced_tweets": [{"type": "quoted", "id": T2}],
                  "entities": {"mentions": [{"start": 0, "end": 6, "username": "creek", "id": U3}],
                               "urls": [{"start": 12, "end": 35, "url": "https://t.co/PicLink02", "media_key": "3_9",
                                         "expanded_url": f"https://x.com/fox/status/{T1}/photo/1"}]}}],
        "includes": {
            "users": [_user(U1, "fox"), _user(U3, "creek"), _user(U2, "moth")],
            "tweets": [{"id": T2, "text": "original words", "author_id": U2, "created_at": "2026-01-31T08:00:00.000Z"}],
            "media": [{"media_key": "3_9", "type": "photo", "url": "https://pbs.twimg.com/media/p9.jpg",
                       "width": 640, "height": 480}],
        },
        "__twarc": {"url": "https://api.twitter.com/2/tweets/search/recent?query=x", "version": "2.14.0",
                    "retrieved_at": "2026-02-02T00:00:00+00:00"},
    }


def _flatten(page: dict) -> dict:
    """twarc2 flatten's layout (its documentation and expansions module): expansions inlined in the tweet."""
    inc = page["includes"]
    users = {u["id"]: u for u in inc["users"]}
    tw = copy.deepcopy(page["data"][0])
    tw["author"] = users[tw["author_id"]]
    tw["in_reply_to_user"] = users[tw["in_reply_to_user_id"]]
    tw["attachments"]["media"] = list(inc["media"])
    tw["entities"]["mentions"] = [{**m, **users[m["id"]]} for m in tw["entities"]["mentions"]]
    ref = {**inc["tweets"][0], "author": users[inc["tweets"][0]["author_id"]]}
    tw["referenced_tweets"] = [{**r, **ref} for r in tw["referenced_tweets"]]
    tw["__twarc"] = page["__twarc"]
    return tw


def _summary(evs: list[dict]) -> tuple:
    posts = {e["data"]["id"]: e["data"] for e in _kinds(evs, "post")}
    return (sorted(posts), sorted(e["data"]["id"] for e in _kinds(evs, "account")),
            {p: [m.get("uri") for m in d.get("media", [])] for p, d in posts.items()},
            {p: (d.get("quote_of"), d.get("reply_to_account"), d["text"]) for p, d in posts.items()})


def test_twitter_flatten_output_keeps_what_the_unflattened_page_gives():
    page = _unflattened_page()
    flat = _flatten(page)
    assert twitter.sniff(flat)
    a, b = _valid(twitter.to_events(page)), _valid(twitter.to_events(flat))
    assert _summary(b) == _summary(a)
    assert _summary(b)[2][T1] == ["https://pbs.twimg.com/media/p9.jpg"]
    assert _summary(b)[1] == [U1, U2, U3]


def test_twitter_default_avatar_is_no_avatar():
    egg = _user(U1, "fox", profile_image_url="https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png")
    (acc,) = _kinds(twitter.to_events({"data": [egg]}), "account")
    assert "avatar" not in acc["data"]
    (acc,) = _kinds(twitter.to_events({"data": [_user(U2, "moth")]}), "account")
    assert acc["data"]["avatar"]["uri"].endswith("/p.jpg")


def test_twitter_liked_tweets_page_keeps_every_like_when_one_tweet_lacks_author_id():
    page = {"request": f"GET /2/users/{U1}/liked_tweets", "fetched_at": "2026-02-02T00:00:00Z",
            "response": {"data": [{"id": T1, "text": "a", "author_id": U2}, {"id": T2, "text": "b"},
                                  {"id": T3, "text": "c", "author_id": U3}]}}
    evs = _valid(twitter.to_events(page))
    assert sorted(e["data"]["post_id"] for e in _kinds(evs, "like")) == [T1, T2, T3]
    assert sorted(e["data"]["id"] for e in _kinds(evs, "post")) == [T1, T3]


def test_twitter_suspended_user_error_is_an_account_state():
    page = {"data": [_user(U1, "fox")],
            "errors": [{"value": U2, "detail": f"User has been suspended: [{U2}].", "title": "Forbidden",
                        "resource_type": "user", "parameter": "ids", "resource_id": U2,
                        "type": "https://api.twitter.com/2/problems/resource-not-found"},
                       {"value": T3, "detail": f"Could not find tweet with ids: [{T3}].", "title": "Not Found Error",
                        "resource_type": "tweet", "parameter": "ids", "resource_id": T3,
                        "type": "https://api.twitter.com/2/problems/resource-not-found"}]}
    (state,) = _kinds(_valid(twitter.to_events(page)), "account_state")
    assert state["data"]["account_id"] == U2 and state["data"]["state"] == "suspended"
    # looked up by username, resource_id is the name, not an account id: nothing is claimed
    page["errors"][0].update(parameter="usernames", resource_id="fox_twin", value="fox_twin")
    assert not _kinds(twitter.to_events(page), "account_state")


def test_reply_to_account_is_stored_on_both_backends(db_url, tmp_path):
    path = tmp_path / "notifications.jsonl"
    path.write_bytes(orjson.dumps(_pages()[1]) + b"\n")
    store = open_store(db_url)
    try:
        assert ingest_files(store, [path], fmt="mastodon", signals=False).dead == 0
        with store.engine.connect() as c:
            assert c.scalar(select(t.posts.c.reply_to_account).where(t.posts.c.id == "111000000000000023")) == FOX
            assert c.scalar(select(t.likes.c.account_id).where(t.likes.c.post_id == "111000000000000022")) == MOTH
    finally:
        store.close()


def test_an_over_long_link_or_tag_costs_itself_not_the_page():
    """A 5,000-character tracking link in one status must not dead-letter the 40 statuses of its page."""
    from netwarden import limits as L

    long_link = "https://example.org/track?" + "q" * 5000
    page = copy.deepcopy(_pages()[3])
    page["response"][0]["content"] = f'<p>see <a href="{long_link}">x</a> and <a href="https://example.org/ok">y</a></p>'
    page["response"][0]["tags"] = [{"name": "t" * (L.TAG + 1), "url": "https://social.example/tags/long"},
                                   {"name": "zqxplaceholder", "url": "https://social.example/tags/zqxplaceholder"}]
    evs = _valid(mastodon.to_events(page))
    post = next(e["data"] for e in _kinds(evs, "post") if e["data"]["id"] == "111000000000000025")
    assert post["urls"] == ["https://example.org/ok"] and post["hashtags"] == ["zqxplaceholder"]
    assert len(_kinds(evs, "post")) == 2
    tweet = {"data": [{"id": T1, "author_id": U1, "text": "see https://t.co/Long01",
                       "entities": {"urls": [{"url": "https://t.co/Long01", "expanded_url": long_link}],
                                    "hashtags": [{"tag": "h" * (L.TAG + 1)}]}}]}
    (post,) = _kinds(_valid(twitter.to_events(tweet)), "post")
    post = post["data"]
    assert "urls" not in post and "hashtags" not in post and long_link in post["text"]


@pytest.mark.parametrize("stub_first", [False, True])
def test_a_media_key_without_its_includes_never_erases_the_media(sqlite_url, tmp_path, stub_first):
    """A later page naming a tweet's media_key without includes.media (a quoted tweet's, say) keeps the
    url and size an earlier page gave, in either order; the key's prefix gives the kind."""
    full = {"data": [{"id": T1, "author_id": U1, "text": "a", "created_at": "2026-02-01T08:00:00.000Z",
                      "attachments": {"media_keys": ["7_5"]}}],
            "includes": {"media": [{"media_key": "7_5", "type": "video", "preview_image_url": "https://pbs.twimg.com/v5.jpg",
                                    "width": 640, "height": 360}]},
            "__twarc": {"url": "https://api.twitter.com/2/tweets", "retrieved_at": "2026-02-02T00:00:00+00:00"}}
    ref = {"data": [{"id": T2, "author_id": U2, "text": "b", "attachments": {"media_keys": ["7_5"]}}],
           "__twarc": {"url": "https://api.twitter.com/2/tweets", "retrieved_at": "2026-02-05T00:00:00+00:00"}}
    (stub,) = next(e for e in twitter.to_events(ref) if e["kind"] == "post")["data"]["media"]
    assert stub == {"id": "7_5", "kind": "video"}
    lines = [ref, full] if stub_first else [full, ref]
    store = open_store(sqlite_url)
    try:
        for i, rec in enumerate(lines):  # two runs: two batches
            path = tmp_path / f"p{i}.jsonl"
            path.write_bytes(orjson.dumps(rec) + b"\n")
            ingest_files(store, [path], fmt="twitter-v2", signals=False)
        with store.engine.connect() as c:
            row = c.execute(select(t.media).where(t.media.c.id == "7_5")).one()
            assert (row.kind, row.uri, row.width) == ("video", "https://pbs.twimg.com/v5.jpg", 640)
            assert len(c.execute(select(t.post_media).where(t.post_media.c.media_id == "7_5")).all()) == 2
    finally:
        store.close()


def test_mastodon_admin_report_notification_is_a_report_the_admin_view_supersedes():
    """An `admin.report` Notification carries a Report entity (ids of statuses and rules, the target
    Account); its account filed it. The report event sits at created_at, below the Admin::Report's updated_at."""
    notif = copy.deepcopy(_pages()[1])
    target = notif["response"][0]["account"]  # PEBBLE
    notif["response"] = [{"id": "34975870", "type": "admin.report", "created_at": "2026-02-01T15:00:00.000Z",
                          "account": notif["response"][2]["account"],  # MOTH files it
                          "report": {"id": "48914", "action_taken": False, "action_taken_at": None, "category": "violation",
                                     "comment": "placeholder comment", "forwarded": False,
                                     "created_at": "2026-02-01T14:59:00.000Z", "status_ids": ["111000000000000022"],
                                     "rule_ids": ["2"], "target_account": target}}]
    evs = _valid(mastodon.to_events(notif))
    (rep,) = _kinds(evs, "report")
    assert rep["time"] == "2026-02-01T14:59:00Z"
    assert rep["data"] == {"id": "mastodon:48914", "account_id": PEBBLE, "category": "violation", "reporter_kind": "account",
                           "reporter_id": MOTH, "posts": ["111000000000000022"], "rules": ["2"],
                           "comment": "placeholder comment", "created_at": "2026-02-01T14:59:00Z", "source": "mastodon"}
    assert not _kinds(evs, "report_resolution")
    assert {e["data"]["id"] for e in _kinds(evs, "account")} == {MOTH, PEBBLE}


def test_mastodon_search_results_give_their_accounts_and_statuses():
    """GET /api/v2/search answers a Search entity {accounts, statuses, hashtags} (docs: entities/Search)."""
    acct = {"id": FOX, "username": "fox", "acct": "fox", "display_name": "Fox", "note": "", "url": "https://m.example/@fox",
            "created_at": "2022-01-01T00:00:00.000Z", "locked": False, "avatar": "", "header": ""}
    status = {"id": "110000000000000901", "created_at": "2023-01-02T03:04:05.000Z", "content": "<p>hello</p>",
              "visibility": "public", "account": dict(acct, id=MOTH, username="moth", acct="moth"),
              "media_attachments": [], "mentions": [], "tags": [], "in_reply_to_id": None,
              "in_reply_to_account_id": None, "reblog": None, "language": "en"}
    page = {"request": "GET /api/v2/search?q=fox&resolve=false", "fetched_at": "2023-01-03T00:00:00Z",
            "response": {"accounts": [acct], "statuses": [status], "hashtags": [{"name": "fox", "url": "u", "history": []}]}}
    evs = _valid(mastodon.to_events(page))
    assert {e["data"]["id"] for e in _kinds(evs, "account")} == {FOX, MOTH}
    assert [e["data"]["id"] for e in _kinds(evs, "post")] == ["110000000000000901"]
    assert mastodon.sniff(page["response"])
