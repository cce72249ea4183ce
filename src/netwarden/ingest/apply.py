"""Native events -> rows of the store tables, written in one transaction per batch.

Every projection is idempotent and order-independent: a row keeps the fields of the newest event
("<time> <event id>" compares as text), facts that never change (a post's author) are filled from
whichever event knows them, and set-like tables only ever gain rows. So the same events in any
order, any number of times, give the same store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
from sqlalchemy import case
from sqlalchemy.engine import Connection

from .. import model
from ..store import schema as t
from ..store.tables_reports import reports
from ..store.upsert import _insert, insert_ignore, newest_per_key, upsert_newest
from .batch import Batch

ACCOUNT_FIELDS = ("handle", "handle_lc", "display_name", "bio", "protected",
                  "avatar_media_id", "header_media_id", "url", "email", "updated_at")
ACCOUNT_ALWAYS = ("created_at",)  # a profile edit that does not repeat when the account was made keeps it
POST_ALWAYS = ("author_id", "created_at", "reply_to", "reply_to_account", "repost_of", "quote_of", "visibility",
               "lang")
REPORT_FIELDS = ("account_id", "category", "reporter_kind", "reporter_id", "posts", "media", "rules", "comment",
                 "reported_at", "source", "lang", "updated_at")
RESOLUTION_FIELDS = ("outcome", "resolved_by", "resolved_at", "resolution_note")
MEDIA_FIELDS = ("kind", "uri", "size", "mime", "width", "height", "alt_text", "sha256", "md5", "updated_at")


EVENT_COLUMNS = ("event_id", "kind", "time", "subject", "source", "payload")
POST_COLUMNS = ("id", "author_id", "text", "created_at", "reply_to", "reply_to_account", "repost_of", "quote_of",
                "visibility", "lang", "updated_at", "version")
MEDIA_COLUMNS = ("id", "kind", "uri", "size", "mime", "width", "height", "alt_text", "sha256", "md5", "updated_at",
                 "version")


@dataclass
class Rows:
    """Rows gathered from one batch of events, grouped by table.

    Rows of the insert-only tables are tuples in their columns' order (EVENT_COLUMNS, (post_id,
    tag), (post_id, account_id), (post_id, url), (post_id, media_id, position)). Post rows are
    dicts that also carry the post's "hashtags", "mentions" and "urls" in this batch, and media
    rows carry "role", "account_id" and "post_id": the same dicts are handed to the signal hooks.
    """

    events: list[tuple] = field(default_factory=list)
    accounts: list[dict] = field(default_factory=list)
    account_states: list[dict] = field(default_factory=list)
    posts: list[dict] = field(default_factory=list)
    edits: list[dict] = field(default_factory=list)
    deletes: list[dict] = field(default_factory=list)
    hashtags: list[tuple[str, str]] = field(default_factory=list)
    mentions: list[tuple[str, str]] = field(default_factory=list)
    urls: list[tuple[str, str]] = field(default_factory=list)
    post_media: list[tuple[str, str, int]] = field(default_factory=list)
    media: list[dict] = field(default_factory=list)  # media rows with their post/account, for signals
    follows: list[dict] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    likes: list[dict] = field(default_factory=list)
    sessions: list[dict] = field(default_factory=list)
    reports: list[dict] = field(default_factory=list)
    resolutions: list[dict] = field(default_factory=list)
    dead: list[dict] = field(default_factory=list)
    # post id -> its (hashtags, mentions, urls) from every event of this batch, in event order
    children: dict[str, tuple[list, list, list]] = field(default_factory=dict, repr=False)

    def add(self, ev: dict, raw: str | bytes | None, subject: str, source: str) -> None:
        kind, time, data = ev["kind"], ev["time"], ev["data"]
        version = f"{time} {ev['id']}"
        if raw is None or isinstance(raw, bytes | bytearray):
            raw = orjson.dumps(ev).decode() if raw is None else raw.decode()
        self.events.append((ev["id"], kind, time, subject, source, raw))
        _HANDLERS[kind](self, data, time, version)

    # -- accounts -------------------------------------------------------------------------------
    def _account(self, d: dict, time: str, version: str) -> None:
        avatar, header = d.get("avatar"), d.get("header")
        self.accounts.append({
            "id": d["id"], "handle": d["handle"], "handle_lc": d["handle"].casefold(),
            "display_name": d.get("display_name") or "", "bio": d.get("bio") or "",
            "created_at": d.get("created_at"), "protected": bool(d.get("protected")),
            "avatar_media_id": avatar["id"] if avatar else None,
            "header_media_id": header["id"] if header else None,
            "url": d.get("url"), "email": d.get("email"), "updated_at": time, "version": version,
        })
        for m, role in ((avatar, "avatar"), (header, "header")):
            if m:
                self._media(m, time, version, role=role, account_id=d["id"], post_id=None)

    def _account_state(self, d: dict, time: str, version: str) -> None:
        self.account_states.append({"id": d["account_id"], "state": d["state"], "state_time": time,
                                    "state_version": version})

    # -- posts ----------------------------------------------------------------------------------
    def _post(self, d: dict, time: str, version: str) -> None:
        pid = d["id"]
        g = d.get
        tags, mentions, urls = self._children(pid, d)
        self.posts.append({
            "id": pid, "author_id": d["author_id"], "text": g("text") or "",
            "created_at": g("created_at") or time, "reply_to": g("reply_to"),
            "reply_to_account": g("reply_to_account"),
            "repost_of": g("repost_of"), "quote_of": g("quote_of"),
            "visibility": g("visibility") or "public", "lang": g("lang"),
            "updated_at": time, "version": version, "hashtags": tags, "mentions": mentions, "urls": urls,
        })
        media = g("media")
        if media:
            for i, m in enumerate(media):
                self.post_media.append((pid, m["id"], i))
                self._media(m, time, version, role="post", account_id=d["author_id"], post_id=pid)

    def _children(self, pid: str, d: dict) -> tuple[list, list, list]:
        """Record the event's hashtags, mentions and links; return the post's lists in this batch."""
        kids = self.children.get(pid)
        if kids is None:
            kids = self.children[pid] = ([], [], [])
        tags = d.get("hashtags")
        if tags:
            for tag in tags:
                tag = tag.lstrip("#").casefold()
                if tag:
                    self.hashtags.append((pid, tag))
                    kids[0].append(tag)
        mentions = d.get("mentions")
        if mentions:
            for aid in mentions:
                self.mentions.append((pid, aid))
            kids[1].extend(mentions)
        urls = d.get("urls")
        if urls:
            for url in urls:
                self.urls.append((pid, url))
            kids[2].extend(urls)
        return kids

    def _post_edit(self, d: dict, time: str, version: str) -> None:
        self.edits.append({"id": d["id"], "text": d["text"], "edited_at": time, "updated_at": time,
                           "version": version})
        self._children(d["id"], d)

    def _post_delete(self, d: dict, time: str, version: str) -> None:
        self.deletes.append({"id": d["id"], "deleted_at": time})

    def _media(self, m: dict, time: str, version: str, *, role: str, account_id: str, post_id: str | None) -> None:
        g = m.get
        self.media.append({
            "id": m["id"], "kind": g("kind") or "photo", "uri": g("uri"), "size": g("size"),
            "mime": g("mime"), "width": g("width"), "height": g("height"),
            "alt_text": g("alt_text"), "sha256": g("sha256"), "md5": g("md5"),
            "pdq": g("pdq"), "pdq_quality": g("pdq_quality"), "updated_at": time, "version": version, "role": role, "account_id": account_id, "post_id": post_id,
            "stub": len(m) <= 2 and m.keys() <= _STUB_KEYS,
        })

    # -- edges ----------------------------------------------------------------------------------
    def _follow(self, d: dict, time: str, version: str, state: str = "active") -> None:
        self.follows.append({"src": d["src"], "dst": d["dst"], "state": state, "time": time, "version": version})

    def _unfollow(self, d: dict, time: str, version: str) -> None:
        self._follow(d, time, version, "removed")

    def _follow_request(self, d: dict, time: str, version: str) -> None:
        self.requests.append({"src": d["src"], "dst": d["dst"], "state": d["state"], "time": time,
                              "version": version})
        if d["state"] == "approved":
            self._follow(d, time, version)

    def _like(self, d: dict, time: str, version: str, state: str = "active") -> None:
        self.likes.append({"account_id": d["account_id"], "post_id": d["post_id"], "state": state,
                           "time": time, "version": version})

    def _unlike(self, d: dict, time: str, version: str) -> None:
        self._like(d, time, version, "removed")

    def _session(self, d: dict, time: str, version: str) -> None:
        self.sessions.append({"account_id": d["account_id"], "time": time, "ip": d["ip"],
                              "event": d.get("event") or "login", "user_agent": d.get("user_agent"),
                              "device_id": d.get("device_id")})

    # -- user reports (docs/reports.md) ------------------------------------------------------------
    def _report(self, d: dict, time: str, version: str) -> None:
        g = d.get
        self.reports.append({
            "id": d["id"], "account_id": d["account_id"], "category": d["category"],
            "reporter_kind": d["reporter_kind"], "reporter_id": g("reporter_id"),
            "posts": orjson.dumps(list(dict.fromkeys(g("posts") or []))).decode(),
            "media": orjson.dumps(list(dict.fromkeys(g("media") or []))).decode(),
            "rules": orjson.dumps(g("rules") or []).decode(), "comment": g("comment") or "",
            "reported_at": g("created_at") or time, "source": g("source"), "lang": g("lang"),
            "updated_at": time, "version": version,
        })

    def _report_resolution(self, d: dict, time: str, version: str) -> None:
        self.resolutions.append({"id": d["report_id"], "outcome": d["outcome"], "resolved_by": d.get("by"),
                                 "resolved_at": time, "resolution_note": d.get("note"),
                                 "resolution_version": version})

    # -- writing --------------------------------------------------------------------------------
    def write(self, conn: Connection) -> None:
        insert_ignore(conn, t.events, self.events, ["event_id"], columns=EVENT_COLUMNS)
        upsert_newest(conn, t.accounts, newest_per_key(self.accounts, ["id"], always=ACCOUNT_ALWAYS), ["id"],
                      ACCOUNT_FIELDS, always=ACCOUNT_ALWAYS)
        if self.account_states:
            rows = newest_per_key(self.account_states, ["id"], "state_version")
            rows = [{**_ACCOUNT_PLACEHOLDER, **r} for r in rows]
            upsert_newest(conn, t.accounts, rows, ["id"], ("state", "state_time"), version="state_version")
        posts = newest_per_key(self.posts, ["id"], always=POST_ALWAYS)
        upsert_newest(conn, t.posts, posts, ["id"], ("text", "updated_at"), always=POST_ALWAYS, columns=POST_COLUMNS)
        if self.edits:
            rows = [{**_POST_PLACEHOLDER, **r} for r in newest_per_key(self.edits, ["id"])]
            upsert_newest(conn, t.posts, rows, ["id"], ("text", "edited_at", "updated_at"))
        if self.deletes:
            _write_deletes(conn, self.deletes)
        insert_ignore(conn, t.post_hashtags, self.hashtags, columns=("post_id", "tag"))
        insert_ignore(conn, t.post_mentions, self.mentions, columns=("post_id", "account_id"))
        insert_ignore(conn, t.post_urls, self.urls, columns=("post_id", "url"))
        insert_ignore(conn, t.post_media, self.post_media, ["post_id", "media_id"],
                      columns=("post_id", "media_id", "position"))
        # A media item that is only a reference (an id, maybe a kind: a tweet's media_key without its
        # includes.media) never overwrites what an earlier, fuller event said about that media.
        full = [m for m in self.media if not m["stub"]]
        upsert_newest(conn, t.media, newest_per_key(full, ["id"]), ["id"], MEDIA_FIELDS, columns=MEDIA_COLUMNS)
        if len(full) < len(self.media):
            stubs = {m["id"]: {**m, "version": ""} for m in self.media if m["stub"]}  # any fuller event wins
            insert_ignore(conn, t.media, list(stubs.values()), ["id"], columns=MEDIA_COLUMNS)
        upsert_newest(conn, t.follows, newest_per_key(self.follows, ["src", "dst"]), ["src", "dst"], ("state", "time"))
        upsert_newest(conn, t.follow_requests, newest_per_key(self.requests, ["src", "dst"]), ["src", "dst"],
                      ("state", "time"))
        upsert_newest(conn, t.likes, newest_per_key(self.likes, ["account_id", "post_id"]),
                      ["account_id", "post_id"], ("state", "time"))
        insert_ignore(conn, t.account_sessions, self.sessions)
        if self.reports:
            upsert_newest(conn, reports, newest_per_key(self.reports, ["id"]), ["id"], REPORT_FIELDS)
        if self.resolutions:
            rows = [{**_REPORT_PLACEHOLDER, **r} for r in newest_per_key(self.resolutions, ["id"], "resolution_version")]
            upsert_newest(conn, reports, rows, ["id"], RESOLUTION_FIELDS, version="resolution_version")
        insert_ignore(conn, t.dead_letters, self.dead, ["source", "line"])

    def batch(self, base_dir: str | None) -> Batch:
        """The projected rows handed to signal extractors (posts with their batch's children)."""
        posts: dict[str, dict] = {}
        for p in self.posts:
            posts[p["id"]] = p
        for e in self.edits:
            pid = e["id"]
            tags, mentions, urls = self.children[pid]
            posts[pid] = {**posts.get(pid, {"id": pid, "author_id": None}), "text": e["text"],
                          "hashtags": tags, "mentions": mentions, "urls": urls}
        return Batch(accounts=list(self.accounts), posts=list(posts.values()), media=list(self.media),
                     base_dir=base_dir, account_states=list(dict.fromkeys(s["id"] for s in self.account_states)))


_HANDLERS = {k: getattr(Rows, f"_{k}") for k in model.KINDS}  # every kind of netwarden.model has its projection


_STUB_KEYS = {"id", "kind"}
_ACCOUNT_PLACEHOLDER = {"handle": "", "handle_lc": "", "display_name": "", "bio": "", "protected": False,
                        "version": "", "state": "active", "state_version": ""}
_REPORT_PLACEHOLDER = {"account_id": "", "category": "", "reporter_kind": "", "posts": "[]", "media": "[]",
                       "rules": "[]", "comment": "", "version": ""}
_POST_PLACEHOLDER = {"author_id": "", "text": "", "visibility": "", "version": ""}


def _write_deletes(conn: Connection, deletes: list[dict]) -> None:
    """Mark posts deleted; the earliest delete time wins, so order does not matter."""
    first: dict[str, str] = {}
    for d in deletes:
        if d["id"] not in first or d["deleted_at"] < first[d["id"]]:
            first[d["id"]] = d["deleted_at"]
    rows = [{**_POST_PLACEHOLDER, "id": k, "deleted_at": v} for k, v in first.items()]
    stmt = _insert(conn, t.posts)
    ex = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["id"],
        set_={"deleted_at": case(
            ((t.posts.c.deleted_at.is_(None)) | (ex.deleted_at < t.posts.c.deleted_at), ex.deleted_at),
            else_=t.posts.c.deleted_at)},
    )
    conn.execute(stmt, rows)
