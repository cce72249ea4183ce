"""The enforcement outbox: a confirmed decision becomes action rows in the decision's transaction.

`enqueue` is called by the case code (issue 6) inside the transaction that records the decision,
so the decision and its actions commit or vanish together. Each row has an idempotency key
derived from the decision, so enqueueing the same decision twice adds nothing.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select
from sqlalchemy.engine import Connection

from .. import audit
from ..errors import UserError
from ..model import OUTBOX_ACTIONS
from ..store import schema as t
from ..store.tables_enforce import enforce_actions
from ..store.upsert import insert_ignore
from .util import now

# What a reviewer decides (model.ACTIONS), and `reverse`: undoing an action carried out before.
ACTIONS = OUTBOX_ACTIONS


def action_key(decision: dict, account_id: str) -> str:
    """The idempotency key of one action: the decision id when given, else a digest of the decision."""
    if decision.get("decision_id") is not None:
        basis = f"decision:{decision['decision_id']}"
    else:
        fields = {k: decision.get(k) for k in ("case_id", "action", "decided_by", "approved_by", "decided_at")}
        fields["account_ids"] = sorted(map(str, decision.get("account_ids") or []))
        basis = "digest:" + hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:32]
    return f"{decision['case_id']}:{decision['action']}:{account_id}:{basis}"[:200]


def enqueue(conn: Connection, decision: dict) -> list[int]:
    """Write the decision's actions to the outbox (in the caller's transaction); return their ids."""
    action = decision.get("action")
    if action not in ACTIONS:
        raise UserError(f"Decision action {action!r} is not one of {', '.join(ACTIONS)}; fix the decision.")
    for f in ("case_id", "account_ids", "decided_by", "approved_by"):
        if not decision.get(f):
            raise UserError(f"The decision has no {f}; a decision needs case_id, account_ids, decided_by and approved_by.")
    stamp = now()
    rows, keys = [], []
    for account_id in decision["account_ids"]:
        account_id = str(account_id)
        payload: dict = {}
        if decision.get("platform_report_id"):
            payload["platform_report_id"] = str(decision["platform_report_id"])
        if action == "remove_posts":
            q = select(t.posts.c.id).where(t.posts.c.author_id == account_id, t.posts.c.deleted_at.is_(None))
            payload["post_ids"] = sorted(conn.scalars(q))
        key = action_key(decision, account_id)
        keys.append(key)
        rows.append({"key": key, "case_id": str(decision["case_id"]), "account_id": account_id, "action": action,
                     "payload": json.dumps(payload, sort_keys=True), "state": "pending", "attempts": 0,
                     "next_attempt_at": stamp, "lease_until": None, "last_error": None, "result": None,
                     "adapter": None, "decided_by": decision["decided_by"],
                     "approved_by": decision["approved_by"], "created_at": stamp, "done_at": None})
    existing = set(conn.scalars(select(enforce_actions.c.key).where(enforce_actions.c.key.in_(keys))))
    insert_ignore(conn, enforce_actions, rows, keys=["key"])
    ids = list(conn.execute(select(enforce_actions.c.key, enforce_actions.c.id)
                            .where(enforce_actions.c.key.in_(keys))))
    by_key = dict(ids)
    for r in rows:
        if r["key"] not in existing:
            audit.append(conn, decision["decided_by"], "enforce.enqueue", "account", r["account_id"],
                         {"case_id": r["case_id"], "action": action, "key": r["key"], "id": by_key[r["key"]],
                          "approved_by": decision["approved_by"]})
    return [by_key[k] for k in keys]


def status_for_case(conn: Connection, case_id: str) -> list[dict]:
    """Delivery state of every action of a case, oldest first (for the review app)."""
    q = select(enforce_actions).where(enforce_actions.c.case_id == str(case_id)).order_by(enforce_actions.c.id)
    return [{"id": r.id, "action": r.action, "account": r.account_id, "state": r.state, "attempts": r.attempts,
             "last_error": r.last_error, "next_attempt_at": r.next_attempt_at, "done_at": r.done_at,
             "adapter": r.adapter} for r in conn.execute(q)]


def all_status(conn: Connection, state: str | None = None, limit: int = 1000) -> list[dict]:
    q = select(enforce_actions).order_by(enforce_actions.c.id).limit(limit)
    if state:
        q = q.where(enforce_actions.c.state == state)
    return [dict(r._mapping) for r in conn.execute(q)]
