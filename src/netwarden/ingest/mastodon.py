"""Mastodon REST API entities -> native events (see docs/formats.md).

Accepted records (one a line, or a JSON document; a line may be a JSON array of them):
  - a Status, an Account or an Admin::Account exactly as the API returns it;
  - an envelope naming the request, when whose list it is matters:
    `{"request": "GET /api/v1/accounts/123/followers", "fetched_at": "...", "viewer": "...",
      "response": [...]}` for followers / following / follow_requests / relationships /
    favourited_by / reblogged_by / favourites, timelines and admin account lists.
"""

from __future__ import annotations

import re
from typing import Any

from netwarden.config import Settings
from netwarden.ingest._foreign import (
    EPOCH,
    compact,
    dedupe,
    dicts,
    event,
    fit_links,
    fit_tags,
    html_links,
    html_to_text,
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

# Mastodon's four, Mastodon's "limited" (circles), and Akkoma/Pleroma's "local" (this instance only,
# not federated) and "list" (members of one list). A visibility not known here is not taken for public.
_VISIBILITY = {"public": "public", "unlisted": "unlisted", "private": "followers", "direct": "direct",
               "limited": "followers", "local": "unlisted", "list": "followers"}
_MEDIA_KIND = {"image": "photo", "video": "video", "gifv": "video", "audio": "audio"}  # else "other" ("unknown")
_ACCOUNT_LIST = re.compile(r"^/api/v1/accounts/([^/]+)/(followers|following)$")
_STATUS_LIST = re.compile(r"^/api/v1/statuses/([^/]+)/(favourited_by|reblogged_by)$")
_FOLLOW_REQUESTS = re.compile(r"^/api/v1/follow_requests$")
_RELATIONSHIPS = re.compile(r"^/api/v1/accounts/relationships$")
_FAVOURITES = re.compile(r"^/api/v1/favourites$")
_HISTORY = re.compile(r"^/api/v1/statuses/([^/]+)/history$")
_NOTIFICATIONS = re.compile(r"^/api/v1/notifications(?:/[^/]+)?$")


def sniff(rec: Any) -> bool:
    """True when a decoded record looks like a Mastodon API entity or envelope (or a list of them)."""
    if isinstance(rec, list):
        return bool(rec) and sniff(rec[0])
    if not isinstance(rec, dict) or looks_native(rec) or "data" in rec or "__twarc" in rec:
        return False
    if is_envelope(rec):
        try:
            return request_path(rec["request"], filled=False).startswith("/api/v")
        except BadRecord:
            return False
    return _shape(rec) is not None


def _shape(e: dict) -> str | None:
    if "target_account" in e and "action_taken" in e:
        return "report"  # Admin::Report (GET /api/v1/admin/reports): ingest/mastodon_reports.py
    if isinstance(e.get("account"), dict):
        if isinstance(e.get("type"), str) and "content" not in e and "username" not in e:
            return "notification"
        if "content" in e or "visibility" in e or "reblog" in e:
            return "status" if "id" in e or "visibility" in e or "reblog" in e else "status_edit"
        if "username" in e and ("ips" in e or "ip" in e or "email" in e or "role" in e):
            return "admin"
    if "acct" in e and "username" in e:
        return "account"
    if "following" in e and "followed_by" in e:
        return "relationship"
    if isinstance(e.get("accounts"), list) and "last_status" in e:
        return "conversation"
    if isinstance(e.get("accounts"), list) and isinstance(e.get("statuses"), list) and "hashtags" in e:
        return "search"  # Search (GET /api/v2/search): its accounts and statuses
    return None


def to_events(rec: Any, *, settings: Settings | None = None) -> list[dict]:
    """Native events for one decoded record; BadRecord when it is malformed for Mastodon.

    `settings` (the face's; None: the defaults) gives the rule ids whose reports are child-safety
    reports (mastodon_child_safety_rules)."""
    rules = frozenset((settings or Settings()).mastodon_child_safety_rules)
    return _to_events(rec, rules)


def _to_events(rec: Any, rules: frozenset[str]) -> list[dict]:
    if isinstance(rec, list):
        return dedupe([e for item in rec for e in _to_events(item, rules)])
    if not isinstance(rec, dict):
        raise BadRecord(f"record must be a JSON object, not {type(rec).__name__}")
    if is_envelope(rec):
        return _envelope(rec, rules)
    return dedupe(_entity(rec, "record", _page_time(None, rec), viewer=None, rules=rules))


def _page_time(fetched: str | None, obj: Any) -> str:
    """Retrieval time, else the newest created_at anywhere in the record, else the epoch."""
    if fetched:
        return fetched
    found: list[str | None] = []
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, dict):
            v = o.get("created_at")
            if isinstance(v, str):
                try:
                    found.append(opt_time(o, "created_at", "record"))
                except BadRecord:
                    pass  # reported when the entity itself is mapped
            stack.extend(x for x in o.values() if isinstance(x, dict | list))
        elif isinstance(o, list):
            stack.extend(x for x in o if isinstance(x, dict | list))
    return newest(found) or EPOCH


def _envelope(rec: dict, rules: frozenset[str]) -> list[dict]:
    path = request_path(rec["request"])
    if not path.startswith("/api/v"):
        raise BadRecord(f"request {rec['request'][:80]!r} is not a Mastodon API endpoint")
    viewer = opt_str(rec, "viewer", "envelope") or None
    resp = rec["response"]
    if isinstance(resp, dict):
        items = [("response", resp)]
    elif isinstance(resp, list):
        items = dicts(rec, "response", "envelope")
    else:
        raise BadRecord("field response must be an entity or a list of entities")
    t = _page_time(opt_time(rec, "fetched_at", "envelope"), resp)
    out: list[dict] = []

    def edge(kind: str, src: str, dst: str, **extra: str) -> None:
        suffix = f":{extra['state']}" if "state" in extra else ""
        out.append(event(f"md:{kind}:{src}:{dst}{suffix}", kind, t, {"src": src, "dst": dst, **extra}))

    def need_viewer() -> str:
        if not viewer:
            raise BadRecord(f"envelope for {path} needs a viewer field (the authenticated account's id)")
        return viewer

    if m := _ACCOUNT_LIST.match(path):
        owner, rel = m.groups()
        for w, a in items:
            aid = _require_account(a, w)
            out.extend(_account(a, w, t))
            edge("follow", *((aid, owner) if rel == "followers" else (owner, aid)))
    elif _FOLLOW_REQUESTS.match(path):
        me = need_viewer()
        for w, a in items:
            out.extend(_account(a, w, t))
            edge("follow_request", _require_account(a, w), me, state="pending")
    elif _RELATIONSHIPS.match(path):
        me = need_viewer()
        for w, r in items:
            out.extend(_relationship(r, w, me, t))
    elif m := _STATUS_LIST.match(path):
        sid, rel = m.groups()
        for w, a in items:
            aid = _require_account(a, w)
            out.extend(_account(a, w, t))
            if rel == "favourited_by":
                out.append(event(f"md:like:{aid}:{sid}", "like", t, {"account_id": aid, "post_id": sid}))
            # reblogged_by names who reblogged but not the reblogs' ids: only the accounts are kept
    elif m := _HISTORY.match(path):
        sid = m.group(1)
        entries = []
        for w, e in items:
            if _shape(e) != "status_edit":
                raise BadRecord(f"field {w} is not a Mastodon StatusEdit (needs account, content, created_at)")
            entries.append((w, e))
        for w, e in entries:  # one entry only: never edited, nothing to add but the author
            out.extend(_status_edit(e, w, sid, t, edit=len(entries) > 1))
    elif _NOTIFICATIONS.match(path):
        for w, n in items:
            out.extend(_notification(n, w, viewer, t, rules))
    elif _FAVOURITES.match(path):
        me = need_viewer()
        for w, s in items:
            out.extend(_status(s, w, t))
            sid = req_id(s, "id", w)
            out.append(event(f"md:like:{me}:{sid}", "like", t, {"account_id": me, "post_id": sid}))
    else:  # timelines, account statuses, lookups, admin account lists: map each entity by its shape
        for w, e in items:
            out.extend(_entity(e, w, t, viewer=viewer, rules=rules))
    return dedupe(out)


def _require_account(a: dict, w: str) -> str:
    if _shape(a) != "account":
        raise BadRecord(f"field {w} is not a Mastodon Account (needs id, username, acct)")
    return req_id(a, "id", w)


def _entity(e: dict, w: str, t: str, *, viewer: str | None, rules: frozenset[str]) -> list[dict]:
    shape = _shape(e)
    if shape == "status":
        return _status(e, w, t)
    if shape == "account":
        return _account(e, w, t)
    if shape == "admin":
        return _admin(e, w, t)
    if shape == "report":
        from netwarden.ingest.mastodon_reports import report

        return report(e, w, t, rules)
    if shape == "relationship":
        if not viewer:
            raise BadRecord("a Relationship needs an envelope with a viewer field (whose relationship it is)")
        return _relationship(e, w, viewer, t)
    if shape == "notification":
        return _notification(e, w, viewer, t, rules)
    if shape == "conversation":
        return _conversation(e, w, t)
    if shape == "search":
        out = [x for aw, a in dicts(e, "accounts", w) for x in _account(a, aw, t)]
        return out + [x for sw, st in dicts(e, "statuses", w) for x in _status(st, sw, t)]
    if shape == "status_edit":
        raise BadRecord(f"field {w} is a StatusEdit (no id): wrap the page in an envelope whose request is "
                        "'GET /api/v1/statuses/<id>/history'")
    raise BadRecord(f"field {w} is not a Mastodon Status, Account, Admin::Account, Admin::Report, Relationship, "
                    "Notification, Conversation or Search result")


def _notification(n: dict, w: str, viewer: str | None, t: str, rules: frozenset[str]) -> list[dict]:
    """A Notification (GET /api/v1/notifications): its account and status, and the edge its type names.

    `follow`, `follow_request` and `favourite` are edges to the viewer (the notified account) or its
    status, at the notification's time; the other types bring their account and status only."""
    req_id(n, "id", w)
    kind = opt_str(n, "type", w) or ""
    when = opt_time(n, "created_at", w) or t
    account = opt_dict(n, "account", w)
    out = _account(account, f"{w}.account", t)
    aid = req_id(account, "id", f"{w}.account")
    status = opt_dict(n, "status", w)
    if status:
        out.extend(_status(status, f"{w}.status", t))
    report = opt_dict(n, "report", w)
    if kind == "admin.report" and report:
        out.extend(_notified_report(report, f"{w}.report", aid, when, rules))
    if kind in ("follow", "follow_request", "favourite"):
        if not viewer:
            raise BadRecord(f"a {kind} Notification needs an envelope with a viewer field (the notified account's id)")
        if kind == "follow":
            out.append(event(f"md:follow:{aid}:{viewer}", "follow", when, {"src": aid, "dst": viewer}))
        elif kind == "follow_request":
            out.append(event(f"md:follow_request:{aid}:{viewer}:pending", "follow_request", when,
                             {"src": aid, "dst": viewer, "state": "pending"}))
        elif status:
            sid = req_id(status, "id", f"{w}.status")
            out.append(event(f"md:like:{aid}:{sid}", "like", when, {"account_id": aid, "post_id": sid}))
    return out


def _notified_report(r: dict, w: str, reporter: str, when: str, rules: frozenset[str]) -> list[dict]:
    """The Report of an `admin.report` Notification (the notification's account filed it): a `report`
    at its created_at, so the fuller Admin::Report (GET /api/v1/admin/reports, at its updated_at) wins
    once ingested; statuses and rules by id only, as the Report entity gives them."""
    from netwarden.ingest.mastodon_reports import CATEGORIES

    rid = req_id(r, "id", w)
    target = opt_dict(r, "target_account", w)
    if not target:
        raise BadRecord(f"missing field {w}.target_account")
    out = _account(target, f"{w}.target_account", when)
    created = opt_time(r, "created_at", w) or when
    raw = opt_str(r, "category", w) or "other"
    if raw not in CATEGORIES:
        raise BadRecord(f"field {w}.category is {raw!r}; expected one of {', '.join(CATEGORIES)}")
    rule_ids = [str(x) for x in opt_list(r, "rule_ids", w) if isinstance(x, str | int)]
    category = CATEGORIES[raw]
    if category == "violation" and set(rule_ids) & rules:
        category = "child_sexual_exploitation"
    posts = [x for x in opt_list(r, "status_ids", w) if isinstance(x, str) and x]
    data = compact({"id": f"mastodon:{rid}", "account_id": req_id(target, "id", f"{w}.target_account"),
                    "category": category, "reporter_kind": "account", "reporter_id": reporter, "posts": posts,
                    "rules": rule_ids, "comment": opt_str(r, "comment", w), "created_at": created,
                    "source": "mastodon-forwarded" if opt_bool(r, "forwarded", w) else "mastodon"})
    out.append(event(f"md:report:{rid}:{created}", "report", created, data))
    if opt_bool(r, "action_taken", w):
        at = opt_time(r, "action_taken_at", w) or created
        res = {"report_id": data["id"], "outcome": "resolved", "by": "mastodon"}
        out.append(event(f"md:report_resolution:{rid}:{at}", "report_resolution", at, res))
    return out


def _conversation(c: dict, w: str, t: str) -> list[dict]:
    """A Conversation (GET /api/v1/conversations): its participants and its last (direct) status."""
    req_id(c, "id", w)
    out: list[dict] = []
    for aw, a in dicts(c, "accounts", w):
        out.extend(_account(a, aw, t))
    last = opt_dict(c, "last_status", w)
    if last:
        out.extend(_status(last, f"{w}.last_status", t))
    return out


def _status_edit(e: dict, w: str, sid: str, t: str, *, edit: bool) -> list[dict]:
    """One StatusEdit of GET /api/v1/statuses/:id/history (oldest first): each version, the first
    one too, is a post_edit at its created_at (the newest text wins; the event log keeps every
    version; the last one has the id the Status's edited_at gives). No post event: a StatusEdit
    lacks the visibility, which a post must not guess (the Status brings it)."""
    account = opt_dict(e, "account", w)
    out = _account(account, f"{w}.account", t)
    req_id(account, "id", f"{w}.account")
    created = opt_time(e, "created_at", w)
    if not created:
        raise BadRecord(f"missing field {w}.created_at")
    content = opt_str(e, "content", w)
    body = html_to_text(content)
    spoiler = opt_str(e, "spoiler_text", w)
    text = f"{spoiler}\n\n{body}" if spoiler and body else spoiler or body
    hashtags, urls = [], []
    for href, cls in html_links(content):
        if "hashtag" in cls:
            tag = href.rstrip("/").rsplit("/", 1)[-1]
            if tag and tag not in hashtags:
                hashtags.append(tag)
        elif "mention" not in cls and href not in urls:
            urls.append(href)
    for mw, m in dicts(e, "media_attachments", w):
        _attachment(m, mw)  # type-checked only: post_edit carries no media
    if edit:
        out.append(event(f"md:edit:{sid}:{created}", "post_edit", created,
                         compact({"id": sid, "hashtags": fit_tags(hashtags), "urls": fit_links(urls)}) | {"text": text}))
    return out


def _image(url: str | None, owner: str, role: str) -> dict | None:
    if not url or url.endswith("/missing.png"):  # Mastodon's placeholder for "no avatar / header"
        return None
    return {"id": f"md-{role}-{owner}-{short_hash(url, 10)}", "kind": "photo", "uri": url}


def _account(a: dict, w: str, t: str, *, created: str | None = None, email: str | None = None) -> list[dict]:
    aid = req_id(a, "id", w)
    handle = opt_str(a, "acct", w) or req_id(a, "username", w)
    lines = [html_to_text(opt_str(a, "note", w))]
    for fw, f in dicts(a, "fields", w):
        name = opt_str(f, "name", fw) or ""
        value = html_to_text(opt_str(f, "value", fw))
        if name or value:
            lines.append(f"{name}: {value}")
    bio = "\n".join(x for x in lines if x)
    data = compact(
        {
            "id": aid,
            "handle": handle,
            "display_name": opt_str(a, "display_name", w),
            "bio": bio or None,
            "created_at": created or opt_time(a, "created_at", w),
            "protected": opt_bool(a, "locked", w),
            "url": opt_str(a, "url", w),
            "email": email or None,
            "avatar": _image(opt_str(a, "avatar", w), aid, "avatar"),
            "header": _image(opt_str(a, "header", w), aid, "header"),
        }
    )
    out = [event(f"md:account:{aid}:{short_hash(data)}", "account", t, data)]
    if opt_bool(a, "suspended", w):
        out.append(_state(aid, "suspended", t, None))
    return out


def _state(aid: str, state: str, t: str, reason: str | None) -> dict:
    data = compact({"account_id": aid, "state": state, "reason": reason})
    return event(f"md:state:{aid}:{state}:{t}", "account_state", t, data)


def _admin(a: dict, w: str, t: str) -> list[dict]:
    aid = req_id(a, "id", w)
    inner = opt_dict(a, "account", w)
    if inner.get("id") not in (None, aid):
        raise BadRecord(f"field {w}.account.id differs from {w}.id")
    # The admin view's own created_at is exact; the inner Account's is rounded to the day (Mastodon 3.5+).
    out = _account(
        {"id": aid, "username": a.get("username"), **inner},
        f"{w}.account",
        t,
        created=opt_time(a, "created_at", w),
        email=opt_str(a, "email", w),
    )
    flags = [name for name in ("silenced", "disabled", "sensitized") if opt_bool(a, name, w)]
    suspended = opt_bool(a, "suspended", w)
    if suspended is not None:  # the admin view is authoritative: it also says when an account is active
        reason = ", ".join(flags) or None
        out = [e for e in out if e["kind"] != "account_state"]
        out.append(_state(aid, "suspended" if suspended else "active", t, reason))
    used: dict[str, str] = {}
    for iw, ip in dicts(a, "ips", w):
        addr = req_id(ip, "ip", iw)
        when = opt_time(ip, "used_at", iw) or t
        used.setdefault(addr, when)
        out.append(_session(aid, addr, "other", when))
    last = a.get("ip")
    if isinstance(last, dict):  # Mastodon < 4 returned an Admin::Ip object here
        last = last.get("ip")
    if last is not None:
        if not isinstance(last, str) or not last:
            raise BadRecord(f"field {w}.ip must be an IP address string")
        out.append(_session(aid, last, "login", used.get(last, t)))
    return out


def _session(aid: str, ip: str, kind: str, t: str) -> dict:
    return event(
        f"md:session:{aid}:{ip}:{kind}:{t}", "session", t, {"account_id": aid, "ip": ip, "event": kind}
    )


def _relationship(r: dict, w: str, viewer: str, t: str) -> list[dict]:
    other = req_id(r, "id", w)
    out = []
    pairs = [
        ("following", "follow", viewer, other, None),
        ("requested", "follow_request", viewer, other, "pending"),
        ("followed_by", "follow", other, viewer, None),
        ("requested_by", "follow_request", other, viewer, "pending"),  # Mastodon 4.1+
    ]
    for flag, kind, src, dst, state in pairs:
        if opt_bool(r, flag, w):
            data = {"src": src, "dst": dst, **({"state": state} if state else {})}
            out.append(event(f"md:{kind}:{src}:{dst}" + (f":{state}" if state else ""), kind, t, data))
    return out


def _status(s: dict, w: str, t: str) -> list[dict]:
    sid = req_id(s, "id", w)
    account = opt_dict(s, "account", w)
    if not account:
        raise BadRecord(f"missing field {w}.account")
    out = _account(account, f"{w}.account", t)
    author = req_id(account, "id", f"{w}.account")
    created = opt_time(s, "created_at", w)
    refs: dict[str, str] = {}
    reblog = opt_dict(s, "reblog", w)
    if reblog:
        out.extend(_status(reblog, f"{w}.reblog", t))
        refs["repost_of"] = req_id(reblog, "id", f"{w}.reblog")
    quote = opt_dict(s, "quote", w)  # Mastodon 4.4+: {state, quoted_status} or {state, quoted_status_id}
    if quote:
        quoted = opt_dict(quote, "quoted_status", f"{w}.quote")
        if quoted:
            out.extend(_status(quoted, f"{w}.quote.quoted_status", t))
            refs["quote_of"] = req_id(quoted, "id", f"{w}.quote.quoted_status")
        elif opt_str(quote, "quoted_status_id", f"{w}.quote"):
            refs["quote_of"] = quote["quoted_status_id"]
    reply_to = opt_str(s, "in_reply_to_id", w)
    if reply_to:
        refs["reply_to"] = reply_to
    reply_account = opt_str(s, "in_reply_to_account_id", w)
    if reply_account:  # the reply edge holds even when the parent status is not in the capture
        refs["reply_to_account"] = reply_account
    content = opt_str(s, "content", w)
    body = html_to_text(content)
    spoiler = opt_str(s, "spoiler_text", w)
    text = f"{spoiler}\n\n{body}" if spoiler and body else spoiler or body
    mentions, mention_urls = [], set()
    for mw, m in dicts(s, "mentions", w):
        mentions.append(req_id(m, "id", mw))
        mention_urls.add(opt_str(m, "url", mw))
    hashtags, tag_urls = [], set()
    for tw, tag in dicts(s, "tags", w):
        hashtags.append(req_id(tag, "name", tw).lstrip("#"))
        tag_urls.add(opt_str(tag, "url", tw))
    urls = []
    for href, cls in html_links(content):
        if "mention" in cls or "hashtag" in cls or href in mention_urls or href in tag_urls:
            continue
        if href not in urls:
            urls.append(href)
    media = [_attachment(m, mw) for mw, m in dicts(s, "media_attachments", w)]
    vis = opt_str(s, "visibility", w)
    data = compact(
        {
            "id": sid,
            "author_id": author,
            "text": text,
            "created_at": created,
            **refs,
            "mentions": list(dict.fromkeys(mentions)),
            "hashtags": fit_tags(hashtags),
            "urls": fit_links(urls),
            "media": media,
            "visibility": _VISIBILITY.get(vis, "followers") if vis else None,
            "lang": opt_str(s, "language", w),
        }
    )
    out.append(event(f"md:status:{sid}", "post", created or t, data))
    edited = opt_time(s, "edited_at", w)
    if edited:
        edit = {k: data[k] for k in ("id", "text", "mentions", "hashtags", "urls") if k in data}
        edit.setdefault("text", "")
        out.append(event(f"md:edit:{sid}:{edited}", "post_edit", edited, edit))
    opt_bool(s, "sensitive", w)  # type-checked only: the author's content-warning flag is not in the model
    return out


def _attachment(m: dict, w: str) -> dict:
    mid = req_id(m, "id", w)
    kind = opt_str(m, "type", w)
    meta = opt_dict(opt_dict(m, "meta", w), "original", f"{w}.meta")
    return compact(
        {
            "id": mid,
            "kind": _MEDIA_KIND.get(kind or "", "other"),
            "uri": opt_str(m, "url", w) or opt_str(m, "remote_url", w) or opt_str(m, "preview_url", w),
            "width": opt_int(meta, "width", f"{w}.meta.original"),
            "height": opt_int(meta, "height", f"{w}.meta.original"),
            "alt_text": opt_str(m, "description", w),
        }
    )
