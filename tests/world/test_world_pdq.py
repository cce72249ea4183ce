"""The generator writes PDQ hashes in the standard hex form, and variants stay near their original."""

from __future__ import annotations

import csv

import numpy as np
from PIL import Image

from netwarden.world.images import (
    MAX_VARIANT_DISTANCE,
    VARIANT_KINDS,
    MediaWriter,
    hamming,
    known_image,
    pdq_hex,
)


def test_pdq_hex_matches_reference(testdata):
    with open(testdata / "pdq" / "EXPECTED.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f)][:6]
    for r in rows:
        h, _ = pdq_hex(Image.open(testdata / "pdq" / r["path"]))
        assert hamming(h, r["pdq_hex"]) <= 2, r["path"]  # decoders may differ by a bit or two
    assert pdq_hex(Image.open(testdata / "pdq" / rows[0]["path"]))[0] == rows[0]["pdq_hex"]


def test_variants_within_threshold(tmp_path):
    rng = np.random.default_rng(5)
    mw = MediaWriter(tmp_path)
    for i in range(8):
        img = known_image(rng)
        orig = pdq_hex(img)[0]
        for kind in VARIANT_KINDS:
            mf, dist = mw.known_variant(rng, img, orig, f"v{i}-{kind}.jpg", kind)
            assert dist <= MAX_VARIANT_DISTANCE
            assert hamming(pdq_hex(Image.open(tmp_path / mf.uri))[0], orig) == dist
