"""Re-scan stored text with today's term list and link banks: the text side of retro-matching.

When a partner shares new URLs or domains, or the operator adds terms, content ingested before the
change has not been checked against them. `rescan_text` feeds the stored profiles (bio, display
name), posts (text and link lists, deleted posts skipped) and media alt texts back through the
ingest hook (`TextSignals`), in chunks of `chunk` rows, one transaction per chunk. Every signal
and contact has the idempotency key the hook gives it at ingest time, so a rescan stores only what
is new and can be interrupted and run again. `since` limits it to rows updated at or after that
time (ISO 8601), e.g. the partner list's look-back window.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable

from sqlalchemy import func, select

from ..store import schema as t
from .batch import Batch
from .text_signals import TextSignals

CHUNK = 5_000
COUNTED = ("url_match", "term_hit", "off_platform_route")


def _counts(conn) -> Counter:
    q = select(t.signals.c.kind, func.count()).where(t.signals.c.kind.in_(COUNTED)).group_by(t.signals.c.kind)
    out = Counter({k: 0 for k in COUNTED})
    out.update(dict(conn.execute(q).all()))
    out["contacts"] = conn.execute(select(func.count()).select_from(t.contacts)).scalar_one()
    return out


def _chunks(conn, q, key, chunk: int):
    """Rows of `q` in key order, `chunk` at a time (keyset pagination: no OFFSET scans)."""
    last = None
    while True:
        page = conn.execute((q if last is None else q.where(key > last)).order_by(key).limit(chunk)).mappings().all()
        if not page:
            return
        yield [dict(r) for r in page]
        last = page[-1][key.name]


def rescan_text(store, terms: str | None = None, since: str | None = None, chunk: int = CHUNK,
                on_progress: Callable[[int], None] | None = None) -> dict:
    """Run the text hook over stored content; returns rows scanned and the signals it added, by kind."""
    hook = TextSignals(store, terms_path=terms)
    with store.engine.connect() as conn:
        before = _counts(conn)
    scanned = Counter()
    acc_q = select(t.accounts.c.id, t.accounts.c.handle, t.accounts.c.display_name, t.accounts.c.bio)
    post_q = select(t.posts.c.id, t.posts.c.author_id, t.posts.c.text, t.posts.c.deleted_at).where(
        t.posts.c.author_id != "")
    media_q = (select(t.media.c.id, t.media.c.alt_text, t.post_media.c.post_id, t.posts.c.author_id.label("account_id"))
               .join(t.post_media, t.post_media.c.media_id == t.media.c.id)
               .join(t.posts, t.posts.c.id == t.post_media.c.post_id)
               .where(t.media.c.alt_text.is_not(None), t.media.c.alt_text != ""))
    if since:
        acc_q = acc_q.where(t.accounts.c.updated_at >= since)
        post_q = post_q.where(t.posts.c.updated_at >= since)
        media_q = media_q.where(t.posts.c.updated_at >= since)
    with store.engine.connect() as reader:
        for name, q, key in (("accounts", acc_q, t.accounts.c.id), ("posts", post_q, t.posts.c.id),
                             ("media", media_q, t.media.c.id)):
            for rows in _chunks(reader, q, key, chunk):
                batch = Batch()
                if name == "accounts":
                    batch.accounts = rows
                elif name == "posts":
                    urls: dict[str, list[str]] = defaultdict(list)
                    for pid, url in reader.execute(select(t.post_urls.c.post_id, t.post_urls.c.url).where(
                            t.post_urls.c.post_id.in_([r["id"] for r in rows]))):
                        urls[pid].append(url)
                    batch.posts = [{**r, "urls": urls.get(r["id"], [])} for r in rows]
                else:
                    batch.media = [{**r, "role": "post"} for r in rows]
                with store.engine.begin() as conn:
                    hook.on_batch(conn, batch)
                scanned[name] += len(rows)
                if on_progress:
                    on_progress(len(rows))
    with store.engine.connect() as conn:
        after = _counts(conn)
    return {"scanned": dict(scanned), "added": {k: after[k] - before[k] for k in after},
            "terms": terms, "since": since}
