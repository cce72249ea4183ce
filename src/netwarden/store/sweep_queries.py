"""Stored sweep runs and their groups (tables sweep_runs, sweep_groups): the SQL of netwarden.graph.sweep."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from .tables_sweep import sweep_groups, sweep_runs

CHUNK = 500


def insert_run(conn: Connection, groups: list[dict], **values) -> int:
    """A run and its groups (each without `run_id`); returns the run id."""
    rid = int(conn.execute(sweep_runs.insert().values(**values)).inserted_primary_key[0])
    rows = [{"run_id": rid, **g} for g in groups]
    for i in range(0, len(rows), CHUNK):
        conn.execute(sweep_groups.insert(), rows[i:i + CHUNK])
    return rid


def run_rows(conn: Connection, limit: int) -> list[dict]:
    """Runs, newest first, with `cases`: how many of their groups have a case."""
    opened = (select(sweep_groups.c.run_id, func.count(sweep_groups.c.case_id).label("cases"))
              .group_by(sweep_groups.c.run_id).subquery())
    q = (select(sweep_runs, opened.c.cases).outerjoin(opened, opened.c.run_id == sweep_runs.c.id)
         .order_by(sweep_runs.c.id.desc()).limit(limit))
    return [dict(r) for r in conn.execute(q).mappings()]


def run_row(conn: Connection, run_id: int) -> dict | None:
    r = conn.execute(select(sweep_runs).where(sweep_runs.c.id == run_id)).mappings().first()
    return None if r is None else dict(r)


def group_rows(conn: Connection, run_id: int) -> list[dict]:
    return [dict(g) for g in conn.execute(select(sweep_groups).where(sweep_groups.c.run_id == run_id)
                                          .order_by(sweep_groups.c.rank)).mappings()]


def link_case(conn: Connection, run_id: int, rank: int, case_id: int) -> None:
    conn.execute(update(sweep_groups).where(sweep_groups.c.run_id == run_id, sweep_groups.c.rank == rank)
                 .values(case_id=case_id))
