"""Abstract generated images (gradients, shapes, noise) written as real files, with their hashes.

Nothing here depicts anything: "known" material is stood in for by abstract images whose PDQ and
MD5 go to the demo bank; re-posted copies are re-encoded, resized or cropped variants whose PDQ
stays within MAX_VARIANT_DISTANCE bits of the original.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pdqhash
from PIL import Image, ImageDraw, ImageFilter

MAX_VARIANT_DISTANCE = 31


@dataclass(frozen=True, slots=True)
class MediaFile:
    """One image file on disk and what the event schema says about it."""

    uri: str  # relative to the world directory
    mime: str
    size: int
    width: int
    height: int
    md5: str
    sha256: str
    pdq: str | None = None

    def media(self, media_id: str) -> dict:
        return {
            "id": media_id, "kind": "photo", "uri": self.uri, "size": self.size, "mime": self.mime,
            "width": self.width, "height": self.height, "md5": self.md5, "sha256": self.sha256,
        }


def pdq_hex(img: Image.Image) -> tuple[str, int]:
    """Standard PDQ hex (as in the reference implementation) and quality of an image."""
    bits, quality = pdqhash.compute(np.asarray(img.convert("RGB")))
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _color(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(x) for x in rng.integers(0, 256, 3))  # type: ignore[return-value]


def gradient(rng: np.random.Generator, w: int, h: int) -> Image.Image:
    a, b = np.array(_color(rng), float), np.array(_color(rng), float)
    theta = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w]
    t = (np.cos(theta) * xx / w + np.sin(theta) * yy / h)
    t = (t - t.min()) / max(1e-9, np.ptp(t))
    arr = a[None, None, :] * (1 - t[..., None]) + b[None, None, :] * t[..., None]
    return Image.fromarray(arr.astype(np.uint8), "RGB")


def smooth_noise(rng: np.random.Generator, w: int, h: int, cells: int = 8) -> Image.Image:
    small = rng.integers(0, 256, (cells, cells, 3), dtype=np.uint8)
    return Image.fromarray(small, "RGB").resize((w, h), Image.BICUBIC)


def shapes(rng: np.random.Generator, base: Image.Image, n: int) -> Image.Image:
    img = base.copy()
    d = ImageDraw.Draw(img)
    w, h = img.size
    for _ in range(n):
        x0, y0 = int(rng.integers(-w // 4, w)), int(rng.integers(-h // 4, h))
        x1, y1 = x0 + int(rng.integers(w // 8, w // 2)), y0 + int(rng.integers(h // 8, h // 2))
        kind = int(rng.integers(0, 3))
        if kind == 0:
            d.ellipse((x0, y0, x1, y1), fill=_color(rng))
        elif kind == 1:
            d.rectangle((x0, y0, x1, y1), fill=_color(rng))
        else:
            pts = [(int(rng.integers(0, w)), int(rng.integers(0, h))) for _ in range(3)]
            d.polygon(pts, fill=_color(rng))
    return img


def benign_image(rng: np.random.Generator) -> Image.Image:
    w, h = int(rng.integers(64, 161)), int(rng.integers(64, 161))
    style = int(rng.integers(0, 3))
    if style == 0:
        return shapes(rng, gradient(rng, w, h), int(rng.integers(2, 7)))
    if style == 1:
        return smooth_noise(rng, w, h, int(rng.integers(3, 9)))
    return shapes(rng, smooth_noise(rng, w, h, 4), int(rng.integers(1, 4)))


def known_image(rng: np.random.Generator) -> Image.Image:
    """A detailed abstract image (high PDQ quality) standing in for one 'known' item."""
    base = smooth_noise(rng, 160, 160, int(rng.integers(5, 10)))
    return shapes(rng, base, int(rng.integers(6, 12)))


def avatar_image(rng: np.random.Generator) -> Image.Image:
    img = gradient(rng, 96, 96)
    d = ImageDraw.Draw(img)
    r = int(rng.integers(18, 40))
    cx, cy = int(rng.integers(30, 66)), int(rng.integers(30, 66))
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_color(rng))
    return shapes(rng, img, 2)


VARIANT_KINDS = ("reencode", "resize", "crop", "tone")


def variant(rng: np.random.Generator, img: Image.Image, kind: str, strength: float = 1.0) -> Image.Image:
    w, h = img.size
    if kind == "resize":
        f = 1 - strength * rng.uniform(0.2, 0.4)
        return img.resize((max(48, int(w * f)), max(48, int(h * f))), Image.LANCZOS)
    if kind == "crop":
        m = max(1, round(strength * rng.uniform(0.006, 0.014) * w))  # PDQ is crop-sensitive
        return img.crop((m, m, w - m, h - m))
    if kind == "tone":
        arr = np.asarray(img).astype(np.int16) + int(strength * rng.integers(-25, 26))
        out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
        return out.filter(ImageFilter.GaussianBlur(0.6 * strength))
    return img  # reencode: the pixels are the same, the encoding is not


def encode(img: Image.Image, fmt: str, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        img.save(buf, "JPEG", quality=quality)
    else:
        img.save(buf, "PNG", optimize=False)
    return buf.getvalue()


class MediaWriter:
    """Writes image files under DIR/media/<sub>/ and describes them; or only describes (media=False)."""

    def __init__(self, root: Path, write: bool = True):
        self.root = root
        self.write = write

    def save(self, img: Image.Image, rel: str, fmt: str, quality: int = 85, with_pdq: bool = False) -> MediaFile:
        data = encode(img, fmt, quality)
        if self.write:
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        pdq = None
        if with_pdq:
            pdq, _ = pdq_hex(Image.open(io.BytesIO(data)))
        return MediaFile(
            uri=rel, mime="image/jpeg" if fmt == "JPEG" else "image/png", size=len(data),
            width=img.size[0], height=img.size[1], md5=hashlib.md5(data).hexdigest(),
            sha256=hashlib.sha256(data).hexdigest(), pdq=pdq,
        )

    def known_variant(
        self, rng: np.random.Generator, original: Image.Image, original_pdq: str, rel: str, kind: str
    ) -> tuple[MediaFile, int]:
        """A re-posted copy of a known item, within MAX_VARIANT_DISTANCE bits; returns (file, distance)."""
        strength = 1.0
        for _ in range(4):
            img = variant(rng, original, kind, strength)
            mf = self.save(img, rel, "JPEG", int(rng.integers(55, 90)), with_pdq=True)
            dist = hamming(mf.pdq or "", original_pdq)
            if dist <= MAX_VARIANT_DISTANCE:
                return mf, dist
            strength /= 2
        mf = self.save(original, rel, "JPEG", 90, with_pdq=True)
        return mf, hamming(mf.pdq or "", original_pdq)
