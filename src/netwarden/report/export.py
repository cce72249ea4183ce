"""Signal export for partner platforms: off-platform handles, media hashes and URLs of confirmed networks.

STIX 2.1 bundles are written as plain JSON per the STIX 2.1 specification (OASIS, 2021): one
identity (the producer), one indicator per signal with a STIX pattern, TLP:AMBER marking. Ids are
UUIDv5 of the pattern, so the same signal keeps the same id across exports. Also CSV.
Every export is audited.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine

from .. import audit
from ..errors import UserError
from ..store import schema as t
from ..store import tables_media as tm
from ..store.tables_enforce import enforce_actions as ea

NAMESPACE = uuid.UUID("5a1f3e42-8f0c-4f55-9a56-4e6f1b7f0a11")
TLP_AMBER = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
# user-account account_type values for platforms STIX's vocabulary lacks are plain lower-case names
HASH_NAMES = {"md5": "MD5", "sha256": "SHA-256", "pdq": "PDQ"}


def _esc(v: str) -> str:
    return v.replace("\\", "\\\\").replace("'", "\\'")


def confirmed_accounts(engine: Engine, case_ids: list[str] | None = None) -> list[str]:
    """Accounts whose suspension or post removal was delivered (a human decision, carried out)."""
    with engine.connect() as conn:
        q = select(ea.c.account_id).where(ea.c.state == "done", ea.c.action.in_(["suspend", "remove_posts"]))
        if case_ids:
            q = q.where(ea.c.case_id.in_(case_ids))
        return sorted(set(conn.scalars(q)))


def collect(engine: Engine, accounts: list[str]) -> list[dict]:
    """Rows {kind, type, value, platform, account_id}, deduplicated by (kind, type, value)."""
    out: dict[tuple, dict] = {}
    with engine.connect() as conn:
        for r in conn.execute(select(t.contacts).where(t.contacts.c.account_id.in_(accounts))):
            out.setdefault(("handle", r.platform, r.handle), {"kind": "handle", "type": r.platform,
                                                              "value": r.handle, "account_id": r.account_id})
        media_q = (select(tm.media_hashes, t.signals.c.account_id).select_from(
            t.signals.join(tm.media_hashes, tm.media_hashes.c.media_id == t.signals.c.subject_id))
            .where(t.signals.c.subject_type == "media", t.signals.c.kind == "media_match",
                   t.signals.c.account_id.in_(accounts)))
        for r in conn.execute(media_q):
            for h in ("md5", "sha256", "pdq"):
                v = getattr(r, h)
                if v:
                    out.setdefault(("hash", h, v), {"kind": "hash", "type": h, "value": v, "account_id": r.account_id})
        url_q = (select(t.post_urls.c.url, t.posts.c.author_id).select_from(
            t.post_urls.join(t.posts, t.posts.c.id == t.post_urls.c.post_id)).where(t.posts.c.author_id.in_(accounts)))
        for r in conn.execute(url_q):
            out.setdefault(("url", "url", r.url), {"kind": "url", "type": "url", "value": r.url, "account_id": r.author_id})
    return [out[k] for k in sorted(out)]


def pattern(row: dict) -> str:
    v = _esc(row["value"])
    if row["kind"] == "handle":
        return f"[user-account:account_login = '{v}' AND user-account:account_type = '{_esc(row['type'])}']"
    if row["kind"] == "hash":
        name = HASH_NAMES[row["type"]]
        key = f"'{name}'" if "-" in name else name
        return f"[file:hashes.{key} = '{v}']"
    return f"[url:value = '{v}']"


def stix_bundle(rows: list[dict], created: str | None = None) -> dict:
    created = created or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    ident = {"type": "identity", "spec_version": "2.1", "id": f"identity--{uuid.uuid5(NAMESPACE, 'netwarden')}",
             "created": created, "modified": created, "name": "Netwarden (platform trust & safety)",
             "identity_class": "organization"}
    objects: list[dict] = [ident]
    for r in rows:
        p = pattern(r)
        objects.append({
            "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid5(NAMESPACE, p)}",
            "created": created, "modified": created, "created_by_ref": ident["id"],
            "name": f"{r['kind']} {r['type']} linked to a confirmed network",
            "indicator_types": ["malicious-activity"], "pattern": p, "pattern_type": "stix",
            "pattern_version": "2.1", "valid_from": created, "object_marking_refs": [TLP_AMBER],
            "labels": [f"netwarden-{r['kind']}"]})
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["kind", "type", "value"], extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def export(engine: Engine, fmt: str, actor: str, case_ids: list[str] | None = None) -> tuple[str, int]:
    """The export text and its row count; audited as action "export"."""
    if fmt not in ("stix", "csv"):
        raise UserError(f"Export format {fmt!r} is not supported; use stix or csv.")
    accounts = confirmed_accounts(engine, case_ids)
    rows = collect(engine, accounts) if accounts else []
    text = json.dumps(stix_bundle(rows), indent=2) if fmt == "stix" else to_csv(rows)
    with engine.begin() as conn:
        audit.append(conn, actor, "export", "signals", fmt, {"format": fmt, "cases": case_ids or [],
                                                             "accounts": len(accounts), "rows": len(rows)})
    return text, len(rows)
