"""User reports and their triage: the reports projected from `report` / `report_resolution` events,
the named queues with their routing rules, each report's place in a queue (assignee, escalation, SLA
clock, the case it joined) and internal notes on accounts. See docs/reports.md.
"""

from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Table, Text

from .. import limits as L
from .meta import metadata

ID = String(L.ID)
TIME = String(40)
VERSION = String(250)

# One row per report id: the newest `report` event decides its fields, the newest
# `report_resolution` event its outcome (either may arrive first; placeholders are filled later).
reports = Table(
    "reports",
    metadata,
    Column("id", ID, primary_key=True),
    Column("account_id", ID, nullable=False, default=""),  # the reported account; "" until the report arrives
    Column("category", String(40), nullable=False, default=""),
    Column("reporter_kind", String(20), nullable=False, default=""),  # account|anonymous|trusted_flagger|automated
    Column("reporter_id", ID),
    Column("posts", Text, nullable=False, default="[]"),  # JSON list of reported post ids
    Column("media", Text, nullable=False, default="[]"),  # JSON list of reported media ids
    Column("rules", Text, nullable=False, default="[]"),  # JSON list: the platform's rules or policies cited
    Column("comment", Text, nullable=False, default=""),
    Column("reported_at", TIME),
    Column("source", String(L.SOURCE)),
    Column("lang", String(L.LANG)),
    Column("updated_at", TIME),
    Column("version", VERSION, nullable=False, default=""),
    Column("outcome", String(20)),  # None (open) | actioned | no_violation | duplicate | resolved | reopened
    Column("resolved_by", String(L.ACTOR)),
    Column("resolved_at", TIME),
    Column("resolution_note", Text),
    Column("resolution_version", VERSION, nullable=False, default=""),
    Index("ix_reports_account", "account_id"),
    Index("ix_reports_reporter", "reporter_id"),
)

# Named queues, evaluated in `position` order; the first whose rule matches takes the report.
queues = Table(
    "queues",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("description", Text, nullable=False, default=""),
    Column("position", Integer, nullable=False, default=100),
    Column("rule", Text, nullable=False, default="{}"),  # JSON: categories, signal_kinds, langs, min_risk, age
    Column("sla_hours", Float, nullable=False, default=48.0),
    Column("escalation", Boolean, nullable=False, default=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("updated_at", TIME, nullable=False),
)

# A report's place in the triage queues.
report_triage = Table(
    "report_triage",
    metadata,
    Column("report_id", ID, primary_key=True),
    Column("queue", String(100), nullable=False),
    Column("routed_at", TIME, nullable=False),
    Column("route_reason", Text, nullable=False, default=""),
    Column("due_at", TIME, nullable=False),  # the SLA clock: reported_at + the queue's sla_hours
    Column("assignee", String(200)),
    Column("assigned_at", TIME),
    Column("escalated_to", String(200)),
    Column("escalated_by", String(200)),
    Column("escalation_reason", Text),
    Column("escalated_at", TIME),
    Column("weight", Float, nullable=False, default=1.0),  # reporter credibility when processed
    Column("case_id", Integer),  # the case the report opened or joined
    Column("network_reason", Text, nullable=False, default=""),  # why a case was (or was not) proposed
    Column("processed_version", VERSION, nullable=False, default=""),  # report version the automation saw
    Index("ix_report_triage_queue", "queue"),
    Index("ix_report_triage_assignee", "assignee"),
    Index("ix_report_triage_case", "case_id"),
)

# Internal notes on accounts (cases have case_notes).
account_notes = Table(
    "account_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", ID, nullable=False, index=True),
    Column("author", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", TIME, nullable=False),
)

for _table in (reports,):
    _table.dialect_options["sqlite"]["with_rowid"] = False
