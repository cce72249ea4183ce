"""The platform and findings tables. Current-state tables are projections of the `events` log.

No foreign keys between entity tables: events may arrive in any order (a reply before its parent,
a follow before its account), so references are plain ids resolved at query time.
"""

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)

from .. import limits as L
from .meta import metadata

# Lengths from netwarden.limits, the validator's own limits: what it accepts stores here.
ID = String(L.ID)
TIME = String(40)  # ISO 8601 UTC text: sorts correctly and is identical on SQLite and PostgreSQL
VERSION = String(250)  # "<time> <event id>": the newest event wins, ties broken by id

# The append-only history: every event ever ingested, once.
events = Table(
    "events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(L.EVENT_ID), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("time", TIME, nullable=False),
    Column("subject", ID),
    Column("source", String(40)),
    Column("payload", Text, nullable=False),
    Index("ix_events_subject", "subject"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("handle", String(L.HANDLE), nullable=False, default=""),  # "" until the account event arrives
    Column("handle_lc", String(L.HANDLE * L.FOLD_GROWTH), nullable=False, default="", index=True),  # casefolded
    Column("display_name", Text, nullable=False, default=""),
    Column("bio", Text, nullable=False, default=""),
    Column("created_at", TIME),
    Column("protected", Boolean, nullable=False, default=False),
    Column("avatar_media_id", ID),
    Column("header_media_id", ID),
    Column("url", Text),
    Column("email", String(L.EMAIL)),  # where the platform supplies it (reports to NCMEC)
    Column("state", String(20), nullable=False, default="active"),
    Column("state_time", TIME),
    Column("state_version", VERSION, nullable=False, default=""),
    Column("updated_at", TIME),  # time of the profile event this row reflects
    Column("version", VERSION, nullable=False, default=""),  # "<time> <event id>" of that event
    # the suspended set (evasion's watch list and the stream worker's per-batch check) without a scan
    Index("ix_accounts_state", "state", "state_time"),
)

posts = Table(
    "posts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("author_id", ID, nullable=False, default="", index=True),  # "" until the post event arrives
    Column("text", Text, nullable=False, default=""),
    Column("created_at", TIME),
    Column("reply_to", ID),
    Column("reply_to_account", ID),  # the parent's author, when the platform says (parent may be absent)
    Column("repost_of", ID),
    Column("quote_of", ID),
    Column("visibility", String(20), nullable=False, default="public"),
    Column("lang", String(L.LANG)),
    Column("updated_at", TIME),  # time of the create/edit event this row reflects
    Column("version", VERSION, nullable=False, default=""),
    Column("edited_at", TIME),
    Column("deleted_at", TIME),
    # Most posts are neither replies, reposts nor quotes: indexing only the set values keeps the NULLs out
    # of three B-trees that every post insert would otherwise update (a lookup by value implies NOT NULL).
    *[Index(f"ix_posts_{c}", c, sqlite_where=text(f"{c} IS NOT NULL"), postgresql_where=text(f"{c} IS NOT NULL"))
      for c in ("reply_to", "repost_of", "quote_of")],
)

post_hashtags = Table(
    "post_hashtags",
    metadata,
    Column("post_id", ID, nullable=False),
    Column("tag", String(L.TAG * L.FOLD_GROWTH), nullable=False),  # case-folded, without '#'
    PrimaryKeyConstraint("post_id", "tag"),
    Index("ix_post_hashtags_tag", "tag"),
)

post_mentions = Table(
    "post_mentions",
    metadata,
    Column("post_id", ID, nullable=False),
    Column("account_id", ID, nullable=False),
    PrimaryKeyConstraint("post_id", "account_id"),
    Index("ix_post_mentions_account", "account_id"),
)

post_urls = Table(
    "post_urls",
    metadata,
    Column("post_id", ID, nullable=False),
    Column("url", String(L.LINK), nullable=False),
    PrimaryKeyConstraint("post_id", "url"),
)

post_media = Table(
    "post_media",
    metadata,
    Column("post_id", ID, nullable=False),
    Column("media_id", ID, nullable=False),
    Column("position", Integer, nullable=False, default=0),
    PrimaryKeyConstraint("post_id", "media_id"),
    Index("ix_post_media_media", "media_id"),
)

media = Table(
    "media",
    metadata,
    Column("id", ID, primary_key=True),
    Column("kind", String(10), nullable=False, default="photo"),
    Column("uri", Text),
    Column("size", Integer),
    Column("mime", String(L.MIME)),
    Column("width", Integer),
    Column("height", Integer),
    Column("alt_text", Text),
    Column("sha256", String(64)),
    Column("md5", String(32)),
    Column("updated_at", TIME),
    Column("version", VERSION, nullable=False, default=""),
)

# Stored edges. reply / mention / repost / quote / like edges derive from posts and likes.
follows = Table(
    "follows",
    metadata,
    Column("src", ID, nullable=False),
    Column("dst", ID, nullable=False),
    Column("state", String(20), nullable=False),  # active | removed
    Column("time", TIME, nullable=False),  # time of the latest follow/unfollow event
    Column("version", VERSION, nullable=False),
    PrimaryKeyConstraint("src", "dst"),
    Index("ix_follows_dst", "dst"),
)

follow_requests = Table(
    "follow_requests",
    metadata,
    Column("src", ID, nullable=False),
    Column("dst", ID, nullable=False),
    Column("state", String(20), nullable=False),  # pending | approved | rejected
    Column("time", TIME, nullable=False),
    Column("version", VERSION, nullable=False),
    PrimaryKeyConstraint("src", "dst"),
    Index("ix_follow_requests_dst", "dst"),
)

likes = Table(
    "likes",
    metadata,
    Column("account_id", ID, nullable=False),
    Column("post_id", ID, nullable=False),
    Column("state", String(20), nullable=False),  # active | removed
    Column("time", TIME, nullable=False),
    Column("version", VERSION, nullable=False),
    PrimaryKeyConstraint("account_id", "post_id"),
    Index("ix_likes_post", "post_id"),
)

# IP and device events, where the platform supplies them (needed for NCMEC reports).
account_sessions = Table(
    "account_sessions",
    metadata,
    Column("account_id", ID, nullable=False),
    Column("time", TIME, nullable=False),
    Column("ip", String(L.IP), nullable=False),
    Column("event", String(20), nullable=False, default="login"),
    Column("user_agent", Text),
    Column("device_id", String(L.DEVICE)),
    PrimaryKeyConstraint("account_id", "time", "ip", "event"),
)

# Ingestion bookkeeping: one checkpoint per source, dead letters with their reason.
ingest_checkpoints = Table(
    "ingest_checkpoints",
    metadata,
    Column("source", String(1024), primary_key=True),
    Column("format", String(20), nullable=False),
    Column("byte_offset", Integer, nullable=False),
    Column("line", Integer, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("done", Boolean, nullable=False, default=False),
    Column("updated_at", TIME, nullable=False),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("source", String(1024), nullable=False),
    Column("line", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("record", Text, nullable=False),
    PrimaryKeyConstraint("source", "line"),
)

# Findings: every signal carries its reasons in `detail` (JSON).
signals = Table(
    "signals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(300), nullable=False, unique=True),  # idempotency key
    Column("account_id", ID, index=True),
    Column("subject_type", String(20), nullable=False),  # account | post | media
    Column("subject_id", ID, nullable=False),
    Column("kind", String(40), nullable=False, index=True),  # media_match | term_hit | contact | url_match | ...
    Column("weight", Float, nullable=False, default=1.0),
    Column("detail", Text, nullable=False),
    Column("created_at", TIME, nullable=False),
    Index("ix_signals_subject", "subject_type", "subject_id"),
)

# Off-platform contacts found in bios, names, posts and links: the shared-handle graph layer.
contacts = Table(
    "contacts",
    metadata,
    Column("account_id", ID, nullable=False),
    Column("platform", String(40), nullable=False),
    Column("handle", String(300), nullable=False),
    Column("field", String(20), nullable=False),  # bio | display_name | post | url
    Column("ref", ID, nullable=False, default=""),  # post id, or '' for profile fields
    PrimaryKeyConstraint("account_id", "platform", "handle", "field", "ref"),
    Index("ix_contacts_handle", "platform", "handle"),
)

# Tables keyed by text or composite keys are one B-tree in SQLite (WITHOUT ROWID) instead of a rowid
# table plus a key index: half the writes on the ingest path.
for _table in (accounts, posts, post_hashtags, post_mentions, post_urls, post_media, media, follows,
               follow_requests, likes, account_sessions, contacts, dead_letters, ingest_checkpoints):
    _table.dialect_options["sqlite"]["with_rowid"] = False
