"""Per-account labels set by reviewers (issue 18): add, remove, list; each change audited.

A label is a short name (1-60 characters, letters, digits, space, '-', '_', '.', ':'), trimmed and
lower-cased, so "Ban evader" and "ban evader " are one label. Operators may list the allowed
labels in the `labels` setting (NETWARDEN_LABELS or the config file, comma-separated); the face
passes them to `add`, and when any are set every other label is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from . import audit
from .errors import UserError
from .store import schema as t
from .store.tables_cases import account_labels
from .store.upsert import insert_ignore

LABEL_RE = re.compile(r"[a-z0-9][a-z0-9 _.:-]{0,59}")


def allowed(configured: Iterable[str] = ()) -> list[str] | None:
    """The allowed labels, normalized, from the settings' `labels`; None when any label may be set."""
    return [normalize(x) for x in configured if x.strip()] or None


def normalize(label: str) -> str:
    s = " ".join(str(label).split()).lower()
    if not LABEL_RE.fullmatch(s):
        raise UserError(f"Label {label!r} is not 1-60 letters, digits, spaces or - _ . : ; pick a shorter plain name.")
    return s


def add(conn: Connection, account_id: str, label: str, actor: str, allowed_labels: Iterable[str] = ()) -> str:
    s = normalize(label)
    ok = allowed(allowed_labels)
    if ok is not None and s not in ok:
        raise UserError(f"Label {s!r} is not one of the allowed labels ({', '.join(ok)}; setting `labels`, NETWARDEN_LABELS).")
    if conn.execute(select(t.accounts.c.id).where(t.accounts.c.id == account_id)).first() is None:
        raise UserError(f"Account {account_id} is not in the store.")
    there = conn.execute(select(account_labels.c.label).where(account_labels.c.account_id == account_id,
                                                              account_labels.c.label == s)).first()
    if there is None:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        insert_ignore(conn, account_labels, [{"account_id": account_id, "label": s, "created_by": actor,
                                              "created_at": now}], keys=["account_id", "label"])
        audit.append(conn, actor, "label.add", "account", account_id, {"label": s})
    return s


def remove(conn: Connection, account_id: str, label: str, actor: str) -> bool:
    s = normalize(label)
    gone = conn.execute(delete(account_labels).where(account_labels.c.account_id == account_id,
                                                     account_labels.c.label == s)).rowcount
    if gone:
        audit.append(conn, actor, "label.remove", "account", account_id, {"label": s})
    return bool(gone)


def of(conn: Connection, account_id: str) -> list[dict]:
    return [dict(r._mapping) for r in conn.execute(
        select(account_labels).where(account_labels.c.account_id == account_id).order_by(account_labels.c.label))]
