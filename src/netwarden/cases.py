"""Cases: networks found from seeds or by a sweep, their members and the decisions on them.

A case holds its members with rank, expansion score, core flag, the layers that brought them in and
the evidence path from a seed, and each member's review state (candidate, confirmed, cleared,
escalated). Member decisions and enforcement decisions are written with their audit entries in
one transaction. Enforcement of confirmed members needs a second reviewer when four-eyes is on
(the default; `NETWARDEN_FOUR_EYES=0` or `[review] four_eyes = false` turns it off); an approved
decision goes to the enforcement outbox (netwarden.enforce.outbox) in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy.engine import Connection

from . import audit, risk
from .clock import stamp as _now
from .errors import UserError
from .model import ACTIONS, CASE_STATES, MEMBER_DECISIONS, MEMBER_STATES  # noqa: F401 - the vocabulary (netwarden.model)
from .store import Store
from .store import case_queries as q
from .store.risk_queries import excepted_terms

# A decision that is not enforcement but needs the same second person: a clear as false-positive
# media proposes its negative-bank entries and term exceptions; they take effect on approval.
NEGATIVE_BANK_ACTION = "negative_bank"
# The state a member must still be in, at approval, for a decision to act on it.
TARGET_STATE = {**{a: "confirmed" for a in ACTIONS}, NEGATIVE_BANK_ACTION: "cleared"}
# An account the proposer created (or gave its role) this long before the proposal, or any time
# after it, cannot approve that proposal (a second account made to approve one's own action).
SOCK_WINDOW_HOURS = 24


@dataclass
class Member:
    account_id: str
    score: float
    rank: int
    core: bool
    layers: dict
    path: list


def _expand(store: Store, seeds: list[str], top_k: int) -> tuple[list[Member], str]:
    """Expand seeds with the network discovery of issue 5 (netwarden.graph.expand)."""
    from .graph.expand import expand_network

    exp = expand_network(store, seeds, top_k=top_k)
    out = [Member(str(m.account_id), float(m.score), int(m.rank), bool(m.core), dict(m.layers or {}),
                  _path(m)) for m in exp.members]
    have = {m.account_id for m in out}
    # the seeds belong to the case even when the expansion lists only what it found around them
    lead = [Member(s, 1.0, 0, True, {"seed": 1.0}, [s]) for s in seeds if s not in have]
    return lead + out, "graph"


def _path(m) -> list:
    """The evidence path from a seed, with the kind of tie on each step between the accounts."""
    path = [str(p) for p in (getattr(m, "path", None) or [])]
    ties = list(getattr(m, "path_edges", None) or [])
    if not ties or len(ties) != len(path) - 1:
        return _jsonable(path)
    out: list = [path[0]]
    for tie, acc in zip(ties, path[1:], strict=True):
        out += [str(tie), acc]
    return out


def _jsonable(path) -> list:
    try:
        return json.loads(json.dumps(path, default=lambda o: getattr(o, "__dict__", str(o))))
    except (TypeError, ValueError):
        return [str(p) for p in path or []]


def open_case(store: Store, seeds: list[str], actor: str, top_k: int = 200, title: str | None = None) -> int:
    """Expand the seeds into a network and open a case for it; returns the case id."""
    seeds = [s.strip() for s in seeds if s and s.strip()]
    if not seeds:
        raise UserError("No seed account given; pass --seed ACCOUNT_ID at least once.")
    with store.engine.connect() as conn:
        known = q.known_accounts(conn, seeds)
    missing = [s for s in seeds if s not in known]
    if missing:
        raise UserError(f"Seed account {missing[0]} is not in the store; check the id (see `netwarden ingest`).")
    members, how = _expand(store, seeds, top_k)
    return create_case(store, members, actor, origin="seeds", seeds=seeds, title=title, method=how)


def create_case(store: Store, members: list[Member], actor: str, origin: str, seeds: list[str] | None = None,
                title: str | None = None, method: str = "graph", audit_detail: dict | None = None,
                on_created=None) -> int:
    """Insert a case and its members, audited (`case.open`); `on_created(conn, case_id)` runs in the same
    transaction (a sweep links its stored group to the case there, so a crash cannot open it twice)."""
    now = _now()
    with store.engine.begin() as conn:
        cid = q.insert_case(
            conn, title=title or f"Network from {', '.join((seeds or [])[:3]) or origin}", origin=origin,
            seeds=json.dumps(seeds or []), state="open", risk=0.0, created_by=actor, created_at=now,
            updated_at=now)
        q.insert_members(conn, [{"case_id": cid, "account_id": m.account_id, "rank": m.rank, "score": m.score,
                                 "core": m.core, "layers": json.dumps(m.layers, default=str),
                                 "path": json.dumps(m.path, default=str), "state": "candidate"} for m in members])
        risk.refresh(conn)
        risk.recompute(conn, [m.account_id for m in members])
        _update_case_risk(conn, cid)
        audit.append(conn, actor, "case.open", "case", str(cid),
                     {"origin": origin, "seeds": seeds or [], "members": len(members), "method": method,
                      **(audit_detail or {})})
        if on_created is not None:
            on_created(conn, cid)
    return cid


def open_sweep_cases(store: Store, actor: str, min_size: int = 3, run_id: int | None = None) -> list[int]:
    """Open one case per group of a stored sweep run (netwarden.graph.sweep); without `run_id`, sweep
    now and store the run first. Groups that already have a case are skipped, so a run can be
    opened again after a crash or with a smaller `min_size` without opening a case twice."""
    from .graph.sweep import link_case, record_sweep, sweep, sweep_run

    if run_id is None:
        run_id = record_sweep(store, sweep(store), actor)
    ids = []
    for g in sweep_run(store, run_id)["groups"]:
        if g["case_id"] is not None or g["size"] < min_size:
            continue
        core = set(g["core"])
        members = [Member(str(a), float(g["score"]), i + 1, a in core, {"sweep": float(g["score"])}, [])
                   for i, a in enumerate(g["accounts"])]
        why = "; ".join(g["reasons"][:2])
        ids.append(create_case(
            store, members, actor, origin="sweep",
            title=(f"Sweep {run_id} group {g['rank']}" + (f": {why}" if why else ""))[:300],
            audit_detail={"sweep_run": run_id, "group": g["rank"], "reasons": g["reasons"]},
            on_created=lambda conn, cid, r=g["rank"]: link_case(conn, run_id, r, cid)))
    return ids


def refresh_case(store: Store, cid: int, actor: str, top_k: int = 200) -> dict:
    """Re-expand a case with its confirmed members as extra seeds, and refresh its ranking.

    The seeds are the case's own seeds plus every member a reviewer confirmed. Members still
    undecided (candidates) take their new rank, score, layers, core flag and path; accounts the new
    expansion finds are added as candidates; undecided candidates it no longer finds are removed.
    Decided members (confirmed, cleared, escalated) and the original seeds are kept as they are.
    Audited as `case.refresh`.
    """
    with store.engine.connect() as conn:
        c = open_case_row(conn, cid)
        confirmed = q.member_ids(conn, cid, "confirmed")
    seeds = list(dict.fromkeys([*c["seeds"], *confirmed]))
    if not seeds:
        raise UserError(f"Case {cid} has no seeds and no confirmed members; confirm members before refreshing it.")
    found, how = _expand(store, seeds, top_k)
    with store.engine.begin() as conn:
        open_case_row(conn, cid)  # closed while the expansion ran
        states = q.member_states(conn, cid)
        keep, added, updated = set(), [], 0
        for m in found:
            if m.account_id in seeds or states.get(m.account_id, "candidate") != "candidate":
                continue  # seeds stay; decided members keep their decision and the evidence it was made on
            keep.add(m.account_id)
            values = {"rank": m.rank, "score": m.score, "core": m.core,
                      "layers": json.dumps(m.layers, default=str), "path": json.dumps(m.path, default=str)}
            if m.account_id in states:
                q.update_member(conn, cid, m.account_id, **values)
                updated += 1
            else:
                q.insert_members(conn, [{"case_id": cid, "account_id": m.account_id, "state": "candidate", **values}])
                added.append(m.account_id)
        survivors = q.evasion_member_ids(conn, cid)
        dropped = sorted(a for a, st in states.items() if st == "candidate" and a not in keep and a not in c["seeds"]
                         and a not in survivors)  # a proposed survivor stays until a reviewer decides
        q.delete_members(conn, cid, dropped)
        risk.refresh(conn)
        risk.recompute(conn, added + dropped)  # case proximity counts for the added, no longer for the dropped
        _update_case_risk(conn, cid)
        out = {"case": cid, "seeds": seeds, "confirmed_seeds": confirmed, "added": len(added),
               "updated": updated, "removed": len(dropped), "method": how}
        audit.append(conn, actor, "case.refresh", "case", str(cid), out)
    return out


def add_survivor(conn: Connection, link, actor: str) -> list[dict]:
    """A matched survivor joins every open case holding the suspended account it re-registers, as a
    candidate member (the reviewer decides), its path the evidence; audited as `case.evasion_member`.
    `link` is a `graph.evasion.EvasionLink`. A case that already holds the new account is left alone."""
    out = []
    for cid in q.open_cases_holding(conn, link.suspended_account):
        if q.is_member(conn, cid, link.new_account):
            continue
        path = [{"evasion_of": link.suspended_account, "score": round(link.score, 3), "reasons": link.reasons()}]
        q.insert_members(conn, [{
            "case_id": cid, "account_id": link.new_account, "rank": q.max_rank(conn, cid) + 1,
            "score": float(link.score), "core": False, "layers": json.dumps({"evasion": round(link.score, 3)}),
            "path": json.dumps(path), "state": "candidate"}])
        bump(conn, cid)
        detail = {"account": link.new_account, "suspended_account": link.suspended_account,
                  "score": round(link.score, 3), "reasons": link.reasons()}
        audit.append(conn, actor, "case.evasion_member", "case", str(cid), detail)
        out.append({"case": cid, **detail})
    return out


def bump(conn: Connection, cid: int) -> None:
    """Mark the case changed (the review app caches rendered member tables by case version)."""
    q.update_case(conn, cid)


def version(conn: Connection, cid: int) -> int | None:
    return q.version(conn, cid)


def _update_case_risk(conn: Connection, cid: int) -> None:
    q.update_case(conn, cid, risk=q.top_member_risk(conn, cid), updated_at=_now())


class CaseClosed(UserError):
    """A write to a closed case: closed means read-only until someone reopens it (audited)."""

    status = 409

    def __init__(self, cid: int):
        super().__init__(f"Case {cid} is closed, so it is read-only; reopen it first (an audited action).")


def open_case_row(conn: Connection, cid: int) -> dict:
    """The case, refusing a closed one (every write to a case and its members goes through this)."""
    c = get_case(conn, cid)
    if c["state"] != "open":
        raise CaseClosed(cid)
    return c


def get_case(conn: Connection, cid: int) -> dict:
    d = q.case_row(conn, cid)
    if d is None:
        raise UserError(f"Case {cid} does not exist; see `netwarden case list`.")
    d["seeds"] = json.loads(d["seeds"])
    return d


def members(conn: Connection, cid: int) -> list[dict]:
    out = []
    for d in q.member_rows(conn, cid):
        d["layers"] = orjson.loads(d["layers"] or "{}")
        d["path"] = orjson.loads(d["path"] or "[]")
        d["reasons"] = orjson.loads(d["reasons"] or "[]")
        d["risk"] = d["risk"] or 0.0
        out.append(d)
    return out


def next_undecided(conn: Connection, cid: int, after: str) -> str | None:
    """The case's next candidate member by rank after `after` (wrapping to the top), or None."""
    return q.next_candidate(conn, cid, after)


def list_cases(conn: Connection, state: str | None = "open", assignee: str | None = None,
               limit: int = 200) -> list[dict]:
    return q.case_list(conn, state, assignee, limit)


def account_queue(conn: Connection, kind: str | None = None, lang: str | None = None, state: str | None = None,
                  assignee: str | None = None, limit: int = 100, min_score: float = 0.1) -> list[dict]:
    """Accounts by risk, filtered by signal kind, post language, member state and case assignee."""
    out = []
    for d in q.queue_rows(conn, kind, lang, state, assignee, limit, min_score):
        d["reasons"] = orjson.loads(d["reasons"])
        out.append(d)
    return out


def decide_members(conn: Connection, cid: int, account_ids: Iterable[str], decision: str, actor: str,
                   note: str = "", negative_bank: bool = False, four_eyes: bool = True) -> int:
    """Confirm, clear, escalate (or reopen) members of a case; one audit entry per member.

    Clearing with `negative_bank` (a false positive) also proposes a NEGATIVE_BANK_ACTION decision:
    on approval by a second person (four-eyes, as enforcement) the PDQ hashes of the members' matched
    media and their matched links go to the negative bank NEGATIVE_BANK, which suppresses those
    matches for the whole platform, and each term that hit them gets a term exception.
    """
    if decision not in MEMBER_DECISIONS:
        raise UserError(f"Decision {decision!r} is not one of {', '.join(MEMBER_DECISIONS)}.")
    state = MEMBER_DECISIONS[decision]
    ids = sorted(set(account_ids))
    if not ids:
        raise UserError("No members selected; select at least one member.")
    open_case_row(conn, cid)
    now = _now()
    existing = q.member_states(conn, cid, ids)
    unknown = [a for a in ids if a not in existing]
    if unknown:
        raise UserError(f"Account {unknown[0]} is not a member of case {cid}; reload the case.")
    q.set_member_states(conn, cid, ids, state=state, decided_by=actor, decided_at=now)
    for a in ids:
        audit.append(conn, actor, f"decision.{decision}", "account", a,
                     {"case_id": cid, "from": existing[a], "to": state, "note": note})
    if decision == "clear":
        if negative_bank:  # the entries a clear implies for everyone: proposed, approved by someone else
            propose(conn, cid, NEGATIVE_BANK_ACTION, ids, actor, four_eyes)
        risk.recompute(conn, ids)  # proximity no longer counts for cleared members
    _update_case_risk(conn, cid)
    return len(ids)


NEGATIVE_BANK = "review-false-positives"


def negative_bank_rows(conn: Connection, account_ids: list[str], cid: int) -> tuple[list[tuple[str, str, str]], set]:
    """The negative-bank rows a false-positive clear of these accounts implies, and the media ids."""
    from .media.signals import normalize

    mids = q.matched_media_ids(conn, account_ids)
    urls: set[str] = set()
    for _, d in q.signal_details(conn, account_ids, "url_match"):
        try:
            urls.add(normalize("url", json.loads(d or "{}").get("url") or "")[1])
        except ValueError:
            continue  # a link that cannot be a bank entry stays matched; its hits remain evidence
    rows = [("pdq", r.pdq, f"cleared in case {cid}") for r in q.media_pdqs(conn, mids) if r.pdq] if mids else []
    rows += [("url", u, f"cleared in case {cid}") for u in sorted(urls)]
    return rows, mids


def add_to_negative_bank(conn: Connection, account_ids: list[str], actor: str, cid: int,
                         decision_id: int | None = None) -> int:
    """Put the PDQ of every media matched on these accounts, and every link of theirs that matched a URL or
    domain bank, into the negative bank; returns rows added. The links no longer match for anyone. The
    audit entry lists the entries this call added (not those already there), so a withdraw removes them."""
    from .store import media_banks as mb

    rows, mids = negative_bank_rows(conn, account_ids, cid)
    if not rows:
        return 0
    bank = mb.create_bank(conn, NEGATIVE_BANK, label="false positives cleared in review", negative=True,
                          source="review", exist_ok=True)
    have = q.bank_signals(conn, bank["id"])
    new = sorted({(st, sig) for st, sig, _ in rows} - have)
    added = mb.add_entries(conn, bank["id"], rows)
    audit.append(conn, actor, "bank.negative_add", "bank", NEGATIVE_BANK,
                 {"case_id": cid, "decision_id": decision_id, "accounts": account_ids, "media": sorted(mids),
                  "urls": sorted(sig for st, sig, _ in rows if st == "url"), "added": added,
                  "entries": [list(e) for e in new]})
    return added


def add_term_exceptions(conn: Connection, account_ids: list[str], actor: str, cid: int,
                        decision_id: int | None = None) -> int:
    """Except every term that hit these accounts from their risk (a false positive); returns rows added."""
    now = _now()
    rows: dict[tuple[str, str], dict] = {}
    for r in q.signal_details(conn, account_ids, "term_hit"):
        d = json.loads(r.detail or "{}")
        key = (r.account_id, risk.term_key(d))
        rows.setdefault(key, {"account_id": key[0], "term_id": key[1], "term": d.get("term"), "case_id": cid,
                              "created_by": actor, "created_at": now})
    if not rows:
        return 0
    have = excepted_terms(conn, account_ids)
    new = sorted(set(rows) - have)
    q.insert_term_exceptions(conn, list(rows.values()))
    audit.append(conn, actor, "terms.exception_add", "case", str(cid),
                 {"exceptions": sorted(f"{a}:{k}" for a, k in rows), "decision_id": decision_id,
                  "added": [list(k) for k in new]})
    return len(rows)


def add_note(conn: Connection, cid: int, author: str, text: str) -> None:
    text = text.strip()
    if not text:
        raise UserError("The note is empty; write something first.")
    open_case_row(conn, cid)
    q.insert_note(conn, case_id=cid, author=author, text=text[:5000], created_at=_now())
    bump(conn, cid)
    audit.append(conn, author, "case.note", "case", str(cid), {"chars": len(text)})


def notes(conn: Connection, cid: int) -> list[dict]:
    return q.note_rows(conn, cid)


def assign(conn: Connection, cid: int, assignee: str | None, actor: str) -> None:
    open_case_row(conn, cid)
    q.update_case(conn, cid, assignee=assignee or None, updated_at=_now())
    audit.append(conn, actor, "case.assign", "case", str(cid), {"assignee": assignee})


def set_state(conn: Connection, cid: int, state: str, actor: str) -> None:
    """Close a case (it leaves the queue; its members lose proximity points) or reopen it."""
    if state not in CASE_STATES:
        raise UserError(f"Case state {state!r} is not open or closed.")
    if get_case(conn, cid)["state"] == state:
        raise UserError(f"Case {cid} is already {state}; reload the case.")
    q.update_case(conn, cid, state=state, updated_at=_now())
    audit.append(conn, actor, f"case.{'close' if state == 'closed' else 'reopen'}", "case", str(cid), {})
    risk.recompute(conn, q.member_ids(conn, cid))


def request_enforcement(conn: Connection, cid: int, action: str, actor: str, four_eyes: bool = True) -> int:
    """Propose an action on every confirmed member; approved at once when four-eyes is off."""
    if action not in ACTIONS:
        raise UserError(f"Action {action!r} is not one of {', '.join(ACTIONS)}.")
    open_case_row(conn, cid)
    ids = q.member_ids(conn, cid, "confirmed")
    if not ids:
        raise UserError(f"Case {cid} has no confirmed members; confirm members before enforcing.")
    return propose(conn, cid, action, ids, actor, four_eyes)


def propose(conn: Connection, cid: int, action: str, ids: list[str], actor: str, four_eyes: bool = True) -> int:
    """A pending decision on these members; approved at once when four-eyes is off (settings.four_eyes)."""
    did = q.insert_decision(conn, case_id=cid, action=action, account_ids=json.dumps(ids), state="pending",
                            decided_by=actor, created_at=_now())
    bump(conn, cid)
    detail = {"decision_id": did, "action": action, "accounts": len(ids), "four_eyes": four_eyes}
    if action == NEGATIVE_BANK_ACTION:
        rows, _ = negative_bank_rows(conn, ids, cid)
        detail["bank_entries"] = len(rows)
    audit.append(conn, actor, "enforce.request" if action in ACTIONS else f"{action}.request", "case", str(cid),
                 detail)
    if not four_eyes:
        _approve(conn, did, actor)
    return did


def _decision(d):
    """A decisions row, or the dict case_decisions returns for one, read by attribute."""
    if isinstance(d, dict):
        from types import SimpleNamespace

        return SimpleNamespace(**d)
    return d


def approval_targets(conn: Connection, d) -> tuple[list[str], list[str]]:
    """(the members a decision acts on if approved now, the proposed ones it no longer acts on).

    Recomputed from the members' current states: a proposed member still in the state the action
    needs (confirmed for enforcement, cleared for negative-bank entries). A member decided otherwise
    since the proposal is dropped; one confirmed since then needs a new proposal."""
    d = _decision(d)
    want = TARGET_STATE.get(d.action, "confirmed")
    proposed = json.loads(d.account_ids) if isinstance(d.account_ids, str) else list(d.account_ids)
    now = q.member_states(conn, d.case_id, proposed) if proposed else {}
    targets = sorted(a for a in proposed if now.get(a) == want)
    return targets, sorted(set(proposed) - set(targets))


def targets_digest(targets: list[str]) -> str:
    """What the approver was shown, so an approval of a list that changed since is refused."""
    import hashlib

    return hashlib.sha256(json.dumps(sorted(targets)).encode()).hexdigest()[:32]


def approver_conflict(conn: Connection, d, actor: str) -> str | None:
    """Why `actor` may not approve decision `d`, or None. The proposer never may; nor may an account
    the proposer created or gave its role to after the proposal or in the SOCK_WINDOW_HOURS before
    it (read from the audit log's user.add / user.role entries)."""
    d = _decision(d)
    if actor == d.decided_by:
        return f"Decision {d.id} was proposed by {actor}; a second reviewer must approve it."
    since = (datetime.strptime(d.created_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
             - timedelta(hours=SOCK_WINDOW_HOURS)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for e in audit.entries(conn, subject_type="user", subject_id=actor, actor=d.decided_by, since=since):
        if e["action"] in ("user.add", "user.role"):
            return (f"Decision {d.id} was proposed by {d.decided_by}, who created or set the role of your account "
                    f"{actor} around the proposal; a reviewer they did not appoint must approve it.")
    return None


def approve(conn: Connection, did: int, actor: str, seen: str | None = None, four_eyes: bool = True) -> list[str]:
    """Approve a pending decision as `actor`; it acts on approval_targets (current states), and when
    `seen` (targets_digest of the list the approver was shown) is given it must still match."""
    d = q.decision_row(conn, did)
    if d is None:
        raise UserError(f"Decision {did} does not exist; reload the case.")
    if d.state != "pending":
        raise UserError(f"Decision {did} is already {d.state}.")
    open_case_row(conn, d.case_id)
    if four_eyes and (why := approver_conflict(conn, d, actor)):
        raise UserError(why)
    targets, _ = approval_targets(conn, d)
    if seen is not None and seen != targets_digest(targets):
        raise UserError(f"The members of decision {did} changed since you loaded the case; review the list again.")
    return _approve(conn, did, actor)


def reject(conn: Connection, did: int, actor: str) -> None:
    d = q.decision_row(conn, did)
    if d is None or d.state != "pending":
        raise UserError(f"Decision {did} is not pending; reload the case.")
    open_case_row(conn, d.case_id)
    q.update_decision(conn, did, state="rejected", approved_by=actor, approved_at=_now())
    audit.append(conn, actor, "enforce.reject" if d.action in ACTIONS else f"{d.action}.reject", "case",
                 str(d.case_id), {"decision_id": did})
    bump(conn, d.case_id)


def _approve(conn: Connection, did: int, actor: str) -> list[str]:
    d = q.decision_row(conn, did)
    targets, dropped = approval_targets(conn, d)
    if not targets:
        raise UserError(f"No member of decision {did} is still {TARGET_STATE.get(d.action, 'confirmed')}; "
                        "reject it, or decide the members again and propose anew.")
    if not q.approve_pending(conn, did, approved_by=actor, approved_at=_now(), account_ids=json.dumps(targets)):
        raise UserError(f"Decision {did} is no longer pending; reload the case.")
    bump(conn, d.case_id)
    audit.append(conn, actor, "enforce.approve" if d.action in ACTIONS else f"{d.action}.approve", "case",
                 str(d.case_id), {"decision_id": did, "action": d.action, "proposed_by": d.decided_by,
                                  "accounts": len(targets), "dropped": dropped})
    if d.action == NEGATIVE_BANK_ACTION:
        add_to_negative_bank(conn, targets, actor, d.case_id, did)
        add_term_exceptions(conn, targets, actor, d.case_id, did)
        risk.recompute(conn, targets)
        return targets
    payload = {"case_id": str(d.case_id), "account_ids": targets, "action": d.action,
               "decided_by": d.decided_by, "approved_by": actor, "decision_id": did}
    from .enforce.outbox import enqueue  # issue 7; the case code calls it inside this transaction

    enqueue(conn, payload)
    return targets


def withdraw(conn: Connection, did: int, actor: str) -> dict:
    """Undo an approved negative-bank decision: remove the bank entries and term exceptions it added
    (as its audit entries list them), so the matches it suppressed count again. Audited."""
    from .store import media_banks as mb

    d = q.decision_row(conn, did)
    if d is None or d.action != NEGATIVE_BANK_ACTION or d.state != "approved":
        raise UserError(f"Decision {did} is not an approved negative-bank decision; only those can be withdrawn.")
    open_case_row(conn, d.case_id)
    removed = exceptions = 0
    for e in audit.entries(conn, action="bank.negative_add", subject_id=NEGATIVE_BANK):
        if e["detail"].get("decision_id") == did:
            bank = mb.bank_row(conn, NEGATIVE_BANK)
            for st, sig in e["detail"].get("entries", []):
                removed += mb.remove_entries(conn, bank["id"], st, sig)
    for e in audit.entries(conn, action="terms.exception_add", subject_id=str(d.case_id)):
        if e["detail"].get("decision_id") == did:
            for a, k in e["detail"].get("added", []):
                exceptions += q.delete_term_exception(conn, a, k)
    q.update_decision(conn, did, state="withdrawn")
    targets = json.loads(d.account_ids)
    risk.recompute(conn, targets)
    bump(conn, d.case_id)
    out = {"decision_id": did, "bank_entries_removed": removed, "term_exceptions_removed": exceptions}
    audit.append(conn, actor, "negative_bank.withdraw", "case", str(d.case_id), out)
    return out


def case_decisions(conn: Connection, cid: int) -> list[dict]:
    return [{**r._mapping, "account_ids": json.loads(r.account_ids)} for r in q.decision_rows(conn, cid)]


def enforcement_status(conn: Connection, cid: int) -> list[dict]:
    from .enforce.outbox import status_for_case

    return status_for_case(conn, str(cid))
