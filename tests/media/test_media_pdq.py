"""Netwarden's own PDQ kernel (media/pdq.py) against pdqhash, and the luma fast path."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pdqhash
import pytest
from PIL import Image, ImageDraw

from netwarden.media import pdq
from netwarden.media.decode import decode
from netwarden.media.hashing import VARIANTS, bits_to_hex, hamming_hex, hash_bytes

TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "testdata"
PDQ = TESTDATA / "pdq"
EXPECTED = list(csv.DictReader(open(PDQ / "EXPECTED.csv", encoding="utf-8")))


def assert_equals_pdqhash(rgb: np.ndarray) -> None:
    ref8, q8 = pdqhash.compute_dihedral(rgb)
    ours8, oq8 = pdq.hash_rgb(rgb, dihedral=True)
    assert oq8 == q8
    for name, a, b in zip(VARIANTS, ours8, ref8, strict=True):
        assert np.array_equal(a, np.asarray(b, dtype=np.uint8)), name
    ref1, q1 = pdqhash.compute(rgb)
    ours1, oq1 = pdq.hash_rgb(rgb, dihedral=False)
    assert oq1 == q1 and ours1.shape == (1, 256)
    assert np.array_equal(ours1[0], np.asarray(ref1, dtype=np.uint8))


def smooth(seed: int, h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(0, 256, (5, 7, 3), dtype=np.uint8), "RGB")
    img = small.resize((w, h), Image.Resampling.BICUBIC)
    d = ImageDraw.Draw(img)
    for _ in range(6):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        d.ellipse((x0, y0, x0 + w // 4, y0 + h // 5), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    return np.asarray(img)


# Sizes around every branch: below the minimum (5), exactly 64 x 64 (pdqhash.compute skips the
# blur there, compute_dihedral does not), window 1 (<= 128), odd windows, strips, a photo size.
SIZES = [(4, 40), (5, 5), (40, 4), (64, 64), (63, 65), (128, 129), (257, 300), (7, 900), (999, 750), (1512, 2016)]


@pytest.mark.parametrize(("h", "w"), SIZES)
def test_equals_pdqhash_bit_for_bit_on_generated_images(h, w):
    assert_equals_pdqhash(np.random.default_rng(h * 7 + w).integers(0, 256, (h, w, 3), dtype=np.uint8))
    assert_equals_pdqhash(smooth(h + w, h, w))


def test_equals_pdqhash_on_flat_and_extreme_images():
    for v in (0, 128, 255):  # flat: every coefficient ties with the median
        assert_equals_pdqhash(np.full((100, 80, 3), v, dtype=np.uint8))
    stripes = np.zeros((200, 300, 3), dtype=np.uint8)
    stripes[:, ::2] = 255
    assert_equals_pdqhash(stripes)


@pytest.mark.parametrize("row", EXPECTED, ids=[r["path"] for r in EXPECTED])
def test_equals_pdqhash_on_reference_media(row):
    rgb = decode(PDQ / row["path"]).rgb
    assert_equals_pdqhash(rgb)
    bits, _q = pdq.hash_rgb(rgb, dihedral=False)
    assert bits_to_hex(bits[0]) == row["pdq_hex"]


def test_full_path_variants_and_quality_equal_pdqhash():
    data = (PDQ / "bridge-mods" / "aaa-orig.jpg").read_bytes()
    h = hash_bytes(data, "a.jpg", fast=False)
    ref, q = pdqhash.compute_dihedral(decode(data).rgb)
    assert h.quality == q
    assert h.variants == {n: bits_to_hex(b) for n, b in zip(VARIANTS, ref, strict=True)}


def test_bad_shapes_are_one_clear_error():
    with pytest.raises(ValueError, match="H x W x 3"):
        pdq.hash_rgb(np.zeros((10, 10), dtype=np.uint8))
    with pytest.raises(ValueError, match="2-D"):
        pdq.hash_grey(np.zeros((10, 10, 3), dtype=np.uint8))


def jpeg(rgb: np.ndarray, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=90, **kw)
    return buf.getvalue()


def test_luma_decode_gives_the_y_plane_of_jpegs_only():
    rgb = smooth(3, 600, 800)
    d = decode(jpeg(rgb), luma=True)
    assert d.rgb is None and d.grey.shape == (600, 800) and d.grey.dtype == np.uint8
    plain = np.asarray(Image.fromarray(decode(jpeg(rgb)).rgb).convert("L"), dtype=np.int16)
    assert np.abs(d.grey.astype(np.int16) - plain).mean() < 1.5  # the same picture, as luma
    small = decode(jpeg(rgb), luma=True, reduce_to=300)
    assert small.grey.shape == (300, 400) and small.scale == 2 and small.width == 800
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    assert decode(buf.getvalue(), luma=True).grey is None  # other formats still come back as RGB
    buf = io.BytesIO()
    Image.fromarray(rgb).convert("CMYK").save(buf, "JPEG")
    assert decode(buf.getvalue(), luma=True).rgb.shape == (600, 800, 3)  # CMYK needs its colour conversion


@pytest.mark.parametrize("seed", range(3))
def test_fast_path_within_10_bits_of_full_decode_reference(seed):
    rgb = smooth(seed, 3024, 4032)
    data = jpeg(rgb)
    fast = hash_bytes(data, "big.jpg")
    assert fast.fast and fast.width == 4032 and fast.height == 3024
    full, _q = pdqhash.compute(decode(data).rgb)
    assert hamming_hex(fast.pdq, bits_to_hex(full)) <= 10
    for name, hexv in fast.variants.items():  # each variant stays within the bound of its own
        ref8, _ = pdqhash.compute_dihedral(decode(data).rgb)
        assert hamming_hex(hexv, bits_to_hex(ref8[VARIANTS.index(name)])) <= 10


def test_fast_path_on_a_grey_jpeg_with_exif_rotation():
    rgb = smooth(9, 2200, 3000)
    img = Image.fromarray(rgb).convert("L")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 on display
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90, exif=exif)
    h = hash_bytes(buf.getvalue(), "grey.jpg")
    assert h.error is None and (h.width, h.height) == (2200, 3000)
    upright = np.asarray(img.transpose(Image.Transpose.ROTATE_270).convert("RGB"))
    ref, _q = pdqhash.compute(upright)
    assert hamming_hex(h.pdq, bits_to_hex(ref)) <= 10
