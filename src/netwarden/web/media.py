"""Media for reviewers: files only from the platform storage the store knows, blurred server-side.

A media row's `uri` is a path relative to the folder of the file it was ingested from (or to a
configured media root). URLs are never fetched. The blurred greyscale rendition is made here from
what the safe decoder (netwarden.media.decode) returns, so the original bytes leave the server only
after an audited reveal, and then only as what they decode to (`servable`): an image in a format
browsers show as an image, or a video with a decodable video stream, typed by the decoded format,
never by the platform's declared MIME type. The ingested source files and the store's own files
are never served, even when they lie under a media root.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

from PIL import Image, ImageFilter
from sqlalchemy import select
from sqlalchemy.engine import Connection

from ..media import decode as safe
from ..store import schema as t

BLUR_SIZE = 24  # the rendition is built from a thumbnail this many pixels wide: no detail survives
OUT_SIZE = 160
# Decoded image formats served as they are (browsers render these as images and nothing else);
# any other decodable image is re-encoded to PNG from its decoded pixels.
WEB_IMAGES = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "GIF": ("image/gif", "gif"),
              "WEBP": ("image/webp", "webp")}
# PyAV container format names (their first name) for the videos served, with their type.
WEB_VIDEOS = {"mov": ("video/mp4", "mp4"), "matroska": ("video/webm", "webm")}


def media_roots(conn: Connection, configured: list[str]) -> list[Path]:
    """Configured roots, then the folders of every ingested source file."""
    roots = [Path(p).resolve() for p in configured]
    for (src,) in conn.execute(select(t.ingest_checkpoints.c.source)):
        p = Path(src).resolve().parent
        if p not in roots:
            roots.append(p)
    return roots


def own_files(conn: Connection, db_file: str | None) -> set[Path]:
    """Files a media uri must never name: every ingested source file and the store's database
    (with its journal files). They lie in a media root (a source file's folder is one)."""
    out = set()
    for (src,) in conn.execute(select(t.ingest_checkpoints.c.source)):
        out.add(Path(src).resolve())
    if db_file:
        base = Path(db_file).resolve()
        out |= {base, *(base.with_name(base.name + x) for x in ("-wal", "-shm", "-journal"))}
    return out


def resolve(uri: str | None, roots: list[Path], exclude: set[Path] | frozenset = frozenset()) -> Path | None:
    """The local file for a media uri, only if it lies inside one of the roots and is not one of
    `exclude` (own_files)."""
    if not uri:
        return None
    u = urlparse(uri)
    if u.scheme == "file":
        uri = u.path
    elif u.scheme and len(u.scheme) > 1:
        return None  # a URL: never fetched
    for root in roots:
        p = Path(uri) if os.path.isabs(uri) else root / uri
        try:
            p = p.resolve()
        except OSError:
            continue
        if p.is_relative_to(root) and p.is_file() and p not in exclude:
            return p
    return None


@dataclass
class Servable:
    data: bytes
    content_type: str
    ext: str
    reencoded: bool = False


def servable(path: Path, kind: str, limits: safe.Limits | None = None) -> Servable:
    """The bytes to serve for a revealed original, typed by what they decode to.

    A photo is decoded with the safe decoder (netwarden.media.decode: size, pixel and time limits);
    JPEG, PNG, GIF and WebP are served as they are, any other image re-encoded to PNG. A video must
    open in PyAV as MP4/QuickTime or Matroska/WebM with a video stream whose first frame decodes.
    Anything else (HTML, SVG, text, audio, a file claiming to be what it is not) raises MediaError.
    `limits` are the app's settings' (app.state.settings; None: the defaults)."""
    limits = limits if limits is not None else safe.Limits()
    name = path.name
    data = safe.read_bytes(path, limits.max_bytes)
    if kind == "video":
        return _video(data, name, limits.max_pixels)
    if kind != "photo":
        raise safe.MediaError(name, "not_image", f"media kind {kind!r} is not served")
    dec = safe.decode(data, name=name, **limits.kw())
    if dec.format in WEB_IMAGES:
        ctype, ext = WEB_IMAGES[dec.format]
        return Servable(data, ctype, ext)
    buf = io.BytesIO()
    Image.fromarray(dec.rgb, "RGB").save(buf, "PNG")
    return Servable(buf.getvalue(), "image/png", "png", reencoded=True)


def _video(data: bytes, name: str, max_pixels: int) -> Servable:
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            fmt = container.format.name.split(",")[0]
            if fmt not in WEB_VIDEOS or not container.streams.video:
                raise safe.MediaError(name, "not_image", f"container {fmt!r} is not a served video")
            stream = container.streams.video[0]
            w, h = stream.codec_context.width or 0, stream.codec_context.height or 0
            if w * h > max_pixels:
                raise safe.MediaError(name, "too_many_pixels", f"{w}x{h}")
            next(container.decode(stream))
    except safe.MediaError:
        raise
    except (av.FFmpegError, StopIteration, ValueError, OSError) as e:
        raise safe.MediaError(name, "corrupt", f"not a decodable video: {type(e).__name__}") from None
    ctype, ext = WEB_VIDEOS[fmt]
    return Servable(data, ctype, ext)


@lru_cache(maxsize=4096)
def _blurred(path: str, mtime: float, strength: str, limits: safe.Limits) -> bytes:
    dec = safe.decode(path, reduce_to=BLUR_SIZE * 4, **limits.kw())  # the safe decoder's limits, no second Pillow path
    g = Image.fromarray(dec.rgb, "RGB").convert("L")
    w, h = g.size
    small = max(4, BLUR_SIZE // (2 if strength == "strong" else 1))
    g.thumbnail((small, small))
    g = g.resize((OUT_SIZE, max(1, int(OUT_SIZE * h / max(w, 1)))), Image.Resampling.BILINEAR)
    g = g.filter(ImageFilter.GaussianBlur(8 if strength == "strong" else 5))
    buf = io.BytesIO()
    g.save(buf, "PNG", optimize=False)
    return buf.getvalue()


def placeholder() -> bytes:
    g = Image.new("L", (OUT_SIZE, OUT_SIZE), 128)
    buf = io.BytesIO()
    g.save(buf, "PNG")
    return buf.getvalue()


def blurred(path: Path, strength: str = "strong", limits: safe.Limits | None = None) -> bytes:
    """A greyscale, heavily blurred PNG of an image file (a grey square when it cannot be decoded)."""
    try:
        return _blurred(str(path), path.stat().st_mtime, strength, limits if limits is not None else safe.Limits())
    except (OSError, ValueError, safe.MediaError):
        return placeholder()
