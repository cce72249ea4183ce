"""Known-media tables: per-media hashes, hash banks and their entries (docs/media.md)."""

from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Table, Text, UniqueConstraint

from .meta import metadata

ID = String(128)
TIME = String(40)

# One row per media id: what hashing found (or why it could not).
media_hashes = Table(
    "media_hashes",
    metadata,
    Column("media_id", ID, primary_key=True),
    Column("kind", String(10), nullable=False, default="photo"),  # photo | video
    Column("md5", String(32), index=True),
    Column("sha256", String(64), index=True),
    Column("size", Integer),
    Column("pdq", String(64)),  # hex; None for videos and undecodable files
    Column("quality", Integer),  # PDQ quality 0..100; < 50 is stored but never matched
    Column("variants", Text),  # JSON {variant name: pdq hex} of the 8 dihedral variants
    Column("width", Integer),
    Column("height", Integer),
    Column("format", String(20)),
    Column("vpdq", Text),  # JSON list of {"frame","quality","pdq","timestamp"} for videos
    Column("error", Text),  # one sentence, when the file could not be decoded
    Column("error_reason", String(30)),
    Column("hashed_at", TIME, nullable=False),
)

banks = Table(
    "banks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("label", String(200), nullable=False, default=""),
    Column("threshold", Integer, nullable=False, default=31),  # PDQ / vPDQ frame distance
    Column("enabled", Boolean, nullable=False, default=True),
    Column("negative", Boolean, nullable=False, default=False),  # known false positives: suppress matches
    # HMA's matching_enabled_ratio: the share of HMA-API lookups the bank answers (a coin flip per
    # lookup); 0 also clears `enabled`. Ingestion matches every enabled bank whatever its ratio.
    Column("enabled_ratio", Float, nullable=False, default=1.0, server_default="1"),
    Column("source", String(200), nullable=False, default=""),  # csv | world | threatexchange collab name ...
    Column("created_at", TIME, nullable=False),
    Column("updated_at", TIME, nullable=False),
)

bank_entries = Table(
    "bank_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bank_id", Integer, nullable=False),
    Column("signal_type", String(20), nullable=False),  # pdq | md5 | sha256 | vpdq
    Column("signal", Text, nullable=False),  # lower-case hex (vpdq: JSON frame list)
    Column("label", String(200), nullable=False, default=""),
    Column("added_at", TIME, nullable=False),
    # HMA's bank content: the entries added by one request share the first one's id (None: its own).
    Column("content_id", Integer),
    Column("note", String(255)),  # HMA note
    Column("meta", Text),  # HMA content metadata, JSON {content_id, content_uri, json}
    Column("disable_until_ts", Integer),  # HMA: not matched by the HMA API before this Unix time
    UniqueConstraint("bank_id", "signal_type", "signal", name="uq_bank_entries_signal"),
    Index("ix_bank_entries_lookup", "signal_type", "signal"),
)
