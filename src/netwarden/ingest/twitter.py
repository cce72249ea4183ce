"""Twitter/X API v2 responses -> native events (see docs/formats.md).

Accepted records (one a line, or a JSON document):
  - a response object as the API returns it: `{data, includes, meta, errors}` where `data` is a tweet,
    a list of tweets or a list of users (tweet lookup, timelines, search, users lookup, follower and
    following pages, liking users, liked tweets);
  - the same with twarc2's metadata `__twarc: {url, version, retrieved_at}`; the url names whose
    follower / following / liking list it is;
  - an envelope `{"request": "GET /2/users/123/followers", "fetched_at": "...", "response": {...}}`;
  - a bare tweet or user object (twarc2 `flatten` output, where `author` is inlined).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from netwarden.ingest._foreign import (
    EPOCH,
    compact,
    dedupe,
    dicts,
    event,
    fit_links,
    fit_tags,
    is_envelope,
    newest,
    opt_bool,
    opt_dict,
    opt_int,
    opt_list,
    opt_str,
    opt_time,
    req_id,
    request_path,
    short_hash,
)
from netwarden.ingest.events import BadRecord, looks_native

_FOLLOWERS = re.compile(r"^/2/users/(\w+)/(followers|following|liked_tweets)$")
_TWEET_LIST = re.compile(r"^/2/tweets/(\w+)/(liking_users|retweeted_by)$")
_REF_FIELD = {"replied_to": "reply_to", "retweeted": "repost_of", "quoted": "quote_of"}
_MEDIA_LINK = re.compile(r"^https?://(?:mobile\.)?(?:twitter|x)\.com/[^/]+/status/\d+/(?:photo|video)/\d+/?$")


@dataclass
class _Page:
    time: str  # retrieval time, else newest created_at in the page, else the epoch
    users: dict[str, dict] = field(default_factory=dict)  # id -> user object
    by_name: dict[str, str] = field(default_factory=dict)  # lowercased username -> id
    media: dict[str, dict] = field(default_factory=dict)  # media_key -> native media object


def sniff(rec: Any) -> bool:
    """True when a decoded record looks like a Twitter API v2 response (or a list of them)."""
    if isinstance(rec, list):
        return bool(rec) and sniff(rec[0])
    if not isinstance(rec, dict) or looks_native(rec):
        return False
    if is_envelope(rec):
        try:
            return request_path(rec["request"], filled=False).startswith("/2/")
        except BadRecord:
            return False
    if "__twarc" in rec:
        return True
    if isinstance(rec.get("data"), dict | list):
        return True
    if "acct" in rec or "account" in rec or "note" in rec or "content" in rec:
        return False  # Mastodon entities
    if isinstance(rec.get("id"), str) and isinstance(rec.get("text"), str):
        return "author_id" in rec or "edit_history_tweet_ids" in rec or "author" in rec
    return isinstance(rec.get("id"), str) and isinstance(rec.get("username"), str)


def to_events(rec: Any) -> list[dict]:
    """Native events for one decoded record; BadRecord when it is malformed for Twitter API v2."""
    if isinstance(rec, list):
        return dedupe([e for item in rec for e in to_events(item)])
    if not isinstance(rec, dict):
        raise BadRecord(f"record must be a JSON object, not {type(rec).__name__}")
    if is_envelope(rec):
        path = request_path(rec["request"])
        if not path.startswith("/2/"):
            raise BadRecord(f"request {rec['request'][:80]!r} is not a Twitter API v2 endpoint")
        resp = rec["response"]
        if not isinstance(resp, dict):
            raise BadRecord("field response must be a Twitter API v2 response object")
        return _page(resp, path, opt_time(rec, "fetched_at", "envelope"), "response")
    meta = opt_dict(rec, "__twarc", "record")
    retrieved = opt_time(meta, "retrieved_at", "__twarc")
    path = request_path(meta["url"], "__twarc.url") if meta.get("url") else None
    if "data" in rec or "errors" in rec or "meta" in rec:
        return _page(rec, path, retrieved, "record")
    if "acct" in rec or "account" in rec or "note" in rec or "content" in rec:
        raise BadRecord("a Mastodon entity (acct, account, note or content), not Twitter API v2 data; "
                        "ingest it with --format mastodon")
    if isinstance(rec.get("text"), str):  # a bare tweet, or twarc2 flatten output with its expansions inlined
        return _page({"data": rec, "includes": _inlined(rec)}, path, retrieved, "record")
    if isinstance(rec.get("username"), str):
        return _page({"data": [rec]}, path, retrieved, "record")
    raise BadRecord("not a Twitter API v2 response: expected a data, includes or meta field")


def _inlined(tweet: dict) -> dict:
    """The `includes` that twarc2 `flatten` folded into a tweet, taken back out.

    flatten puts the author under `author` (and `in_reply_to_user`), the media objects under
    `attachments.media`, each mentioned user's fields into its `entities.mentions` item, and each
    referenced tweet whole (itself flattened) into its `referenced_tweets` item."""
    users: list = []
    media: list = []
    tweets: list = []
    seen: set[int] = set()
    stack = [tweet]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        for key in ("author", "in_reply_to_user"):
            u = t.get(key)
            if isinstance(u, dict) and isinstance(u.get("id"), str) and isinstance(u.get("username"), str):
                users.append(u)
        att = t.get("attachments")
        if isinstance(att, dict) and isinstance(att.get("media"), list):
            media.extend(m for m in att["media"] if isinstance(m, dict) and isinstance(m.get("media_key"), str))
        ents = t.get("entities")
        if isinstance(ents, dict) and isinstance(ents.get("mentions"), list):
            # a flattened mention carries the user's fields; a plain one (start, end, username, id) is no profile
            users.extend(m for m in ents["mentions"] if isinstance(m, dict) and isinstance(m.get("id"), str)
                         and isinstance(m.get("username"), str) and "name" in m)
        refs = t.get("referenced_tweets")
        if isinstance(refs, list):
            for r in refs:
                if isinstance(r, dict) and isinstance(r.get("text"), str) and isinstance(r.get("id"), str):
                    tweets.append({k: v for k, v in r.items() if k != "type"})
                    stack.append(r)
    users = [{k: v for k, v in u.items() if k not in ("start", "end")} for u in users]
    return {k: v for k, v in (("users", users), ("media", media), ("tweets", tweets)) if v}


def _page(resp: dict, path: str | None, retrieved: str | None, where: str) -> list[dict]:
    data = resp.get("data")
    if data is None:
        items: list = []
    elif isinstance(data, dict):
        items = [data]
    elif isinstance(data, list):
        items = data
    else:
        raise BadRecord(f"field {where}.data must be an object or a list, not {type(data).__name__}")
    tweets: list[tuple[str, dict]] = []
    users: list[tuple[str, dict]] = []
    for i, item in enumerate(items):
        w = f"{where}.data[{i}]" if isinstance(data, list) else f"{where}.data"
        if not isinstance(item, dict):
            raise BadRecord(f"field {w} must be an object, not {type(item).__name__}")
        if "text" in item or "author_id" in item:
            tweets.append((w, item))
        elif "username" in item:
            users.append((w, item))
        else:
            raise BadRecord(f"field {w} is neither a tweet (text) nor a user (username)")
    inc = opt_dict(resp, "includes", where)
    inc_users = dicts(inc, "users", f"{where}.includes")
    inc_tweets = dicts(inc, "tweets", f"{where}.includes")
    for w, t in inc_tweets:
        if not isinstance(t.get("author_id"), str):
            continue  # a referenced tweet fetched without author_id: only its id is usable
        tweets.append((w, t))
    all_users = users + inc_users

    created = [opt_time(o, "created_at", w) for w, o in tweets + all_users]
    page = _Page(time=retrieved or newest(created) or EPOCH)
    out: list[dict] = []
    for w, u in all_users:
        uid = req_id(u, "id", w)
        page.users.setdefault(uid, u)
        name = opt_str(u, "username", w)
        if name:
            page.by_name.setdefault(name.lower(), uid)
    for w, m in dicts(inc, "media", f"{where}.includes"):
        med = _media(m, w)
        page.media[med["id"]] = med
    for w, u in all_users:
        out.append(_account(u, w, page))
    liked = bool(path and (m := _FOLLOWERS.match(path)) and m.group(2) == "liked_tweets")
    for w, t in tweets:
        if liked and not isinstance(t.get("author_id"), str):
            continue  # its like edge still holds (the url names the liker); without an author it is no post
        out.append(_tweet(t, w, page))
    out.extend(_list_edges(path, users, tweets, page))
    out.extend(_errors(resp, where, page))
    return dedupe(out)


def _errors(resp: dict, where: str, page: _Page) -> list[dict]:
    """Partial errors of a page: a user reported suspended becomes an account_state; the others
    (tweets not found or not authorized, deleted users) say too little to map (docs/formats.md)."""
    out = []
    for ew, e in dicts(resp, "errors", where):
        detail = opt_str(e, "detail", ew) or ""
        uid = opt_str(e, "resource_id", ew) or opt_str(e, "value", ew)
        by_name = (opt_str(e, "parameter", ew) or "").startswith("username")  # then resource_id is a name
        if (opt_str(e, "resource_type", ew) == "user" and uid and uid.isdigit() and not by_name
                and "suspended" in detail.lower()):
            data = {"account_id": uid, "state": "suspended", "reason": f"twitter: {detail}"[:200]}
            out.append(event(f"tw:state:{uid}:suspended:{page.time}", "account_state", page.time, data))
    return out


def _list_edges(path: str | None, users: list, tweets: list, page: _Page) -> list[dict]:
    """Follow and like edges implied by whose list a page is (from __twarc.url or the envelope)."""
    if not path:
        return []
    out = []
    m = _FOLLOWERS.match(path)
    if m:
        owner, rel = m.groups()
        if rel == "liked_tweets":
            for w, t in tweets:
                tid = req_id(t, "id", w)
                out.append(
                    event(f"tw:like:{owner}:{tid}", "like", page.time, {"account_id": owner, "post_id": tid})
                )
            return out
        for w, u in users:
            uid = req_id(u, "id", w)
            src, dst = (uid, owner) if rel == "followers" else (owner, uid)
            out.append(event(f"tw:follow:{src}:{dst}", "follow", page.time, {"src": src, "dst": dst}))
        return out
    m = _TWEET_LIST.match(path)
    if m and m.group(2) == "liking_users":
        tid = m.group(1)
        for w, u in users:
            uid = req_id(u, "id", w)
            out.append(event(f"tw:like:{uid}:{tid}", "like", page.time, {"account_id": uid, "post_id": tid}))
    # retweeted_by names who retweeted but not the retweets' ids: only the accounts are kept
    return out


def _account(u: dict, w: str, page: _Page) -> dict:
    uid = req_id(u, "id", w)
    handle = req_id(u, "username", w)
    ents = opt_dict(u, "entities", w)
    bio = _expand(
        html.unescape(opt_str(u, "description", w) or ""), opt_dict(ents, "description", f"{w}.entities")
    )
    extra = []
    site_urls = opt_list(opt_dict(ents, "url", f"{w}.entities"), "urls", f"{w}.entities.url")
    site = opt_str(u, "url", w)
    if site_urls and isinstance(site_urls[0], dict):
        site = site_urls[0].get("expanded_url") or site
    if site:
        extra.append(f"website: {site}")
    location = opt_str(u, "location", w)
    if location:
        extra.append(f"location: {location}")
    if extra:
        bio = "\n".join([bio, *extra]) if bio else "\n".join(extra)
    avatar = None
    pic = opt_str(u, "profile_image_url", w)
    if pic and "/default_profile_images/" not in pic:  # the egg everyone without a picture shares: no avatar
        # the API gives the 48x48 "_normal" variant; without the suffix it is the original upload
        pic = re.sub(r"_normal(\.\w+)$", r"\1", pic)
        avatar = {"id": f"tw-avatar-{uid}-{short_hash(pic, 10)}", "kind": "photo", "uri": pic}
    data = compact(
        {
            "id": uid,
            "handle": handle,
            "display_name": opt_str(u, "name", w),
            "bio": bio or None,
            "created_at": opt_time(u, "created_at", w),
            "protected": opt_bool(u, "protected", w),
            "url": f"https://x.com/{handle}",
            "avatar": avatar,
        }
    )
    return event(f"tw:user:{uid}:{short_hash(data)}", "account", page.time, data)


def _expand(text: str, ents: dict) -> str:
    """Replace t.co links in a text by their expanded_url, as the entities list them."""
    for item in opt_list(ents, "urls", "entities"):
        if isinstance(item, dict) and item.get("url") and item.get("expanded_url"):
            text = text.replace(item["url"], item["expanded_url"])
    return text


def _tweet(t: dict, w: str, page: _Page) -> dict:
    tid = req_id(t, "id", w)
    author = req_id(t, "author_id", w)
    note = opt_dict(t, "note_tweet", w)  # long tweets: the full text and its entities live here
    text = opt_str(note, "text", f"{w}.note_tweet") or opt_str(t, "text", w) or ""
    ents = (
        opt_dict(note, "entities", f"{w}.note_tweet") if note.get("entities") else opt_dict(t, "entities", w)
    )
    refs: dict[str, str] = {}
    for rw, ref in dicts(t, "referenced_tweets", w):
        kind = opt_str(ref, "type", rw)
        if kind in _REF_FIELD:
            refs.setdefault(_REF_FIELD[kind], req_id(ref, "id", rw))
    hashtags = []
    for hw, h in dicts(ents, "hashtags", f"{w}.entities"):
        tag = opt_str(h, "tag", hw)
        if tag:
            hashtags.append(tag.lstrip("#"))
    mentions = []
    for mw, m in dicts(ents, "mentions", f"{w}.entities"):
        mid = opt_str(m, "id", mw) or page.by_name.get((opt_str(m, "username", mw) or "").lower())
        if mid and mid not in mentions:
            mentions.append(mid)
    urls = []
    for uw, u in dicts(ents, "urls", f"{w}.entities"):
        short = opt_str(u, "url", uw)
        if u.get("media_key") or _MEDIA_LINK.match(opt_str(u, "expanded_url", uw) or ""):
            # the t.co link of an attached photo or video (captures from before url entities had media_key
            # know it by its expanded .../status/<id>/photo/1 url): drop it from the text and the links
            text = text.replace(f" {short}", "").replace(short, "") if short else text
            continue
        link = opt_str(u, "expanded_url", uw) or short
        if short and link:
            text = text.replace(short, link)  # the text shows the link itself, not its t.co alias
        if link and link not in urls:
            urls.append(link)
    media = []
    att = opt_dict(t, "attachments", w)
    for i, key in enumerate(opt_list(att, "media_keys", f"{w}.attachments")):
        if not isinstance(key, str) or not key:
            raise BadRecord(f"field {w}.attachments.media_keys[{i}] must be a non-empty string")
        media.append(page.media.get(key) or _media_stub(key))
    author_user = page.users.get(author)
    visibility = None
    if author_user is not None:
        visibility = "followers" if author_user.get("protected") is True else "public"
    reply_account = opt_str(t, "in_reply_to_user_id", w)
    if reply_account:  # the reply edge holds even when the parent tweet is not in the capture
        refs["reply_to_account"] = reply_account
    created = opt_time(t, "created_at", w)
    data = compact(
        {
            "id": tid,
            "author_id": author,
            "text": html.unescape(text),  # the API escapes &, < and > in tweet text
            "created_at": created,
            **refs,
            "mentions": mentions,
            "hashtags": fit_tags(hashtags),
            "urls": fit_links(urls),
            "media": media,
            "visibility": visibility,
            "lang": opt_str(t, "lang", w),
        }
    )
    return event(f"tw:tweet:{tid}", "post", created or page.time, data)


def _media_stub(key: str) -> dict:
    """A media_key not in includes.media: its id, and its kind where the key's type prefix says it
    (3_ photo, 7_ and 13_ video, 16_ animated GIF). The store keeps what a fuller page said of it."""
    kind = {"3": "photo", "7": "video", "13": "video", "16": "video"}.get(key.split("_", 1)[0])
    return {"id": key, "kind": kind} if kind else {"id": key}


def _media(m: dict, w: str) -> dict:
    key = req_id(m, "media_key", w)
    kind = opt_str(m, "type", w)
    uri = opt_str(m, "url", w)
    mime = None
    if kind in ("video", "animated_gif"):
        best = None
        for vw, v in dicts(m, "variants", w):
            rate = opt_int(v, "bit_rate", vw) or 0
            if opt_str(v, "url", vw) and (best is None or rate > best[0]):
                best = (rate, v)
        if best:
            uri, mime = best[1]["url"], opt_str(best[1], "content_type", w)
        uri = uri or opt_str(m, "preview_image_url", w)
    if kind == "photo" and uri:
        mime = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}.get(
            uri.rsplit(".", 1)[-1].lower()
        )
    return compact(
        {
            "id": key,
            "kind": "video" if kind in ("video", "animated_gif") else "photo" if kind == "photo" else "other",
            "uri": uri,
            "mime": mime,
            "width": opt_int(m, "width", w),
            "height": opt_int(m, "height", w),
            "alt_text": opt_str(m, "alt_text", w),
        }
    )
