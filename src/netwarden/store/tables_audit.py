"""The append-only, hash-chained audit log (see netwarden.audit)."""

from sqlalchemy import Column, Index, Integer, String, Table, Text

from .meta import metadata

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("time", String(40), nullable=False),
    Column("actor", String(200), nullable=False),  # user name, or "system:<component>"
    Column("action", String(60), nullable=False),  # login, reveal, decision, export, enforce, report, ...
    Column("subject_type", String(40), nullable=False, default=""),
    Column("subject_id", String(200), nullable=False, default=""),
    Column("detail", Text, nullable=False, default="{}"),  # canonical JSON
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_subject", "subject_type", "subject_id"),  # an account's history (netwarden.history)
)

# One row (id = 1): the head of the chain. Updating it first serializes writers on both backends.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

# Points up to which the chain was verified (seq and the hash it had then): the review app verifies
# from the newest one onwards on each load; a full verification (`netwarden audit verify`, the page's
# "Verify the whole chain") starts from the genesis again and also re-checks every checkpoint.
audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("hash", String(64), nullable=False),
    Column("time", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("full", Integer, nullable=False, default=0),  # 1: the run started from the genesis
)
