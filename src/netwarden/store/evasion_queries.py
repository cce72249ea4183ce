"""The ban-evasion inputs' queries (netwarden.graph.evasion), written once: `graph.evasion.load_inputs`
runs them on the store, `scale.spark_evasion` on its views of the same tables; the column aliases are
the names the Spark path uses."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import text
from sqlalchemy.engine import Connection

from .layer_queries import rows_in  # noqa: F401 - the NEW_* queries over a list of ids, in chunks

SUSPENDED_SQL = "SELECT id AS a, state_time AS t, handle_lc AS h FROM accounts WHERE state = 'suspended'"
NEWER_SQL = ("SELECT id AS a, created_at AS t, handle_lc AS h FROM accounts "
             "WHERE state != 'suspended' AND created_at >= :t")
# a contact's key: "platform:handle", except that a phone number (E.164, "+" and digits, as
# text.contacts writes every number) is one key whichever app the bio names with it: "whatsapp
# +1 516 ...", "signal +1 516 ..." and "msg me +1 516 ..." (read as a phone) are the same number
CONTACT_KEY = "CASE WHEN handle LIKE '+%' THEN 'tel:' || handle ELSE platform || ':' || handle END"
CONTACTS_SQL = f"SELECT DISTINCT account_id AS a, {CONTACT_KEY} AS k FROM contacts"
ACCOUNTS_COUNT_SQL = "SELECT COUNT(*) AS n FROM accounts"
TAGS_SQL = "SELECT DISTINCT p.author_id AS a, h.tag AS tag FROM post_hashtags h JOIN posts p ON p.id = h.post_id"
AVATAR_SQL = ("SELECT a.id AS a, COALESCE(m.sha256, m.uri) AS sha, h.pdq AS pdq FROM accounts a "
              "LEFT JOIN media m ON m.id = a.avatar_media_id LEFT JOIN media_hashes h ON h.media_id = a.avatar_media_id "
              "WHERE a.avatar_media_id IS NOT NULL")
HEADER_SQL = AVATAR_SQL.replace("avatar_media_id", "header_media_id")
FOLLOWS_SQL = ("SELECT src, dst FROM follows WHERE state = 'active' UNION "
               "SELECT src, dst FROM follow_requests WHERE state IN ('approved','pending')")
DEVICE_SQL = ("SELECT DISTINCT account_id, device_id FROM account_sessions "
              "WHERE device_id IS NOT NULL AND device_id != ''")
PROFILES_SQL = "SELECT id, display_name, bio FROM accounts"

# the same inputs for a list of just-arrived accounts (the stream worker's signups); {in} is their ids
NEW_ACCOUNTS_SQL = ("SELECT id, created_at, handle_lc, display_name, bio FROM accounts "
                    "WHERE state != 'suspended' AND id IN ({in})")
NEW_CONTACTS_SQL = f"SELECT DISTINCT account_id, {CONTACT_KEY} FROM contacts WHERE account_id IN ({{in}})"
NEW_AVATARS_SQL = AVATAR_SQL + " AND a.id IN ({in})"
NEW_HEADERS_SQL = HEADER_SQL + " AND a.id IN ({in})"
NEW_DEVICES_SQL = DEVICE_SQL + " AND account_id IN ({in})"
NEW_FOLLOWS_SQL = "SELECT src, dst FROM follows WHERE state = 'active' AND (src IN ({in}))"

# one account's watch entry, read when it is suspended (EvasionWatch's incremental update); {in} is the ids
WATCH_ACCOUNTS_SQL = "SELECT id, created_at, handle_lc, display_name, bio FROM accounts WHERE id IN ({in})"
WATCH_FOLLOWS_SQL = ("SELECT src, dst FROM follows WHERE state = 'active' AND src IN ({in}) UNION "
                     "SELECT src, dst FROM follow_requests WHERE state IN ('approved','pending') AND src IN ({in})")
WATCH_FOLLOWERS_SQL = ("SELECT src, dst FROM follows WHERE state = 'active' AND dst IN ({in}) UNION "
                       "SELECT src, dst FROM follow_requests WHERE state IN ('approved','pending') AND dst IN ({in})")
WATCH_TAGS_SQL = ("SELECT DISTINCT p.author_id, h.tag FROM post_hashtags h JOIN posts p ON p.id = h.post_id "
                  "WHERE p.author_id IN ({in})")


def rows(conn: Connection, sql: str, params: dict | None = None) -> Iterator[tuple]:
    """The rows of one of the queries above."""
    yield from conn.execute(text(sql), params or {})


def count(conn: Connection, sql: str) -> int:
    return int(conn.execute(text(sql)).scalar() or 0)
