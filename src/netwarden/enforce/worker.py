"""The outbox worker: claims due actions, delivers them through an adapter, retries with backoff.

Each action moves pending -> in_flight (a lease, committed) -> done | pending (retry later) |
failed (after max attempts or a non-retryable error). A worker killed mid-delivery leaves the
action in_flight; once its lease has passed another run claims it again and delivers it again,
which adapters make harmless (see base.Adapter.deliver). Before a destructive action the worker
preserves the account's evidence in the vault (netwarden.report.evidence), whoever calls it: the
CLI, a button or a scheduled job; a failed preservation stops the run before anything is sent.
Only an explicit `preserve=False` (the CLI's --no-preserve) skips it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Engine

from .. import audit
from ..model import DESTRUCTIVE
from ..store.tables_enforce import enforce_actions as ea
from .base import Adapter, DeliveryError
from .util import crashpoint, later, now

ACTOR = "system:enforce"


@dataclass
class WorkerResult:
    done: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"done": self.done, "retried": self.retried, "failed": self.failed, "errors": self.errors}


def backoff(attempts: int, base: float = 30.0, cap: float = 3600.0) -> float:
    return min(cap, base * (2 ** max(0, attempts - 1)))


def _claim(engine: Engine, lease: float) -> dict | None:
    stamp = now()
    with engine.begin() as conn:
        q = (select(ea).where(or_(ea.c.state == "pending", (ea.c.state == "in_flight") & (ea.c.lease_until <= stamp)))
             .where(ea.c.next_attempt_at <= stamp).order_by(ea.c.id).limit(1))
        if conn.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        row = conn.execute(q).first()
        if row is None:
            return None
        res = conn.execute(update(ea).where(ea.c.id == row.id, ea.c.state == row.state,
                                            ea.c.attempts == row.attempts)
                           .values(state="in_flight", attempts=row.attempts + 1, lease_until=later(lease)))
        if res.rowcount != 1:
            return {}
    crashpoint("outbox.claim.after")
    d = dict(row._mapping)
    d["attempts"] += 1
    d["payload"] = json.loads(d["payload"] or "{}")
    return d


def preserver(engine: Engine, vault=None, settings=None) -> Callable[[dict], None]:
    """Preserve an action's account (with its case) in `vault` (default: the vault `settings` configure,
    or, with no settings, the settings loaded now from the config file and the environment; resolved
    now so a missing key stops the run before any action is claimed)."""
    from ..report import evidence

    vault = vault if vault is not None else evidence.Vault.from_settings(settings)

    def preserve(action: dict) -> None:
        evidence.preserve(engine, vault, action["account_id"], case_id=action["case_id"], actor=ACTOR)
    return preserve


def run(engine: Engine, adapter: Adapter, *, lease: float = 300.0, max_attempts: int = 8, limit: int | None = None,
        vault=None, preserve: bool = True, base_backoff: float = 30.0,
        on_progress: Callable[[], None] | None = None, settings=None) -> WorkerResult:
    """Deliver every due action once (until none is due or `limit` deliveries were tried); destructive
    actions are preserved first (in `vault`, default the vault of `settings`, or of the settings loaded
    now when none are given) unless `preserve` is False."""
    before_destructive = preserver(engine, vault, settings) if preserve else None
    result = WorkerResult()
    tried = 0
    while limit is None or tried < limit:
        action = _claim(engine, lease)
        if action is None:
            break
        if not action:
            continue
        tried += 1
        try:
            if action["action"] in DESTRUCTIVE and before_destructive is not None:
                before_destructive(action)
            crashpoint("outbox.send.before")
            outcome = adapter.deliver(action)
            crashpoint("outbox.send.after")
        except DeliveryError as e:
            final = (not e.retryable) or action["attempts"] >= max_attempts
            with engine.begin() as conn:
                conn.execute(update(ea).where(ea.c.id == action["id"]).values(
                    state="failed" if final else "pending", last_error=str(e), lease_until=None,
                    adapter=adapter.name, next_attempt_at=later(backoff(action["attempts"], base_backoff))))
                audit.append(conn, ACTOR, "enforce.fail" if final else "enforce.retry", "account",
                             action["account_id"], {"id": action["id"], "key": action["key"], "error": str(e),
                                                    "attempt": action["attempts"]})
            result.errors.append(f"{action['key']}: {e}")
            if final:
                result.failed += 1
            else:
                result.retried += 1
        else:
            with engine.begin() as conn:
                conn.execute(update(ea).where(ea.c.id == action["id"]).values(
                    state="done", last_error=None, lease_until=None, adapter=adapter.name, done_at=now(),
                    result=json.dumps(outcome, sort_keys=True, default=str)))
                audit.append(conn, ACTOR, "enforce.done", "account", action["account_id"],
                             {"id": action["id"], "key": action["key"], "action": action["action"],
                              "case_id": action["case_id"], "adapter": adapter.name, "result": outcome})
            crashpoint("outbox.done.after")
            result.done += 1
        if on_progress:
            on_progress()
    return result
