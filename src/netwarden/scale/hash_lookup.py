"""Stream-side hash lookup: the MD5 / SHA-256 / PDQ the platform computed at upload, against the banks.

On the firehose a worker does not read and decode every image (PDQ hashing costs milliseconds a
file, see docs/scaling.md); the platform sends the hashes it already has with each media, and
this hook matches them against the banks in memory: exact entries for the byte hashes, the PDQ
index for `pdq` (original orientation only: without the pixels there are no dihedral variants; a
`pdq_quality` below MIN_QUALITY is not matched, as for hashed files). It writes `media_match`
signals with the same idempotency keys as `netwarden.ingest.media_signals.MediaSignals`, so when
the file is hashed later (a media tier running the full hook) the same match is not stored twice.

The hashes of a media that carries a PDQ are also kept as a `media_hashes` row marked format
"event" (insert-or-ignore: a row from hashing the file wins), so Spark retro-matching finds them
when a bank gains entries later; the media hook replaces such a row when it reads the file.
"""

from __future__ import annotations

from datetime import UTC, datetime

from .. import signal_types
from ..ingest.batch import Batch
from ..ingest.media_signals import match_rows
from ..media.hashing import MediaHashes
from ..media.service import BankMatcher
from ..store import media_banks as mb
from ..store.schema import signals as signals_t
from ..store.upsert import insert_ignore


class EventHashLookup:
    """Ingest hook: match event-supplied media MD5 / SHA-256 / PDQ against the banks (no file is read)."""

    def __init__(self, store):
        self.banks = BankMatcher()

    def on_batch(self, conn, batch: Batch) -> None:
        exact = [t.column for t in signal_types.exact_media_types()]  # md5, sha256
        media = [m for m in batch.media if m.get("pdq") or any(m.get(c) for c in exact)]
        if not media:
            return
        now = datetime.now(UTC).isoformat(timespec="seconds")
        # kept for retro-matching: only media with a PDQ (MD5-only media stay cheap; retro-matching reads
        # their MD5 from the media table, docs/scaling.md)
        mb.save_event_hashes(conn, [m for m in media if m.get("pdq")], now)
        matcher = self.banks.refresh(conn)
        if not matcher.exact and not len(matcher.index):
            return
        hashes = []
        for m in media:
            pdq = m.get("pdq")
            h = MediaHashes(name=m["id"], pdq=pdq.lower() if pdq else None, quality=m.get("pdq_quality") if pdq else None)
            for c in exact:
                v = m.get(c)
                setattr(h, c, v.lower() if v else None)  # bank entries are lower-case hex; platforms vary
            hashes.append(h)
        rows = match_rows(media, matcher.match_many(hashes), now)
        if rows:
            insert_ignore(conn, signals_t, rows, ["key"])


def stream_hooks(store, terms: str | None, media: str = "hash", settings=None) -> list:
    """The worker's signal hooks. media: hash (read and hash files, as a file ingest does) | lookup
    (event-supplied MD5 / SHA-256 / PDQ only, no file read: the firehose setting) | off. Every
    setting ends with the ban-evasion watch (scale.evasion_watch): signups scored as they arrive.
    `settings` (the worker's config.Settings; None: the defaults) configure the media hook."""
    from ..ingest.pipeline import load_hooks
    from ..ingest.text_signals import TextSignals
    from .evasion_watch import EvasionWatch

    if media == "hash":  # ban evasion last: it reads the contacts and avatars the others wrote
        return [*load_hooks(store, terms, settings), EvasionWatch(store)]
    hooks: list = [TextSignals(store, terms_path=terms)]
    if media == "lookup":
        hooks.append(EventHashLookup(store))
    return [*hooks, EvasionWatch(store)]
