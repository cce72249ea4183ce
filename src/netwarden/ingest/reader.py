"""Streaming reader of JSON Lines files with byte offsets (for checkpoints) and per-line errors."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from netwarden.limits import NUL, NUL_REPLACEMENT

MAX_LINE = 1 << 20  # a record over 1 MiB goes to the dead-letter file
MAX_DOCUMENT = 512 << 20  # a single pretty-printed JSON document is read whole up to this size


@dataclass(slots=True)
class Line:
    number: int  # 1-based
    end: int  # byte offset just after this line
    raw: bytes
    value: object = None
    error: str | None = None


def fingerprint(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.sha256(f.read(4096)).hexdigest()


NUL_ESCAPE = b"\\u0000"  # the only way a JSON text can hold a NUL character


def clean_nul(value: object) -> object:
    """`value` with every NUL character in its strings (and keys) replaced by U+FFFD.

    PostgreSQL cannot store NUL in text; SQLite can. Replacing it here, as each record is decoded and
    before anything reads it, makes both backends store the same thing (netwarden.limits)."""
    if isinstance(value, str):
        return value.replace(NUL, NUL_REPLACEMENT) if NUL in value else value
    if isinstance(value, list):
        return [clean_nul(v) for v in value]
    if isinstance(value, dict):
        return {clean_nul(k): clean_nul(v) for k, v in value.items()}
    return value


def decode_record(raw: bytes, limit: int | None = MAX_LINE, where: str = "column") -> tuple[object, str | None, bytes]:
    """The JSON value of `raw`, or the reason it has none (size, UTF-8, JSON syntax), and the raw
    record to keep: when NUL characters were replaced in the value (clean_nul), the value written
    out again, so the event log holds what was stored."""
    if limit is not None and len(raw) > limit:
        return None, f"oversized record ({len(raw)} bytes, limit {limit})", raw
    if not raw.isascii():  # ASCII is valid UTF-8
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as e:
            return None, f"invalid UTF-8 at byte {e.start}", raw
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        pos = e.colno if where == "column" else e.lineno
        return None, f"malformed JSON ({e.msg} at {where} {pos})", raw
    if NUL_ESCAPE in raw:
        value = clean_nul(value)
        raw = orjson.dumps(value)
    return value, None, raw


def _decode(raw: bytes, limit: int | None = MAX_LINE, where: str = "column") -> tuple[object, str | None]:
    """decode_record without the raw record."""
    value, err, _ = decode_record(raw, limit, where)
    return value, err


BOM = b"\xef\xbb\xbf"  # a UTF-8 byte order mark, which some Windows tools write first: skipped


def is_single_document(path: Path) -> bool:
    """True for one JSON document rather than JSON Lines.

    That is a pretty-printed document (its first line alone is an unfinished JSON value), or a file
    of one line only, however long (read whole, up to MAX_DOCUMENT). A first line that is a whole
    JSON value, or is broken in the middle, or is over MAX_LINE with more lines after it, starts
    JSON Lines: an oversized or malformed first record is a dead letter, not a refused file.
    """
    with path.open("rb") as f:
        first = f.readline(MAX_LINE + 1)
        if first.startswith(BOM):
            first = first[len(BOM):]
        long_line = len(first) > MAX_LINE and not first.endswith(b"\n")
        if long_line:  # skip the rest of the line without holding it; then is there another record?
            while (chunk := f.readline(MAX_LINE)) and not chunk.endswith(b"\n"):
                pass
            return not any(raw.strip() for raw in iter(lambda: f.readline(MAX_LINE), b""))
    first = first.strip()
    if not first.startswith((b"{", b"[")):
        return False
    try:
        orjson.loads(first)
        return False
    except orjson.JSONDecodeError as e:
        return e.pos >= len(first)  # ran out of input: the value goes on in the next lines


def read_lines(path: Path, start: int = 0, start_line: int = 0) -> Iterator[Line]:
    """Yield decoded lines from byte offset `start`; blank lines are skipped but counted."""
    if start == 0 and is_single_document(path):
        size = path.stat().st_size
        if size > MAX_DOCUMENT:
            yield Line(1, size, b"", None, f"single JSON document too large ({size} bytes); split it into JSON Lines")
            return
        raw = path.read_bytes()
        if raw.startswith(BOM):
            raw = raw[len(BOM):]
        value, err, raw = decode_record(raw, None, where="line")
        yield Line(1, size, raw, value, err)
        return
    number = start_line
    offset = start
    with path.open("rb") as f:
        f.seek(start)
        while True:
            raw = f.readline(MAX_LINE + 2)
            if not raw:
                return
            if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                # swallow the rest of an oversized line without holding it
                rest = 0
                while True:
                    chunk = f.readline(MAX_LINE)
                    rest += len(chunk)
                    if not chunk or chunk.endswith(b"\n"):
                        break
                number += 1
                offset += len(raw) + rest
                yield Line(number, offset, raw[:2000], None, f"oversized record (over {MAX_LINE} bytes)")
                continue
            number += 1
            offset += len(raw)
            body = raw.strip()
            if number == 1 and body.startswith(BOM):
                body = body[len(BOM):].strip()
            if not body:
                continue
            value, err, body = decode_record(body)
            yield Line(number, offset, body, value, err)

