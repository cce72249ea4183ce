"""Image hashing benchmark: Netwarden's hasher beside pdqhash on a full Pillow decode and beside
pdqhash on the same reduced-size decode (the best peer: Netwarden's speed-up is that decode).

    .venv/bin/python bench/media.py                 # 20 generated 4032x3024 JPEGs
    .venv/bin/python bench/media.py --count 5 --width 2000 --height 1500   # a quick run
    .venv/bin/python bench/media.py --count 6 --min-side 512    # both sides at 1/4 instead of 1/2

The images are generated, abstract and photo-like (smooth colour fields, shapes, sensor-like
noise), saved as JPEG quality 90, and read from memory so disk speed does not count.

What each side does, per image:
- ours, netwarden.media.hashing.hash_bytes: safe decode with limits; a large JPEG is decoded with
  Pillow `draft("L", ...)` at 1/2, 1/4 or 1/8 size (shorter side still >= FAST_MIN_SIDE), i.e.
  libjpeg outputs the luma plane only and never decodes or upsamples the chroma; EXIF orientation;
  Netwarden's own PDQ kernel (media/pdq.py, numba) on that plane: the hash, its quality and all
  8 dihedral variants from one DCT; MD5 and SHA-256 of the bytes.
- the reduced-decode peer (the strongest we know): Pillow `draft("RGB", ...)` at the same scale,
  convert to RGB, pdqhash.compute (one hash) or pdqhash.compute_dihedral (the 8 variants Netwarden
  also computes); no MD5/SHA-256, no limits, no EXIF.
- the full-decode peer, what python-threatexchange's PDQ hasher does: Pillow full decode, convert
  to RGB, pdqhash.compute.

Every hasher runs twice on the first image before timing (imports, numba's cached kernels, Pillow's
codecs), then the hashers are interleaved image by image; one core, images per second of CPU time
(process time, not distorted by other processes on a shared machine). It prints the Hamming
distances between our PDQ and the peers' (PDQ's acceptance bound is 10 bits), for the hash and
for all 8 variants against the reduced-decode peer.
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

import netwarden.media.hashing as hashing  # noqa: E402
from netwarden.media.hashing import FAST_MIN_SIDE, VARIANTS, bits_to_hex, hamming_hex, hash_bytes  # noqa: E402


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


def reduced(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    w, h = img.size
    k = next((k for k in (8, 4, 2) if min(w, h) // k >= hashing.FAST_MIN_SIDE), 1)
    if k > 1:
        img.draft("RGB", (w // k, h // k))
    return img.convert("RGB")


def peer_reduced(data: bytes) -> str:
    vec, _q = pdqhash.compute(np.asarray(reduced(data)))
    return bits_to_hex(vec)


def peer_reduced_dihedral(data: bytes) -> list[str]:
    vecs, _q = pdqhash.compute_dihedral(np.asarray(reduced(data)))
    return [bits_to_hex(v) for v in vecs]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--width", type=int, default=4032)
    ap.add_argument("--height", type=int, default=3024)
    ap.add_argument("--min-side", type=int, default=FAST_MIN_SIDE,
                    help="shorter side the reduced decode keeps, for both sides (default FAST_MIN_SIDE)")
    a = ap.parse_args()
    if a.min_side < 1:
        ap.error("--min-side must be a positive number of pixels")
    hashing.FAST_MIN_SIDE = a.min_side
    files = [photo_like(i, a.width, a.height) for i in range(a.count)]
    mb = sum(map(len, files)) / 2**20
    print(f"{a.count} generated {a.width}x{a.height} JPEGs, {mb:.1f} MiB in memory; "
          f"reduced decode keeps the shorter side >= {a.min_side} px")
    for _ in range(2):  # warm-up: imports, numba's cached kernels, Pillow's codecs
        hash_bytes(files[0], "warm.jpg")
        hash_bytes(files[0], "warm.jpg", fast=False, dihedral=False)
        peer(files[0])
        peer_reduced(files[0])
        peer_reduced_dihedral(files[0])

    # Interleaved image by image, so that load from other processes falls on every hasher alike.
    t_peer = t_ours = t_full = t_red = t_red8 = 0.0
    theirs, ours, ours_full, red, red8 = [], [], [], [], []
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
        t = time.process_time()
        red.append(peer_reduced(f))
        t_red += time.process_time() - t
        t = time.process_time()
        red8.append(peer_reduced_dihedral(f))
        t_red8 += time.process_time() - t

    dists = [hamming_hex(o.pdq, p) for o, p in zip(ours, theirs, strict=True)]
    exact = sum(o.pdq == p for o, p in zip(ours_full, theirs, strict=True))
    print()
    print(f"{'hasher':<52}{'images/s':>10}{'vs peer':>9}")
    print(f"{'netwarden hash_bytes (fast path, 8 variants, md5+sha)':<52}{a.count / t_ours:>10.2f}{t_peer / t_ours:>8.1f}x")
    print(f"{'netwarden hash_bytes --full (no variants)':<52}{a.count / t_full:>10.2f}{t_peer / t_full:>8.1f}x")
    print(f"{'pdqhash on full Pillow decode (peer)':<52}{a.count / t_peer:>10.2f}{1:>8}x")
    print(f"{'pdqhash on the same reduced decode, 1 hash (peer)':<52}{a.count / t_red:>10.2f}{t_peer / t_red:>8.1f}x")
    print(f"{'pdqhash on the same reduced decode, 8 variants (peer)':<52}{a.count / t_red8:>10.2f}{t_peer / t_red8:>8.1f}x")
    print(f"netwarden fast path / reduced-decode peer: {t_red / t_ours:.2f}x (1 hash), {t_red8 / t_ours:.2f}x (8 variants)")
    print()
    rd = [hamming_hex(o.pdq, p) for o, p in zip(ours, red, strict=True)]
    print(f"fast path vs reduced-decode peer: max {max(rd)} bits (identical on {sum(d == 0 for d in rd)}/{a.count})")
    vd = [hamming_hex(o.variants[n], p[k]) for o, p in zip(ours, red8, strict=True) for k, n in enumerate(VARIANTS)]
    print(f"fast path's 8 variants vs reduced-decode peer's: max {max(vd)} bits "
          f"(identical on {sum(d == 0 for d in vd)}/{len(vd)})")
    print(f"fast path vs peer: max {max(dists)} bits, mean {np.mean(dists):.1f} bits (bound 10); "
          f"full decode bit-identical to peer on {exact}/{a.count}")


if __name__ == "__main__":
    main()
