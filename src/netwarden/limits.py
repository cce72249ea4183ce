"""Field limits: the one source for the event validator and the store's column types.

The event model (`netwarden.model`: its field types, and so the JSON Schema
`ingest/events.schema.json` generated from it), the native event validator
(`netwarden.ingest.events`; tests/ingest/test_field_limits.py and test_event_model.py hold the two
together) and the store's columns (`netwarden.store.schema`) all take their lengths from here,
so every value the validator accepts stores unchanged on SQLite and on PostgreSQL (which, unlike
SQLite, enforces VARCHAR lengths). Lengths count characters, as both Python and PostgreSQL do.

Two more rules make an accepted value storable on PostgreSQL:

- NUL characters (U+0000) cannot be stored in PostgreSQL text at all. Ingestion replaces each one
  in a decoded record by U+FFFD (the Unicode replacement character) before anything else reads it,
  in `netwarden.ingest.reader` (the one place), on both backends alike. The character count does
  not change, so limits and text offsets hold.
- Values that key a B-tree index must fit PostgreSQL's index row limit (2,704 bytes): a post's
  links (`post_urls`' primary key) are limited in UTF-8 bytes as well as characters.
"""

from __future__ import annotations

ID = 128  # account, post and media ids
EVENT_ID = 200  # an event's own id
TEXT = 100_000  # post text, bio, alt text, comments (Text columns)
SHORT = 1_000  # display names, reasons and other short fields stored in Text columns
HANDLE = 320  # an account's handle; Mastodon's user@domain can exceed 300
TAG = 200  # a hashtag, without '#'
LINK = 2_048  # a link in a post (characters, and UTF-8 bytes: it is part of an index key)
URI = 4_096  # a media uri or an account's url (Text columns, not indexed)
EMAIL = 320  # RFC 5321's longest address
MIME = 100
LANG = 20  # BCP 47 language tag, as platforms send it ("en", "pt-BR", "und")
IP = 64
DEVICE = 200
ACTOR = 200  # who resolved a report
SOURCE = 100  # a report's source channel
LIST = 1_000  # items in a list field (mentions, hashtags, urls, media, ...)

# str.casefold() makes at most 3 characters of one ("ﬃ" -> "ffi"): the folded copies of handles
# and hashtags (handle_lc, post_hashtags.tag) get columns this many times longer.
FOLD_GROWTH = 3

NUL = "\x00"
NUL_REPLACEMENT = "\ufffd"
