"""Enforcement outbox, evidence vault index and NCMEC report state (docs/enforcement.md, docs/ncmec.md)."""

from sqlalchemy import Column, Index, Integer, PrimaryKeyConstraint, String, Table, Text

from .meta import metadata

ID = String(128)
TIME = String(40)

# One row per platform action a confirmed decision asks for. `key` is the idempotency key: the same
# decision enqueued twice yields the same rows, and adapters pass it on (webhook header).
enforce_actions = Table(
    "enforce_actions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("case_id", ID, nullable=False, index=True),
    Column("account_id", ID, nullable=False),
    Column("action", String(20), nullable=False),  # suspend | remove_posts | restrict | reverse
    Column("payload", Text, nullable=False, default="{}"),  # JSON: post ids, platform report id, ...
    Column("state", String(20), nullable=False, default="pending"),  # model.OUTBOX_STATES
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", TIME, nullable=False),
    Column("lease_until", TIME),
    Column("last_error", Text),
    Column("result", Text),
    Column("adapter", String(40)),
    Column("decided_by", String(200), nullable=False, default=""),
    Column("approved_by", String(200), nullable=False, default=""),
    Column("created_at", TIME, nullable=False),
    Column("done_at", TIME),
    Index("ix_enforce_actions_due", "state", "next_attempt_at"),
)

# Encrypted blobs, content-addressed by the SHA-256 of the plaintext.
evidence_blobs = Table(
    "evidence_blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("key_id", String(64), nullable=False),  # the vault key the stored file is encrypted with
    Column("stored_at", TIME, nullable=False),
    Column("deleted_at", TIME),
)

# What each blob is evidence of: one row per (case, account, kind, ref).
evidence_items = Table(
    "evidence_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", ID, nullable=False, default=""),
    Column("account_id", ID, nullable=False),
    Column("kind", String(20), nullable=False),  # media | profile | posts | sessions | network
    Column("ref", ID, nullable=False, default=""),  # media id for media, '' otherwise
    Column("sha256", String(64), nullable=False, index=True),
    Column("preserved_at", TIME, nullable=False),
    Column("retain_until", TIME),  # set from the NCMEC /finish receipt (+1 year); None = keep
    Column("expired_at", TIME),
    Index("ix_evidence_items_key", "case_id", "account_id", "kind", "ref", unique=True),
    Index("ix_evidence_items_account", "account_id"),
)

# Legal holds, per case or per account ('' for the other): expiry skips held items.
evidence_holds = Table(
    "evidence_holds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", ID, nullable=False, default=""),
    Column("account_id", ID, nullable=False, default=""),
    Column("reason", Text, nullable=False),
    Column("placed_by", String(200), nullable=False),
    Column("placed_at", TIME, nullable=False),
    Column("released_at", TIME),
    Column("released_by", String(200)),
)

# One NCMEC CyberTipline report per (account, case): its persisted API state machine.
ncmec_reports = Table(
    "ncmec_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),  # "<case>:<account>"
    Column("case_id", ID, nullable=False, default=""),
    Column("account_id", ID, nullable=False),
    Column("environment", String(20), nullable=False),  # test | production
    Column("state", String(20), nullable=False),  # model.NCMEC_REPORT_STATES
    Column("xml", Text, nullable=False),  # the exact report XML (sent as built)
    Column("ncmec_report_id", String(64)),
    Column("created_at", TIME, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("finished_at", TIME),  # the /finish receipt: starts the 1-year preservation clock
    Column("retracted_at", TIME),
    Column("last_error", Text),
)

ncmec_files = Table(
    "ncmec_files",
    metadata,
    Column("report_id", Integer, nullable=False),
    Column("media_id", ID, nullable=False),
    Column("position", Integer, nullable=False),
    Column("sha256", String(64)),
    Column("state", String(20), nullable=False, default="pending"),  # model.NCMEC_FILE_STATES
    Column("ncmec_file_id", String(64)),
    Column("details_xml", Text),  # the exact fileDetails XML sent
    PrimaryKeyConstraint("report_id", "media_id"),
)

# Every request made and every response received, in order, with NCMEC's Request-ID.
ncmec_responses = Table(
    "ncmec_responses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report_id", Integer, nullable=False, index=True),
    Column("step", String(20), nullable=False),  # status | submit | upload | fileinfo | finish | retract
    Column("ref", String(200), nullable=False, default=""),  # media id for upload / fileinfo
    Column("http_status", Integer),
    Column("response_code", Integer),
    Column("request_id", String(200)),
    Column("body", Text, nullable=False, default=""),
    Column("time", TIME, nullable=False),
)

for _t in (ncmec_files,):
    _t.dialect_options["sqlite"]["with_rowid"] = False
