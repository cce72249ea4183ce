"""The platform as data, and the findings about it.

Plain dataclasses with no database or web code. Every input format (native events, Twitter API v2,
Mastodon) is mapped onto these at the edge, once; see docs/events.md for the event schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class AccountState(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DELETED = "deleted"


class MediaKind(StrEnum):
    PHOTO = "photo"
    VIDEO = "video"


class Visibility(StrEnum):
    PUBLIC = "public"
    UNLISTED = "unlisted"
    FOLLOWERS = "followers"
    DIRECT = "direct"


class EdgeKind(StrEnum):
    """Edges between accounts. follow and follow_request are stored; the rest derive from posts."""

    FOLLOW = "follow"
    FOLLOW_REQUEST = "follow_request"
    REPLY = "reply"
    MENTION = "mention"
    REPOST = "repost"
    QUOTE = "quote"
    LIKE = "like"


class FollowState(StrEnum):
    ACTIVE = "active"  # following
    REMOVED = "removed"  # unfollowed


class RequestState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(slots=True)
class Media:
    id: str
    kind: MediaKind = MediaKind.PHOTO
    uri: str | None = None  # where the bytes live (platform storage path or allow-listed URL)
    size: int | None = None  # bytes
    mime: str | None = None
    width: int | None = None
    height: int | None = None
    alt_text: str | None = None
    sha256: str | None = None  # when the platform supplies it
    md5: str | None = None


@dataclass(slots=True)
class Account:
    id: str
    handle: str
    display_name: str = ""
    bio: str = ""
    created_at: str | None = None  # ISO 8601 UTC
    protected: bool = False  # approves followers (Mastodon `locked`, Twitter `protected`)
    avatar: Media | None = None
    header: Media | None = None
    state: AccountState = AccountState.ACTIVE
    url: str | None = None  # profile URL on the platform


@dataclass(slots=True)
class Post:
    id: str
    author_id: str
    text: str = ""
    created_at: str | None = None
    reply_to: str | None = None  # post id
    repost_of: str | None = None  # post id
    quote_of: str | None = None  # post id
    mentions: list[str] = field(default_factory=list)  # account ids
    hashtags: list[str] = field(default_factory=list)  # as written, without '#'
    urls: list[str] = field(default_factory=list)
    media: list[Media] = field(default_factory=list)
    visibility: Visibility = Visibility.PUBLIC
    lang: str | None = None


@dataclass(slots=True)
class Edge:
    src: str
    dst: str
    kind: EdgeKind
    state: str | None = None  # FollowState / RequestState for stored edges
    ref: str | None = None  # post id for post-derived edges
    time: str | None = None


@dataclass(slots=True)
class Event:
    """One change on the platform, with its time. History is the sequence of these."""

    id: str
    kind: str
    time: str
    data: dict
