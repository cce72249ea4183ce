"""Safe image decoding: size, pixel and time limits, EXIF orientation, every Pillow mode to RGB.

Every failure a file can cause (missing, empty, too big, a decompression bomb, truncated, corrupt,
not an image, a format Pillow cannot read, too slow) raises one error type, `MediaError`, whose
`reason` is a short code and whose message is one sentence naming the file and what to do.
"""

from __future__ import annotations

import io
import os
import signal
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from ..config import Settings
from ..errors import UserError

# The built-in defaults (config.Settings' media_max_bytes, media_max_pixels, media_time_limit); a face
# passes its settings' values down as a `Limits` or per-call arguments. Nothing here reads the environment.
_DEFAULTS = Settings()
MAX_BYTES = _DEFAULTS.media_max_bytes  # 100 MiB
MAX_PIXELS = _DEFAULTS.media_max_pixels  # 64 MP (8000x8000)
TIME_LIMIT = _DEFAULTS.media_time_limit  # seconds per image
MAX_FRAMES = 1000


@dataclass(frozen=True)
class Limits:
    """The decoding limits a face's settings give (media_max_bytes, media_max_pixels, media_time_limit)."""

    max_bytes: int = MAX_BYTES
    max_pixels: int = MAX_PIXELS
    time_limit: float = TIME_LIMIT

    @classmethod
    def of(cls, settings: Settings | None) -> Limits:
        s = settings if settings is not None else _DEFAULTS
        return cls(s.media_max_bytes, s.media_max_pixels, s.media_time_limit)

    def kw(self) -> dict:
        """As keyword arguments of `decode`, `decode_frames` and `read_bytes`' callers."""
        return {"max_bytes": self.max_bytes, "max_pixels": self.max_pixels, "time_limit": self.time_limit}

# Pillow must never decode a truncated file silently, and its own bomb check is ours to do.
ImageFile.LOAD_TRUNCATED_IMAGES = False
Image.MAX_IMAGE_PIXELS = None

REASONS = {
    "missing": "does not exist or cannot be read; check the path",
    "empty": "is empty (0 bytes); re-fetch it from storage",
    "too_big": "is larger than the file-size cap; raise NETWARDEN_MEDIA_MAX_BYTES if it is genuine",
    "too_many_pixels": "has more pixels than the cap (a possible decompression bomb); raise NETWARDEN_MEDIA_MAX_PIXELS if it is genuine",
    "truncated": "is truncated; re-fetch the complete file",
    "corrupt": "is corrupt and cannot be decoded; re-fetch it or skip it",
    "not_image": "is not an image in any format Netwarden reads; check the file type",
    "timeout": "took longer than the decode time limit; raise NETWARDEN_MEDIA_TIME_LIMIT if it is genuine",
    "unsupported": "uses an image mode or feature Netwarden cannot convert; convert it to PNG or JPEG",
}


class MediaError(UserError):
    """A media file that cannot be decoded. `reason` is one of REASONS' keys."""

    def __init__(self, name: str, reason: str, detail: str = ""):
        self.name = name
        self.reason = reason
        self.detail = detail
        extra = f" ({detail})" if detail else ""
        super().__init__(f"Media file {name} {REASONS[reason]}{extra}.")


@dataclass
class Decoded:
    """An image decoded to RGB uint8 (H x W x 3), with facts about the source.

    With `decode(..., luma=True)` a JPEG comes back as its luma plane only: `grey` is H x W uint8
    (the JPEG's own Y channel, chroma never decoded or upsampled) and `rgb` is None. Every other
    image still comes back as `rgb`.
    """

    rgb: np.ndarray | None
    format: str | None
    mode: str  # the source's Pillow mode
    width: int  # of the source, after EXIF orientation
    height: int
    frames: int  # number of frames in the source (1 for stills)
    scale: int = 1  # >1 when a reduced-size decode (JPEG draft) was used
    grey: np.ndarray | None = None  # H x W uint8 luma, only with luma=True on a JPEG


# ---------------------------------------------------------------------------------------- limits


class _Deadline:
    def __init__(self, seconds: float | None):
        self.end = None if not seconds else time.monotonic() + seconds

    def check(self, name: str) -> None:
        if self.end is not None and time.monotonic() > self.end:
            raise MediaError(name, "timeout")


class _Alarm(Exception):
    pass


def _alarm_usable(seconds: float | None) -> bool:
    return bool(
        seconds
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0
    )


def _run_with_deadline(fn, seconds: float, name: str):
    """Run fn() in a helper thread and stop waiting after `seconds` (used where SIGALRM is not).

    A decode that overruns cannot be killed, but the caller gets its error at once; the pixel and
    byte caps bound what the abandoned decode can still cost.
    """
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as e:  # handed to the caller below
            box["error"] = e

    t = threading.Thread(target=target, name="media-decode", daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        raise MediaError(name, "timeout", f"over {seconds:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


@contextmanager
def _time_limit(seconds: float | None, name: str):
    """Interrupt a decode that runs past `seconds` with SIGALRM (main thread, no other timer)."""
    if not _alarm_usable(seconds):
        yield
        return

    def _handler(signum, frame):
        raise _Alarm()

    old = signal.signal(signal.SIGALRM, _handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Alarm:
        raise MediaError(name, "timeout") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def read_bytes(path: str | os.PathLike, max_bytes: int | None = None) -> bytes:
    """Read a media file's bytes with the file-size cap applied before reading."""
    name = str(path)
    cap = MAX_BYTES if max_bytes is None else max_bytes
    try:
        size = os.stat(path).st_size
        if cap and size > cap:
            raise MediaError(name, "too_big", f"{size} bytes > {cap}")
        with open(path, "rb") as f:
            data = f.read(cap + 1 if cap else -1)
    except MediaError:
        raise
    except (FileNotFoundError, IsADirectoryError, PermissionError, NotADirectoryError):
        raise MediaError(name, "missing") from None
    except OSError as e:
        raise MediaError(name, "missing", str(e)) from None
    if cap and len(data) > cap:
        raise MediaError(name, "too_big", f"more than {cap} bytes")
    return data


# ------------------------------------------------------------------------------- mode conversion


def _scale_to_u8(arr: np.ndarray) -> np.ndarray:
    """Map a single-channel integer or float array onto 0..255."""
    a = np.asarray(arr, dtype=np.float64)
    finite = np.isfinite(a)
    if not finite.all():
        a = np.where(finite, a, 0.0)
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    if lo >= 0 and hi <= 1.0 and arr.dtype.kind == "f":
        a = a * 255.0  # float image in 0..1
    elif lo >= 0 and hi <= 255:
        pass  # already 8-bit range (e.g. Image.convert("I") of an 8-bit image)
    elif lo >= 0 and hi <= 65535:
        a = a * (255.0 / 65535.0)  # 16-bit samples
    else:
        a = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def _on_white(img: Image.Image) -> Image.Image:
    """Composite an RGBA image on white, so transparent areas hash the same way everywhere."""
    bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
    return Image.alpha_composite(bg, img).convert("RGB")


def to_rgb(img: Image.Image, name: str = "<image>") -> np.ndarray:
    """Convert any Pillow mode to an H x W x 3 uint8 RGB array, correctly.

    CMYK goes through Pillow's colour conversion (never the raw first three channels); palette
    images go through their palette (never the raw indices), with transparency composited on
    white; 16- and 32-bit integer and float images are scaled onto 0..255 rather than clipped.
    """
    mode = img.mode
    try:
        if mode == "RGB":
            out = img
        elif mode in ("I", "F") or mode.startswith("I;16"):
            arr = np.asarray(img)
            if arr.ndim == 3:
                arr = arr[..., 0]
            g = _scale_to_u8(arr)
            return np.ascontiguousarray(np.repeat(g[..., None], 3, axis=2))
        elif mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode == "P" and "transparency" in img.info):
            if mode == "La":
                img = img.convert("LA")
            elif mode == "RGBa":
                img = img.convert("RGBA")
            out = _on_white(img.convert("RGBA"))
        elif mode in ("P", "1", "L", "CMYK", "YCbCr", "HSV", "LAB", "RGBX"):
            if mode == "CMYK" and img.info.get("icc_profile"):
                out = _icc_to_srgb(img)
            else:
                out = img.convert("RGB")
        else:
            out = img.convert("RGB")
    except (ValueError, OSError) as e:
        raise MediaError(name, "unsupported", f"mode {mode}: {e}") from None
    return np.asarray(out, dtype=np.uint8)


def _icc_to_srgb(img: Image.Image) -> Image.Image:
    """Convert a CMYK image with an embedded ICC profile to sRGB through the profile."""
    try:
        from PIL import ImageCms

        src = ImageCms.ImageCmsProfile(io.BytesIO(img.info["icc_profile"]))
        dst = ImageCms.createProfile("sRGB")
        return ImageCms.profileToProfile(img, src, dst, outputMode="RGB")
    except Exception:  # a broken profile: fall back to Pillow's plain conversion
        return img.convert("RGB")


# ---------------------------------------------------------------------------------------- decode


def _open(data: bytes, name: str, max_pixels: int) -> Image.Image:
    if not data:
        raise MediaError(name, "empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        suffix = Path(name).suffix
        detail = f"its content is not a {suffix.lstrip('.').upper()} or any other image" if suffix else ""
        raise MediaError(name, "not_image", detail) from None
    except Image.DecompressionBombError as e:
        raise MediaError(name, "too_many_pixels", str(e)) from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise MediaError(name, "corrupt", str(e)) from None
    w, h = img.size
    if w <= 0 or h <= 0:
        raise MediaError(name, "corrupt", f"size {w}x{h}")
    if max_pixels and w * h > max_pixels:
        raise MediaError(name, "too_many_pixels", f"{w}x{h} > {max_pixels} pixels")
    return img


def _load(img: Image.Image, name: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            img.load()
    except _Alarm:
        raise
    except MemoryError:
        raise MediaError(name, "too_many_pixels", "out of memory") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct_error) as e:
        msg = str(e)
        reason = "truncated" if ("truncated" in msg or "broken data stream" in msg or isinstance(e, EOFError)) else "corrupt"
        raise MediaError(name, reason, msg) from None


try:  # struct.error is raised by some Pillow plugins on short reads
    from struct import error as struct_error
except ImportError:  # pragma: no cover
    struct_error = ValueError  # type: ignore[assignment,misc]


def _frame(img: Image.Image, name: str, frames: int, scale: int, source_mode: str, grey: bool = False) -> Decoded:
    _load(img, name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            oriented = ImageOps.exif_transpose(img)
    except Exception:  # a broken EXIF block must not lose the image
        oriented = img
    if grey:
        try:
            plane = np.asarray(oriented if oriented.mode == "L" else oriented.convert("L"), dtype=np.uint8)
        except (ValueError, OSError) as e:
            raise MediaError(name, "unsupported", f"mode {oriented.mode}: {e}") from None
        rgb = None
    else:
        plane, rgb = None, to_rgb(oriented, name)
    return Decoded(
        rgb=rgb,
        grey=plane,
        format=img.format,
        mode=source_mode,
        width=oriented.size[0] * scale,
        height=oriented.size[1] * scale,
        frames=frames,
        scale=scale,
    )


def decode(
    source: str | os.PathLike | bytes,
    *,
    name: str | None = None,
    max_bytes: int | None = None,
    max_pixels: int | None = None,
    time_limit: float | None = None,
    reduce_to: int | None = None,
    luma: bool = False,
) -> Decoded:
    """Decode the first frame of an image file (or bytes) to RGB, within the limits.

    reduce_to: when set, a JPEG larger than this many pixels on its shorter side is decoded at a
    reduced size (1/2, 1/4 or 1/8 in the DCT domain, Pillow's `draft`) whose shorter side is still
    at least `reduce_to`. Used by the fast hashing path; the result is a smaller image.
    luma: when set, a JPEG in YCbCr or greyscale is decoded to its luma plane only (`grey`, with
    `rgb` None): libjpeg outputs the Y channel and never decodes or upsamples the chroma. Other
    images (and CMYK JPEGs) are decoded to `rgb` as usual.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        name = name or "<bytes>"
        cap = MAX_BYTES if max_bytes is None else max_bytes
        if cap and len(data) > cap:
            raise MediaError(name, "too_big", f"{len(data)} bytes > {cap}")
    else:
        name = name or str(source)
        data = read_bytes(source, max_bytes)
    px = MAX_PIXELS if max_pixels is None else max_pixels
    limit = TIME_LIMIT if time_limit is None else time_limit

    def run() -> Decoded:
        return _decode_data(data, name, px, reduce_to, luma)

    if _alarm_usable(limit):
        with _time_limit(limit, name):
            return run()
    if limit:
        return _run_with_deadline(run, limit, name)
    return run()


def _decode_data(data: bytes, name: str, px: int, reduce_to: int | None, luma: bool = False) -> Decoded:
    img = _open(data, name, px)
    frames = int(getattr(img, "n_frames", 1) or 1)
    source_mode = img.mode
    scale = 1
    grey = luma and img.format == "JPEG" and img.mode in ("RGB", "L", "YCbCr")
    if img.format == "JPEG" and img.mode in ("RGB", "L", "CMYK", "YCbCr") and (reduce_to or grey):
        w, h = img.size
        short = min(w, h)
        target = 1
        for k in (8, 4, 2):
            if reduce_to and short // k >= reduce_to:
                target = k
                break
        if grey:
            img.draft("L", (w // target, h // target))
        elif target > 1:
            img.draft(img.mode if img.mode != "YCbCr" else "RGB", (w // target, h // target))
        scale = max(1, round(w / img.size[0]))
    return _frame(img, name, frames, scale, source_mode, grey)


def decode_frames(
    source: str | os.PathLike | bytes,
    *,
    name: str | None = None,
    max_bytes: int | None = None,
    max_pixels: int | None = None,
    time_limit: float | None = None,
    max_frames: int = MAX_FRAMES,
) -> Iterator[Decoded]:
    """Decode every frame of an animated image (GIF, APNG, WebP, TIFF pages), within the limits.

    The pixel cap applies to the sum over frames, the time limit to the whole file.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        name = name or "<bytes>"
    else:
        name = name or str(source)
        data = read_bytes(source, max_bytes)
    px = MAX_PIXELS if max_pixels is None else max_pixels
    deadline = _Deadline(TIME_LIMIT if time_limit is None else time_limit)
    img = _open(data, name, px)
    frames = int(getattr(img, "n_frames", 1) or 1)
    source_mode = img.mode
    total = 0
    for i in range(min(frames, max_frames)):
        deadline.check(name)
        try:
            img.seek(i)
        except EOFError:
            break
        total += img.size[0] * img.size[1]
        if px and total > px:
            raise MediaError(name, "too_many_pixels", f"frames up to {i} exceed {px} pixels")
        yield _frame(img, name, frames, 1, source_mode)
