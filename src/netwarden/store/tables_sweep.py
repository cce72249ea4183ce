"""Whole-platform sweep runs and the groups each found, kept so review can come back to them.

See netwarden.graph.sweep (`record_sweep`, `sweep_runs_list`, `sweep_run`) and docs/graph.md.
"""

from sqlalchemy import Column, Float, Integer, PrimaryKeyConstraint, String, Table, Text

from .meta import metadata

TIME = String(40)

sweep_runs = Table(
    "sweep_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("actor", String(200), nullable=False),
    Column("method", String(20), nullable=False),  # local | spark
    Column("seeds", Integer, nullable=False),  # confirmed accounts the distrust started from
    Column("group_count", Integer, nullable=False),
    Column("graph", Text, nullable=False, default="{}"),  # JSON {"accounts", "edges", "last_event_seq"}
    Column("created_at", TIME, nullable=False),
)

# One row per candidate group of a run, best first, with its reasons; case_id once a case is opened.
sweep_groups = Table(
    "sweep_groups",
    metadata,
    Column("run_id", Integer, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("size", Integer, nullable=False),
    Column("accounts", Text, nullable=False),  # JSON list of account ids
    Column("core", Text, nullable=False),  # JSON list: the dense core
    Column("reasons", Text, nullable=False),  # JSON list of sentences
    Column("case_id", Integer),
    PrimaryKeyConstraint("run_id", "rank"),
)
