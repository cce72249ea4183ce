"""Ingest hook: hash post media, avatars and headers, match them against the banks, store signals.

Called inside the ingest transaction with each batch. For every media row it reads the bytes
(relative `uri`s resolve against the input file's folder), computes MD5, SHA-256 and PDQ (with
dihedral variants; vPDQ for videos), stores one `media_hashes` row, and for every bank match
inserts `media_match` signals on the media, the post (if any) and the owning account, each with
the bank, entry, distance and variant in `detail`. Everything is insert-or-ignore on
deterministic keys: applying a batch twice changes nothing, and a media id already hashed is not
read again (except a row of hashes the platform sent with the event, which the file's own replace).

Media that cannot be read or decoded is recorded in `media_hashes.error` (one sentence), never
raised: one bad file must not stop the ingest.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import unquote, urlparse

from sqlalchemy import select

from .. import findings, signal_types
from ..config import Settings
from ..media.decode import Limits, MediaError, read_bytes
from ..media.hashing import MediaHashes, hash_bytes
from ..media.service import BankMatcher
from ..store import media_banks as mb
from ..store.schema import signals as signals_t
from ..store.tables_media import media_hashes as media_hashes_t
from ..store.upsert import insert_ignore
from .batch import Batch


def resolve_uri(uri: str | None, base_dir: str | None) -> str | None:
    """A local path for a media `uri` (plain path or file:// URL); None for remote URLs."""
    if not uri:
        return None
    u = urlparse(uri)
    if u.scheme == "file":
        path = unquote(u.path)
    elif u.scheme in ("", ) or (len(u.scheme) == 1 and os.name == "nt"):
        path = uri
    else:
        return None  # no fetching of arbitrary URLs (DESIGN: safety rules)
    if not os.path.isabs(path) and base_dir:
        path = os.path.join(base_dir, path)
    return path


class MediaSignals:
    """The hook, configured by its face's `settings` (None: the defaults): media_threads hashing
    threads, media_cache distinct files' hashes kept, the decode limits, the classifier and its
    threshold. `classifier` (an object) overrides the `classifier` setting."""

    def __init__(self, store, index_mode: str = "auto", classifier=None, settings: Settings | None = None):
        from ..media.classifier import load_classifier

        s = settings if settings is not None else Settings()
        self.store = store
        self.classifier = classifier if classifier is not None else load_classifier(s.classifier)
        self.threshold = s.classifier_threshold
        self.threads = s.media_threads
        # Identical bytes are decoded once: re-uploads and reposts of the same file are common on a real
        # platform (and in synthetic worlds, which draw from pools). Bounded: entries are small.
        self.cache_size = s.media_cache
        self.limits = Limits.of(s)
        self.banks = BankMatcher(index_mode=index_mode)
        self._pool: ThreadPoolExecutor | None = None
        self._by_content: dict[str, MediaHashes] = {}  # sha256 of the bytes -> hashes

    def _hash_all(self, paths: list[tuple[str, str]]) -> dict[str, MediaHashes]:
        """Hash (media_id, path) pairs; PDQ and decoding release the GIL, so two threads help."""
        def one(item):
            mid, path = item
            try:
                data = read_bytes(path, self.limits.max_bytes)
            except MediaError as e:
                return mid, MediaHashes(name=path, error=str(e), error_reason=e.reason)
            key = hashlib.sha256(data).hexdigest()
            hit = self._by_content.get(key)
            if hit is not None:
                return mid, replace(hit, name=path)
            h = hash_bytes(data, path, fast=True, video_fps=1.0, limits=self.limits)
            if len(self._by_content) >= self.cache_size:
                self._by_content.clear()
            self._by_content[key] = h
            return mid, h

        if len(paths) <= 1 or self.threads <= 1:
            return dict(map(one, paths))
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="media-hash")
        return dict(self._pool.map(one, paths))

    def on_batch(self, conn, batch: Batch) -> None:
        if not batch.media:
            return
        ids = list({m["id"] for m in batch.media})
        known: dict[str, dict] = {}
        for chunk in range(0, len(ids), 500):
            q = select(media_hashes_t).where(media_hashes_t.c.media_id.in_(ids[chunk: chunk + 500]))
            for r in conn.execute(q).mappings():
                known[r["media_id"]] = dict(r)

        todo: list[tuple[str, str]] = []
        missing: dict[str, MediaHashes] = {}
        seen = set()
        for m in batch.media:
            mid = m["id"]
            # a row of event-supplied hashes (the stream's lookup mode) is replaced by the file's own
            if mid in seen or (mid in known and known[mid]["format"] != mb.EVENT_FORMAT):
                continue
            seen.add(mid)
            path = resolve_uri(m.get("uri"), batch.base_dir)
            if path is not None:
                todo.append((mid, path))
            elif mid not in known:
                missing[mid] = MediaHashes(name=str(m.get("uri")), error=f"Media {mid} has no local uri; only files in platform storage are read.",
                                           error_reason="missing")
        fresh = self._hash_all(todo)
        replaced = []
        for mid in [mid for mid in fresh if mid in known]:
            if fresh[mid].error:
                del fresh[mid]  # the file cannot be read: the event's hashes stay
            else:
                replaced.append(mid)
                del known[mid]
        fresh.update(missing)
        if replaced:
            conn.execute(media_hashes_t.delete().where(media_hashes_t.c.media_id.in_(replaced)))
        if fresh:
            mb.save_hashes(conn, [mb.hashes_row(mid, h) for mid, h in fresh.items()])

        # Match every media of the batch (new or already hashed: a post may reuse known media).
        hashes: dict[str, MediaHashes] = dict(fresh)
        for mid, r in known.items():
            hashes[mid] = _from_row(r)
        matcher = self.banks.refresh(conn)
        order = list(hashes)
        results = dict(zip(order, matcher.match_many([hashes[i] for i in order]), strict=True))

        now = datetime.now(UTC).isoformat(timespec="seconds")
        rows = match_rows(batch.media, [results.get(m["id"]) for m in batch.media], now)
        if self.classifier is not None:
            rows.extend(self._classify(batch, fresh, results, now))
        if rows:
            insert_ignore(conn, signals_t, rows, ["key"])

    def _classify(self, batch: Batch, fresh: dict[str, MediaHashes], results: dict, now: str) -> list[dict]:
        """Score newly hashed, decodable, unmatched images with the operator's classifier."""
        from ..media.decode import MediaError, decode

        clf, cut, rows = self.classifier, self.threshold, []
        for m in batch.media:
            h = fresh.get(m["id"])
            if h is None or h.error or h.kind != "photo" or results[m["id"]].matches:
                continue
            try:
                rgb = decode(resolve_uri(m.get("uri"), batch.base_dir), reduce_to=256, **self.limits.kw()).rgb
            except MediaError:
                continue
            score = float(clf.score(rgb, {"media_id": m["id"], "role": m.get("role")}))
            if score < cut:
                continue
            detail = {"classifier": clf.name, "version": clf.version, "score": round(score, 4),
                      "threshold": cut, "media_id": m["id"]}
            rows.extend(findings.rows(findings.on_media("media_classifier", m, score, detail,
                                                        (clf.name, clf.version)), now))
        return rows


def match_rows(media: list[dict], results, now: str) -> list[dict]:
    """`media_match` signal rows on the media, its post and its account, for each bank match.

    Keys are deterministic (bank, entry, subject), so every path that finds the same match (this
    hook, the stream's exact-hash lookup, Spark retro-matching) stores it once.
    """
    sigs = []
    for m, res in zip(media, results, strict=True):
        if res is None or not res.matches:
            continue
        for match in res.matches:
            detail = {"bank": match.bank, "entry": match.entry_id, "signal_type": match.signal_type,
                      "distance": match.distance, "variant": match.variant, "label": match.label,
                      "media_id": m["id"], "role": m.get("role") or "post"}
            if match.detail:
                detail.update(match.detail)
            t = signal_types.get(match.signal_type)
            sigs += findings.on_media("media_match", m, t.weight if t is not None else 1.0, detail,
                                      (match.bank_id, match.entry_id))
    return findings.rows(sigs, now)


def _from_row(r: dict) -> MediaHashes:
    """Rebuild MediaHashes from a stored row (with its dihedral variants)."""
    return MediaHashes(name=r["media_id"], kind=r["kind"], md5=r["md5"], sha256=r["sha256"], size=r["size"],
                       pdq=r["pdq"], quality=r["quality"],
                       variants=json.loads(r["variants"]) if r.get("variants") else {}, width=r["width"], height=r["height"],
                       format=r["format"], vpdq=json.loads(r["vpdq"]) if r["vpdq"] else None,
                       error=r["error"], error_reason=r["error_reason"])
