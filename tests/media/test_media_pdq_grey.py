"""The greyscale (luma-plane) path of Netwarden's PDQ against pdqhash on the same pixels: every
reference image's luma decode, and what hash_bytes' fast path returns, for all 8 dihedral variants
and the quality; and the variants against hashes of actually rotated and mirrored copies."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pdqhash
import pytest
from PIL import Image

from netwarden.media import hashing, pdq
from netwarden.media.decode import decode
from netwarden.media.hashing import VARIANTS, bits_to_hex, hamming_hex, hash_bytes

PDQ = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "pdq"
IMAGES = sorted(p for p in PDQ.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".tif", ".tiff"))


def reference_on_grey(grey: np.ndarray) -> tuple[list[str], int]:
    """pdqhash on the grey plane given as RGB (three equal channels), as a pdqhash user would."""
    hashes, quality = pdqhash.compute_dihedral(np.ascontiguousarray(np.repeat(grey[..., None], 3, axis=2)))
    return [bits_to_hex(h) for h in hashes], int(quality)


def ours_on_grey(grey: np.ndarray, dihedral: bool = True) -> tuple[list[str], int]:
    bits, quality = pdq.hash_grey(grey, dihedral)
    return [bits_to_hex(b) for b in bits], int(quality)


def test_reference_media_are_there():
    assert len(IMAGES) >= 20


@pytest.mark.parametrize("path", IMAGES, ids=[str(p.relative_to(PDQ)) for p in IMAGES])
def test_grey_path_equals_pdqhash_on_every_reference_image(path):
    d = decode(path, luma=True)
    grey = d.grey if d.grey is not None else np.asarray(Image.fromarray(d.rgb).convert("L"))
    assert ours_on_grey(grey) == reference_on_grey(grey)


def test_grey_path_equals_pdqhash_on_noise_of_every_value():
    rng = np.random.default_rng(23)
    for shape in ((5, 5), (130, 70), (700, 1100)):
        grey = rng.integers(0, 256, shape, dtype=np.uint8)
        assert ours_on_grey(grey) == reference_on_grey(grey)


def test_hash_bytes_fast_path_equals_pdqhash_on_the_same_reduced_luma_decode():
    rng = np.random.default_rng(29)
    small = Image.fromarray(rng.integers(0, 256, (9, 12, 3), dtype=np.uint8))
    buf = io.BytesIO()
    small.resize((3000, 2200), Image.Resampling.BICUBIC).save(buf, "JPEG", quality=90)
    data = buf.getvalue()
    h = hash_bytes(data, "big.jpg")
    d = decode(data, reduce_to=hashing.FAST_MIN_SIDE, luma=True)
    assert h.fast and d.scale == 2 and d.grey.shape == (1100, 1500)
    hexes, quality = reference_on_grey(d.grey)
    assert h.variants == dict(zip(VARIANTS, hexes, strict=True)) and h.quality == quality


def test_variants_are_the_hashes_of_the_rotated_and_mirrored_image():
    grey = decode(PDQ / "bridge-mods" / "aaa-orig.jpg", luma=True).grey
    hexes = dict(zip(VARIANTS, ours_on_grey(grey)[0], strict=True))
    moved = {"rot90": np.rot90(grey, 1), "rot180": np.rot90(grey, 2), "rot270": np.rot90(grey, 3),
             "flipx": grey[::-1], "flipy": grey[:, ::-1], "flip_plus1": grey.T, "flip_minus1": np.rot90(grey, 2).T}
    for name, img in moved.items():
        h = ours_on_grey(img, dihedral=False)[0][0]
        assert hamming_hex(h, hexes[name]) <= 10, name  # the variant catches the moved copy ...
        assert hamming_hex(h, hexes["orig"]) > 31, name  # ... the plain hash does not
