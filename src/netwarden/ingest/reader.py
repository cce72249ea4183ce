"""Streaming reader of JSON Lines files with byte offsets (for checkpoints) and per-line errors."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

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


def _decode(raw: bytes, limit: int | None = MAX_LINE, where: str = "column") -> tuple[object, str | None]:
    """The JSON value of `raw`, or the reason it has none (size, UTF-8, JSON syntax)."""
    if limit is not None and len(raw) > limit:
        return None, f"oversized record ({len(raw)} bytes, limit {limit})"
    if not raw.isascii():  # ASCII is valid UTF-8
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as e:
            return None, f"invalid UTF-8 at byte {e.start}"
    try:
        return orjson.loads(raw), None
    except orjson.JSONDecodeError as e:
        pos = e.colno if where == "column" else e.lineno
        return None, f"malformed JSON ({e.msg} at {where} {pos})"


def is_single_document(path: Path) -> bool:
    """True for a pretty-printed JSON document (the first line alone is not a JSON value)."""
    with path.open("rb") as f:
        first = f.readline(MAX_LINE).strip()
    if not first.startswith((b"{", b"[")):
        return False
    try:
        orjson.loads(first)
        return False
    except orjson.JSONDecodeError:
        return True


def read_lines(path: Path, start: int = 0, start_line: int = 0) -> Iterator[Line]:
    """Yield decoded lines from byte offset `start`; blank lines are skipped but counted."""
    if start == 0 and is_single_document(path):
        size = path.stat().st_size
        if size > MAX_DOCUMENT:
            yield Line(1, size, b"", None, f"single JSON document too large ({size} bytes); split it into JSON Lines")
            return
        raw = path.read_bytes()
        value, err = _decode(raw, None, where="line")
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
            if not body:
                continue
            value, err = _decode(body)
            yield Line(number, offset, body, value, err)

