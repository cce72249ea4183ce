"""An account's history and its cross-case conflicts, for the reviewer (issue 18).

The timeline is read from what is already recorded: the account's case memberships, every audited
decision and enforcement step on it, every reveal of its media, and the user reports on it; nothing
is written here. A conflict is an account confirmed in one case and cleared in another.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.engine import Connection

from .store.tables_audit import audit_log
from .store.tables_cases import case_members, cases
from .store.tables_reports import reports

LIMIT = 300


def _entry_text(action: str, detail: dict) -> str:
    case = f" in case #{detail['case_id']}" if detail.get("case_id") not in (None, "") else ""
    if action.startswith("decision."):
        note = f": {detail['note']}" if detail.get("note") else ""
        return f"{detail.get('from', '?')} \u2192 {detail.get('to', action.split('.', 1)[1])}{case}{note}"
    if action.startswith("enforce."):
        what = detail.get("action") or ""
        return f"{action.split('.', 1)[1]} {what}{case}".strip()
    if action.startswith("label."):
        return f"label {'added' if action == 'label.add' else 'removed'}: {detail.get('label', '')}"
    return f"{action}{case}"


def timeline(conn: Connection, account_id: str, media_ids: list[str] = (), limit: int = LIMIT) -> list[dict]:
    """Newest first: {time, kind, actor, text, case_id}. Kinds: case, decision, enforcement, label, reveal,
    report, audit."""
    out: list[dict] = []
    for r in conn.execute(select(case_members.c.case_id, case_members.c.rank, case_members.c.core, cases.c.created_at,
                                 cases.c.origin)
                          .join(cases, cases.c.id == case_members.c.case_id)
                          .where(case_members.c.account_id == account_id)):
        out.append({"time": r.created_at, "kind": "case", "actor": "", "case_id": r.case_id,
                    "text": f"in case #{r.case_id} ({r.origin}) at rank {r.rank}{', core' if r.core else ''}"})
    q = (select(audit_log.c.time, audit_log.c.actor, audit_log.c.action, audit_log.c.detail)
         .where(audit_log.c.subject_type == "account", audit_log.c.subject_id == account_id)
         .order_by(audit_log.c.seq.desc()).limit(limit))
    for r in conn.execute(q):
        d = json.loads(r.detail or "{}")
        kind = r.action.split(".", 1)[0]
        kind = {"decision": "decision", "enforce": "enforcement", "label": "label"}.get(kind, "audit")
        out.append({"time": r.time, "kind": kind, "actor": r.actor, "case_id": d.get("case_id"),
                    "text": _entry_text(r.action, d)})
    media_ids = list(dict.fromkeys(media_ids))[:500]
    if media_ids:
        q = (select(audit_log.c.time, audit_log.c.actor, audit_log.c.subject_id)
             .where(audit_log.c.subject_type == "media", audit_log.c.action == "reveal",
                    audit_log.c.subject_id.in_(media_ids)).order_by(audit_log.c.seq.desc()).limit(limit))
        out += [{"time": r.time, "kind": "reveal", "actor": r.actor, "case_id": None, "media_id": r.subject_id,
                 "text": "revealed one of its media"} for r in conn.execute(q)]
    q = (select(reports.c.id, reports.c.category, reports.c.reporter_kind, reports.c.reported_at, reports.c.outcome,
                reports.c.resolved_at, reports.c.resolved_by)
         .where(reports.c.account_id == account_id).limit(limit))
    for r in conn.execute(q):
        out.append({"time": r.reported_at or "", "kind": "report", "actor": r.reporter_kind, "case_id": None,
                    "report_id": r.id, "text": f"reported for {r.category or 'an unstated reason'}"})
        if r.outcome:
            out.append({"time": r.resolved_at or "", "kind": "report", "actor": r.resolved_by or "", "case_id": None,
                        "report_id": r.id, "text": f"report resolved: {r.outcome}"})
    out.sort(key=lambda e: str(e["time"] or ""), reverse=True)
    return out[:limit]


def conflicts(conn: Connection, account_id: str) -> dict[str, list[int]]:
    """{"confirmed": [case ids], "cleared": [case ids]} when the account is both; else {}."""
    by: dict[str, list[int]] = {}
    for cid, state in conn.execute(select(case_members.c.case_id, case_members.c.state)
                                   .where(case_members.c.account_id == account_id)):
        by.setdefault(state, []).append(int(cid))
    if by.get("confirmed") and by.get("cleared"):
        return {"confirmed": sorted(by["confirmed"]), "cleared": sorted(by["cleared"])}
    return {}


def conflicted(conn: Connection, account_ids: list[str]) -> set[str]:
    """Which of these accounts are confirmed in one case and cleared in another."""
    seen: dict[str, set[str]] = {}
    ids = list(account_ids)
    for i in range(0, len(ids), 500):
        for aid, state in conn.execute(select(case_members.c.account_id, case_members.c.state)
                                       .where(case_members.c.account_id.in_(ids[i:i + 500]),
                                              case_members.c.state.in_(("confirmed", "cleared")))):
            seen.setdefault(aid, set()).add(state)
    return {a for a, s in seen.items() if len(s) == 2}
