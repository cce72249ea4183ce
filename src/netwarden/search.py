"""Find accounts by id, handle, display name or off-platform contact (the queue's search box).

Matching is case-insensitive: an exact id first, then ids, handles and display names that start
with or contain the text, then accounts showing a contact (Kik, Telegram, phone, ...) that contains
it. The text is a bound parameter, never SQL, and LIKE wildcards in it are escaped.
"""

from __future__ import annotations

from sqlalchemy import func, literal, or_, select
from sqlalchemy.engine import Connection

from .store import schema as t
from .store.tables_cases import account_risk, case_members

LIMIT = 50
MIN_CHARS = 2


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def accounts(conn: Connection, text: str, limit: int = LIMIT) -> list[dict]:
    """Up to `limit` accounts: {id, handle, display_name, state, risk, matched, cases}."""
    q = (text or "").strip()
    if len(q) < MIN_CHARS:
        return []
    pat = _like(q.lower())
    a = t.accounts
    direct = (select(a.c.id.label("id"), literal("id, handle or name").label("matched"))
              .where(or_(a.c.id == q, func.lower(a.c.id).like(pat, escape="\\"),
                         func.lower(a.c.handle).like(pat, escape="\\"),
                         func.lower(a.c.display_name).like(pat, escape="\\"))).limit(limit))
    contact = (select(t.contacts.c.account_id.label("id"),
                      (t.contacts.c.platform + literal(" contact ") + t.contacts.c.handle).label("matched"))
               .where(func.lower(t.contacts.c.handle).like(pat, escape="\\")).limit(limit))
    found: dict[str, str] = {}
    for part in (direct, contact):  # two queries: SQLite refuses a LIMIT inside a UNION's arm
        for r in conn.execute(part):
            found.setdefault(r.id, r.matched)
    if not found:
        return []
    ids = list(found)
    rows = {r.id: r for r in conn.execute(select(a.c.id, a.c.handle, a.c.display_name, a.c.state)
                                          .where(a.c.id.in_(ids)))}
    risk = dict(conn.execute(select(account_risk.c.account_id, account_risk.c.score)
                             .where(account_risk.c.account_id.in_(ids))).all())
    in_cases: dict[str, list[tuple[int, str]]] = {}
    for cid, aid, state in conn.execute(select(case_members.c.case_id, case_members.c.account_id, case_members.c.state)
                                        .where(case_members.c.account_id.in_(ids))):
        in_cases.setdefault(aid, []).append((int(cid), state))
    out = []
    for aid in ids:
        r = rows.get(aid)
        out.append({"id": aid, "handle": r.handle if r else None, "display_name": r.display_name if r else None,
                    "state": r.state if r else None, "risk": float(risk.get(aid) or 0.0), "matched": found[aid],
                    "cases": sorted(in_cases.get(aid, [])), "exact": aid == q or (r is not None and r.handle == q)})
    out.sort(key=lambda d: (not d["exact"], -d["risk"], d["id"]))
    return out[:limit]
