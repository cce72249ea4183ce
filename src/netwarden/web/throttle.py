"""Sign-in throttling per account and per address, with lockouts that back off.

Every failed sign-in counts against two keys: the account name tried (`user:<name>`) and the
client address (`addr:<ip>`). A key's failures form a *burst*, which ends after QUIET of no
lockout (so waiting out a lockout does not start a fresh burst). When a burst reaches its limit
(ACCOUNT_LIMIT for a name, ADDRESS_LIMIT for an address) the key is locked for BASE_LOCK, doubling
with each further failure up to MAX_LOCK; while either key is locked, sign-in is refused without
checking the password. A success clears the account's key (not the address's: one attacker's
own valid account must not reset the count for the names they guess).

Audit: one `login.failed` entry at the first failure of a burst and one `login.locked` when a burst
first locks, never one per attempt, under the fixed actor ACTOR; the subject is the name tried
when it is a valid user name, otherwise its hash, so the attacker writes no text of their choosing.

Counts live in the store (`login_throttle`), so every worker sees them.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from .. import audit
from ..store.tables_cases import login_throttle
from .auth import NAME_RE

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
BASE_LOCK = timedelta(seconds=30)
MAX_LOCK = timedelta(minutes=15)
QUIET = timedelta(minutes=15)
ACTOR = "system:login"
FMT = "%Y-%m-%dT%H:%M:%SZ"


def _ts(d: datetime) -> str:
    return d.strftime(FMT)


def _dt(s: str) -> datetime:
    return datetime.strptime(s, FMT).replace(tzinfo=UTC)


def subject(name: str) -> str:
    """What the audit log names: a valid user name as it is, anything else by its hash."""
    if NAME_RE.match(name or ""):
        return name
    return "invalid-name:" + hashlib.sha256((name or "").encode("utf-8", "surrogatepass")).hexdigest()[:16]


def keys(name: str, address: str) -> list[tuple[str, int]]:
    return [("user:" + subject(name).lower(), ACCOUNT_LIMIT), ("addr:" + (address or "unknown")[:200], ADDRESS_LIMIT)]


def locked_until(conn: Connection, name: str, address: str, now: datetime | None = None) -> datetime | None:
    """When the later of the two keys' lockouts ends, or None if neither is locked."""
    now = now or datetime.now(UTC)
    ks = [k for k, _ in keys(name, address)]
    ends = [_dt(r.locked_until) for r in conn.execute(select(login_throttle.c.locked_until)
                                                      .where(login_throttle.c.key.in_(ks)))
            if r.locked_until and _dt(r.locked_until) > now]
    return max(ends) if ends else None


def failure(conn: Connection, name: str, address: str, now: datetime | None = None) -> None:
    """Count one failed sign-in against the name and the address (audited once per burst)."""
    now = now or datetime.now(UTC)
    for key, limit in keys(name, address):
        r = conn.execute(select(login_throttle).where(login_throttle.c.key == key)).first()
        quiet_since = None if r is None else _dt(r.locked_until or r.burst_start)
        if r is None or now - quiet_since > QUIET:
            if r is not None:
                conn.execute(delete(login_throttle).where(login_throttle.c.key == key))
            conn.execute(login_throttle.insert().values(key=key, failures=1, burst_start=_ts(now), lockouts=0))
            if key.startswith("user:"):
                audit.append(conn, ACTOR, "login.failed", "user", subject(name), {"address": address})
            failures, lockouts = 1, 0
        else:
            failures, lockouts = r.failures + 1, r.lockouts
        values: dict = {"failures": failures}
        if failures >= limit:
            lock = min(MAX_LOCK, BASE_LOCK * (2 ** min(failures - limit, 20)))
            values.update(locked_until=_ts(now + lock), lockouts=lockouts + 1)
            if lockouts == 0:
                kind, _, who = key.partition(":")
                audit.append(conn, ACTOR, "login.locked", "user" if kind == "user" else "address", who,
                             {"failures": failures, "seconds": int(lock.total_seconds()), "address": address})
        conn.execute(update(login_throttle).where(login_throttle.c.key == key).values(**values))


def success(conn: Connection, name: str) -> None:
    conn.execute(delete(login_throttle).where(login_throttle.c.key == "user:" + subject(name).lower()))
