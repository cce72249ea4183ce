"""vPDQ: PDQ hashes of video frames (one a second by default), and video-to-video matching.

Frames are decoded with PyAV (FFmpeg's libraries, shipped in its wheel) and converted to RGB at
full size, then hashed with PDQ as the reference vpdq does; the output lines match the reference
`frame_number,quality,pdq_hex,timestamp_seconds` files.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

import numpy as np
import pdqhash

from .decode import MAX_PIXELS, TIME_LIMIT, MediaError
from .hashing import MIN_QUALITY, bits_to_hex


def video_time_limit(image_limit: float) -> float:
    """A whole video's time limit for a per-image decode limit: six images' worth, at least a minute."""
    return max(image_limit * 6, 60.0)


VIDEO_TIME_LIMIT = video_time_limit(TIME_LIMIT)
MAX_VIDEO_FRAMES = 20_000


@dataclass
class FrameHash:
    frame: int
    quality: int
    pdq: str
    timestamp: float

    def to_dict(self) -> dict:
        return {"frame": self.frame, "quality": self.quality, "pdq": self.pdq, "timestamp": round(self.timestamp, 3)}

    def line(self) -> str:
        return f"{self.frame},{self.quality},{self.pdq},{self.timestamp:.3f}"


def vpdq_from_bytes(data: bytes, name: str = "<video>", *, fps: float = 1.0, max_pixels: int | None = None,
                    time_limit: float | None = None, max_frames: int = MAX_VIDEO_FRAMES,
                    max_bytes: int | None = None) -> list[FrameHash]:
    """Hash a video's frames: `fps` frames a second (0 or less: every frame)."""
    import av

    if not data:
        raise MediaError(name, "empty")
    px = MAX_PIXELS if max_pixels is None else max_pixels
    end = time.monotonic() + (VIDEO_TIME_LIMIT if time_limit is None else time_limit)
    out: list[FrameHash] = []
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise MediaError(name, "not_image", "no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            rate = float(stream.average_rate or stream.guessed_rate or 30)
            step = max(1, round(rate / fps)) if fps and fps > 0 else 1
            for i, frame in enumerate(container.decode(stream)):
                if time.monotonic() > end:
                    raise MediaError(name, "timeout")
                if i >= max_frames:
                    break
                if frame.width * frame.height > px:
                    raise MediaError(name, "too_many_pixels", f"frame {frame.width}x{frame.height}")
                if i % step:
                    continue
                rgb = frame.to_ndarray(format="rgb24")
                vec, q = pdqhash.compute(rgb)
                ts = float(frame.time) if frame.time is not None else i / rate
                out.append(FrameHash(frame=i, quality=int(q), pdq=bits_to_hex(vec), timestamp=ts))
    except MediaError:
        raise
    except av.error.InvalidDataError as e:
        raise MediaError(name, "not_image", f"not a video FFmpeg can read: {e}") from None
    except (av.error.FFmpegError, OSError, ValueError) as e:
        raise MediaError(name, "corrupt", str(e)) from None
    if not out:
        raise MediaError(name, "corrupt", "no decodable frames")
    return out


def vpdq_file(path, **kw) -> list[FrameHash]:
    from .decode import read_bytes

    return vpdq_from_bytes(read_bytes(path, kw.pop("max_bytes", None)), str(path), **kw)


def read_reference(path) -> list[FrameHash]:
    """Read a reference vpdq file (`frame,quality,pdq_hex[,timestamp]` a line)."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.strip().split(",")
            if len(parts) < 3:
                continue
            ts = float(parts[3]) if len(parts) > 3 else 0.0
            out.append(FrameHash(int(parts[0]), int(parts[1]), parts[2], ts))
    return out


def _matrix(hashes: list[str]) -> np.ndarray:
    if not hashes:
        return np.zeros((0, 4), dtype=np.uint64)
    b = np.frombuffer(b"".join(bytes.fromhex(h) for h in hashes), dtype=">u8").astype(np.uint64)
    return b.reshape(-1, 4)


def match_videos(query: list[FrameHash] | list[dict], target: list[FrameHash] | list[dict],
                 threshold: int = 31, min_quality: int = MIN_QUALITY) -> tuple[float, float]:
    """vPDQ video similarity, as the reference defines it.

    Returns (query_match_percent, target_match_percent): the share of the query's unique usable
    frame hashes within `threshold` of some target frame hash, and the other way round.
    """

    def usable(frames):
        out = []
        for f in frames:
            q, h = (f["quality"], f["pdq"]) if isinstance(f, dict) else (f.quality, f.pdq)
            if q >= min_quality:
                out.append(h)
        return sorted(set(out))

    qa, ta = _matrix(usable(query)), _matrix(usable(target))
    if len(qa) == 0 or len(ta) == 0:
        return 0.0, 0.0
    d = np.zeros((len(qa), len(ta)), dtype=np.int32)
    for w in range(4):
        d += np.bitwise_count(qa[:, w][:, None] ^ ta[:, w][None, :]).astype(np.int32)
    close = d <= threshold
    return 100.0 * close.any(axis=1).mean(), 100.0 * close.any(axis=0).mean()
