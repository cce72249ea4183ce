"""A Matcher kept in step with the banks in a store: loaded once, then updated incrementally.

`refresh()` is cheap (two aggregate queries) when nothing changed; new entries are added to the
in-memory index without a rebuild, so a hash added with `netwarden bank add` is matchable by a
running process on its next refresh. Removals or bank setting changes reload everything.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from ..store import media_banks as mb
from ..store.tables_media import banks as banks_t
from .matcher import BankInfo, Matcher


def load_banks(conn: Connection) -> list[BankInfo]:
    return [BankInfo(id=r.id, name=r.name, label=r.label, threshold=r.threshold, enabled=bool(r.enabled),
                     negative=bool(r.negative)) for r in conn.execute(select(banks_t))]


class BankMatcher:
    def __init__(self, index_mode: str = "auto"):
        self.index_mode = index_mode
        self.matcher: Matcher | None = None
        self._state: tuple | None = None

    def refresh(self, conn: Connection) -> Matcher:
        st = mb.state(conn)
        if self.matcher is not None and st == self._state:
            return self.matcher
        old = self._state
        # Only new entries (same banks, more rows, higher ids): add them incrementally.
        if (self.matcher is not None and old is not None and st[0] == old[0]
                and st[1][0] > old[1][0] and (st[1][1] or 0) > (old[1][1] or 0)
                and st[1][0] - old[1][0] == _count_after(conn, self.matcher.max_entry_id)):
            self.matcher.add_entries(list(mb.entries(conn, after_id=self.matcher.max_entry_id)))
        else:
            m = Matcher(load_banks(conn), index_mode=self.index_mode)
            m.add_entries(list(mb.entries(conn)))
            self.matcher = m
        self._state = st
        return self.matcher


def _count_after(conn: Connection, after_id: int) -> int:
    from sqlalchemy import func

    from ..store.tables_media import bank_entries

    return int(conn.execute(select(func.count()).select_from(bank_entries).where(bank_entries.c.id > after_id)).scalar())
