"""Helpers shared by the foreign-format adapters (twitter.py, mastodon.py).

Typed field access that raises BadRecord with the field's path, time normalisation, stable short
hashes for event ids, HTML-to-text, and the envelope that names whose list a response is.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from datetime import UTC, datetime
from typing import Any

from lxml import html as lxml_html

from netwarden import limits as L
from netwarden.ingest.events import BadRecord

EPOCH = "1970-01-01T00:00:00Z"
_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")


# -- typed access ---------------------------------------------------------------------------------


def req_str(d: dict, key: str, where: str) -> str:
    v = d.get(key)
    if v is None:
        raise BadRecord(f"missing field {where}.{key}")
    if not isinstance(v, str):
        raise BadRecord(f"field {where}.{key} must be a string, not {type(v).__name__}")
    return v


def req_id(d: dict, key: str, where: str) -> str:
    v = req_str(d, key, where)
    if not v:
        raise BadRecord(f"field {where}.{key} is empty")
    return v


def opt_str(d: dict, key: str, where: str) -> str | None:
    v = d.get(key)
    if v is None:
        return None
    if not isinstance(v, str):
        raise BadRecord(f"field {where}.{key} must be a string, not {type(v).__name__}")
    return v


def opt_bool(d: dict, key: str, where: str) -> bool | None:
    v = d.get(key)
    if v is None:
        return None
    if not isinstance(v, bool):
        raise BadRecord(f"field {where}.{key} must be true or false, not {type(v).__name__}")
    return v


def opt_int(d: dict, key: str, where: str) -> int | None:
    v = d.get(key)
    if v is None:
        return None
    if not isinstance(v, int) or isinstance(v, bool):
        raise BadRecord(f"field {where}.{key} must be an integer, not {type(v).__name__}")
    return v if v >= 0 else None


def opt_dict(d: dict, key: str, where: str) -> dict:
    v = d.get(key)
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise BadRecord(f"field {where}.{key} must be an object, not {type(v).__name__}")
    return v


def opt_list(d: dict, key: str, where: str) -> list:
    v = d.get(key)
    if v is None:
        return []
    if not isinstance(v, list):
        raise BadRecord(f"field {where}.{key} must be a list, not {type(v).__name__}")
    return v


def dicts(d: dict, key: str, where: str) -> list[tuple[str, dict]]:
    """The items of list field `key`, each checked to be an object, with its path."""
    out = []
    for i, item in enumerate(opt_list(d, key, where)):
        if not isinstance(item, dict):
            raise BadRecord(f"field {where}.{key}[{i}] must be an object, not {type(item).__name__}")
        out.append((f"{where}.{key}[{i}]", item))
    return out


# -- times ----------------------------------------------------------------------------------------


def norm_time(v: Any, where: str) -> str:
    """A time in the one canonical form "2026-01-31T12:00:00Z" (UTC, whole seconds).

    The store orders versions of a row by "<time> <event id>" compared as text, so every time the
    adapters emit has the same shape: "...00.000Z" and "+00:00" variants would compare wrongly.
    Naive times are taken as UTC.
    """
    if not isinstance(v, str):
        raise BadRecord(f"field {where} must be a time string, not {type(v).__name__}")
    if len(v) == 20 and _TIME_RE.match(v) and v.endswith("Z"):
        return v
    try:
        t = datetime.fromisoformat(v.replace(" ", "T", 1).replace("Z", "+00:00"))
    except ValueError:
        raise BadRecord(f"field {where} is not an ISO 8601 time: {v[:40]!r}") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def opt_time(d: dict, key: str, where: str) -> str | None:
    v = d.get(key)
    return None if v is None else norm_time(v, f"{where}.{key}")


def newest(times: list[str | None]) -> str | None:
    """The latest of some canonical times (which sort as text)."""
    real = [t for t in times if t]
    return max(real) if real else None


# -- ids and text ---------------------------------------------------------------------------------


def short_hash(obj: Any, n: int = 12) -> str:
    """A stable short hash of a JSON-able value (sorted keys), for content-addressed event ids."""
    raw = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:n]


def event(eid: str, kind: str, time: str, data: dict) -> dict:
    return {"v": 1, "id": eid, "kind": kind, "time": time, "data": data}


def compact(d: dict) -> dict:
    """Drop None values and empty lists, so events stay small and hashes stable."""
    return {k: v for k, v in d.items() if v is not None and v != []}


def html_to_text(fragment: str | None) -> str:
    """Plain text of an HTML fragment (Mastodon content, note, field values).

    <br> and the end of each <p> become newlines; tags are dropped; entities decoded.
    """
    if not fragment:
        return ""
    if "<" not in fragment:
        return html.unescape(fragment)
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except Exception:  # lxml raises several types on garbage; fall back to dropping tags
        return html.unescape(re.sub(r"<[^>]*>", "", fragment))
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for p in root.iter("p"):
        p.tail = "\n" + (p.tail or "")
    text = root.text_content()
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n")).strip()


def html_links(fragment: str | None) -> list[tuple[str, str]]:
    """(href, class attribute + rel) of every <a> in an HTML fragment."""
    if not fragment or "<a" not in fragment:
        return []
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except Exception:
        return []
    out = []
    for a in root.iter("a"):
        href = a.get("href")
        if href:
            out.append((href, f"{a.get('class') or ''} {a.get('rel') or ''}"))
    return out


def fit_links(urls: list[str]) -> list[str]:
    """A post's links without those over the link limit (netwarden.limits): a tracking URL of 5,000
    characters must not cost the whole page its dead letter. Such a link stays in the post's text."""
    return [u for u in urls if len(u) <= L.LINK and (u.isascii() or len(u.encode("utf-8", "surrogatepass")) <= L.LINK)]


def fit_tags(tags: list[str]) -> list[str]:
    """Hashtags without those over the tag limit (they stay in the text)."""
    return [t for t in tags if 0 < len(t) <= L.TAG]


def dedupe(events: list[dict]) -> list[dict]:
    seen: set[str] = set()
    out = []
    for e in events:
        if e["id"] not in seen:
            seen.add(e["id"])
            out.append(e)
    return out


# -- envelope -------------------------------------------------------------------------------------

_REQUEST_RE = re.compile(r"^\s*(?:GET\s+)?(?:https?://[^/]+)?(/[^?#\s]*)")
_PLACEHOLDER_RE = re.compile(r"/(:[^/]*|\{[^/]*\}|<[^/]*>)(?=/|$)")  # /:id, /{id}, /<id>


def request_path(request: Any, where: str = "request", *, filled: bool = True) -> str:
    """The path of an envelope's `request` ("GET /2/users/1/followers?x=y" -> "/2/users/1/followers")."""
    if not isinstance(request, str):
        raise BadRecord(f"field {where} must be a string like 'GET /api/v1/accounts/1/followers'")
    m = _REQUEST_RE.match(request)
    if not m:
        raise BadRecord(f"field {where} is not a request line: {request[:80]!r}")
    path = m.group(1).rstrip("/")
    hole = _PLACEHOLDER_RE.search(path) if filled else None
    if hole:  # a template copied from the API docs: edges would go to an account named ':id'
        raise BadRecord(f"field {where} has the unfilled placeholder {hole.group(1)!r} ({request[:80]!r}); "
                        "write the real id into the request path")
    return path


def is_envelope(rec: Any) -> bool:
    return isinstance(rec, dict) and isinstance(rec.get("request"), str) and "response" in rec
