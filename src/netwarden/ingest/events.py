"""The native event schema, version 1: validation of one decoded JSON record.

One JSON object a line. Every event has:
  v     1 (the schema version)
  id    unique event id (string); the same id twice is the same event, stored once
  kind  one of KINDS below
  time  ISO 8601 UTC time of the change on the platform, e.g. "2026-03-01T12:00:00Z"
  data  an object whose fields depend on `kind`

The kinds, their fields, limits and enums are declared once in `netwarden.model`, from which
events.schema.json and docs/events.md's tables are generated. This module is the fast path used
during ingestion (jsonschema, or building the model's classes, is too slow per record): its checks
are written out by hand, and tests/ingest/test_event_model.py holds them to the model's fields.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from netwarden import limits as L
from netwarden import model
from netwarden.model import (
    ACCOUNT_STATES,
    MEDIA_KINDS,
    REPORT_CATEGORIES,
    REPORT_OUTCOMES,
    REPORTER_KINDS,
    REQUEST_STATES,
    SCHEMA_VERSION,
    SESSION_EVENTS,
    VISIBILITIES,
)

# Limits come from netwarden.limits, which the store's column types use too (docs/events.md).
MAX_ID = L.ID
MAX_TEXT = L.TEXT  # characters in a text field (post text, bio)
MAX_SHORT = L.SHORT  # display name, reason, user agent, ...
MAX_LIST = L.LIST  # items in mentions / hashtags / urls / media

_TIME_RE = re.compile(model.IsoTime().pattern)
_PDQ_RE = re.compile(r"^[0-9a-fA-F]{64}$")


class BadRecord(ValueError):
    """A record that goes to the dead-letter file; the message is the reason."""


def _str(d: dict, key: str, *, required: bool = True, max_len: int = MAX_SHORT, where: str = "data") -> str | None:
    v = d.get(key)
    if v is None:
        if required:
            raise BadRecord(f"missing field {where}.{key}")
        return None
    if not isinstance(v, str):
        raise BadRecord(f"field {where}.{key} must be a string, not {type(v).__name__}")
    if len(v) > max_len:
        raise BadRecord(f"field {where}.{key} is oversized ({len(v)} characters, limit {max_len})")
    return v


def _id(d: dict, key: str, *, required: bool = True, where: str = "data") -> str | None:
    v = _str(d, key, required=required, max_len=MAX_ID, where=where)
    if v is not None and not v:
        raise BadRecord(f"field {where}.{key} is empty")
    return v


def _bool(d: dict, key: str, where: str = "data") -> bool | None:
    v = d.get(key)
    if v is None:
        return None
    if not isinstance(v, bool):
        raise BadRecord(f"field {where}.{key} must be true or false, not {type(v).__name__}")
    return v


def _int(d: dict, key: str, where: str = "data") -> int | None:
    v = d.get(key)
    if v is None:
        return None
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise BadRecord(f"field {where}.{key} must be a non-negative integer")
    return v


def _enum(d: dict, key: str, allowed: tuple[str, ...], *, required: bool, where: str = "data") -> str | None:
    v = _str(d, key, required=required, where=where)
    if v is not None and v not in allowed:
        raise BadRecord(f"field {where}.{key} is {v!r}; expected one of {', '.join(allowed)}")
    return v


def _time(d: dict, key: str, *, required: bool, where: str) -> str | None:
    v = _str(d, key, required=required, max_len=40, where=where)
    if v is not None:
        if not _TIME_RE.match(v):
            raise BadRecord(f"field {where}.{key} is not an ISO 8601 time like 2026-01-31T12:00:00Z")
        if len(v) != 20 or v[19] != "Z":
            d[key] = canonical_time(v)
    return v


def canonical_time(v: str) -> str:
    """UTC, whole seconds, ending in Z: the one form stored, so times compare correctly as text."""
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        raise BadRecord(f"time {v!r} is not a valid date and time") from None
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _list(d: dict, key: str, where: str = "data") -> list:
    v = d.get(key)
    if v is None:
        return []
    if not isinstance(v, list):
        raise BadRecord(f"field {where}.{key} must be a list")
    if len(v) > MAX_LIST:
        raise BadRecord(f"field {where}.{key} is oversized ({len(v)} items, limit {MAX_LIST})")
    return v


def _str_list(d: dict, key: str, max_len: int = MAX_SHORT, where: str = "data") -> list[str]:
    out = _list(d, key, where)
    for i, item in enumerate(out):
        if not isinstance(item, str):
            raise BadRecord(f"field {where}.{key}[{i}] must be a string")
        if len(item) > max_len:
            raise BadRecord(f"field {where}.{key}[{i}] is oversized")
    return out


def _links(d: dict, key: str, where: str = "data") -> list[str]:
    """A post's links: each at most LINK characters and LINK bytes in UTF-8 (they key an index)."""
    out = _str_list(d, key, L.LINK, where)
    for i, item in enumerate(out):
        if not item.isascii() and len(item.encode("utf-8", "surrogatepass")) > L.LINK:
            raise BadRecord(f"field {where}.{key}[{i}] is oversized (over {L.LINK} bytes in UTF-8)")
    return out


def check_media(m: Any, where: str) -> dict:
    if not isinstance(m, dict):
        raise BadRecord(f"field {where} must be an object")
    _id(m, "id", where=where)
    _enum(m, "kind", MEDIA_KINDS, required=False, where=where)
    _str(m, "uri", required=False, max_len=L.URI, where=where)
    _int(m, "size", where)
    _str(m, "mime", required=False, max_len=L.MIME, where=where)
    _int(m, "width", where)
    _int(m, "height", where)
    _str(m, "alt_text", required=False, max_len=MAX_TEXT, where=where)
    _str(m, "sha256", required=False, max_len=64, where=where)
    _str(m, "md5", required=False, max_len=32, where=where)
    _pdq(m, where)
    return m


def _pdq(m: dict, where: str) -> None:
    """pdq: the platform's PDQ hash of the image (64 hex digits), with pdq_quality (0-100) beside it."""
    pdq = _str(m, "pdq", required=False, max_len=64, where=where)
    if pdq is not None and not _PDQ_RE.match(pdq):
        raise BadRecord(f"field {where}.pdq must be a PDQ hash of 64 hex digits")
    q = m.get("pdq_quality")
    if q is None:
        if pdq is not None:
            raise BadRecord(f"field {where}.pdq_quality is missing: a pdq needs its quality (0-100) beside it")
        return
    if type(q) is not int or not 0 <= q <= 100:
        raise BadRecord(f"field {where}.pdq_quality must be an integer from 0 to 100")


def _account(d: dict) -> str:
    _id(d, "id")
    _str(d, "handle", max_len=L.HANDLE)
    _str(d, "display_name", required=False)
    _str(d, "bio", required=False, max_len=MAX_TEXT)
    _time(d, "created_at", required=False, where="data")
    _bool(d, "protected")
    _str(d, "url", required=False, max_len=L.URI)
    _str(d, "email", required=False, max_len=L.EMAIL)
    for key in ("avatar", "header"):
        if d.get(key) is not None:
            check_media(d[key], f"data.{key}")
    return d["id"]


def _account_state(d: dict) -> str:
    _id(d, "account_id")
    _enum(d, "state", ACCOUNT_STATES, required=True)
    _str(d, "reason", required=False)
    return d["account_id"]


def _post(d: dict) -> str:
    _id(d, "id")
    _id(d, "author_id")
    _str(d, "text", required=False, max_len=MAX_TEXT)
    _time(d, "created_at", required=False, where="data")
    for key in ("reply_to", "reply_to_account", "repost_of", "quote_of"):
        _id(d, key, required=False)
    _str_list(d, "mentions", MAX_ID)
    _str_list(d, "hashtags", L.TAG)
    _links(d, "urls")
    for i, m in enumerate(_list(d, "media")):
        check_media(m, f"data.media[{i}]")
    _enum(d, "visibility", VISIBILITIES, required=False)
    _str(d, "lang", required=False, max_len=L.LANG)
    return d["id"]


def _post_edit(d: dict) -> str:
    _id(d, "id")
    _str(d, "text", required=True, max_len=MAX_TEXT)
    _str_list(d, "mentions", MAX_ID)
    _str_list(d, "hashtags", L.TAG)
    _links(d, "urls")
    return d["id"]


def _post_delete(d: dict) -> str:
    _id(d, "id")
    return d["id"]


def _pair(d: dict) -> str:
    _id(d, "src")
    _id(d, "dst")
    return d["src"]


def _follow_request(d: dict) -> str:
    _pair(d)
    _enum(d, "state", REQUEST_STATES, required=True)
    return d["src"]


def _like(d: dict) -> str:
    _id(d, "account_id")
    _id(d, "post_id")
    return d["account_id"]


def _session(d: dict) -> str:
    _id(d, "account_id")
    _str(d, "ip", max_len=L.IP)
    _enum(d, "event", SESSION_EVENTS, required=False)
    _str(d, "user_agent", required=False)
    _str(d, "device_id", required=False, max_len=L.DEVICE)
    return d["account_id"]


def _report(d: dict) -> str:
    _id(d, "id")
    _id(d, "account_id")
    _enum(d, "category", REPORT_CATEGORIES, required=True)
    kind = _enum(d, "reporter_kind", REPORTER_KINDS, required=True)
    _id(d, "reporter_id", required=kind == "account")
    _str_list(d, "posts", MAX_ID)
    _str_list(d, "media", MAX_ID)
    _str_list(d, "rules")
    _str(d, "comment", required=False, max_len=MAX_TEXT)
    _time(d, "created_at", required=False, where="data")
    _str(d, "source", required=False, max_len=L.SOURCE)
    _str(d, "lang", required=False, max_len=L.LANG)
    return d["account_id"]


def _report_resolution(d: dict) -> str:
    _id(d, "report_id")
    _enum(d, "outcome", REPORT_OUTCOMES, required=True)
    _str(d, "by", required=False, max_len=L.ACTOR)
    _str(d, "note", required=False, max_len=MAX_TEXT)
    return d["report_id"]


# Fast paths: well-formed records (nearly all of them) pass a few inline type and length tests;
# anything else goes through the checks above, which name the first problem. A fast path accepts
# only what the full checks accept, so the reasons given for bad records do not change.

def _is_id(v: object) -> bool:
    return type(v) is str and 0 < len(v) <= MAX_ID


def _strs_ok(v: list, max_len: int) -> bool:
    if len(v) > MAX_LIST:
        return False
    for x in v:
        if type(x) is not str or len(x) > max_len:
            return False
    return True


def _links_ok(v: list) -> bool:
    if len(v) > MAX_LIST:
        return False
    for x in v:
        if type(x) is not str or len(x) > L.LINK or not x.isascii() and len(x.encode("utf-8", "surrogatepass")) > L.LINK:
            return False
    return True


def _post_fast(d: dict) -> str:
    g = d.get
    pid, author, text = g("id"), g("author_id"), g("text")
    if not (type(pid) is str and 0 < len(pid) <= MAX_ID and type(author) is str and 0 < len(author) <= MAX_ID
            and (text is None or type(text) is str and len(text) <= MAX_TEXT)):
        return _post(d)
    for key in ("reply_to", "reply_to_account", "repost_of", "quote_of"):
        v = g(key)
        if v is not None and not (type(v) is str and 0 < len(v) <= MAX_ID):
            return _post(d)
    for key, max_len in (("mentions", MAX_ID), ("hashtags", L.TAG)):
        v = g(key)
        if v is not None and not (type(v) is list and _strs_ok(v, max_len)):
            return _post(d)
    v = g("urls")
    if v is not None and not (type(v) is list and _links_ok(v)):
        return _post(d)
    created, vis, lang, media = g("created_at"), g("visibility"), g("lang"), g("media")
    if not ((created is None or type(created) is str and len(created) == 20 and created[19] == "Z"
             and _TIME_RE.match(created) is not None)
            and (media is None or type(media) is list and len(media) <= MAX_LIST)
            and (vis is None or type(vis) is str and vis in VISIBILITIES)
            and (lang is None or type(lang) is str and len(lang) <= L.LANG)):
        return _post(d)
    if media:  # every other field passed, so a bad media item is the first problem
        for i, m in enumerate(media):
            check_media(m, f"data.media[{i}]")
    return pid


def _pair_fast(d: dict) -> str:
    src = d.get("src")
    return src if _is_id(src) and _is_id(d.get("dst")) else _pair(d)


def _like_fast(d: dict) -> str:
    acc = d.get("account_id")
    return acc if _is_id(acc) and _is_id(d.get("post_id")) else _like(d)


# kind -> validator returning the event's subject id
KINDS = {
    "account": _account,
    "account_state": _account_state,
    "post": _post_fast,
    "post_edit": _post_edit,
    "post_delete": _post_delete,
    "follow": _pair_fast,
    "unfollow": _pair_fast,
    "follow_request": _follow_request,
    "like": _like_fast,
    "unlike": _like_fast,
    "session": _session,
    "report": _report,
    "report_resolution": _report_resolution,
}
if tuple(KINDS) != model.KINDS:
    raise RuntimeError("every kind in netwarden.model needs its validator here, in the same order")


def validate(rec: Any) -> str:
    """Check one decoded record; return its subject id or raise BadRecord with the reason."""
    if type(rec) is dict:  # fast path for a well-formed envelope (see _post_fast)
        eid, kind, t, data = rec.get("id"), rec.get("kind"), rec.get("time"), rec.get("data")
        if (rec.get("v") == SCHEMA_VERSION and type(eid) is str and 0 < len(eid) <= L.EVENT_ID and type(kind) is str
                and kind in KINDS and type(t) is str and len(t) == 20 and t[19] == "Z"
                and _TIME_RE.match(t) is not None and type(data) is dict):
            return KINDS[kind](data)
    return _validate(rec)


def _validate(rec: Any) -> str:
    if not isinstance(rec, dict):
        raise BadRecord(f"record must be a JSON object, not {type(rec).__name__}")
    v = rec.get("v")
    if v != SCHEMA_VERSION:
        raise BadRecord(f"field v is {v!r}; this Netwarden reads schema version {SCHEMA_VERSION}")
    _str(rec, "id", max_len=L.EVENT_ID, where="event")
    if not rec["id"]:
        raise BadRecord("field event.id is empty")
    kind = _str(rec, "kind", where="event")
    if kind not in KINDS:
        raise BadRecord(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    _time(rec, "time", required=True, where="event")
    data = rec.get("data")
    if not isinstance(data, dict):
        raise BadRecord("field data must be an object" if data is not None else "missing field data")
    return KINDS[kind](data)


def looks_native(rec: Any) -> bool:
    """True when a decoded record is shaped like a native event (for --format sniffing)."""
    return isinstance(rec, dict) and "kind" in rec and "data" in rec and "v" in rec
