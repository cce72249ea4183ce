"""What the graph reads of the signals and accounts, written once for the single-machine path and Spark.

The SQL text here runs unchanged on SQLite, PostgreSQL and Spark SQL (scale/spark_graph.py runs the
same strings over its views), so both paths pick the same seeds and priors.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from .reads import rows

if TYPE_CHECKING:  # the functions take a SQLAlchemy connection or Store.reading()'s sqlite3 one
    from sqlalchemy.engine import Connection

# The sweep's seeds: suspended accounts and accounts with a bank match of their media.
CONFIRMED_SQL = ("SELECT id AS account_id FROM accounts WHERE state = 'suspended' UNION "
                 "SELECT DISTINCT account_id FROM signals WHERE kind = 'media_match' AND account_id IS NOT NULL")


def kinds_sql(names: Iterable[str]) -> str:
    """A SQL list of signal kinds (registered names, never user input)."""
    return "(" + ",".join(f"'{k}'" for k in names) + ")"


def strength_sql(kinds: Iterable[str]) -> str:
    """(account_id, kind, w): each account's summed signal weight per kind, for the graph priors."""
    return ("SELECT account_id, kind, SUM(weight) AS w FROM signals WHERE account_id IS NOT NULL "
            f"AND kind IN {kinds_sql(kinds)} GROUP BY account_id, kind")


def confirmed_accounts(conn: Connection) -> list[str]:
    return sorted(r[0] for r in rows(conn, CONFIRMED_SQL) if r[0] is not None)


def signal_sums(conn: Connection, kinds: Iterable[str]) -> list:
    return rows(conn, strength_sql(kinds))


def account_signal_rows(conn: Connection, ids: Sequence[str], kinds: Iterable[str]) -> list:
    """(account_id, kind, subject_type, subject_id, weight, detail) of these accounts' signals of these kinds,
    oldest first."""
    q = ("SELECT account_id, kind, subject_type, subject_id, weight, detail FROM signals WHERE account_id IN ("
         + ",".join(f":a{j}" for j in range(len(ids))) + ") AND kind IN " + kinds_sql(kinds) + " ORDER BY id")
    return rows(conn, q, {f"a{j}": a for j, a in enumerate(ids)})


def last_event_seq(conn: Connection) -> int:
    """The newest event's sequence number (0 for an empty store): where a graph built now stands."""
    return int(rows(conn, "SELECT COALESCE(MAX(seq), 0) FROM events")[0][0] or 0)


def signals_mark(conn: Connection) -> tuple[int, int]:
    """(count, highest id) of the signals: a new or removed signal changes one of them (the priors' watermark)."""
    cnt, mx = rows(conn, "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM signals")[0]
    return int(cnt or 0), int(mx or 0)
