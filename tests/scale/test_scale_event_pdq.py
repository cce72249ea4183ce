"""The stream's `--media lookup` with event-supplied PDQ hashes (issue #8): no file is read.

A platform running an HMA-style pipeline sends `pdq` and `pdq_quality` with each media; the
lookup hook searches the banks' PDQ index with them (original orientation only), writes the same
`media_match` signals as the file-hashing hook, and keeps the hashes for retro-matching.
"""

from __future__ import annotations

import json
import random

import numpy as np
import orjson
from PIL import Image
from sqlalchemy import func, select

from netwarden.ingest.pipeline import Ingestor, load_hooks
from netwarden.media.hashing import hash_file
from netwarden.scale.hash_lookup import stream_hooks
from netwarden.store import media_banks as mb
from netwarden.store import open_store
from netwarden.store.schema import signals
from netwarden.store.tables_media import media_hashes

T = "2026-03-01T12:00:00Z"


def flip(hx: str, bits: int, seed: int = 0) -> str:
    """hx with `bits` distinct bits flipped: a hash at Hamming distance `bits`."""
    v = int(hx, 16)
    for b in random.Random(seed).sample(range(256), bits):
        v ^= 1 << b
    return f"{v:064x}"


def rand_pdq(seed: int) -> str:
    return f"{random.Random(seed).getrandbits(256):064x}"


def post(n: int, media: list[dict], author: str = "acc1") -> dict:
    return {"v": 1, "id": f"ev{n}", "kind": "post", "time": T, "data": {"id": f"post{n}", "author_id": author,
                                                                         "text": "x", "media": media}}


def ingest(url: str, events: list[dict], path, hooks_for) -> None:
    path.write_bytes(b"\n".join(orjson.dumps(e) for e in events) + b"\n")
    store = open_store(url)
    Ingestor(store, "native", 50, hooks_for(store)).run([path], None)
    store.close()


def lookup(store):
    return stream_hooks(store, None, "lookup")


def bank(url: str, name: str, signals_: list[str], *, negative: bool = False, threshold: int = 31) -> None:
    store = open_store(url)
    with store.engine.begin() as conn:
        b = mb.create_bank(conn, name, threshold=threshold, negative=negative)
        mb.add_entries(conn, b["id"], [("pdq", s, name) for s in signals_])
    store.close()


def matches(url: str) -> list[tuple[str, str, dict]]:
    store = open_store(url)
    with store.engine.connect() as conn:
        rows = [(r.subject_type, r.subject_id, json.loads(r.detail)) for r in conn.execute(
            select(signals).where(signals.c.kind == "media_match").order_by(signals.c.key))]
    store.close()
    return rows


def hashes_rows(url: str) -> dict[str, dict]:
    store = open_store(url)
    with store.engine.connect() as conn:
        out = {r["media_id"]: dict(r) for r in conn.execute(select(media_hashes)).mappings()}
    store.close()
    return out


def test_event_pdq_matches_within_threshold_only_and_usable_quality_only(db_url, tmp_path):
    known, cleared = rand_pdq(1), rand_pdq(2)
    bank(db_url, "known", [known, cleared])
    bank(db_url, "cleared", [flip(cleared, 3, seed=9)], negative=True)
    media = [
        {"id": "m-same", "pdq": known.upper(), "pdq_quality": 90},  # distance 0 (upper-case hex accepted)
        {"id": "m-near", "pdq": flip(known, 31), "pdq_quality": 80},  # at the bank's threshold
        {"id": "m-far", "pdq": flip(known, 32), "pdq_quality": 80},  # one bit beyond it
        {"id": "m-blurry", "pdq": known, "pdq_quality": 49},  # below MIN_QUALITY: never matched
        {"id": "m-cleared", "pdq": flip(cleared, 5), "pdq_quality": 100},  # suppressed by the negative bank
    ]
    ingest(db_url, [post(i, [m]) for i, m in enumerate(media)], tmp_path / "ev.jsonl", lookup)

    got = matches(db_url)
    assert {(st, sid) for st, sid, _ in got} == {
        ("media", "m-same"), ("post", "post0"), ("account", "acc1"),
        ("media", "m-near"), ("post", "post1")}  # the account's two matches: two signals on acc1
    assert len(got) == 6
    by_media = {d["media_id"]: d for st, _, d in got if st == "media"}
    assert by_media["m-same"]["distance"] == 0 and by_media["m-near"]["distance"] == 31
    for d in by_media.values():  # the reasons: which bank, which entry, how far, which orientation
        assert d["bank"] == "known" and d["signal_type"] == "pdq" and d["variant"] == "orig"
        assert d["role"] == "post" and isinstance(d["entry"], int)

    # the hashes are kept (lower-case, no variants, marked as the event's) for retro-matching
    rows = hashes_rows(db_url)
    assert set(rows) == {m["id"] for m in media}
    assert rows["m-same"]["pdq"] == known and rows["m-same"]["format"] == mb.EVENT_FORMAT
    assert rows["m-blurry"]["quality"] == 49 and rows["m-same"]["variants"] is None


def test_the_file_hashed_later_stores_the_same_match_once_and_replaces_the_event_row(db_url, tmp_path):
    rng = np.random.default_rng(3)  # an abstract image: a gradient with blocks of noise
    img = np.linspace(0, 255, 256 * 256 * 3).reshape(256, 256, 3).astype(np.uint8)
    img[64:192, 32:128] = rng.integers(0, 255, (128, 96, 3), dtype=np.uint8)
    (tmp_path / "media").mkdir()
    Image.fromarray(img).save(tmp_path / "media" / "shape.png")
    h = hash_file(tmp_path / "media" / "shape.png")
    assert h.usable
    bank(db_url, "known", [flip(h.pdq, 4)])
    item = {"id": "m1", "kind": "photo", "uri": "media/shape.png", "pdq": h.pdq, "pdq_quality": h.quality}

    ingest(db_url, [post(1, [item])], tmp_path / "a.jsonl", lookup)
    first = matches(db_url)
    assert len(first) == 3 and first[0][2]["distance"] == 4

    # a media tier runs the full hook on the same media (here: the same event again, from a file)
    ingest(db_url, [post(1, [item]), post(2, [item], author="acc2")], tmp_path / "b.jsonl", load_hooks)
    after = matches(db_url)
    assert [r for r in after if r[1] != "acc2" and r[1] != "post2"] == first  # nothing stored twice
    assert {(st, sid) for st, sid, _ in after} - {(st, sid) for st, sid, _ in first} == {
        ("post", "post2"), ("account", "acc2")}
    row = hashes_rows(db_url)["m1"]
    assert row["format"] == "PNG" and row["pdq"] == h.pdq and len(json.loads(row["variants"])) == 8


def test_event_hashes_do_not_replace_a_hashed_file_and_lookup_runs_without_banks(db_url, tmp_path):
    ingest(db_url, [post(1, [{"id": "m1", "pdq": rand_pdq(5), "pdq_quality": 70, "md5": "ab" * 16}])],
           tmp_path / "a.jsonl", lookup)
    assert matches(db_url) == []
    store = open_store(db_url)
    with store.engine.begin() as conn:
        conn.execute(media_hashes.update().values(format="JPEG", variants="{}"))  # as if hashed from the file
    store.close()
    ingest(db_url, [post(2, [{"id": "m1", "pdq": rand_pdq(6), "pdq_quality": 70}])], tmp_path / "b.jsonl", lookup)
    row = hashes_rows(db_url)["m1"]
    assert row["format"] == "JPEG" and row["pdq"] == rand_pdq(5) and row["md5"] == "ab" * 16
    store = open_store(db_url)
    with store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(media_hashes)) == 1
    store.close()


def test_event_byte_hashes_match_whatever_their_hex_case(db_url, tmp_path):
    store = open_store(db_url)
    with store.engine.begin() as conn:
        b = mb.create_bank(conn, "exact")
        mb.add_entries(conn, b["id"], [("md5", "ab" * 16, "k1"), ("sha256", "cd" * 32, "k2")])
    store.close()
    ingest(db_url, [post(1, [{"id": "m-md5", "md5": "AB" * 16}]), post(2, [{"id": "m-sha", "sha256": "Cd" * 32}])],
           tmp_path / "ev.jsonl", lookup)
    got = {d["media_id"]: d["signal_type"] for st, _, d in matches(db_url) if st == "media"}
    assert got == {"m-md5": "md5", "m-sha": "sha256"}
