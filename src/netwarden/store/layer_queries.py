"""The graph's layers as the store holds them (netwarden.graph.build): the interaction ties and the
group memberships, written once and run unchanged by the single-machine build and its incremental
refresh, and by Spark (`scale/spark_graph.py`, where `json_extract` becomes `get_json_object`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from .graph_queries import kinds_sql
from .reads import rows, stream

if TYPE_CHECKING:  # the functions take a SQLAlchemy connection or Store.reading()'s sqlite3 one
    from sqlalchemy.engine import Connection

CHUNK = 500

INTERACTION_SQL = {
    "follow": "SELECT src, dst FROM follows WHERE state = 'active'",
    # An approved request is also stored as the follow it became: one relationship, one tie. The request
    # counts only when no follow row stands for it. A pending or rejected request is no tie: the protected
    # account has not let the requester in (DECLINED_SQL; graph/build.py keeps it apart as `declined`).
    "request": "SELECT r.src, r.dst FROM follow_requests r WHERE r.state = 'approved' AND NOT EXISTS "
               "(SELECT 1 FROM follows f WHERE f.src = r.src AND f.dst = r.dst)",
    "reply": "SELECT p.author_id, COALESCE(p.reply_to_account, q.author_id) FROM posts p "
             "LEFT JOIN posts q ON q.id = p.reply_to WHERE p.reply_to IS NOT NULL",
    "repost": "SELECT p.author_id, q.author_id FROM posts p JOIN posts q ON q.id = p.repost_of",
    "quote": "SELECT p.author_id, q.author_id FROM posts p JOIN posts q ON q.id = p.quote_of",
    "mention": "SELECT p.author_id, m.account_id FROM post_mentions m JOIN posts p ON p.id = m.post_id",
    "like": "SELECT l.account_id, p.author_id FROM likes l JOIN posts p ON p.id = l.post_id WHERE l.state = 'active'",
}
# The column of each interaction query that holds the acting account, to read one account's ties.
SRC_COLUMN = {"follow": "src", "request": "r.src", "reply": "p.author_id",
              "repost": "p.author_id", "quote": "p.author_id", "mention": "p.author_id", "like": "l.account_id"}
# Follow requests to a protected account that it has not approved (pending or rejected) while no active
# follow stands for them: (requester, protected account).
DECLINED_SQL = ("SELECT r.src, r.dst FROM follow_requests r WHERE r.state IN ('pending', 'rejected') AND NOT EXISTS "
                "(SELECT 1 FROM follows f WHERE f.src = r.src AND f.dst = r.dst AND f.state = 'active')")

GROUP_SQL = {
    "handle": "SELECT DISTINCT account_id, platform || ':' || handle FROM contacts",
    "media": "SELECT DISTINCT account_id, 'entry:' || json_extract(detail, '$.bank') || '/' || "
             "json_extract(detail, '$.entry') FROM signals WHERE kind = 'media_match' AND subject_type = 'account'",
    "media_bytes": "SELECT DISTINCT p.author_id, 'sha256:' || m.sha256 FROM post_media pm "
                   "JOIN posts p ON p.id = pm.post_id JOIN media m ON m.id = pm.media_id WHERE m.sha256 IS NOT NULL",
    "hashtag": "SELECT DISTINCT p.author_id, h.tag FROM post_hashtags h JOIN posts p ON p.id = h.post_id",
    "avatar": "SELECT a.id, COALESCE(m.sha256, m.uri, a.avatar_media_id) FROM accounts a "
              "LEFT JOIN media m ON m.id = a.avatar_media_id WHERE a.avatar_media_id IS NOT NULL",
}
POSTGRES_MEDIA = ("SELECT DISTINCT account_id, 'entry:' || (detail::json->>'bank') || '/' || (detail::json->>'entry') "
                  "FROM signals WHERE kind = 'media_match' AND subject_type = 'account'")

# what a new post touches: its author, and the likes, replies, reposts and quotes of it stored before it
AUTHORS_SQL = "SELECT id, author_id FROM posts WHERE id IN ({in})"
INBOUND_SQL = ["SELECT account_id, post_id FROM likes WHERE post_id IN ({in})"] + [
    f"SELECT author_id, {col} FROM posts WHERE {col} IN ({{in}})" for col in ("reply_to", "repost_of", "quote_of")]


def account_ids(conn: Connection) -> list[str]:
    return [r[0] for r in stream(conn, "SELECT id FROM accounts ORDER BY id")]


def interaction_pairs(conn: Connection, kind: str) -> Iterator[tuple]:
    """(src, dst) rows of one interaction kind."""
    yield from stream(conn, INTERACTION_SQL[kind])


def declined_pairs(conn: Connection, accounts: list[str] | None = None) -> Iterator[tuple]:
    """(requester, protected account) rows of DECLINED_SQL; with `accounts`, those requested by them."""
    if accounts is None:
        yield from stream(conn, DECLINED_SQL)
    else:
        yield from rows_in(conn, DECLINED_SQL + " AND r.src IN ({in})", accounts)


GROUP_ACCOUNT = {"handle": "account_id", "media": "account_id", "media_bytes": "p.author_id",
                 "hashtag": "p.author_id", "avatar": "a.id"}  # the account column of each GROUP_SQL query


def group_rows_of(conn: Connection, name: str, dialect: str, accounts: list[str]) -> Iterator[tuple]:
    """(account, group key) rows of one group query for `accounts` only."""
    q = POSTGRES_MEDIA if name == "media" and dialect == "postgresql" else GROUP_SQL[name]
    yield from rows_in(conn, q + (" AND " if " WHERE " in q else " WHERE ") + f"{GROUP_ACCOUNT[name]} IN ({{in}})",
                       accounts)


def signal_accounts_after(conn: Connection, after_id: int) -> tuple[int, set[str]]:
    """(how many signals have an id above `after_id`, the accounts they are about)."""
    got = rows(conn, "SELECT account_id FROM signals WHERE id > :i", {"i": after_id})
    return len(got), {r[0] for r in got if r[0]}


def group_rows(conn: Connection, name: str, dialect: str) -> Iterator[tuple]:
    """(account, group key) rows of one group query, in the store's SQL dialect."""
    q = POSTGRES_MEDIA if name == "media" and dialect == "postgresql" else GROUP_SQL[name]
    yield from stream(conn, q)


def events_since(conn: Connection, after: int, upto: int, kinds: Iterable[str]) -> list:
    """(seq, kind, payload) of the events of `kinds` with after < seq <= upto, in order."""
    return rows(conn, f"SELECT seq, kind, payload FROM events WHERE seq > :s AND seq <= :hi AND kind IN "
                f"{kinds_sql(kinds)} ORDER BY seq", {"s": after, "hi": upto})


def rows_in(conn: Connection, sql: str, keys: Iterable[str]) -> Iterator[tuple]:
    """Rows of `sql` (with `{in}` for an IN list) over `keys`, CHUNK at a time."""
    keys = list(keys)
    for i in range(0, len(keys), CHUNK):
        chunk = keys[i:i + CHUNK]
        marks = ",".join(f":k{j}" for j in range(len(chunk)))
        yield from stream(conn, sql.replace("{in}", marks), {f"k{j}": k for j, k in enumerate(chunk)})


def ties_from(conn: Connection, kind: str, accounts: list[str]) -> Iterator[tuple]:
    """(src, dst) rows of one interaction kind made by `accounts`."""
    q = INTERACTION_SQL[kind]
    yield from rows_in(conn, q + (" AND " if " WHERE " in q else " WHERE ") + f"{SRC_COLUMN[kind]} IN ({{in}})", accounts)
