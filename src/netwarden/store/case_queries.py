"""Cases, their members, notes and decisions as stored (the SQL of netwarden.cases).

Plain reads and writes in the caller's connection; netwarden.cases holds the rules (what a decision
may change, who may approve, what is audited) and calls these.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import and_, func, select, update
from sqlalchemy import case as sa_case
from sqlalchemy.engine import Connection

from . import schema as t
from .tables_cases import account_risk, case_members, case_notes, cases, decisions, term_exceptions
from .tables_media import bank_entries, media_hashes
from .upsert import insert_ignore

CHUNK = 500


# ------------------------------------------------------------------ cases

def known_accounts(conn: Connection, ids: Sequence[str]) -> set[str]:
    return set(conn.scalars(select(t.accounts.c.id).where(t.accounts.c.id.in_(ids))))


def insert_case(conn: Connection, **values) -> int:
    return int(conn.execute(cases.insert().values(**values)).inserted_primary_key[0])


def case_row(conn: Connection, cid: int) -> dict | None:
    r = conn.execute(select(cases).where(cases.c.id == cid)).first()
    return None if r is None else dict(r._mapping)


def update_case(conn: Connection, cid: int, **values) -> None:
    """Change the case's columns; its version moves on (the review app caches member tables by it)."""
    conn.execute(update(cases).where(cases.c.id == cid).values(version=cases.c.version + 1, **values))


def version(conn: Connection, cid: int) -> int | None:
    return conn.execute(select(cases.c.version).where(cases.c.id == cid)).scalar()


def top_member_risk(conn: Connection, cid: int) -> float:
    """The highest stored risk among the case's members not cleared (0 without any)."""
    top = conn.execute(select(func.max(account_risk.c.score)).select_from(case_members.join(
        account_risk, account_risk.c.account_id == case_members.c.account_id))
        .where(case_members.c.case_id == cid, case_members.c.state != "cleared")).scalar()
    return float(top or 0.0)


def case_list(conn: Connection, state: str | None, assignee: str | None, limit: int) -> list[dict]:
    """Cases by risk (newest first among equals) with their member count `n` and `confirmed` count."""
    counts = (select(case_members.c.case_id, func.count().label("n"),
                     func.sum(sa_case((case_members.c.state == "confirmed", 1), else_=0)).label("confirmed"))
              .group_by(case_members.c.case_id).subquery())
    q = (select(cases, counts.c.n, counts.c.confirmed).outerjoin(counts, counts.c.case_id == cases.c.id)
         .order_by(cases.c.risk.desc(), cases.c.id.desc()).limit(limit))
    if state:
        q = q.where(cases.c.state == state)
    if assignee:
        q = q.where(cases.c.assignee == assignee)
    return [dict(r._mapping) for r in conn.execute(q)]


def open_cases_holding(conn: Connection, account_id: str) -> list[int]:
    return [r[0] for r in conn.execute(select(case_members.c.case_id).join(cases, cases.c.id == case_members.c.case_id)
                                       .where(case_members.c.account_id == account_id, cases.c.state == "open"))]


# ------------------------------------------------------------------ members

def insert_members(conn: Connection, rows: list[dict]) -> None:
    for i in range(0, len(rows), CHUNK):
        conn.execute(case_members.insert(), rows[i:i + CHUNK])


def update_member(conn: Connection, cid: int, account_id: str, **values) -> None:
    conn.execute(update(case_members).where(case_members.c.case_id == cid, case_members.c.account_id == account_id)
                 .values(**values))


def set_member_states(conn: Connection, cid: int, ids: Sequence[str], **values) -> None:
    conn.execute(update(case_members).where(case_members.c.case_id == cid, case_members.c.account_id.in_(ids))
                 .values(**values))


def delete_members(conn: Connection, cid: int, ids: Sequence[str]) -> None:
    for i in range(0, len(ids), CHUNK):
        conn.execute(case_members.delete().where(case_members.c.case_id == cid,
                                                 case_members.c.account_id.in_(ids[i:i + CHUNK])))


def member_ids(conn: Connection, cid: int, state: str | None = None) -> list[str]:
    """The case's member accounts (in one state), sorted."""
    q = select(case_members.c.account_id).where(case_members.c.case_id == cid)
    if state is not None:
        q = q.where(case_members.c.state == state)
    return sorted(conn.scalars(q))


def member_states(conn: Connection, cid: int, ids: Sequence[str] | None = None) -> dict[str, str]:
    """account -> state of the case's members (of these accounts only, when given)."""
    q = select(case_members.c.account_id, case_members.c.state).where(case_members.c.case_id == cid)
    if ids is not None:
        q = q.where(case_members.c.account_id.in_(ids))
    return dict(conn.execute(q).all())


def evasion_member_ids(conn: Connection, cid: int) -> set[str]:
    """Members brought in as the survivor of a suspended account (an `evasion` layer)."""
    return set(conn.scalars(select(case_members.c.account_id).where(
        case_members.c.case_id == cid, case_members.c.layers.like('%"evasion"%'))))


def is_member(conn: Connection, cid: int, account_id: str) -> bool:
    return conn.execute(select(case_members.c.account_id).where(
        case_members.c.case_id == cid, case_members.c.account_id == account_id)).first() is not None


def max_rank(conn: Connection, cid: int) -> int:
    return conn.execute(select(func.max(case_members.c.rank)).where(case_members.c.case_id == cid)).scalar() or 0


def member_rows(conn: Connection, cid: int) -> list[dict]:
    """The case's members by rank with their stored risk (`risk`, `reasons`) and account columns."""
    q = (select(case_members, account_risk.c.score.label("risk"), account_risk.c.reasons, t.accounts.c.handle,
                t.accounts.c.display_name, t.accounts.c.protected, t.accounts.c.state.label("account_state"))
         .select_from(case_members
                      .outerjoin(account_risk, account_risk.c.account_id == case_members.c.account_id)
                      .outerjoin(t.accounts, t.accounts.c.id == case_members.c.account_id))
         .where(case_members.c.case_id == cid).order_by(case_members.c.rank))
    return [dict(r._mapping) for r in conn.execute(q)]


def next_candidate(conn: Connection, cid: int, after: str) -> str | None:
    """The case's next candidate member by rank after `after` (wrapping to the top), or None."""
    rank = conn.execute(select(case_members.c.rank).where(case_members.c.case_id == cid,
                                                          case_members.c.account_id == after)).scalar()
    base = select(case_members.c.account_id).where(case_members.c.case_id == cid,
                                                  case_members.c.state == "candidate",
                                                  case_members.c.account_id != after).order_by(case_members.c.rank)
    nxt = conn.execute(base.where(case_members.c.rank > (rank if rank is not None else -1)).limit(1)).scalar()
    return nxt or conn.execute(base.limit(1)).scalar()


def queue_rows(conn: Connection, kind: str | None, lang: str | None, state: str | None, assignee: str | None,
               limit: int, min_score: float) -> list[dict]:
    """Accounts by stored risk, filtered by signal kind, post language, member state and case assignee."""
    q = (select(account_risk.c.account_id, account_risk.c.score, account_risk.c.reasons, account_risk.c.kinds,
                t.accounts.c.handle, t.accounts.c.display_name, t.accounts.c.state.label("account_state"))
         .select_from(account_risk.outerjoin(t.accounts, t.accounts.c.id == account_risk.c.account_id))
         .where(account_risk.c.score >= min_score)
         .order_by(account_risk.c.score.desc(), account_risk.c.account_id).limit(limit))
    if kind:
        q = q.where(account_risk.c.kinds.contains(f",{kind},"))
    if lang:
        q = q.where(account_risk.c.account_id.in_(
            select(t.posts.c.author_id).where(t.posts.c.lang == lang).distinct()))
    if state or assignee:
        sub = select(case_members.c.account_id).join(cases, cases.c.id == case_members.c.case_id)
        if state:
            sub = sub.where(case_members.c.state == state)
        if assignee:
            sub = sub.where(cases.c.assignee == assignee)
        q = q.where(account_risk.c.account_id.in_(sub))
    return [dict(r._mapping) for r in conn.execute(q)]


# ------------------------------------------------------------------ what a false-positive clear implies

def matched_media_ids(conn: Connection, account_ids: Sequence[str]) -> set[str]:
    """The media of these accounts with a media_match recorded on them."""
    return set(conn.scalars(select(t.signals.c.subject_id).where(
        t.signals.c.account_id.in_(account_ids), t.signals.c.kind == "media_match",
        t.signals.c.subject_type == "media")))


def signal_details(conn: Connection, account_ids: Sequence[str], kind: str) -> list:
    """(account_id, detail) of these accounts' signals of one kind."""
    return conn.execute(select(t.signals.c.account_id, t.signals.c.detail).where(
        t.signals.c.account_id.in_(account_ids), t.signals.c.kind == kind)).all()


def media_pdqs(conn: Connection, media_ids: Iterable[str]) -> list:
    """(media_id, pdq) of these media."""
    return conn.execute(select(media_hashes.c.media_id, media_hashes.c.pdq)
                        .where(media_hashes.c.media_id.in_(list(media_ids)))).all()


def bank_signals(conn: Connection, bank_id: int) -> set[tuple[str, str]]:
    """(signal_type, signal) of every entry of a bank."""
    return {(r.signal_type, r.signal) for r in conn.execute(
        select(bank_entries.c.signal_type, bank_entries.c.signal).where(bank_entries.c.bank_id == bank_id))}


def insert_term_exceptions(conn: Connection, rows: list[dict]) -> None:
    insert_ignore(conn, term_exceptions, rows, ["account_id", "term_id"])


def delete_term_exception(conn: Connection, account_id: str, term_id: str) -> int:
    return conn.execute(term_exceptions.delete().where(
        term_exceptions.c.account_id == account_id, term_exceptions.c.term_id == term_id)).rowcount or 0


# ------------------------------------------------------------------ notes

def insert_note(conn: Connection, **values) -> None:
    conn.execute(case_notes.insert().values(**values))


def note_rows(conn: Connection, cid: int) -> list[dict]:
    q = select(case_notes).where(case_notes.c.case_id == cid).order_by(case_notes.c.id)
    return [dict(r._mapping) for r in conn.execute(q)]


# ------------------------------------------------------------------ decisions

def insert_decision(conn: Connection, **values) -> int:
    return int(conn.execute(decisions.insert().values(**values)).inserted_primary_key[0])


def decision_row(conn: Connection, did: int):
    """The decisions row (read by attribute), or None."""
    return conn.execute(select(decisions).where(decisions.c.id == did)).first()


def update_decision(conn: Connection, did: int, **values) -> None:
    conn.execute(update(decisions).where(decisions.c.id == did).values(**values))


def approve_pending(conn: Connection, did: int, **values) -> bool:
    """Set an approval on a decision still pending; False when it no longer was (someone else acted)."""
    res = conn.execute(update(decisions).where(and_(decisions.c.id == did, decisions.c.state == "pending"))
                       .values(state="approved", **values))
    return res.rowcount == 1


def decision_rows(conn: Connection, cid: int) -> list:
    return conn.execute(select(decisions).where(decisions.c.case_id == cid).order_by(decisions.c.id)).all()
