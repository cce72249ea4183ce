"""The rows account risk is computed from, and where it is written (the SQL of netwarden.risk).

Each loader returns plain rows for a list of account ids; netwarden.risk turns them into scores.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from . import schema as t
from .tables_cases import account_risk, case_members, cases, term_exceptions
from .tables_reports import reports
from .upsert import upsert

CHUNK = 500


def signal_rows(conn: Connection, ids: Sequence[str]) -> list:
    """(id, account_id, kind, subject_type, subject_id, weight, detail) of every signal on these accounts."""
    q = select(t.signals.c.id, t.signals.c.account_id, t.signals.c.kind, t.signals.c.subject_type,
               t.signals.c.subject_id, t.signals.c.weight, t.signals.c.detail)
    return conn.execute(q.where(t.signals.c.account_id.in_(ids))).all()


def excepted_terms(conn: Connection, ids: Sequence[str]) -> set[tuple[str, str]]:
    """(account_id, term_id) pairs a reviewer cleared as false positives."""
    return set(conn.execute(select(term_exceptions.c.account_id, term_exceptions.c.term_id)
                            .where(term_exceptions.c.account_id.in_(ids))).all())


def contact_rows(conn: Connection, ids: Sequence[str]) -> list:
    """The off-platform contacts of these accounts (every column of `contacts`)."""
    return conn.execute(select(t.contacts).where(t.contacts.c.account_id.in_(ids))).all()


def open_memberships(conn: Connection, ids: Sequence[str]) -> list:
    """(account_id, case_id, rank, core) of these accounts' memberships of open cases, not cleared."""
    q = (select(case_members.c.account_id, case_members.c.case_id, case_members.c.rank, case_members.c.core)
         .join(cases, cases.c.id == case_members.c.case_id)
         .where(case_members.c.account_id.in_(ids), cases.c.state == "open", case_members.c.state != "cleared"))
    return conn.execute(q).all()


def report_rows(conn: Connection, ids: Sequence[str]) -> list:
    """(id, account_id, category, reporter_kind, reporter_id, outcome) of the reports on these accounts."""
    return conn.execute(select(reports.c.id, reports.c.account_id, reports.c.category, reports.c.reporter_kind,
                               reports.c.reporter_id, reports.c.outcome)
                        .where(reports.c.account_id.in_(ids))).all()


def reporter_outcomes(conn: Connection, reporter_ids: Sequence[str], outcomes: Sequence[str]) -> list:
    """(reporter_id, outcome, count) of these reporters' reports resolved with one of `outcomes`."""
    out: list = []
    for i in range(0, len(reporter_ids), CHUNK):
        q = (select(reports.c.reporter_id, reports.c.outcome, func.count())
             .where(reports.c.reporter_id.in_(reporter_ids[i:i + CHUNK]), reports.c.outcome.in_(outcomes))
             .group_by(reports.c.reporter_id, reports.c.outcome))
        out += conn.execute(q).all()
    return out


def write_scores(conn: Connection, rows: list[dict]) -> None:
    """Store these `account_risk` rows; the cases showing their accounts change version (they show new scores)."""
    if not rows:
        return
    upsert(conn, account_risk, rows, ["account_id"], ["score", "reasons", "kinds", "last_signal_id", "updated_at"])
    part = [r["account_id"] for r in rows]
    conn.execute(update(cases).where(cases.c.id.in_(
        select(case_members.c.case_id).where(case_members.c.account_id.in_(part)).distinct()))
        .values(version=cases.c.version + 1))


def accounts_to_refresh(conn: Connection) -> list[str]:
    """Accounts with signals newer than the last scores stored (and, the first time, those with contacts)."""
    mark = conn.execute(select(func.coalesce(func.max(account_risk.c.last_signal_id), 0))).scalar_one()
    q = select(t.signals.c.account_id).where(t.signals.c.id > mark, t.signals.c.account_id.is_not(None)).distinct()
    ids = [r[0] for r in conn.execute(q)]
    if mark == 0:  # first run: accounts with contacts but no signals count too
        ids += [r[0] for r in conn.execute(select(t.contacts.c.account_id).distinct())]
    return ids


def stored_score(conn: Connection, account_id: str):
    """The account's `account_risk` row, or None."""
    return conn.execute(select(account_risk).where(account_risk.c.account_id == account_id)).first()

