"""Account risk: signals -> a score from 0 to 100 with the reasons that make it up.

Each registered kind of finding (netwarden.findings) contributes its reasons: media matches weigh
most; then links matching a URL or domain bank; then the operator's classifier; then off-platform
contacts, more so with term hits beside them; then term hits and invite links alone; then network
proximity (membership of a case found from seeds). Every point comes with a reason naming its
evidence (bank and distance, classifier and score, bank entry and link, term and post, contact, case).

`refresh` recomputes the accounts whose signals arrived since the last run (a watermark on the
signals' ids), so scores follow the signals as ingestion adds them; `score` is the pure core.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from . import findings
from .findings import RiskInputs, Signal
from .findings.reports import CLEARED, UPHELD, credibility
from .findings.text import term_key
from .store import schema as t
from .store.tables_cases import account_risk, case_members, cases, term_exceptions
from .store.tables_reports import reports
from .store.upsert import upsert


@dataclass
class Risk:
    account_id: str
    score: float
    reasons: list[dict] = field(default_factory=list)

    @property
    def kinds(self) -> list[str]:
        return sorted({r["kind"] for r in self.reasons})


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def score(account_id: str, signals: Iterable[Signal | dict], contacts: Iterable[dict] = (),
          proximity: Iterable[dict] = (), reports: Iterable[dict] = ()) -> Risk:
    """Score one account: the sum of every registered kind's reasons (netwarden.findings), 100 at most.
    signals: Signals or {kind, subject_type, subject_id, weight, detail: dict}; contacts: {platform,
    handle, field}; proximity: {case_id, rank, core}; reports: {id, category, reporter_kind, reporter_id,
    outcome, weight, credibility} (see `report_inputs`)."""
    by_kind: dict[str, list[Signal]] = defaultdict(list)
    for s in signals:
        s = Signal.of(s)
        by_kind[s.kind].append(s)
    inp = RiskInputs(dict(by_kind), list(contacts), list(proximity), list(reports))
    reasons = [r for kind in findings.kinds() for r in kind.risk(inp)]
    total = min(100.0, sum(r["points"] for r in reasons))
    reasons.sort(key=lambda r: -r["points"])
    return Risk(account_id, round(total, 1), reasons)


def reporter_records(conn: Connection, reporter_ids: Iterable[str]) -> dict[str, dict[str, int]]:
    """reporter id -> {"upheld": n, "cleared": n}: how that reporter's resolved reports ended."""
    ids = sorted({r for r in reporter_ids if r})
    out: dict[str, dict[str, int]] = {r: {"upheld": 0, "cleared": 0} for r in ids}
    for i in range(0, len(ids), 500):
        q = (select(reports.c.reporter_id, reports.c.outcome, func.count())
             .where(reports.c.reporter_id.in_(ids[i:i + 500]),
                    reports.c.outcome.in_(UPHELD + CLEARED)).group_by(reports.c.reporter_id, reports.c.outcome))
        for rid, outcome, n in conn.execute(q):
            out[rid]["upheld" if outcome in UPHELD else "cleared"] += n
    return out


def report_weight(rep, records: dict[str, dict[str, int]]) -> tuple[float, str]:
    """One report's credibility weight: its reporter's record without this report itself."""
    rec = dict(records.get(rep.reporter_id or "", {"upheld": 0, "cleared": 0})) if rep.reporter_id else \
        {"upheld": 0, "cleared": 0}
    if rep.reporter_id and rep.outcome in UPHELD:
        rec["upheld"] -= 1
    elif rep.reporter_id and rep.outcome in CLEARED:
        rec["cleared"] -= 1
    return credibility(rep.reporter_kind, max(0, rec["upheld"]), max(0, rec["cleared"]))


def report_inputs(conn: Connection, ids: list[str]) -> dict[str, list[dict]]:
    """account id -> the reports on it with their weights (the `user_report` reason kind's input)."""
    rows = list(conn.execute(select(reports.c.id, reports.c.account_id, reports.c.category, reports.c.reporter_kind,
                                    reports.c.reporter_id, reports.c.outcome)
                             .where(reports.c.account_id.in_(ids))))
    records = reporter_records(conn, [r.reporter_id for r in rows])
    out: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        w, why = report_weight(r, records)
        out[r.account_id].append({"id": r.id, "category": r.category, "reporter_kind": r.reporter_kind,
                                  "reporter_id": r.reporter_id, "outcome": r.outcome, "weight": w,
                                  "credibility": why})
    return out


def _inputs(conn: Connection, ids: list[str], link_bank) -> tuple[dict, dict, dict, dict]:
    sigs: dict[str, list[Signal]] = defaultdict(list)
    last: dict[str, int] = defaultdict(int)
    q = select(t.signals.c.id, t.signals.c.account_id, t.signals.c.kind, t.signals.c.subject_type,
               t.signals.c.subject_id, t.signals.c.weight, t.signals.c.detail)
    per_media = {k.name for k in findings.kinds() if k.per_media}
    excepted = set(conn.execute(select(term_exceptions.c.account_id, term_exceptions.c.term_id)
                                .where(term_exceptions.c.account_id.in_(ids))).all())
    for r in conn.execute(q.where(t.signals.c.account_id.in_(ids))):
        last[r.account_id] = max(last[r.account_id], r.id)
        if r.subject_type != "account" and r.kind in per_media:
            continue  # the same finding is also recorded on the account; count it once
        detail = json.loads(r.detail or "{}")
        if r.kind == "term_hit" and (r.account_id, term_key(detail)) in excepted:
            continue  # cleared by a reviewer as a false positive for this account
        if r.kind == "url_match" and any(meta.negative for *_, meta in link_bank().match(str(detail.get("url")), detail.get("raw"))):
            continue  # a negative bank holds the link now (e.g. cleared in review): kept as evidence only
        sigs[r.account_id].append(Signal(r.kind, r.subject_type, r.subject_id, r.account_id, r.weight, detail))
    cons: dict[str, list[dict]] = defaultdict(list)
    for r in conn.execute(select(t.contacts).where(t.contacts.c.account_id.in_(ids))):
        key = (r.platform, r.handle)
        if all((c["platform"], c["handle"]) != key for c in cons[r.account_id]):
            cons[r.account_id].append({"platform": r.platform, "handle": r.handle, "field": r.field})
    prox: dict[str, list[dict]] = defaultdict(list)
    q = (select(case_members.c.account_id, case_members.c.case_id, case_members.c.rank, case_members.c.core)
         .join(cases, cases.c.id == case_members.c.case_id)
         .where(case_members.c.account_id.in_(ids), cases.c.state == "open",
                case_members.c.state != "cleared"))
    for r in conn.execute(q):
        prox[r.account_id].append({"case_id": r.case_id, "rank": r.rank, "core": bool(r.core)})
    return sigs, cons, prox, last


def recompute(conn: Connection, account_ids: Iterable[str], chunk: int = 500) -> int:
    """Recompute and store the risk of these accounts; returns how many were written."""
    ids = sorted(set(account_ids))
    n = 0
    loaded: list = []

    def link_bank():
        """The enabled banks' link entries as ingestion matches them, read once per recompute when needed."""
        if not loaded:
            from .ingest.text_signals import LinkBanks
            from .signal_types import LinkBank

            loaded.append(LinkBanks().refresh(conn) or LinkBank())
        return loaded[0]

    for i in range(0, len(ids), chunk):
        part = ids[i:i + chunk]
        sigs, cons, prox, last = _inputs(conn, part, link_bank)
        reps = report_inputs(conn, part)
        rows = []
        for a in part:
            r = score(a, sigs.get(a, ()), cons.get(a, ()), prox.get(a, ()), reps.get(a, ()))
            rows.append({"account_id": a, "score": r.score, "reasons": json.dumps(r.reasons, ensure_ascii=False),
                         "kinds": "," + ",".join(r.kinds) + ",", "last_signal_id": last.get(a, 0),
                         "updated_at": _now()})
        if rows:
            upsert(conn, account_risk, rows, ["account_id"],
                   ["score", "reasons", "kinds", "last_signal_id", "updated_at"])
            n += len(rows)
            # cases showing these accounts show their new scores
            conn.execute(update(cases).where(cases.c.id.in_(
                select(case_members.c.case_id).where(case_members.c.account_id.in_(part)).distinct()))
                .values(version=cases.c.version + 1))
    return n


def refresh(conn: Connection) -> int:
    """Recompute every account with signals newer than the last refresh (all of them the first time)."""
    mark = conn.execute(select(func.coalesce(func.max(account_risk.c.last_signal_id), 0))).scalar_one()
    q = select(t.signals.c.account_id).where(t.signals.c.id > mark, t.signals.c.account_id.is_not(None)).distinct()
    ids = [r[0] for r in conn.execute(q)]
    if mark == 0:  # first run: accounts with contacts but no signals count too
        ids += [r[0] for r in conn.execute(select(t.contacts.c.account_id).distinct())]
    return recompute(conn, ids)


def get(conn: Connection, account_id: str) -> Risk:
    r = conn.execute(select(account_risk).where(account_risk.c.account_id == account_id)).first()
    if r is None:
        return Risk(account_id, 0.0, [])
    return Risk(account_id, r.score, json.loads(r.reasons))
