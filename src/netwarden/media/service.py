"""A Matcher kept in step with the banks in a store: loaded once, then updated incrementally.

`refresh()` is cheap (two aggregate queries) when nothing changed; new entries are added to the
in-memory index without a rebuild, so a hash added with `netwarden bank add` is matchable by a
running process on its next refresh. Removals or bank setting changes reload everything.
"""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.engine import Connection

from ..store import media_banks as mb
from ..store.tables_media import banks as banks_t
from .matcher import BankInfo, Matcher


def load_banks(conn: Connection, all_banks: bool = False) -> list[BankInfo]:
    """The banks as the matcher sees them; with all_banks, disabled banks are loaded as enabled (the
    HMA API answers from them with bypass_coinflip and applies each bank's ratio itself)."""
    return [BankInfo(id=r.id, name=r.name, label=r.label, threshold=r.threshold,
                     enabled=bool(r.enabled) or all_banks, negative=bool(r.negative))
            for r in conn.execute(select(banks_t))]


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
            self.matcher.add_entries(list(mb.entries(conn, after_id=self.matcher.max_entry_id)))
        else:
            m = Matcher(load_banks(conn, self.all_banks), index_mode=self.index_mode)
            m.add_entries(list(mb.entries(conn)))
            self.matcher = m
            self._loaded_at = time.monotonic()
        self._state = st
        return self.matcher
