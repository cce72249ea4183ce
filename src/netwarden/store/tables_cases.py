"""Review tables: account risk, cases and their members, decisions, reviewers, sessions, preferences.

See netwarden.risk, netwarden.cases and docs/review.md.
"""

from sqlalchemy import Boolean, Column, Float, Index, Integer, PrimaryKeyConstraint, String, Table, Text

from .meta import metadata

ID = String(128)
TIME = String(40)

# One row per account with signals: its score and the reasons for it (JSON list).
account_risk = Table(
    "account_risk",
    metadata,
    Column("account_id", ID, primary_key=True),
    Column("score", Float, nullable=False),
    Column("reasons", Text, nullable=False),  # JSON [{"kind", "points", "text", ...}]
    Column("kinds", String(200), nullable=False, default=""),  # ",media_match,contact," for filtering
    Column("last_signal_id", Integer, nullable=False, default=0),
    Column("updated_at", TIME, nullable=False),
    Index("ix_account_risk_score", "score"),
    Index("ix_account_risk_last_signal", "last_signal_id"),  # the refresh watermark
)

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(300), nullable=False),
    Column("origin", String(20), nullable=False),  # seeds | sweep
    Column("seeds", Text, nullable=False, default="[]"),  # JSON list of account ids
    Column("state", String(20), nullable=False, default="open"),  # open | closed
    Column("assignee", String(200)),
    Column("risk", Float, nullable=False, default=0.0),  # highest member risk, for the queue
    Column("version", Integer, nullable=False, default=0),  # bumped on every change to the case or its members
    Column("created_by", String(200), nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("updated_at", TIME, nullable=False),
    Index("ix_cases_state_risk", "state", "risk"),
)

case_members = Table(
    "case_members",
    metadata,
    Column("case_id", Integer, nullable=False),
    Column("account_id", ID, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("score", Float, nullable=False),  # expansion score
    Column("core", Boolean, nullable=False, default=False),
    Column("layers", Text, nullable=False, default="{}"),  # JSON layer -> contribution
    Column("path", Text, nullable=False, default="[]"),  # JSON evidence path from a seed
    Column("state", String(20), nullable=False, default="candidate"),  # candidate|confirmed|cleared|escalated
    Column("decided_by", String(200)),
    Column("decided_at", TIME),
    PrimaryKeyConstraint("case_id", "account_id"),
    Index("ix_case_members_account", "account_id"),
)

case_notes = Table(
    "case_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, nullable=False, index=True),
    Column("author", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", TIME, nullable=False),
)

# Enforcement decisions on a case's confirmed members; four-eyes: requested, then approved by another.
decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, nullable=False, index=True),
    Column("action", String(20), nullable=False),  # suspend | remove_posts | restrict
    Column("account_ids", Text, nullable=False),  # JSON list
    Column("state", String(20), nullable=False),  # model.DECISION_STATES
    Column("decided_by", String(200), nullable=False),
    Column("approved_by", String(200)),
    Column("created_at", TIME, nullable=False),
    Column("approved_at", TIME),
)

users = Table(
    "users",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("password_hash", String(200), nullable=False),  # argon2id
    Column("role", String(20), nullable=False),  # admin | moderator | triage | viewer
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", TIME, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the cookie value
    Column("user", String(200), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("expires_at", TIME, nullable=False),
)

# Failed sign-ins per key ("user:<name>" or "addr:<ip>"): the burst's count, its start, and the
# lockout it earned (netwarden.web.throttle).
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("failures", Integer, nullable=False, default=0),
    Column("burst_start", TIME, nullable=False),
    Column("locked_until", TIME),
    Column("lockouts", Integer, nullable=False, default=0),
)

# Wellness and display preferences; user "*" holds the organisation's defaults.
preferences = Table(
    "preferences",
    metadata,
    Column("user", String(200), nullable=False),
    Column("key", String(60), nullable=False),
    Column("value", String(200), nullable=False),
    PrimaryKeyConstraint("user", "key"),
)

# A reviewer cleared an account whose term hits were a false positive: those terms no longer count
# toward that account's risk (the hits stay stored as evidence of what was seen).
term_exceptions = Table(
    "term_exceptions",
    metadata,
    Column("account_id", ID, nullable=False),
    Column("term_id", String(300), nullable=False),
    Column("term", Text),
    Column("case_id", Integer),
    Column("created_by", String(200), nullable=False),
    Column("created_at", TIME, nullable=False),
    PrimaryKeyConstraint("account_id", "term_id"),
)

# Per-account labels a reviewer sets (free text from an operator-chosen vocabulary, e.g. "ban evader",
# "trusted reporter"); every add and remove is audited (netwarden.labels).
account_labels = Table(
    "account_labels",
    metadata,
    Column("account_id", ID, nullable=False),
    Column("label", String(60), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", TIME, nullable=False),
    PrimaryKeyConstraint("account_id", "label"),
)
