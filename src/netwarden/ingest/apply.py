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

from ..store import schema as t
from ..store.upsert import _insert, insert_ignore, newest_per_key, upsert_newest
from .batch import Batch

ACCOUNT_FIELDS = ("handle", "handle_lc", "display_name", "bio", "created_at", "protected",
                  "avatar_media_id", "header_media_id", "url", "email", "updated_at")
POST_ALWAYS = ("author_id", "created_at", "reply_to", "reply_to_account", "repost_of", "quote_of", "visibility",
               "lang")
MEDIA_FIELDS = ("kind", "uri", "size", "mime", "width", "height", "alt_text", "sha256", "md5", "updated_at")


@dataclass
class Rows:
    """Rows gathered from one batch of events, grouped by table."""

    events: list[dict] = field(default_factory=list)
    accounts: list[dict] = field(default_factory=list)
    account_states: list[dict] = field(default_factory=list)
    posts: list[dict] = field(default_factory=list)
    edits: list[dict] = field(default_factory=list)
    deletes: list[dict] = field(default_factory=list)
    hashtags: list[dict] = field(default_factory=list)
    mentions: list[dict] = field(default_factory=list)
    urls: list[dict] = field(default_factory=list)
    post_media: list[dict] = field(default_factory=list)
    media: list[dict] = field(default_factory=list)
    media_refs: list[dict] = field(default_factory=list)  # media rows with their post/account, for signals
    follows: list[dict] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    likes: list[dict] = field(default_factory=list)
    sessions: list[dict] = field(default_factory=list)
    dead: list[dict] = field(default_factory=list)

    def add(self, ev: dict, raw: str | bytes | None, subject: str, source: str) -> None:
        kind, time, data = ev["kind"], ev["time"], ev["data"]
        version = f"{time} {ev['id']}"
        if raw is None or isinstance(raw, bytes | bytearray):
            raw = orjson.dumps(ev).decode() if raw is None else raw.decode()
        self.events.append({"event_id": ev["id"], "kind": kind, "time": time, "subject": subject,
                            "source": source, "payload": raw})
        handler = getattr(self, "_" + kind)
        handler(data, time, version)

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
        self.posts.append({
            "id": pid, "author_id": d["author_id"], "text": d.get("text") or "",
            "created_at": d.get("created_at") or time, "reply_to": d.get("reply_to"),
            "reply_to_account": d.get("reply_to_account"),
            "repost_of": d.get("repost_of"), "quote_of": d.get("quote_of"),
            "visibility": d.get("visibility") or "public", "lang": d.get("lang"),
            "updated_at": time, "version": version,
        })
        self._children(pid, d)
        for i, m in enumerate(d.get("media") or ()):
            self.post_media.append({"post_id": pid, "media_id": m["id"], "position": i})
            self._media(m, time, version, role="post", account_id=d["author_id"], post_id=pid)

    def _children(self, pid: str, d: dict) -> None:
        for tag in d.get("hashtags") or ():
            tag = tag.lstrip("#").casefold()
            if tag:
                self.hashtags.append({"post_id": pid, "tag": tag})
        for aid in d.get("mentions") or ():
            self.mentions.append({"post_id": pid, "account_id": aid})
        for url in d.get("urls") or ():
            self.urls.append({"post_id": pid, "url": url})

    def _post_edit(self, d: dict, time: str, version: str) -> None:
        self.edits.append({"id": d["id"], "text": d["text"], "edited_at": time, "updated_at": time,
                           "version": version})
        self._children(d["id"], d)

    def _post_delete(self, d: dict, time: str, version: str) -> None:
        self.deletes.append({"id": d["id"], "deleted_at": time})

    def _media(self, m: dict, time: str, version: str, *, role: str, account_id: str, post_id: str | None) -> None:
        row = {
            "id": m["id"], "kind": m.get("kind") or "photo", "uri": m.get("uri"), "size": m.get("size"),
            "mime": m.get("mime"), "width": m.get("width"), "height": m.get("height"),
            "alt_text": m.get("alt_text"), "sha256": m.get("sha256"), "md5": m.get("md5"),
            "updated_at": time, "version": version,
        }
        self.media.append(row)
        self.media_refs.append({**row, "role": role, "account_id": account_id, "post_id": post_id})

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

    # -- writing --------------------------------------------------------------------------------
    def write(self, conn: Connection) -> None:
        insert_ignore(conn, t.events, self.events, ["event_id"])
        upsert_newest(conn, t.accounts, newest_per_key(self.accounts, ["id"]), ["id"], ACCOUNT_FIELDS)
        if self.account_states:
            rows = newest_per_key(self.account_states, ["id"], "state_version")
            rows = [{**_ACCOUNT_PLACEHOLDER, **r} for r in rows]
            upsert_newest(conn, t.accounts, rows, ["id"], ("state", "state_time"), version="state_version")
        posts = newest_per_key(self.posts, ["id"], always=POST_ALWAYS)
        upsert_newest(conn, t.posts, posts, ["id"], ("text", "updated_at"), always=POST_ALWAYS)
        if self.edits:
            rows = [{**_POST_PLACEHOLDER, **r} for r in newest_per_key(self.edits, ["id"])]
            upsert_newest(conn, t.posts, rows, ["id"], ("text", "edited_at", "updated_at"))
        if self.deletes:
            _write_deletes(conn, self.deletes)
        insert_ignore(conn, t.post_hashtags, self.hashtags)
        insert_ignore(conn, t.post_mentions, self.mentions)
        insert_ignore(conn, t.post_urls, self.urls)
        insert_ignore(conn, t.post_media, self.post_media, ["post_id", "media_id"])
        upsert_newest(conn, t.media, newest_per_key(self.media, ["id"]), ["id"], MEDIA_FIELDS)
        upsert_newest(conn, t.follows, newest_per_key(self.follows, ["src", "dst"]), ["src", "dst"], ("state", "time"))
        upsert_newest(conn, t.follow_requests, newest_per_key(self.requests, ["src", "dst"]), ["src", "dst"],
                      ("state", "time"))
        upsert_newest(conn, t.likes, newest_per_key(self.likes, ["account_id", "post_id"]),
                      ["account_id", "post_id"], ("state", "time"))
        insert_ignore(conn, t.account_sessions, self.sessions)
        insert_ignore(conn, t.dead_letters, self.dead, ["source", "line"])

    def batch(self, base_dir: str | None) -> Batch:
        """The projected rows handed to signal extractors."""
        posts = {}
        for p in self.posts:
            posts[p["id"]] = {**p, "hashtags": [], "mentions": [], "urls": []}
        for e in self.edits:
            posts[e["id"]] = {**posts.get(e["id"], {"id": e["id"], "author_id": None}), "text": e["text"],
                              "hashtags": [], "mentions": [], "urls": []}
        for h in self.hashtags:
            if h["post_id"] in posts:
                posts[h["post_id"]]["hashtags"].append(h["tag"])
        for m in self.mentions:
            if m["post_id"] in posts:
                posts[m["post_id"]]["mentions"].append(m["account_id"])
        for u in self.urls:
            if u["post_id"] in posts:
                posts[u["post_id"]]["urls"].append(u["url"])
        return Batch(accounts=list(self.accounts), posts=list(posts.values()), media=list(self.media_refs),
                     base_dir=base_dir)


_ACCOUNT_PLACEHOLDER = {"handle": "", "handle_lc": "", "display_name": "", "bio": "", "protected": False,
                        "version": "", "state": "active", "state_version": ""}
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
