"""Media for reviewers: files only from the platform storage the store knows, blurred server-side.

A media row's `uri` is a path relative to the folder of the file it was ingested from (or to a
configured media root). URLs are never fetched. The blurred greyscale rendition is made here with
Pillow, so the original bytes leave the server only after an audited reveal.
"""

from __future__ import annotations

import io
import os
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

from PIL import Image, ImageFilter
from sqlalchemy import select
from sqlalchemy.engine import Connection

from ..store import schema as t

BLUR_SIZE = 24  # the rendition is built from a thumbnail this many pixels wide: no detail survives
OUT_SIZE = 160
MAX_PIXELS = 40_000_000


def media_roots(conn: Connection, configured: list[str]) -> list[Path]:
    """Configured roots, then the folders of every ingested source file."""
    roots = [Path(p).resolve() for p in configured]
    for (src,) in conn.execute(select(t.ingest_checkpoints.c.source)):
        p = Path(src).resolve().parent
        if p not in roots:
            roots.append(p)
    return roots


def resolve(uri: str | None, roots: list[Path]) -> Path | None:
    """The local file for a media uri, only if it lies inside one of the roots."""
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
        if p.is_relative_to(root) and p.is_file():
            return p
    return None


@lru_cache(maxsize=4096)
def _blurred(path: str, mtime: float, strength: str) -> bytes:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    with Image.open(path) as im:
        im.draft("L", (BLUR_SIZE * 4, BLUR_SIZE * 4))
        g = im.convert("L")
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


def blurred(path: Path, strength: str = "strong") -> bytes:
    """A greyscale, heavily blurred PNG of an image file (a grey square when it cannot be decoded)."""
    try:
        return _blurred(str(path), path.stat().st_mtime, strength)
    except (OSError, ValueError, Image.DecompressionBombError):
        return placeholder()
