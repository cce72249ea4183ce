"""Issue 12, reader edges: a long first line, empty files, the wrong-format hint, a UTF-8 byte order mark."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import func, select

from netwarden.errors import UserError
from netwarden.ingest.pipeline import ingest_files
from netwarden.ingest.reader import MAX_LINE, read_lines
from netwarden.store import open_store
from netwarden.store import schema as t

BOM = b"\xef\xbb\xbf"


def _follow(i: int) -> bytes:
    return orjson.dumps({"v": 1, "id": f"f{i}", "kind": "follow", "time": "2026-01-01T00:00:00Z",
                         "data": {"src": f"a{i}", "dst": "b"}})


def _ingest(url, path, **kw):
    store = open_store(url)
    try:
        return ingest_files(store, [path], signals=False, **kw)
    finally:
        store.close()


def test_a_first_line_over_one_mib_is_one_dead_letter_and_the_rest_is_read(sqlite_url, tmp_path):
    big = orjson.dumps({"v": 1, "id": "big", "kind": "post", "time": "2026-01-01T00:00:00Z",
                        "data": {"id": "p", "author_id": "a", "text": "x" * (MAX_LINE + 10)}})
    path = tmp_path / "big-first.jsonl"
    path.write_bytes(big + b"\n" + _follow(1) + b"\n" + _follow(2) + b"\n")
    summary = _ingest(sqlite_url, path)
    assert (summary.events, summary.dead) == (2, 1)
    store = open_store(sqlite_url)
    with store.engine.connect() as c:
        assert c.execute(select(t.dead_letters.c.line, t.dead_letters.c.reason)).one() == (
            1, f"oversized record (over {MAX_LINE} bytes)")
    store.close()


def test_a_one_line_document_over_one_mib_is_read_whole(sqlite_url, tmp_path):
    """A minified response saved as one line is a JSON document, read up to the document limit."""
    statuses = [{"id": str(i), "created_at": "2026-01-01T00:00:00Z", "content": "<p>" + "y" * 50_000 + "</p>",
                 "visibility": "public", "account": {"id": "1", "username": "u", "acct": "u"}} for i in range(25)]
    path = tmp_path / "one-line.json"
    path.write_bytes(orjson.dumps(statuses))
    assert path.stat().st_size > MAX_LINE
    assert _ingest(sqlite_url, path, fmt="mastodon").dead == 0
    store = open_store(sqlite_url)
    with store.engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(t.posts)) == 25
    store.close()


@pytest.mark.parametrize("body", [b"", b"\n\n  \n", BOM, BOM + b"\n"])
def test_an_empty_file_is_one_clear_error_not_a_silent_success(sqlite_url, tmp_path, body):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(body)
    with pytest.raises(UserError, match=r"is empty \(no records\); nothing was ingested"):
        _ingest(sqlite_url, path)


def test_the_wrong_format_hint_never_names_the_format_just_passed(sqlite_url, tmp_path):
    native = tmp_path / "native.jsonl"
    native.write_bytes(_follow(1) + b"\n")
    with pytest.raises(UserError) as e:
        _ingest(sqlite_url, native, fmt="mastodon")
    assert str(e.value).endswith("is not mastodon data (it looks like native); pass --format native.")
    unknown = tmp_path / "unknown.jsonl"
    unknown.write_bytes(b'{"something": "else"}\n')
    for fmt in ("twitter-v2", "mastodon", "native"):
        with pytest.raises(UserError) as e:
            _ingest(sqlite_url, unknown, fmt=fmt)
        hint = str(e.value).split("; pass ", 1)[1]
        assert hint.startswith("another --format (") and fmt not in hint, hint


def test_a_utf8_byte_order_mark_is_skipped(sqlite_url, tmp_path):
    lines = tmp_path / "bom.jsonl"
    lines.write_bytes(BOM + _follow(1) + b"\n" + _follow(2) + b"\n")
    assert [ln.value["id"] for ln in read_lines(lines)] == ["f1", "f2"]
    summary = _ingest(sqlite_url, lines)
    assert (summary.events, summary.dead) == (2, 0)
    doc = tmp_path / "bom.json"  # a pretty-printed document written by a Windows tool
    doc.write_bytes(BOM + b'{\n "id": "9", "username": "u",\n "acct": "u"\n}\n')
    assert _ingest(sqlite_url, doc, fmt="mastodon").dead == 0
    store = open_store(sqlite_url)
    with store.engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(t.accounts).where(t.accounts.c.id == "9")) == 1
    store.close()


def test_a_utf16_file_is_one_clear_error(sqlite_url, tmp_path):
    path = tmp_path / "utf16.jsonl"
    path.write_bytes((_follow(1) + b"\n").decode().encode("utf-16"))
    with pytest.raises(UserError, match="is UTF-16 text; convert it to UTF-8"):
        _ingest(sqlite_url, path)
