"""Ingest hook: scan post text, bios, display names and media alt text inside the ingest transaction.

Writes `term_hit` signals (with term, category, field, span, normalized form and list version),
`off_platform_route` signals for invite and file-hosting links, and `contacts` rows. Every
insert is insert-or-ignore on a deterministic key, so applying the same batch twice changes
nothing. Without a term list (no --terms and no NETWARDEN_TERMS) only contacts and links run.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime

from ..store.schema import contacts as contacts_t
from ..store.schema import signals as signals_t
from ..text.contacts import contacts_in_url, extract_contacts
from ..text.scanner import scanner_for
from ..text.terms import TermSource
from ..text.urls import classify, extract_links, normalize_url
from .batch import Batch


def _key(kind: str, subject_type: str, subject_id: str, *parts: object) -> str:
    h = hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return f"{kind}:{subject_type}:{subject_id}:{h}"[:300]


def _insert_ignore(conn, table, rows: list[dict]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    conn.execute(insert(table).on_conflict_do_nothing(), rows)


class TextSignals:
    def __init__(self, store, terms_path: str | None = None):
        self.store = store
        path = terms_path or os.environ.get("NETWARDEN_TERMS") or None
        self.source = TermSource(path) if path else None

    def on_batch(self, conn, batch: Batch) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        # (account_id, subject_type, subject_id, field, ref, text)
        items: list[tuple[str, str, str, str, str, str]] = []
        for a in batch.accounts:
            for fld in ("bio", "display_name"):
                t = a.get(fld) or ""
                if t:
                    items.append((a["id"], "account", a["id"], fld, "", t))
        for p in batch.posts:
            if p.get("deleted_at"):
                continue
            t = p.get("text") or ""
            if t:
                items.append((p["author_id"], "post", p["id"], "post", p["id"], t))
        for m in batch.media:
            t = m.get("alt_text") or ""
            if t:
                items.append((m.get("account_id") or "", "media", m["id"], "alt_text", m.get("post_id") or "", t))
        sig_rows: list[dict] = []
        contact_rows: list[dict] = []
        if self.source is not None and items:
            scanner = scanner_for(self.source.get())
            for it, hits in zip(items, scanner.scan_many([i[5] for i in items]), strict=True):
                acc, stype, sid, fld, _ref, _t = it
                for h in hits:
                    detail = {"term": h.term, "term_id": h.term_id, "category": h.category, "mode": h.mode,
                              "lang": h.lang, "field": fld, "span": [h.start, h.end], "matched": h.matched,
                              "normalized": h.normalized, "list_version": h.list_version}
                    sig_rows.append({
                        "key": _key("term_hit", stype, sid, fld, h.term_id, h.start, h.end, h.list_version),
                        "account_id": acc or None, "subject_type": stype, "subject_id": sid, "kind": "term_hit",
                        "weight": h.weight, "detail": json.dumps(detail, ensure_ascii=False), "created_at": now,
                    })
        for acc, stype, sid, fld, ref, t in items:
            if not acc or fld == "alt_text":
                continue
            for c in extract_contacts(t):
                contact_rows.append({"account_id": acc, "platform": c.platform, "handle": c.handle[:300],
                                     "field": fld, "ref": ref})
            if fld != "post":
                for lk in extract_links(t):
                    self._route(sig_rows, acc, stype, sid, fld, lk.url, lk.kind, now)
        for p in batch.posts:
            if p.get("deleted_at"):
                continue
            for u in p.get("urls") or ():
                c = contacts_in_url(u)
                if c:
                    contact_rows.append({"account_id": p["author_id"], "platform": c.platform,
                                         "handle": c.handle[:300], "field": "url", "ref": p["id"]})
                self._route(sig_rows, p["author_id"], "post", p["id"], "url", normalize_url(u), classify(u), now)
        _insert_ignore(conn, signals_t, sig_rows)
        _insert_ignore(conn, contacts_t, contact_rows)

    @staticmethod
    def _route(rows: list[dict], acc: str, stype: str, sid: str, fld: str, url: str, kind: str, now: str) -> None:
        if kind not in ("invite", "file_host"):
            return
        rows.append({
            "key": _key("route", stype, sid, fld, url), "account_id": acc, "subject_type": stype, "subject_id": sid,
            "kind": "off_platform_route", "weight": 0.5, "created_at": now,
            "detail": json.dumps({"url": url, "route": kind, "field": fld}, ensure_ascii=False),
        })
