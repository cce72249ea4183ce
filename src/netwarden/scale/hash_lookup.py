"""Stream-side exact-hash lookup: the MD5 / SHA-256 the platform computed at upload, against the banks.

On the firehose a worker does not read and decode every image (PDQ hashing costs milliseconds a
file, see docs/scaling.md); the platform sends the byte hashes it already has with each media, and
this hook matches them against the banks' exact entries in memory. It writes `media_match`
signals with the same idempotency keys as `netwarden.ingest.media_signals.MediaSignals`, so when
the file is hashed later (retro-matching, or a media tier running the full hook) the same match
is not stored twice.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ..ingest.batch import Batch
from ..ingest.media_signals import match_rows
from ..media.hashing import MediaHashes
from ..media.service import BankMatcher
from ..store import media_banks as mb
from ..store.schema import signals as signals_t


class EventHashLookup:
    """Ingest hook: match event-supplied media MD5/SHA-256 against the banks (no file is read)."""

    def __init__(self, store):
        self.banks = BankMatcher()
        mb.ensure_tables(store.engine)

    def on_batch(self, conn, batch: Batch) -> None:
        media = [m for m in batch.media if m.get("md5") or m.get("sha256")]
        if not media:
            return
        matcher = self.banks.refresh(conn)
        if not matcher.exact:
            return
        results = matcher.match_many([MediaHashes(name=m["id"], md5=m.get("md5"), sha256=m.get("sha256"))
                                      for m in media])
        rows = match_rows(media, results, datetime.now(UTC).isoformat(timespec="seconds"))
        if rows:
            mb._insert_ignore(conn, signals_t, rows, ["key"])


def stream_hooks(store, terms: str | None, media: str = "hash") -> list:
    """The worker's signal hooks. media: hash (read and hash files, as a file ingest does) | lookup
    (event-supplied byte hashes only: the firehose setting) | off."""
    from ..ingest.pipeline import load_hooks
    from ..ingest.text_signals import TextSignals

    if media == "hash":
        return load_hooks(store, terms)
    hooks: list = [TextSignals(store, terms_path=terms)]
    if media == "lookup":
        hooks.append(EventHashLookup(store))
    return hooks
