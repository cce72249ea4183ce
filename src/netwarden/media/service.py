"""A Matcher kept in step with the banks in a store: loaded once, then updated incrementally.

`refresh()` is cheap (two aggregate queries) when nothing changed; new entries are added to the
in-memory index without a rebuild, so a hash added with `netwarden bank add` is matchable by a
running process on its next refresh. Removals or bank setting changes reload everything.

Loading streams: `load_entries` reads the PDQ rows as tuples in batches of LOAD_BATCH (a server-side
cursor on PostgreSQL), turns each batch's hex into bytes in one call and hands it to an index builder
(`PdqIndex.builder`: in approx mode the batch is permuted straight into the rows of the segment being
built, which is then sorted and indexed in place, so the load's peak is about the index's own size)
and to the entries' arrays; no per-row dict or hex string outlives its batch. The other media types
(MD5, SHA-256, vPDQ) go through `Matcher.add_entries` batch by batch.
"""

from __future__ import annotations

import time

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from .. import signal_types
from ..signal_types import MEDIA
from ..store import media_banks as mb
from ..store.tables_media import bank_entries
from ..store.tables_media import banks as banks_t
from .matcher import BankInfo, Matcher

LOAD_BATCH = 100_000


def load_banks(conn: Connection, all_banks: bool = False) -> list[BankInfo]:
    """The banks as the matcher sees them; with all_banks, disabled banks are loaded as enabled (the
    HMA API answers from them with bypass_coinflip and applies each bank's ratio itself)."""
    return [BankInfo(id=r.id, name=r.name, label=r.label, threshold=r.threshold,
                     enabled=bool(r.enabled) or all_banks, negative=bool(r.negative))
            for r in conn.execute(select(banks_t))]


def _pdq_hex_to_u8(ids: tuple, sigs: tuple) -> np.ndarray:
    """A batch of PDQ hex strings -> (n, 32) uint8, in one join and one fromhex; a malformed one is
    named by its entry id."""
    joined = "".join(sigs)
    if len(joined) == 64 * len(sigs):
        try:
            return np.frombuffer(bytes.fromhex(joined), dtype=np.uint8).reshape(-1, 32)
        except ValueError:
            pass
    for i, sg in zip(ids, sigs, strict=True):
        try:
            ok = len(sg) == 64 and len(bytes.fromhex(sg)) == 32
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"bank entry {i} holds PDQ signal {sg[:80]!r}, which is not 64 hex digits; "
                             f"remove it with `netwarden bank remove` and add it again")
    raise AssertionError("unreachable")


def load_entries(conn: Connection, matcher: Matcher, after_id: int = 0, upto: int | None = None,
                 batch: int = LOAD_BATCH) -> int:
    """Add the store's entries with after_id < id <= upto (default: the highest id now) to `matcher`,
    streamed in batches (see the module's docstring). Returns the number of PDQ entries added;
    `matcher.max_entry_id` becomes `upto`, so the next incremental load starts after it."""
    if upto is None:
        upto = conn.execute(select(func.max(bank_entries.c.id))).scalar() or 0
    if upto <= after_id:
        return 0
    pdq_names = {t.name for t in signal_types.types(MEDIA) if t.matching == "pdq"}
    enabled = {b.id for b in matcher.banks.values() if b.enabled}
    c = bank_entries.c
    # Only the id range in SQL (a primary-key range scan, in id order): with the type or the bank in
    # the WHERE clause SQLite walks the lookup index instead, the whole bank for a one-row refresh.
    q = (select(c.id, c.bank_id, c.signal_type, c.signal, c.label).where(c.id > after_id, c.id <= upto)
         .order_by(c.id).execution_options(stream_results=True, yield_per=batch))
    # At most upto - after_id PDQ rows. Each batch goes straight into the index being built (in
    # approx mode permuted into the segment's own rows, IndexBuilder) and into the entries' arrays;
    # both reserve the whole range once with np.empty, and only the pages written are ever held.
    cap = upto - after_id
    builder = matcher.index.builder(cap)
    matcher.pdq_meta.reserve(cap)
    n = 0
    for part in conn.execute(q).partitions(batch):
        pdq = [r for r in part if r[2] in pdq_names and r[1] in enabled]
        if len(pdq) < len(part):  # other media types (and link entries, which add_entries skips): few
            matcher.add_entries([dict(r._mapping) for r in part if r[2] not in pdq_names])
        if not pdq:
            continue
        b_ids, b_bank, _, b_sig, b_label = zip(*pdq, strict=True)
        ids = np.array(b_ids, dtype=np.int64)
        builder.add(_pdq_hex_to_u8(b_ids, b_sig), ids)
        # Entries of a load that then fails (a malformed row further on) are harmless: a lookup
        # starts from an index hit, and the retried load writes the same ids again.
        matcher.pdq_meta.add(ids, np.array(b_bank, dtype=np.int32), codes=matcher.pdq_meta.codes(b_label))
        n += len(ids)
        del part, pdq, b_ids, b_bank, b_sig, b_label, ids
    builder.finish()
    del builder
    matcher.max_entry_id = max(matcher.max_entry_id, upto)
    return n


class BankMatcher:
    FULL_RELOAD_SECONDS = 300.0  # also reload now and then: ids committed out of order are caught

    def __init__(self, index_mode: str = "auto", all_banks: bool = False):
        self.index_mode = index_mode
        self.all_banks = all_banks
        self.matcher: Matcher | None = None
        self._state: tuple | None = None
        self._loaded_at = 0.0

    def refresh(self, conn: Connection) -> Matcher:
        st = mb.state(conn)
        fresh = time.monotonic() - self._loaded_at < self.FULL_RELOAD_SECONDS
        if self.matcher is not None and st == self._state and fresh:
            return self.matcher
        old = self._state
        if self.matcher is not None and old is not None and fresh and st[0] == old[0] and st[1] > old[1]:
            # only new entries: add them to the live index, no rebuild
            load_entries(conn, self.matcher, after_id=self.matcher.max_entry_id, upto=st[1])
        else:
            m = Matcher(load_banks(conn, self.all_banks), index_mode=self.index_mode)
            load_entries(conn, m, upto=st[1])
            self.matcher = m
            self._loaded_at = time.monotonic()
        self._state = st
        return self.matcher
