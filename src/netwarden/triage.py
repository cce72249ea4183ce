"""User reports after ingestion: from a report to the network behind it, and the triage queues.

`process_reports` is the step after ingestion (`netwarden reports process`, run by `report-intake`
and by the review app after each report it takes in): it reads the reports that are new or changed
since it last saw them and, for each,

1. weighs it by its reporter's credibility (netwarden.findings.reports);
2. when it is in a child-safety category, or names a post or media that matches a bank, follows the
   reported account's contacts: the account joins the open case it is already a member of, or the
   case that most of its expanded network belongs to; otherwise, when the account or its network
   is flagged by something other than reports, a proposed case is opened from it (origin
   `report`). A report on an account with nothing flagged around it opens no case, and says why;
3. routes it to the first queue whose rule matches (category, the account's signal kinds, language,
   risk, age of the report), with the SLA clock of that queue.

Then people work the queues: assignment to real reviewers only, claim and release, escalation with
a reason and a recipient, internal notes on accounts, and resolution with an outcome, which the
reporter's credibility then uses. Every change is audited in its own transaction.

Data flows one way (DESIGN.md): reports are ingested like every event; this module sits with
cases.py, after risk and the graph, and writes only review tables.
"""

from __future__ import annotations

import json
import math
import statistics
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Connection

from . import audit, cases, risk
from .errors import UserError
from .model import CHILD_SAFETY, RESOLVE_OUTCOMES
from .store import Store
from .store import schema as t
from .store.tables_cases import account_risk, case_members, users
from .store.tables_cases import cases as cases_t
from .store.tables_reports import account_notes, queues, report_triage, reports

SYSTEM = "system:reports"
ASSIGNABLE_ROLES = ("admin", "moderator", "triage")  # the roles with the `decide` permission (web.auth)
RULE_KEYS = ("categories", "signal_kinds", "langs", "min_risk", "max_risk", "min_age_hours", "max_age_hours")

# When a report proposes a case (docs/reports.md): the account's own risk from anything but reports,
# a reported item matching a bank, or enough flagged accounts among its direct ties.
OWN_MIN = 10.0
FLAG_MIN = 15.0
MIN_FLAGGED = 3  # flagged direct ties
FLAG_SHARE = 0.15  # and this share of its direct ties at least
TIE_SKIP = ("hashtag", "media")  # graph layers that are not direct ties here (see direct_ties)
JOIN_SHARE = 0.5  # share of its flagged ties already in one open case that makes the report join it
TOP_K = 200

DEFAULT_QUEUES = (
    {"name": "child-safety", "position": 10, "sla_hours": 4.0, "rule": {"categories": list(CHILD_SAFETY)},
     "description": "child sexual exploitation and grooming reports"},
    {"name": "flagged", "position": 20, "sla_hours": 24.0, "rule": {"min_risk": 30.0},
     "description": "reports on accounts with risk 30 or more"},
    {"name": "general", "position": 100, "sla_hours": 72.0, "rule": {}, "description": "every other report"},
    {"name": "escalation", "position": 1000, "sla_hours": 2.0, "rule": {}, "escalation": True,
     "description": "escalated reports, each with a reason and a recipient"},
)


def _fmt(d: datetime) -> str:
    return d.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(s: str | None) -> datetime | None:
    if not s:
        return None
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _now(now: datetime | None = None) -> datetime:
    return now or datetime.now(UTC)


# -- queues -------------------------------------------------------------------------------------------
def check_rule(rule: dict) -> dict:
    if not isinstance(rule, dict):
        raise UserError("A queue rule must be an object of categories, signal_kinds, langs, min_risk, max_risk, "
                        "min_age_hours, max_age_hours.")
    bad = sorted(set(rule) - set(RULE_KEYS))
    if bad:
        raise UserError(f"Queue rule key {bad[0]!r} is not one of {', '.join(RULE_KEYS)}.")
    out: dict = {}
    for k in ("categories", "signal_kinds", "langs"):
        if rule.get(k):
            v = rule[k]
            if isinstance(v, str):
                v = [x.strip() for x in v.split(",") if x.strip()]
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise UserError(f"Queue rule {k} must be a list of names.")
            out[k] = v
    for k in ("min_risk", "max_risk", "min_age_hours", "max_age_hours"):
        if rule.get(k) is not None:
            try:
                out[k] = float(rule[k])
            except (TypeError, ValueError):
                raise UserError(f"Queue rule {k} must be a number, not {rule[k]!r}.") from None
    return out


def ensure_default_queues(conn: Connection, actor: str = SYSTEM) -> None:
    if conn.execute(select(queues.c.name).limit(1)).first() is not None:
        return
    for q in DEFAULT_QUEUES:
        save_queue(conn, q["name"], q["rule"], q["sla_hours"], actor, position=q["position"],
                   description=q["description"], escalation=q.get("escalation", False))


def save_queue(conn: Connection, name: str, rule: dict, sla_hours: float, actor: str, position: int = 100,
               description: str = "", escalation: bool = False) -> dict:
    """Create or change a named queue (audited `queue.save`)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise UserError("A queue needs a name of 1-100 characters.")
    if not sla_hours or sla_hours <= 0:
        raise UserError(f"The SLA of queue {name} must be a positive number of hours.")
    rule = check_rule(rule)
    now = _fmt(_now())
    row = {"description": description, "position": int(position), "rule": json.dumps(rule, sort_keys=True),
           "sla_hours": float(sla_hours), "escalation": bool(escalation), "updated_at": now}
    if conn.execute(select(queues.c.name).where(queues.c.name == name)).first():
        conn.execute(update(queues).where(queues.c.name == name).values(**row))
    else:
        conn.execute(queues.insert().values(name=name, created_by=actor, created_at=now, **row))
    audit.append(conn, actor, "queue.save", "queue", name, {**row, "rule": rule})
    return {"name": name, **row, "rule": rule}


def list_queues(conn: Connection) -> list[dict]:
    out = []
    for r in conn.execute(select(queues).order_by(queues.c.position, queues.c.name)):
        d = dict(r._mapping)
        d["rule"] = json.loads(d["rule"] or "{}")
        d["escalation"] = bool(d["escalation"])
        out.append(d)
    return out


# numeric bounds of a queue rule: (rule key, report field, a lower bound?, how a match reads)
_BOUNDS = (("min_risk", "risk", True, "risk {v:g} >= {b:g}"), ("max_risk", "risk", False, "risk {v:g} <= {b:g}"),
           ("min_age_hours", "age_hours", True, "reported {v:.0f} h ago >= {b:g} h"),
           ("max_age_hours", "age_hours", False, "reported {v:.0f} h ago <= {b:g} h"))


def rule_matches(rule: dict, item: dict) -> tuple[bool, str]:
    """Whether a report (item: category, kinds, lang, risk, age_hours) fits a queue's rule, and why."""
    why = []
    if rule.get("categories"):
        if item["category"] not in rule["categories"]:
            return False, ""
        why.append(f"category {item['category']}")
    if rule.get("signal_kinds"):
        hit = sorted(set(rule["signal_kinds"]) & set(item["kinds"]))
        if not hit:
            return False, ""
        why.append(f"signal {', '.join(hit)}")
    if rule.get("langs"):
        if item.get("lang") not in rule["langs"]:
            return False, ""
        why.append(f"language {item['lang']}")
    for key, field, below, words in _BOUNDS:
        bound = rule.get(key)
        if bound is None:
            continue
        value = item[field]
        if (value < bound) if below else (value > bound):
            return False, ""
        why.append(words.format(v=value, b=bound))
    return True, "; ".join(why) or "every report"


def route(queue_list: list[dict], item: dict) -> tuple[dict, str]:
    """The first routing queue (by position) whose rule matches, and why."""
    for q in queue_list:
        if q["escalation"]:
            continue
        ok, why = rule_matches(q["rule"], item)
        if ok:
            return q, why
    raise UserError("No queue takes this report; add a queue with an empty rule (netwarden queue add NAME).")


# -- from a report to the network -----------------------------------------------------------------------
def _own_score(reasons: list[dict]) -> float:
    """An account's risk from its own findings: everything but user reports and case proximity."""
    return round(sum(r["points"] for r in reasons if r.get("kind") not in ("user_report", "proximity")), 1)


def _risks(conn: Connection, ids: list[str]) -> dict[str, tuple[float, list[dict]]]:
    out = {}
    for i in range(0, len(ids), 500):
        for r in conn.execute(select(account_risk.c.account_id, account_risk.c.score, account_risk.c.reasons)
                              .where(account_risk.c.account_id.in_(ids[i:i + 500]))):
            out[r.account_id] = (r.score, json.loads(r.reasons))
    return out


def _media_hit(conn: Connection, rep) -> list[str]:
    """The reported posts and media that match a bank (their media_match signals)."""
    posts, media = json.loads(rep.posts or "[]"), json.loads(rep.media or "[]")
    if not posts and not media:
        return []
    conds = []
    if posts:
        conds.append(and_(t.signals.c.subject_type == "post", t.signals.c.subject_id.in_(posts)))
    if media:
        conds.append(and_(t.signals.c.subject_type == "media", t.signals.c.subject_id.in_(media)))
    q = select(t.signals.c.subject_type, t.signals.c.subject_id).where(t.signals.c.kind == "media_match", or_(*conds))
    return sorted({f"{r.subject_type} {r.subject_id}" for r in conn.execute(q)})


def _open_cases_of(conn: Connection, ids: list[str]) -> dict[int, set[str]]:
    q = (select(case_members.c.case_id, case_members.c.account_id)
         .join(cases_t, cases_t.c.id == case_members.c.case_id)
         .where(cases_t.c.state == "open", case_members.c.state != "cleared", case_members.c.account_id.in_(ids)))
    out: dict[int, set[str]] = {}
    for r in conn.execute(q):
        out.setdefault(r.case_id, set()).add(r.account_id)
    return out


def _join(store: Store, cid: int, account: str, rid: str) -> None:
    """Add the reported account to a case it joins (a candidate at the end, and a seed)."""
    with store.engine.begin() as conn:
        c = cases.get_case(conn, cid)
        have = conn.execute(select(case_members.c.account_id).where(
            case_members.c.case_id == cid, case_members.c.account_id == account)).first()
        if have is None:
            last = conn.execute(select(case_members.c.rank).where(case_members.c.case_id == cid)
                                .order_by(case_members.c.rank.desc()).limit(1)).scalar() or 0
            conn.execute(case_members.insert().values(case_id=cid, account_id=account, rank=last + 1, score=0.0,
                                                      core=False, layers=json.dumps({"report": 1.0}),
                                                      path=json.dumps([account]), state="candidate"))
        if account not in c["seeds"]:
            conn.execute(update(cases_t).where(cases_t.c.id == cid).values(seeds=json.dumps([*c["seeds"], account])))
        cases.bump(conn, cid)


def network_bar(weight: float) -> tuple[int, float]:
    """How many flagged direct ties, and what share of them, make a network for a report of this weight:
    MIN_FLAGGED and FLAG_SHARE for a weight of 1, more from a reporter whose reports were cleared (weight
    below 1), less from a trusted one (down to half at weight 2)."""
    f = min(2.0, max(0.25, float(weight)))
    return math.ceil(MIN_FLAGGED / f - 1e-9), round(min(1.0, FLAG_SHARE / f), 3)


def network_for(store: Store, rep, weight: float) -> dict:
    """What the automation does for one report: {action: none|wait|join|open, case_id, reason, ...}."""
    account = rep.account_id
    child_safety = rep.category in CHILD_SAFETY
    with store.engine.begin() as conn:
        hits = _media_hit(conn, rep)
        known = conn.execute(select(t.accounts.c.id).where(t.accounts.c.id == account)).first() is not None
        if not child_safety and not hits:
            return {"action": "none", "reason": f"category {rep.category} is not child safety and no reported "
                                                "post or media matches a bank: no network expansion"}
        if not known:
            return {"action": "wait", "reason": f"account {account} is not ingested yet; processed again when it is"}
        risk.refresh(conn)
        risk.recompute(conn, [account])
        member_of = _open_cases_of(conn, [account])
    trigger = f"category {rep.category}" if child_safety else f"reported {hits[0]} matches a bank"
    ties = direct_ties(store, account)
    with store.engine.begin() as conn:
        risk.recompute(conn, [account, *ties])
        risks = _risks(conn, [account, *ties])
    own = _own_score(risks.get(account, (0.0, []))[1])
    flagged = sorted(a for a in ties if _own_score(risks.get(a, (0.0, []))[1]) >= FLAG_MIN)
    share = len(flagged) / len(ties) if ties else 0.0
    need_n, need_share = network_bar(weight)
    networked = len(flagged) >= need_n and share >= need_share
    if own < OWN_MIN and not hits and not networked:
        also = f"; it is a candidate of open case {max(member_of)}, left as it is" if member_of else ""
        return {"action": "none", "reason": f"{trigger}; nothing else flagged: {account}'s own risk {own:g} < {OWN_MIN:g} "
                                            f"and {len(flagged)} of its {len(ties)} direct ties have risk >= "
                                            f"{FLAG_MIN:g} (from a reporter of weight {weight:g} a network needs "
                                            f"{need_n} and {need_share:.0%}){also}"}
    if member_of:
        cid = max(member_of)
        _join(store, cid, account, rep.id)
        return {"action": "join", "case_id": cid, "reason": f"{trigger}; {account} is already in open case {cid}"}
    why = [trigger]
    if hits:
        why.append(f"{len(hits)} reported item(s) match a bank")
    if own >= OWN_MIN:
        why.append(f"own risk {own:g}")
    if flagged:
        why.append(f"{len(flagged)} of its {len(ties)} direct ties have risk >= {FLAG_MIN:g}")
    with store.engine.connect() as conn:
        overlap = _open_cases_of(conn, flagged)
    if overlap:
        cid, shared = max(overlap.items(), key=lambda kv: (len(kv[1]), kv[0]))
        if len(shared) >= JOIN_SHARE * len(flagged):
            _join(store, cid, account, rep.id)
            return {"action": "join", "case_id": cid,
                    "reason": "; ".join(why) + f"; {len(shared)} of its {len(flagged)} flagged ties are in open case {cid}"}
    try:
        members, how = cases._expand(store, [account], TOP_K)
    except UserError as e:
        return {"action": "none", "reason": f"{trigger}; no network: {e}"}
    reason = "; ".join(why)
    cid = cases.create_case(store, members, SYSTEM, origin="report", seeds=[account],
                            title=f"Network from report {rep.id} on {account}"[:300], method=how,
                            audit_detail={"report": rep.id, "weight": weight, "reason": reason})
    return {"action": "open", "case_id": cid, "reason": reason, "members": len(members), "flagged": len(flagged)}


def direct_ties(store: Store, account: str) -> list[str]:
    """The accounts tied directly to this one in the graph: interaction, shared handle, shared avatar.
    Not shared hashtags or shared media: ordinary accounts share both widely (one pool image can tie an
    account to hundreds), and an account's own banked media already counts in its own risk."""
    from .graph.expand import load_graph  # numba is a base dependency: no fallback (netwarden.deps)

    graph, _ = load_graph(store)
    i = graph.index.get(account)
    if i is None:
        return []
    idx: set[int] = set()
    for name in graph.layers:
        if name not in TIE_SKIP:
            idx.update(int(j) for j in graph.layer_rows(name, [i]).indices)
    idx.discard(i)
    return sorted(graph.ids[j] for j in idx)


_PROCESSING = threading.Lock()


def process_reports(store: Store, actor: str = SYSTEM, now: datetime | None = None,
                    report_ids: list[str] | None = None) -> dict:
    """Weigh, connect and route every report that is new or changed since it was last processed.
    One run at a time per process (the app's intake tasks run in a thread pool): two reports on one
    network that arrive together cannot each open a case. Across processes this is not serialised."""
    with _PROCESSING:
        return _process(store, actor, _now(now), report_ids)


def _process(store: Store, actor: str, now: datetime, report_ids: list[str] | None) -> dict:
    with store.engine.begin() as conn:
        ensure_default_queues(conn)
    with store.engine.connect() as conn:
        q = (select(reports, report_triage.c.processed_version, report_triage.c.assignee)
             .outerjoin(report_triage, report_triage.c.report_id == reports.c.id)
             .where(reports.c.account_id != "",
                    or_(report_triage.c.report_id.is_(None), report_triage.c.processed_version != reports.c.version))
             .order_by(reports.c.reported_at, reports.c.id))
        if report_ids is not None:
            q = q.where(reports.c.id.in_(report_ids))
        todo = list(conn.execute(q))
    out = {"processed": 0, "opened": [], "joined": 0, "no_case": 0, "waiting": 0, "by_queue": {}}
    for rep in todo:
        with store.engine.connect() as conn:
            records = risk.reporter_records(conn, [rep.reporter_id])
        weight, why_weight = risk.report_weight(rep, records)
        if rep.outcome in RESOLVE_OUTCOMES:
            net = {"action": "none", "reason": f"already resolved ({rep.outcome}) when it arrived"}
        else:
            net = network_for(store, rep, weight)
        with store.engine.begin() as conn:
            risk.recompute(conn, [rep.account_id])
            score, reasons = _risks(conn, [rep.account_id]).get(rep.account_id, (0.0, []))
            kinds = sorted({r["kind"] for r in reasons})
            reported = _parse(rep.reported_at) or now
            item = {"category": rep.category, "kinds": kinds, "lang": rep.lang, "risk": score,
                    "age_hours": max(0.0, (now - reported).total_seconds() / 3600)}
            prev = conn.execute(select(report_triage).where(report_triage.c.report_id == rep.id)).first()
            qs = list_queues(conn)
            if prev is not None and (prev.assignee or prev.escalated_to):
                queue = next((q for q in qs if q["name"] == prev.queue), None) or route(qs, item)[0]
                route_why = prev.route_reason
            else:
                queue, route_why = route(qs, item)
            row = {"queue": queue["name"], "routed_at": _fmt(now), "route_reason": route_why,
                   "due_at": _fmt(reported + timedelta(hours=queue["sla_hours"])), "weight": weight,
                   "case_id": net.get("case_id", prev.case_id if prev is not None else None),
                   "network_reason": net["reason"],
                   "processed_version": "" if net["action"] == "wait" else rep.version}
            if prev is None:
                conn.execute(report_triage.insert().values(report_id=rep.id, **row))
            else:
                if prev.escalated_to:
                    row["due_at"] = prev.due_at
                conn.execute(update(report_triage).where(report_triage.c.report_id == rep.id).values(**row))
            audit.append(conn, actor, "report.process", "report", rep.id,
                         {"queue": queue["name"], "route": route_why, "weight": weight, "credibility": why_weight,
                          "action": net["action"], "case": row["case_id"], "reason": net["reason"]})
        out["processed"] += 1
        out["by_queue"][queue["name"]] = out["by_queue"].get(queue["name"], 0) + 1
        if net["action"] == "open":
            out["opened"].append(net["case_id"])
        elif net["action"] == "join":
            out["joined"] += 1
        elif net["action"] == "wait":
            out["waiting"] += 1
        else:
            out["no_case"] += 1
    return out


# -- the queue's items ----------------------------------------------------------------------------------
def _item(r, now: datetime) -> dict:
    d = dict(r._mapping)
    for k in ("posts", "media", "rules"):
        d[k] = json.loads(d.get(k) or "[]")
    due = _parse(d.get("due_at"))
    d["open"] = d.get("outcome") in (None, "reopened")
    d["overdue"] = bool(d["open"] and due is not None and due < now)
    d["due_in_hours"] = round((due - now).total_seconds() / 3600, 1) if due else None
    return d


def items(conn: Connection, queue: str | None = None, assignee: str | None = None, state: str = "open",
          now: datetime | None = None, limit: int = 200, case_id: int | None = None) -> list[dict]:
    """Reports in the queues: open ones overdue first, then by due time (the SLA clock)."""
    now = _now(now)
    q = select(reports, report_triage).join(report_triage, report_triage.c.report_id == reports.c.id)
    if queue:
        q = q.where(report_triage.c.queue == queue)
    if assignee:
        q = q.where(report_triage.c.assignee == assignee)
    if case_id is not None:
        q = q.where(report_triage.c.case_id == case_id)
    if state == "open":
        q = q.where(or_(reports.c.outcome.is_(None), reports.c.outcome == "reopened"))
    elif state == "resolved":
        q = q.where(reports.c.outcome.in_(RESOLVE_OUTCOMES))
    rows = [_item(r, now) for r in conn.execute(q.order_by(report_triage.c.due_at, reports.c.id).limit(limit))]
    rows.sort(key=lambda d: (not d["overdue"], not d["open"], d["due_at"] or "", d["id"]))
    return rows


def reports_on(conn: Connection, account_id: str, now: datetime | None = None) -> list[dict]:
    """Every report on one account (routed or not), newest first."""
    q = (select(reports, report_triage).outerjoin(report_triage, report_triage.c.report_id == reports.c.id)
         .where(reports.c.account_id == account_id).order_by(reports.c.reported_at.desc(), reports.c.id))
    return [_item(r, _now(now)) for r in conn.execute(q)]


def get_item(conn: Connection, rid: str, now: datetime | None = None) -> dict:
    r = conn.execute(select(reports, report_triage).outerjoin(report_triage, report_triage.c.report_id == reports.c.id)
                     .where(reports.c.id == rid)).first()
    if r is None or not r.account_id:
        raise UserError(f"Report {rid} does not exist; see `netwarden queue list`.")
    d = _item(r, _now(now))
    with_records = risk.reporter_records(conn, [d["reporter_id"]])
    d["weight_now"], d["credibility"] = risk.report_weight(r, with_records)
    return d


def _triaged(conn: Connection, rid: str):
    r = conn.execute(select(report_triage, reports.c.outcome, reports.c.account_id, reports.c.reporter_id)
                     .join(reports, reports.c.id == report_triage.c.report_id)
                     .where(report_triage.c.report_id == rid)).first()
    if r is None:
        raise UserError(f"Report {rid} is not in a queue; run `netwarden reports process` first, or check the id.")
    return r


def check_user(conn: Connection, name: str | None) -> str:
    """A real, enabled reviewer who may decide on reports."""
    name = (name or "").strip()
    r = conn.execute(select(users.c.name, users.c.role, users.c.disabled).where(users.c.name == name)).first()
    if r is None:
        raise UserError(f"User {name!r} does not exist; assign to a reviewer from `netwarden user list`.")
    if r.disabled:
        raise UserError(f"User {name} is disabled; assign to an active reviewer.")
    if r.role not in ASSIGNABLE_ROLES:
        raise UserError(f"User {name} is a {r.role}, who cannot decide on reports; assign to a triage, moderator "
                        "or admin reviewer.")
    return name


def assign(conn: Connection, rid: str, assignee: str | None, actor: str, now: datetime | None = None) -> None:
    """Assign a report to a reviewer (validated), or unassign it with None (audited `report.assign`)."""
    _triaged(conn, rid)
    name = check_user(conn, assignee) if assignee else None
    conn.execute(update(report_triage).where(report_triage.c.report_id == rid)
                 .values(assignee=name, assigned_at=_fmt(_now(now)) if name else None))
    audit.append(conn, actor, "report.assign", "report", rid, {"assignee": name})


def claim(conn: Connection, rid: str, actor: str, now: datetime | None = None) -> None:
    r = _triaged(conn, rid)
    if r.assignee and r.assignee != actor:
        raise UserError(f"Report {rid} is assigned to {r.assignee}; ask them to release it first.")
    check_user(conn, actor)
    conn.execute(update(report_triage).where(report_triage.c.report_id == rid)
                 .values(assignee=actor, assigned_at=_fmt(_now(now))))
    audit.append(conn, actor, "report.claim", "report", rid, {})


def release(conn: Connection, rid: str, actor: str) -> None:
    r = _triaged(conn, rid)
    if r.assignee != actor:
        raise UserError(f"Report {rid} is not assigned to you ({r.assignee or 'unassigned'}); only its assignee "
                        "releases it.")
    conn.execute(update(report_triage).where(report_triage.c.report_id == rid).values(assignee=None, assigned_at=None))
    audit.append(conn, actor, "report.release", "report", rid, {})


def escalate(conn: Connection, rid: str, to: str, reason: str, actor: str, now: datetime | None = None) -> str:
    """Move a report to the escalation queue, assigned to `to`, with a reason (audited `report.escalate`)."""
    _triaged(conn, rid)
    reason = (reason or "").strip()
    if not reason:
        raise UserError("An escalation needs a reason; say why it goes up.")
    name = check_user(conn, to)
    esc = next((q for q in list_queues(conn) if q["escalation"]), None)
    if esc is None:
        raise UserError("No escalation queue exists; add one with `netwarden queue add NAME --escalation`.")
    now = _now(now)
    conn.execute(update(report_triage).where(report_triage.c.report_id == rid).values(
        queue=esc["name"], escalated_to=name, escalated_by=actor, escalation_reason=reason[:2000],
        escalated_at=_fmt(now), assignee=name, assigned_at=_fmt(now),
        due_at=_fmt(now + timedelta(hours=esc["sla_hours"]))))
    audit.append(conn, actor, "report.escalate", "report", rid, {"to": name, "reason": reason[:2000],
                                                                  "queue": esc["name"]})
    return esc["name"]


def resolve(conn: Connection, rid: str, outcome: str, actor: str, note: str = "", now: datetime | None = None) -> None:
    """Record a report's outcome (audited `report.resolve`); the reporter's other reports are re-weighed."""
    if outcome not in RESOLVE_OUTCOMES + ("reopened",):
        raise UserError(f"Outcome {outcome!r} is not one of {', '.join(RESOLVE_OUTCOMES)} or reopened.")
    r = _triaged(conn, rid)
    now_s = _fmt(_now(now))
    conn.execute(update(reports).where(reports.c.id == rid).values(
        outcome=outcome, resolved_by=actor, resolved_at=now_s, resolution_note=(note or "")[:5000],
        resolution_version=f"{now_s} netwarden-review:{rid}"))
    audit.append(conn, actor, "report.resolve", "report", rid, {"outcome": outcome, "note": (note or "")[:5000],
                                                                 "account": r.account_id, "reporter": r.reporter_id})
    affected = {r.account_id}
    if r.reporter_id:  # the reporter's credibility moved: every account they reported is weighed again
        affected |= set(conn.scalars(select(reports.c.account_id).where(reports.c.reporter_id == r.reporter_id)))
    risk.recompute(conn, sorted(a for a in affected if a))


# -- notes on accounts ----------------------------------------------------------------------------------
def add_account_note(conn: Connection, account_id: str, author: str, text: str, now: datetime | None = None) -> None:
    text = (text or "").strip()
    if not text:
        raise UserError("The note is empty; write something first.")
    conn.execute(account_notes.insert().values(account_id=account_id, author=author, text=text[:5000],
                                               created_at=_fmt(_now(now))))
    audit.append(conn, author, "account.note", "account", account_id, {"chars": len(text)})


def account_notes_of(conn: Connection, account_id: str) -> list[dict]:
    q = select(account_notes).where(account_notes.c.account_id == account_id).order_by(account_notes.c.id)
    return [dict(r._mapping) for r in conn.execute(q)]


# -- stats ----------------------------------------------------------------------------------------------
def stats(conn: Connection, now: datetime | None = None) -> list[dict]:
    """Per queue: open, overdue, resolved and the median hours from report to decision."""
    now = _now(now)
    out = {q["name"]: {"queue": q["name"], "sla_hours": q["sla_hours"], "escalation": q["escalation"], "open": 0,
                       "overdue": 0, "assigned": 0, "resolved": 0, "median_hours_to_decision": None, "_h": []}
           for q in list_queues(conn)}
    q = select(report_triage.c.queue, report_triage.c.due_at, report_triage.c.assignee, reports.c.outcome,
               reports.c.reported_at, reports.c.resolved_at).join(reports, reports.c.id == report_triage.c.report_id)
    for r in conn.execute(q):
        s = out.setdefault(r.queue, {"queue": r.queue, "sla_hours": None, "escalation": False, "open": 0,
                                     "overdue": 0, "assigned": 0, "resolved": 0, "median_hours_to_decision": None,
                                     "_h": []})
        if r.outcome in (None, "reopened"):
            s["open"] += 1
            s["assigned"] += bool(r.assignee)
            due = _parse(r.due_at)
            s["overdue"] += bool(due and due < now)
        elif r.outcome in RESOLVE_OUTCOMES:
            s["resolved"] += 1
            a, b = _parse(r.reported_at), _parse(r.resolved_at)
            if a and b:
                s["_h"].append(max(0.0, (b - a).total_seconds() / 3600))
    for s in out.values():
        h = s.pop("_h")
        s["median_hours_to_decision"] = round(statistics.median(h), 2) if h else None
    return list(out.values())
