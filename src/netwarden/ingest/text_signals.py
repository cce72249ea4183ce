"""Ingest hook: scan post text, bios, display names and media alt text inside the ingest transaction.

Writes `term_hit` signals (with term, category, field, span, normalized form and list version),
`off_platform_route` signals for invite and file-hosting links, `url_match` signals for links in
posts, post link lists, bios and display names that match a link entry (every link signal type of
netwarden.signal_types: url, domain, ...) of an enabled bank (suppressed when the link also matches a negative bank), and `contacts` rows. Every
insert is insert-or-ignore on a deterministic key, so applying the same batch twice changes
nothing. Without a term list (no --terms, NETWARDEN_TERMS or config file `terms`) only contacts and links run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import select

from .. import signal_types
from ..findings import Signal
from ..signal_types import LinkBank
from ..store import media_banks as mb
from ..store.schema import contacts as contacts_t
from ..store.schema import signals as signals_t
from ..store.tables_media import bank_entries, banks
from ..store.upsert import insert_ignore
from ..text.contacts import contacts_in_url, extract_contacts_many
from ..text.scanner import scanner_for
from ..text.terms import TermSource
from ..text.urls import Link, classify, extract_links, normalize_url
from .batch import Batch


@dataclass(frozen=True, slots=True)
class LinkEntry:
    """A link bank entry, as LinkBank metadata."""

    bank: str
    bank_id: int
    entry_id: int
    signal_type: str
    signal: str
    label: str
    negative: bool


class LinkBanks:
    """The link entries of the enabled banks as one LinkBank, kept in step with the store.

    Like media.service.BankMatcher: `refresh` costs two aggregate queries when nothing changed;
    any change to the banks (entries added or removed, a bank created, changed or deleted) reloads
    the link entries (an index range scan on signal_type), and so does a reload every few minutes,
    which catches entry ids committed out of order. None while no enabled bank holds a link entry.
    """

    FULL_RELOAD_SECONDS = 300.0

    def __init__(self) -> None:
        self.bank: LinkBank | None = None
        self._state: tuple | None = None
        self._loaded_at = 0.0

    def refresh(self, conn) -> LinkBank | None:
        st = mb.state(conn)
        if st == self._state and time.monotonic() - self._loaded_at < self.FULL_RELOAD_SECONDS:
            return self.bank
        q = (select(bank_entries.c.id, bank_entries.c.signal_type, bank_entries.c.signal, bank_entries.c.label,
                    banks.c.id.label("bank_id"), banks.c.name, banks.c.negative)
             .join(banks, banks.c.id == bank_entries.c.bank_id)
             .where(bank_entries.c.signal_type.in_(signal_types.names(signal_types.LINK)), banks.c.enabled.is_(True)))
        entries = [(r.signal_type, r.signal, LinkEntry(r.name, r.bank_id, r.id, r.signal_type, r.signal, r.label or "",
                                                       bool(r.negative))) for r in conn.execute(q)]
        self.bank = LinkBank(entries) if entries else None
        self._state = st
        self._loaded_at = time.monotonic()
        return self.bank


class TextSignals:
    def __init__(self, store, terms_path: str | None = None):
        self.store = store
        path = terms_path or None  # the face passes the settings' terms (--terms, NETWARDEN_TERMS, the config file)
        self.source = TermSource(path) if path else None
        self.link_banks = LinkBanks()

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
                    sig_rows.append(Signal("term_hit", stype, sid, acc, h.weight, detail,
                                           (fld, h.term_id, h.start, h.end, h.list_version)).row(now))
        url_bank = self.link_banks.refresh(conn)
        profile_and_posts = [it for it in items if it[0] and it[3] != "alt_text"]
        found = extract_contacts_many([it[5] for it in profile_and_posts])
        post_links: dict[str, set[str]] = {}  # post id -> the links in its text, for its link list below
        for (acc, stype, sid, fld, ref, t), contacts in zip(profile_and_posts, found, strict=True):
            for c in contacts:
                contact_rows.append({"account_id": acc, "platform": c.platform, "handle": c.handle[:300],
                                     "field": fld, "ref": ref})
            if fld != "post" or url_bank is not None:
                links = extract_links(t)
                if fld != "post":
                    for lk in links:
                        self._route(sig_rows, acc, stype, sid, fld, lk.url, lk.kind, now)
                if url_bank is not None:
                    if fld == "post":
                        post_links[sid] = {lk.url for lk in links}
                    for lk in links:
                        _url_matches(sig_rows, url_bank, acc, stype, sid, fld, lk, now)
        for p in batch.posts:
            if p.get("deleted_at"):
                continue
            in_text = set()
            if url_bank is not None and p.get("urls"):
                in_text = post_links.get(p["id"])
                if in_text is None:  # a post without an author is not in the loop above
                    in_text = {lk.url for lk in extract_links(p.get("text") or "")}
            for u in p.get("urls") or ():
                c = contacts_in_url(u)
                if c:
                    contact_rows.append({"account_id": p["author_id"], "platform": c.platform,
                                         "handle": c.handle[:300], "field": "url", "ref": p["id"]})
                n, kind = normalize_url(u), classify(u)
                self._route(sig_rows, p["author_id"], "post", p["id"], "url", n, kind, now)
                if url_bank is not None and n not in in_text:  # a link also in the text is reported there
                    lk = Link(raw=u, url=n, host=urlsplit(n).hostname or "", kind=kind, start=-1, end=-1)
                    _url_matches(sig_rows, url_bank, p["author_id"], "post", p["id"], "url", lk, now)
        insert_ignore(conn, signals_t, sig_rows)
        insert_ignore(conn, contacts_t, contact_rows)

    @staticmethod
    def _route(rows: list[dict], acc: str, stype: str, sid: str, fld: str, url: str, kind: str, now: str) -> None:
        if kind not in ("invite", "file_host"):
            return
        rows.append(Signal("off_platform_route", stype, sid, acc, 0.5, {"url": url, "route": kind, "field": fld},
                           (fld, url)).row(now))


def _url_matches(rows: list[dict], bank: LinkBank, acc: str, stype: str, sid: str, fld: str, lk: Link,
                 now: str) -> None:
    """One `url_match` row per positive bank entry the link matches, none if a negative bank matches it."""
    found = bank.match(lk.url, lk.raw)
    if not found or any(meta.negative for _, _, meta in found):
        return
    seen = set()
    for _, matched, e in found:
        if e.entry_id in seen:
            continue
        seen.add(e.entry_id)
        detail = {"bank": e.bank, "bank_id": e.bank_id, "entry": e.entry_id, "signal_type": e.signal_type,
                  "signal": e.signal, "label": e.label, "matched": matched, "url": lk.url,
                  "raw": lk.raw[:500], "host": lk.host, "link_kind": lk.kind, "field": fld,
                  "span": [lk.start, lk.end] if lk.start >= 0 else None}
        rows.append(Signal("url_match", stype, sid, acc, signal_types.get(e.signal_type).weight, detail,
                           (fld, e.bank_id, e.entry_id, lk.url)).row(now))
