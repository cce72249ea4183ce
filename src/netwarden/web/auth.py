"""Reviewers, roles, passwords (argon2id), sessions and the permission matrix."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from .. import audit
from ..errors import UserError
from ..store.tables_cases import sessions, users

ROLES = ("admin", "moderator", "triage", "viewer")

# What each role may do. Every authenticated user may view (queue, cases, accounts, blurred media).
PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"view"}),
    "triage": frozenset({"view", "reveal", "decide", "note", "assign", "open_case"}),
    "moderator": frozenset({"view", "reveal", "decide", "note", "assign", "open_case", "enforce", "approve"}),
    "admin": frozenset({"view", "reveal", "decide", "note", "assign", "open_case", "enforce", "approve",
                        "manage_users", "org_prefs", "audit"}),
}
ALL_PERMISSIONS = sorted(set().union(*PERMISSIONS.values()))
SESSION_HOURS = 12
NAME_RE = re.compile(r"^[A-Za-z0-9._@-]{1,100}$")
MIN_PASSWORD = 10

_hasher = PasswordHasher()  # argon2id, library defaults (RFC 9106 low-memory profile)
_DUMMY = _hasher.hash("not-a-real-password-used-for-timing")


def can(role: str, permission: str) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())


def _now() -> datetime:
    return datetime.now(UTC)


def _ts(d: datetime) -> str:
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class User:
    name: str
    role: str
    csrf: str = ""
    session: str = ""  # sha256 of the session cookie

    def can(self, permission: str) -> bool:
        return can(self.role, permission)


def add_user(conn: Connection, name: str, role: str, password: str, actor: str = "system:cli") -> None:
    if not NAME_RE.match(name):
        raise UserError(f"User name {name!r} is not valid; use 1-100 letters, digits, '.', '_', '@' or '-'.")
    if role not in ROLES:
        raise UserError(f"Role {role!r} is not one of {', '.join(ROLES)}; pick one with --role.")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"The password for {name} is shorter than {MIN_PASSWORD} characters; choose a longer one.")
    if conn.execute(select(users.c.name).where(users.c.name == name)).first():
        raise UserError(f"User {name} already exists; choose another name or disable the old one.")
    conn.execute(users.insert().values(name=name, password_hash=_hasher.hash(password), role=role, disabled=False,
                                       created_at=_ts(_now())))
    audit.append(conn, actor, "user.add", "user", name, {"role": role})


def list_users(conn: Connection) -> list[dict]:
    return [{"name": r.name, "role": r.role, "disabled": bool(r.disabled), "created_at": r.created_at}
            for r in conn.execute(select(users).order_by(users.c.name))]


def disable_user(conn: Connection, name: str, actor: str = "system:cli") -> None:
    res = conn.execute(update(users).where(users.c.name == name).values(disabled=True))
    if res.rowcount == 0:
        raise UserError(f"User {name} does not exist; see `netwarden user list`.")
    conn.execute(delete(sessions).where(sessions.c.user == name))
    audit.append(conn, actor, "user.disable", "user", name, {})


def authenticate(conn: Connection, name: str, password: str) -> str | None:
    """Check the password; returns the role, or None (same work either way)."""
    r = conn.execute(select(users).where(users.c.name == name)).first()
    try:
        _hasher.verify(r.password_hash if r else _DUMMY, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if r is None or r.disabled:
        return None
    if _hasher.check_needs_rehash(r.password_hash):
        conn.execute(update(users).where(users.c.name == name).values(password_hash=_hasher.hash(password)))
    return r.role


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(conn: Connection, name: str) -> str:
    token = secrets.token_urlsafe(32)
    now = _now()
    conn.execute(sessions.insert().values(token_hash=token_hash(token), user=name, csrf=secrets.token_urlsafe(32),
                                          created_at=_ts(now), expires_at=_ts(now + timedelta(hours=SESSION_HOURS))))
    return token


def session_user(conn: Connection, token: str | None) -> User | None:
    if not token or len(token) > 200:
        return None
    th = token_hash(token)
    q = (select(sessions.c.csrf, sessions.c.expires_at, users.c.name, users.c.role, users.c.disabled)
         .join(users, users.c.name == sessions.c.user).where(sessions.c.token_hash == th))
    r = conn.execute(q).first()
    if r is None or r.disabled or r.expires_at < _ts(_now()):
        return None
    return User(r.name, r.role, r.csrf, th)


def end_session(conn: Connection, token: str | None) -> None:
    if token:
        conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash(token)))
