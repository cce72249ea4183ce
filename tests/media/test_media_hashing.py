"""PDQ / dihedral / byte hashes and vPDQ against the reference data in ../shared/testdata."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from netwarden.media.hashing import VARIANTS, hamming_hex, hash_bytes, hash_file, pdq_from_rgb
from netwarden.media.video import match_videos, read_reference, vpdq_file

TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "testdata"
PDQ = TESTDATA / "pdq"
EXPECTED = list(csv.DictReader(open(PDQ / "EXPECTED.csv", encoding="utf-8")))


@pytest.mark.parametrize("row", EXPECTED, ids=[r["path"] for r in EXPECTED])
@pytest.mark.parametrize("fast", [False, True])
def test_reference_pdq_within_10_bits(row, fast):
    h = hash_file(PDQ / row["path"], fast=fast)
    assert h.error is None
    assert hamming_hex(h.pdq, row["pdq_hex"]) <= 10


def test_full_decode_is_bit_exact_on_reference():
    for row in EXPECTED:
        assert hash_file(PDQ / row["path"], fast=False).pdq == row["pdq_hex"]


def test_small_jpg_is_reported_unusable():
    h = hash_file(PDQ / "misc-images" / "small.jpg")
    assert h.quality == 0 and not h.usable and h.pdq is not None


def test_byte_hashes():
    p = PDQ / "misc-images" / "wee.jpg"
    data = p.read_bytes()
    h = hash_file(p)
    assert h.md5 == hashlib.md5(data).hexdigest() and h.sha256 == hashlib.sha256(data).hexdigest()
    assert h.size == len(data)


def test_dihedral_variants_match_rotated_and_mirrored_copies():
    img = Image.open(PDQ / "bridge-mods" / "aaa-orig.jpg").convert("RGB")
    orig = pdq_from_rgb(np.asarray(img))
    assert set(orig.variants) == set(VARIANTS) and orig.variants["orig"] == orig.hash
    for t in (Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180, Image.Transpose.ROTATE_270,
              Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.FLIP_TOP_BOTTOM, Image.Transpose.TRANSPOSE):
        moved = pdq_from_rgb(np.asarray(img.transpose(t)), dihedral=False).hash
        assert hamming_hex(moved, orig.hash) > 31  # a plain PDQ misses it ...
        assert min(hamming_hex(moved, v) for v in orig.variants.values()) <= 10  # ... a variant catches it


def test_fast_path_on_a_large_generated_jpeg():
    img = Image.open(PDQ / "bridge-mods" / "aaa-orig.jpg").convert("RGB").resize((4032, 2530), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=92)
    data = buf.getvalue()
    fast, full = hash_bytes(data, "big.jpg", fast=True), hash_bytes(data, "big.jpg", fast=False)
    assert fast.fast and not full.fast
    assert fast.width == full.width == 4032
    assert hamming_hex(fast.pdq, full.pdq) <= 10


VIDEOS = sorted((TESTDATA / "vpdq").glob("*.mp4"))


@pytest.mark.slow
@pytest.mark.parametrize("video", VIDEOS, ids=[v.name for v in VIDEOS])
def test_vpdq_every_frame_within_31_bits_of_reference(video):
    ours = vpdq_file(video, fps=0)
    ref = read_reference(video.with_suffix(".txt"))
    assert len(ours) == len(ref)
    usable = [(a, b) for a, b in zip(ours, ref, strict=True) if b.quality >= 50]
    assert usable
    assert max(hamming_hex(a.pdq, b.pdq) for a, b in usable) <= 31
    assert abs(ours[-1].timestamp - ref[-1].timestamp) < 0.01


def test_vpdq_one_frame_a_second_and_video_matching():
    video = TESTDATA / "vpdq" / "pattern-sd-grey-bar.mp4"
    frames = vpdq_file(video)  # default: one frame a second
    assert [f.frame for f in frames[:3]] == [0, 30, 60]
    ref = read_reference(video.with_suffix(".txt"))
    q, t = match_videos(frames, ref)
    assert q == 100.0 and t > 10.0  # every query frame matches; the target has 30x more frames
    other = read_reference(TESTDATA / "vpdq" / "doorknob-hd-no-bar.txt")
    assert match_videos(frames, other) == (0.0, 0.0)


def test_video_hash_via_hash_file():
    h = hash_file(TESTDATA / "vpdq" / "pattern-sd-grey-bar.mp4")
    assert h.kind == "video" and h.vpdq and h.md5 and h.error is None


def test_corrupt_video_is_one_clear_error(tmp_path):
    p = tmp_path / "broken.mp4"
    p.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    h = hash_file(p)
    assert h.error and h.error_reason in ("corrupt", "not_image") and "broken.mp4" in h.error
