"""vPDQ: a video as PDQ hashes of its frames; a video matches a bank video when at least
VPDQ_MATCH_PERCENT of its usable frames are within the bank's threshold of the bank video's frames.

Stored as a JSON frame list or HMA's `frame,quality,pdq[,timestamp]` lines (newline or `;` separated).
The installed python-threatexchange has no vPDQ SignalType (it is an extension), so the name is ours,
the same as the extension's.
"""

from __future__ import annotations

from collections.abc import Mapping

from .base import MediaType

VPDQ_MATCH_PERCENT = 80.0  # share of the query's usable frames that must match a bank video


class VPDQ(MediaType):
    name = "vpdq"
    aliases = ("video_vpdq",)
    matching = "vpdq"
    hma_content = "video"  # offered, but not hashed unless asked for

    @classmethod
    def normalize(cls, signal: str) -> str:
        s = (signal or "").strip().lower()
        if not s:
            raise ValueError("empty vpdq signal")
        return s

    @classmethod
    def closeness(cls, detail: Mapping) -> float:
        """The share of the query video's frames that matched, against VPDQ_MATCH_PERCENT: 1.0 at 100%, 0.5 at the threshold."""
        pct = detail.get("query_match_percent")
        pct = float(pct) if pct is not None else 100.0 - float(detail.get("distance") or 0)
        span = 100.0 - VPDQ_MATCH_PERCENT
        return 1 - 0.5 * min(max(100.0 - pct, 0.0), span) / span

    @classmethod
    def query(cls, hashes, signal: str) -> None:
        hashes.kind, hashes.vpdq = "video", frames(signal)


def frames(signal: str) -> list[dict]:
    """The frames of a stored vPDQ signal, in either of its forms: a JSON list, or `frame,quality,pdq[,ts]` lines."""
    import json

    if signal.startswith("["):
        return json.loads(signal)
    out = []
    for line in signal.replace(";", "\n").splitlines():
        p = line.strip().split(",")
        if len(p) >= 3:
            out.append({"frame": int(p[0]), "quality": int(p[1]), "pdq": p[2]})
    return out
