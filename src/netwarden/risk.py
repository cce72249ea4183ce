"""Account risk: signals -> a score from 0 to 100 with the reasons that make it up.

Each registered kind of finding (netwarden.findings) contributes its reasons: media matches weigh
most; then links matching a URL or domain bank; then the operator's classifier; then off-platform
contacts, more so with term hits beside them; then term hits and invite links alone; then network
proximity (membership of a case found from seeds). Every point comes with a reason naming its
evidence (bank and distance, classifier and score, bank entry and link, term and post, contact, case).

`refresh` recomputes the accounts whose signals arrived since the last run (a watermark on the
signals' ids), so scores follow the signals as ingestion adds them. `score` and the functions that
turn rows into its inputs (`account_signals`, `account_contacts`, `account_proximity`,
`weighed_reports`, `score_rows`) work on the data they are given; the rows are read and the scores
written by netwarden.store.risk_queries.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

from . import findings
from .clock import stamp as _now
from .findings import RiskInputs, Signal
from .findings.reports import CLEARED, UPHELD, credibility
from .findings.text import term_key
from .store import risk_queries as q


@dataclass
class Risk:
    account_id: str
    score: float
    reasons: list[dict] = field(default_factory=list)

    @property
    def kinds(self) -> list[str]:
        return sorted({r["kind"] for r in self.reasons})


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
    return records_of(ids, q.reporter_outcomes(conn, ids, UPHELD + CLEARED))


def records_of(ids: Iterable[str], outcomes: Iterable) -> dict[str, dict[str, int]]:
    """reporter id -> {"upheld": n, "cleared": n} from (reporter_id, outcome, count) rows."""
    out: dict[str, dict[str, int]] = {r: {"upheld": 0, "cleared": 0} for r in ids}
    for rid, outcome, n in outcomes:
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
    rows = q.report_rows(conn, ids)
    return weighed_reports(rows, reporter_records(conn, [r.reporter_id for r in rows]))


def weighed_reports(rows: Iterable, records: dict[str, dict[str, int]]) -> dict[str, list[dict]]:
    """account id -> its reports (rows of `store.risk_queries.report_rows`) with their credibility weights."""
    out: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        w, why = report_weight(r, records)
        out[r.account_id].append({"id": r.id, "category": r.category, "reporter_kind": r.reporter_kind,
                                  "reporter_id": r.reporter_id, "outcome": r.outcome, "weight": w,
                                  "credibility": why})
    return out


def account_signals(rows: Iterable, excepted: set[tuple[str, str]], link_bank) -> tuple[dict, dict]:
    """account id -> the Signals that count for its risk, and its newest signal id, from signal rows
    (`store.risk_queries.signal_rows`), the term exceptions and a callable giving the link bank."""
    sigs: dict[str, list[Signal]] = defaultdict(list)
    last: dict[str, int] = defaultdict(int)
    per_media = {k.name for k in findings.kinds() if k.per_media}
    for r in rows:
        last[r.account_id] = max(last[r.account_id], r.id)
        if r.subject_type != "account" and r.kind in per_media:
            continue  # the same finding is also recorded on the account; count it once
        detail = json.loads(r.detail or "{}")
        if r.kind == "term_hit" and (r.account_id, term_key(detail)) in excepted:
            continue  # cleared by a reviewer as a false positive for this account
        if r.kind == "url_match" and any(meta.negative for *_, meta in link_bank().match(str(detail.get("url")), detail.get("raw"))):
            continue  # a negative bank holds the link now (e.g. cleared in review): kept as evidence only
        sigs[r.account_id].append(Signal(r.kind, r.subject_type, r.subject_id, r.account_id, r.weight, detail))
    return sigs, last


def account_contacts(rows: Iterable) -> dict[str, list[dict]]:
    """account id -> its distinct (platform, handle) contacts, from `contacts` rows."""
    cons: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        key = (r.platform, r.handle)
        if all((c["platform"], c["handle"]) != key for c in cons[r.account_id]):
            cons[r.account_id].append({"platform": r.platform, "handle": r.handle, "field": r.field})
    return cons


def account_proximity(rows: Iterable) -> dict[str, list[dict]]:
    """account id -> {case_id, rank, core} of its open-case memberships (`store.risk_queries.open_memberships`)."""
    prox: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        prox[r.account_id].append({"case_id": r.case_id, "rank": r.rank, "core": bool(r.core)})
    return prox


def _inputs(conn: Connection, ids: list[str], link_bank) -> tuple[dict, dict, dict, dict]:
    sigs, last = account_signals(q.signal_rows(conn, ids), q.excepted_terms(conn, ids), link_bank)
    return sigs, account_contacts(q.contact_rows(conn, ids)), account_proximity(q.open_memberships(conn, ids)), last


def score_rows(part: Iterable[str], sigs: dict, cons: dict, prox: dict, reps: dict, last: dict, now: str) -> list[dict]:
    """The `account_risk` rows of these accounts, scored from their inputs."""
    rows = []
    for a in part:
        r = score(a, sigs.get(a, ()), cons.get(a, ()), prox.get(a, ()), reps.get(a, ()))
        rows.append({"account_id": a, "score": r.score, "reasons": json.dumps(r.reasons, ensure_ascii=False),
                     "kinds": "," + ",".join(r.kinds) + ",", "last_signal_id": last.get(a, 0), "updated_at": now})
    return rows


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
        rows = score_rows(part, sigs, cons, prox, report_inputs(conn, part), last, _now())
        q.write_scores(conn, rows)  # and the cases showing these accounts show their new scores
        n += len(rows)
    return n


def refresh(conn: Connection) -> int:
    """Recompute every account with signals newer than the last refresh (all of them the first time)."""
    return recompute(conn, q.accounts_to_refresh(conn))


def get(conn: Connection, account_id: str) -> Risk:
    r = q.stored_score(conn, account_id)
    if r is None:
        return Risk(account_id, 0.0, [])
    return Risk(account_id, r.score, json.loads(r.reasons))
