"""Image hashes: PDQ with quality and its 8 dihedral variants, MD5 and SHA-256 of the bytes.

PDQ is computed by Netwarden's own kernel (pdq.py), equal to pdqhash bit for bit on the same RGB
input; the fast path hashes a JPEG's luma plane decoded at reduced size, without its chroma.

PDQ hex strings use the reference bit order (bit 0 of the 256-bit vector is the most
significant bit of the first hex digit), as python-threatexchange and HMA write them.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field

import numpy as np

from . import pdq
from .decode import Decoded, Limits, MediaError, decode, read_bytes

# Hashes of quality below this are stored but never matched (PDQ's own guidance).
MIN_QUALITY = 50
# The fast path decodes a JPEG's luma plane only, and large JPEGs at 1/2, 1/4 or 1/8 size in the
# DCT domain, keeping the shorter side at least this long: a 12 MP photo at 1/2 (1512 x 2016).
# Measured (docs/media.md): at 1/2 within 4 bits of the full-decode reference, at 1/4 up to 8 of
# the 10-bit bound for ~20% more images/s; the margin was preferred.
FAST_MIN_SIDE = 1024

# pdqhash.compute_dihedral order, named as the reference implementation names them.
VARIANTS = ("orig", "rot90", "rot180", "rot270", "flipx", "flipy", "flip_plus1", "flip_minus1")


def bits_to_hex(bits: np.ndarray) -> str:
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def hamming_hex(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


@dataclass
class PdqResult:
    hash: str  # 64 hex digits
    quality: int
    variants: dict[str, str] = field(default_factory=dict)  # dihedral variant name -> hex

    @property
    def usable(self) -> bool:
        return self.quality >= MIN_QUALITY


def _result(bits: np.ndarray, quality: int, dihedral: bool) -> PdqResult:
    hexes = [bits_to_hex(b) for b in bits]
    variants = dict(zip(VARIANTS, hexes, strict=True)) if dihedral else {}
    return PdqResult(hash=hexes[0], quality=int(quality), variants=variants)


def pdq_from_rgb(rgb: np.ndarray, dihedral: bool = True) -> PdqResult:
    """PDQ of an RGB uint8 array; with `dihedral`, all 8 rotations/mirrors (from one DCT).

    Equal bit for bit to pdqhash.compute / compute_dihedral on the same array."""
    bits, quality = pdq.hash_rgb(rgb, dihedral)
    return _result(bits, quality, dihedral)


def pdq_from_grey(grey: np.ndarray, dihedral: bool = True) -> PdqResult:
    """PDQ of an H x W uint8 luma plane (a JPEG's Y channel), taken as PDQ's luma directly."""
    bits, quality = pdq.hash_grey(grey, dihedral)
    return _result(bits, quality, dihedral)


@dataclass
class MediaHashes:
    """Everything Netwarden computes for one media file."""

    name: str
    kind: str = "photo"  # photo | video
    md5: str | None = None
    sha256: str | None = None
    size: int | None = None
    pdq: str | None = None
    quality: int | None = None
    variants: dict[str, str] = field(default_factory=dict)
    width: int | None = None
    height: int | None = None
    format: str | None = None
    mode: str | None = None
    frames: int | None = None
    fast: bool = False  # reduced-size decode was used
    vpdq: list[dict] | None = None  # video: [{"frame", "quality", "pdq", "timestamp"}]
    error: str | None = None  # one-sentence reason the file could not be hashed perceptually
    error_reason: str | None = None

    @property
    def usable(self) -> bool:
        return self.pdq is not None and (self.quality or 0) >= MIN_QUALITY

    def to_dict(self) -> dict:
        d = asdict(self)
        d["usable"] = self.usable
        return d


VIDEO_EXTS = {".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".3gp", ".ts", ".mpg", ".mpeg", ".flv", ".wmv"}


def looks_like_video(name: str, data: bytes) -> bool:
    ext = os.path.splitext(name)[1].lower()
    if ext in VIDEO_EXTS:
        return True
    head = data[:16]
    return head[4:8] == b"ftyp" and head[8:12] not in (b"avif", b"avis", b"heic", b"heix", b"mif1", b"msf1")


def hash_bytes(data: bytes, name: str = "<bytes>", *, fast: bool = True, dihedral: bool = True,
               video_fps: float = 1.0, limits: Limits | None = None, **kw) -> MediaHashes:
    """Hash one file's bytes. Decoding errors are recorded in the result, never raised.

    `limits` (a face's settings, `Limits.of(settings)`) caps images at its time limit and a video
    at `video.video_time_limit` of it; keyword limits (max_pixels=, time_limit=) apply as given."""
    img_limits = {**(limits.kw() if limits is not None else {}), **kw}
    out = MediaHashes(name=name, md5=hashlib.md5(data).hexdigest(), sha256=hashlib.sha256(data).hexdigest(),
                      size=len(data))
    try:
        if data and looks_like_video(name, data):
            from .video import video_time_limit, vpdq_from_bytes

            out.kind = "video"
            vid_limits = dict(img_limits)
            if limits is not None and "time_limit" not in kw:
                vid_limits["time_limit"] = video_time_limit(limits.time_limit)
            frames = vpdq_from_bytes(data, name, fps=video_fps, **vid_limits)
            out.vpdq = [f.to_dict() for f in frames]
            out.frames = len(frames)
            return out
        d: Decoded = decode(data, name=name, reduce_to=FAST_MIN_SIDE if fast else None, luma=fast, **img_limits)
        r = pdq_from_grey(d.grey, dihedral) if d.grey is not None else pdq_from_rgb(d.rgb, dihedral)
        out.pdq, out.quality, out.variants = r.hash, r.quality, r.variants
        out.width, out.height, out.format, out.mode, out.frames = d.width, d.height, d.format, d.mode, d.frames
        out.fast = d.scale > 1
    except MediaError as e:
        out.error, out.error_reason = str(e), e.reason
    return out


def hash_file(path: str | os.PathLike, **kw) -> MediaHashes:
    """Hash one file. A missing or oversized file is reported in `error` like a corrupt one."""
    name = str(path)
    limits = kw.get("limits")
    try:
        data = read_bytes(path, kw.get("max_bytes", limits.max_bytes if limits is not None else None))
    except MediaError as e:
        return MediaHashes(name=name, error=str(e), error_reason=e.reason)
    return hash_bytes(data, name, **kw)
