"""Image hashing benchmark: Netwarden's hasher beside pdqhash on a full Pillow decode.

    .venv/bin/python bench/media.py                 # 20 generated 4032x3024 JPEGs
    .venv/bin/python bench/media.py --count 5 --width 2000 --height 1500   # a quick run

The images are generated, abstract and photo-like (smooth colour fields, shapes, sensor-like
noise), saved as JPEG quality 90, and read from memory so disk speed does not count. The peer is
what python-threatexchange's PDQ hasher does: Pillow full decode, convert to RGB, pdqhash. Ours is
netwarden.media.hashing.hash_bytes: safe decode with limits, reduced-size DCT decode for large
JPEGs, PDQ with all 8 dihedral variants, MD5 and SHA-256. One core, images per second of CPU
time (process time, not distorted by other processes on a shared machine), the hashers
interleaved image by image; and the largest
Hamming distance between our PDQ and the peer's (PDQ's acceptance bound is 10 bits).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
import pdqhash  # noqa: E402

from netwarden.media.hashing import bits_to_hex, hamming_hex, hash_bytes  # noqa: E402


def photo_like(seed: int, w: int, h: int) -> bytes:
    rng = np.random.default_rng(seed)
    base = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8), "RGB").resize((w, h), Image.Resampling.BICUBIC)
    d = ImageDraw.Draw(base)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(w // 20, w // 3)), y0 + int(rng.integers(h // 20, h // 3))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (d.ellipse if rng.random() < 0.5 else d.rectangle)((x0, y0, x1, y1), fill=colour)
    arr = np.asarray(base).astype(np.int16)
    arr += rng.normal(0, 6, arr.shape).astype(np.int16)  # sensor-like noise
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def peer(data: bytes) -> str:
    img = Image.open(io.BytesIO(data)).convert("RGB")
    vec, _q = pdqhash.compute(np.asarray(img))
    return bits_to_hex(vec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--width", type=int, default=4032)
    ap.add_argument("--height", type=int, default=3024)
    a = ap.parse_args()
    files = [photo_like(i, a.width, a.height) for i in range(a.count)]
    mb = sum(map(len, files)) / 2**20
    print(f"{a.count} generated {a.width}x{a.height} JPEGs, {mb:.1f} MiB in memory")
    hash_bytes(files[0], "warm.jpg")  # warm-up (imports)

    # Interleaved image by image, so that load from other processes falls on every hasher alike.
    t_peer = t_ours = t_full = 0.0
    theirs, ours, ours_full = [], [], []
    for i, f in enumerate(files):
        t = time.process_time()
        theirs.append(peer(f))
        t_peer += time.process_time() - t
        t = time.process_time()
        ours.append(hash_bytes(f, f"img{i}.jpg"))
        t_ours += time.process_time() - t
        t = time.process_time()
        ours_full.append(hash_bytes(f, f"img{i}.jpg", fast=False, dihedral=False))
        t_full += time.process_time() - t

    dists = [hamming_hex(o.pdq, p) for o, p in zip(ours, theirs, strict=True)]
    exact = sum(o.pdq == p for o, p in zip(ours_full, theirs, strict=True))
    print()
    print(f"{'hasher':<52}{'images/s':>10}{'vs peer':>9}")
    print(f"{'netwarden hash_bytes (fast path, 8 variants, md5+sha)':<52}{a.count / t_ours:>10.2f}{t_peer / t_ours:>8.1f}x")
    print(f"{'netwarden hash_bytes --full (no variants)':<52}{a.count / t_full:>10.2f}{t_peer / t_full:>8.1f}x")
    print(f"{'pdqhash on full Pillow decode (peer)':<52}{a.count / t_peer:>10.2f}{1:>8}x")
    print()
    print(f"fast path vs peer: max {max(dists)} bits, mean {np.mean(dists):.1f} bits (bound 10); "
          f"full decode bit-identical to peer on {exact}/{a.count}")


if __name__ == "__main__":
    main()
