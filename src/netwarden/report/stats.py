"""Outcomes after enforcement: survivors, time from first signal to action, re-registrations caught.

- members of a case: the accounts its actions name; survivors: members whose platform state (from
  the event stream) is still "active" after a suspension was delivered for them.
- time to action: seconds from an account's first signal to its first delivered action.
- re-registrations caught: signals of kind "evasion" (ban-evasion links, from the graph layer) on
  accounts created after a case's first delivered action.
"""

from __future__ import annotations

from statistics import median

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from ..enforce.util import parse_time
from ..store import schema as t
from ..store.tables_enforce import enforce_actions as ea


def outcomes(engine: Engine, case_id: str | None = None) -> dict:
    with engine.connect() as conn:
        q = select(ea)
        if case_id:
            q = q.where(ea.c.case_id == case_id)
        actions = [dict(r._mapping) for r in conn.execute(q)]
        by_case: dict[str, dict] = {}
        for a in actions:
            c = by_case.setdefault(a["case_id"], {"members": set(), "suspended": set(), "first_done": None,
                                                  "states": {}})
            c["members"].add(a["account_id"])
            c["states"][a["state"]] = c["states"].get(a["state"], 0) + 1
            if a["state"] == "done":
                if a["action"] == "suspend":
                    c["suspended"].add(a["account_id"])
                if a["action"] == "reverse":
                    c["suspended"].discard(a["account_id"])
                if c["first_done"] is None or a["done_at"] < c["first_done"]:
                    c["first_done"] = a["done_at"]
        members = sorted({m for c in by_case.values() for m in c["members"]})
        states = dict(conn.execute(select(t.accounts.c.id, t.accounts.c.state).where(t.accounts.c.id.in_(members)))
                      .all()) if members else {}
        first_signal = dict(conn.execute(select(t.signals.c.account_id, func.min(t.signals.c.created_at))
                                         .where(t.signals.c.account_id.in_(members))
                                         .group_by(t.signals.c.account_id)).all()) if members else {}
        first_action = {}
        for a in actions:
            if a["state"] == "done" and (a["account_id"] not in first_action
                                         or a["done_at"] < first_action[a["account_id"]]):
                first_action[a["account_id"]] = a["done_at"]
        earliest = min((c["first_done"] for c in by_case.values() if c["first_done"]), default=None)
        evasion = 0
        if earliest:
            evasion = conn.scalar(select(func.count(func.distinct(t.signals.c.account_id))).select_from(
                t.signals.join(t.accounts, t.accounts.c.id == t.signals.c.account_id))
                .where(t.signals.c.kind == "evasion", t.accounts.c.created_at > earliest)) or 0
    delays = [(parse_time(first_action[a]) - parse_time(first_signal[a])).total_seconds()
              for a in first_action if a in first_signal]
    cases = []
    for cid, c in sorted(by_case.items()):
        survivors = sorted(m for m in c["suspended"] if states.get(m, "active") == "active")
        cases.append({"case_id": cid, "members": len(c["members"]), "suspended": len(c["suspended"]),
                      "survivors": survivors, "actions": c["states"], "first_action_at": c["first_done"]})
    return {"cases": cases, "members": len(members),
            "survivors": sum(len(c["survivors"]) for c in cases),
            "time_to_action_seconds": {"count": len(delays), "median": median(delays) if delays else None,
                                       "max": max(delays) if delays else None},
            "re_registrations_caught": evasion}
