"""Matching media hashes against banks: exact MD5 / SHA-256, PDQ range search over all dihedral
variants at each bank's threshold, vPDQ video-to-video, negative banks that suppress matches.
Which types there are, and how each is matched (`matching`: exact, pdq or vpdq), comes from
netwarden.signal_types; link entries (url, domain, ...) in the same banks are skipped here, the text
ingest hook matches them.

Plain library: banks and entries come in as plain dicts (see netwarden.store.media_banks for the
store side). Adding entries is incremental: they are matchable as soon as `add_entries` returns.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .. import signal_types
from ..signal_types import MEDIA, PDQ_THRESHOLD, VPDQ_MATCH_PERCENT
from ..signal_types.vpdq import frames as vpdq_frames
from .hashing import MIN_QUALITY, MediaHashes
from .index import PdqIndex, hex_to_u8
from .video import match_videos


@dataclass
class BankInfo:
    id: int
    name: str
    label: str = ""
    threshold: int = PDQ_THRESHOLD
    enabled: bool = True
    negative: bool = False


@dataclass
class Match:
    bank: str
    bank_id: int
    entry_id: int
    signal_type: str
    signal: str
    label: str
    distance: int  # bits for PDQ; 0 for exact hashes; 100 - percent for vPDQ
    variant: str  # orig | rot90 | ... for PDQ; "bytes" for MD5/SHA-256; "frames" for vPDQ
    negative: bool = False
    detail: dict | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        if d["detail"] is None:
            d.pop("detail")
        return d


@dataclass
class MatchResult:
    matches: list[Match]
    suppressed: list[Match]  # positive matches cancelled by a negative-bank match
    negatives: list[Match]
    unusable: bool = False  # PDQ quality below MIN_QUALITY: not matched perceptually

    def to_dict(self) -> dict:
        return {"matches": [m.to_dict() for m in self.matches], "suppressed": [m.to_dict() for m in self.suppressed],
                "negatives": [m.to_dict() for m in self.negatives], "unusable": self.unusable}


class Matcher:
    """All enabled banks in memory: exact dicts for MD5/SHA-256, one PdqIndex, vPDQ lists."""

    def __init__(self, banks: list[BankInfo], index_mode: str = "auto"):
        self.banks = {b.id: b for b in banks}
        enabled = [b for b in banks if b.enabled]
        self.radius = max([b.threshold for b in enabled] + [31])
        self.index = PdqIndex(mode=index_mode, radius=self.radius)
        self.exact: dict[tuple[str, str], list[tuple[int, int, str]]] = {}  # (type, hex) -> [(entry, bank, label)]
        self.pdq_meta: dict[int, tuple[int, str, str]] = {}  # entry id -> (bank, hex, label)
        self.videos: list[tuple[int, int, str, list[dict]]] = []  # (entry, bank, label, frames)
        self.max_entry_id = 0

    def add_entries(self, entries: list[dict]) -> int:
        """Add bank entries ({id, bank_id, signal_type, signal, label}); returns how many were used."""
        pdq_ids, pdq_hex = [], []
        used = 0
        for e in entries:
            self.max_entry_id = max(self.max_entry_id, int(e["id"]))
            bank = self.banks.get(e["bank_id"])
            if bank is None or not bank.enabled:
                continue
            st, sig = e["signal_type"], e["signal"]
            t = signal_types.get(st)
            if t is None or t.family != MEDIA:
                continue  # link entries are matched on links by the text hook
            used += 1
            if t.matching == "exact":
                self.exact.setdefault((st, sig), []).append((int(e["id"]), bank.id, e.get("label") or ""))
            elif t.matching == "pdq":
                pdq_ids.append(int(e["id"]))
                pdq_hex.append(sig)
                self.pdq_meta[int(e["id"])] = (bank.id, sig, e.get("label") or "")
            elif t.matching == "vpdq":
                frames = vpdq_frames(sig)
                self.videos.append((int(e["id"]), bank.id, e.get("label") or "", frames))
        if pdq_ids:
            self.index.add(hex_to_u8(pdq_hex), np.array(pdq_ids, dtype=np.int64))
        return used

    def remove_entries(self, entry_ids: list[int]) -> None:
        ids = set(entry_ids)
        self.index.remove(ids)
        for k in list(self.exact):
            self.exact[k] = [t for t in self.exact[k] if t[0] not in ids]
        self.videos = [v for v in self.videos if v[0] not in ids]
        for i in ids:
            self.pdq_meta.pop(i, None)

    def match(self, h: MediaHashes) -> MatchResult:
        return self.match_many([h])[0]

    def match_many(self, hs: list[MediaHashes]) -> list[MatchResult]:
        """Match many media at once (one vectorised index search for all their PDQ variants)."""
        found: list[list[Match]] = [[] for _ in hs]
        # exact byte hashes
        exact = [(t.name, t.column) for t in signal_types.exact_media_types()]
        for n, h in enumerate(hs):
            for st, col in exact:
                v = getattr(h, col)
                for entry, bank_id, label in self.exact.get((st, v), []) if v else []:
                    b = self.banks[bank_id]
                    found[n].append(Match(b.name, b.id, entry, st, v, label, 0, "bytes", b.negative))
        # PDQ, every dihedral variant, one batched search
        q_hex, q_owner, q_variant = [], [], []
        unusable = [False] * len(hs)
        for n, h in enumerate(hs):
            if h.pdq is None:
                continue
            if (h.quality or 0) < MIN_QUALITY:
                unusable[n] = True
                continue
            variants = h.variants or {"orig": h.pdq}
            for name, hx in variants.items():
                q_hex.append(hx)
                q_owner.append(n)
                q_variant.append(name)
        if q_hex and len(self.index):
            qi, ids, dist = self.index.search(hex_to_u8(q_hex))
            best: dict[tuple[int, int], Match] = {}
            for q, i, d in zip(qi.tolist(), ids.tolist(), dist.tolist(), strict=True):
                meta = self.pdq_meta.get(i)
                if meta is None:
                    continue
                bank_id, sig, label = meta
                b = self.banks[bank_id]
                if d > b.threshold:
                    continue
                n = q_owner[q]
                prev = best.get((n, i))
                if prev is None or d < prev.distance or (d == prev.distance and q_variant[q] == "orig"):
                    best[(n, i)] = Match(b.name, b.id, i, "pdq", sig, label, d, q_variant[q], b.negative)
            for (n, _), m in best.items():
                found[n].append(m)
        # vPDQ: video against bank videos
        for n, h in enumerate(hs):
            if not h.vpdq or not self.videos:
                continue
            for entry, bank_id, label, frames in self.videos:
                b = self.banks[bank_id]
                qp, tp = match_videos(h.vpdq, frames, threshold=b.threshold)
                if qp >= VPDQ_MATCH_PERCENT:
                    found[n].append(video_match(b, entry, label, len(frames), qp, tp))
        out = []
        for n, ms in enumerate(found):
            ms.sort(key=lambda m: (m.distance, m.bank, m.entry_id))
            neg = [m for m in ms if m.negative]
            pos = [m for m in ms if not m.negative]
            out.append(MatchResult(matches=[] if neg else pos, suppressed=pos if neg else [], negatives=neg,
                                   unusable=unusable[n]))
        return out


def video_match(b: BankInfo, entry_id: int, label: str, n_frames: int, qp: float, tp: float) -> Match:
    """The Match for a video whose query / bank match percentages are qp / tp (qp >= VPDQ_MATCH_PERCENT).

    Shared with Spark retro-matching, which counts the matched frames in a join and passes
    100.0 * matched / usable; the percentages are rounded here as numpy floats, like match_videos'.
    """
    qp, tp = np.float64(qp), np.float64(tp)
    return Match(b.name, b.id, entry_id, "vpdq", f"{n_frames} frames", label, round(100 - qp), "frames", b.negative,
                 {"query_match_percent": round(qp, 1), "bank_match_percent": round(tp, 1)})

