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


_I32 = np.iinfo(np.int32)


def _code_dtype(top: int) -> np.dtype:
    """The smallest unsigned dtype that holds codes 0..top."""
    for t in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(t).max:
            return np.dtype(t)
    return np.dtype(np.int64)


class PdqEntries:
    """Bank and label of every PDQ entry, as arrays: sorted entry ids beside bank codes and label codes
    (banks and labels interned: one bank id and one string per distinct value). Each array has the
    smallest dtype that holds what it holds, widened (a copy of that array) when a new value would not
    fit: ids int32 while every id fits (int64 after), codes uint8 up to 256 distinct banks or labels,
    uint16 up to 65,536, then uint32. 6 bytes an entry for a store of fewer than 2**31 ids and 256 labels,
    against ~200 for a dict of tuples; the hash itself is not kept here, the index hands it back on a hit.

    Entry ids come from the store in increasing order, so adds append (amortised, in place); an add
    of lower or already-present ids is merged in, the later add winning like a dict assignment.
    """

    def __init__(self):
        self.n = 0
        self._ids = np.zeros(0, dtype=np.int32)
        self._bank = np.zeros(0, dtype=np.uint8)
        self._label = np.zeros(0, dtype=np.uint8)
        self.labels: list[str] = [""]
        self._label_code: dict[str, int] = {"": 0}
        self.bank_ids: list[int] = []  # bank code -> bank id
        self._bank_code: dict[int, int] = {}
        self._bank_of = np.zeros(0, dtype=np.int64)  # bank_ids as an array, for lookups

    def __len__(self) -> int:
        return self.n

    def nbytes(self) -> int:
        """Bytes of the entries held (the reserved room beyond them is address space only: np.empty
        pages are held once written)."""
        return self.n * (self._ids.itemsize + self._bank.itemsize + self._label.itemsize)

    def _code(self, label: str) -> int:
        c = self._label_code.get(label)
        if c is None:
            c = self._label_code[label] = len(self.labels)
            self.labels.append(label)
        return c

    def codes(self, labels) -> np.ndarray:
        """The codes of these labels (interning new ones); one code for a batch of one label."""
        labels = [x or "" for x in labels]
        if len(set(labels)) == 1:
            c = self._code(labels[0])
            return np.full(len(labels), c, dtype=_code_dtype(c))
        out = np.fromiter((self._code(x) for x in labels), dtype=np.int64, count=len(labels))
        return out.astype(_code_dtype(len(self.labels) - 1))

    def _bank_codes(self, banks) -> np.ndarray:
        """Bank ids -> bank codes (interning new banks)."""
        b = np.asarray(banks, dtype=np.int64).reshape(-1)
        lo, hi = int(b.min()), int(b.max())
        if lo == hi:
            uniq, inv = [lo], None
        elif lo >= 0 and hi < 1 << 20:  # small ids (the store's): a table, no sort
            present = np.zeros(hi + 1, dtype=bool)
            present[b] = True
            uniq, inv = np.flatnonzero(present).tolist(), None
        else:
            u, inv = np.unique(b, return_inverse=True)
            uniq = u.tolist()
        fresh = [x for x in uniq if x not in self._bank_code]
        for x in fresh:
            self._bank_code[x] = len(self.bank_ids)
            self.bank_ids.append(x)
        if fresh:
            self._bank_of = np.array(self.bank_ids, dtype=np.int64)
        dt = _code_dtype(len(self.bank_ids) - 1)
        if lo == hi:
            return np.full(len(b), self._bank_code[lo], dtype=dt)
        if inv is None:
            table = np.zeros(hi + 1, dtype=dt)
            table[uniq] = [self._bank_code[x] for x in uniq]
            return table[b]
        return np.array([self._bank_code[x] for x in uniq], dtype=dt)[inv.reshape(-1)]

    def _widen(self, name: str, dtype: np.dtype) -> None:
        """Array `name` as `dtype` (same capacity) if its own dtype does not hold every value of it."""
        old = getattr(self, name)
        if np.can_cast(dtype, old.dtype, casting="safe"):
            return
        grown = np.empty(len(old), dtype=np.promote_types(old.dtype, dtype))
        grown[: self.n] = old[: self.n]
        setattr(self, name, grown)

    def add(self, ids, banks, labels=None, codes: np.ndarray | None = None) -> None:
        """Add entries: ids and bank ids (lists or arrays) with their labels, or their label codes."""
        if not len(ids):
            return
        ids_a = np.asarray(ids, dtype=np.int64).reshape(-1)
        bank_a = self._bank_codes(banks)
        label_a = self.codes(labels) if codes is None else np.asarray(codes)
        if label_a.dtype.kind not in "ui" or (len(label_a) and (label_a.min() < 0 or label_a.max() >= len(self.labels))):
            raise ValueError("label codes must come from PdqEntries.codes")
        label_a = label_a.astype(_code_dtype(int(label_a.max())), copy=False)
        # widen the held arrays first, so the new values fit (and searches run in the held dtype:
        # a lookup in another dtype would convert the whole array)
        if ids_a.min() < _I32.min or ids_a.max() > _I32.max:
            self._widen("_ids", np.dtype(np.int64))
        self._widen("_bank", bank_a.dtype)
        self._widen("_label", label_a.dtype)
        ids_a = ids_a.astype(self._ids.dtype, copy=False)
        bank_a = bank_a.astype(self._bank.dtype, copy=False)
        label_a = label_a.astype(self._label.dtype, copy=False)
        if len(ids_a) > 1 and not (np.diff(ids_a) > 0).all():  # sort; the last of repeated ids wins
            order = np.argsort(ids_a, kind="stable")
            ids_a, bank_a, label_a = ids_a[order], bank_a[order], label_a[order]
            last = np.append(ids_a[1:] != ids_a[:-1], True)
            ids_a, bank_a, label_a = ids_a[last], bank_a[last], label_a[last]
        n = self.n
        if n and ids_a[0] <= self._ids[n - 1]:  # not a pure append: merge
            ids = self._ids[:n]
            pos = np.searchsorted(ids, ids_a)
            have = pos < n
            have[have] = ids[pos[have]] == ids_a[have]
            self._bank[pos[have]], self._label[pos[have]] = bank_a[have], label_a[have]
            new = ~have
            self._ids = np.insert(ids, pos[new], ids_a[new])
            self._bank = np.insert(self._bank[:n], pos[new], bank_a[new])
            self._label = np.insert(self._label[:n], pos[new], label_a[new])
            self.n = len(self._ids)
            return
        end = n + len(ids_a)
        self.reserve(len(ids_a))
        self._ids[n:end], self._bank[n:end], self._label[n:end] = ids_a, bank_a, label_a
        self.n = end

    def reserve(self, k: int) -> None:
        """Room for k more appended entries, and a quarter beyond (a load reserves its whole id range
        once: only the pages written are ever held, so the room costs address space, not memory, and
        the adds after a load of 100M entries do not copy 600 MB to grow)."""
        n, end = self.n, self.n + k
        if end > len(self._ids):  # grow by a quarter at least: amortised appends
            cap = max(end + end // 4, n + n // 4)
            for a in ("_ids", "_bank", "_label"):
                old = getattr(self, a)
                grown = np.empty(cap, dtype=old.dtype)
                grown[:n] = old[:n]
                setattr(self, a, grown)

    def remove(self, ids) -> None:
        ids_a = np.unique(np.asarray(list(ids), dtype=np.int64))
        if not self.n or not len(ids_a):
            return
        keep = ~np.isin(self._ids[: self.n], ids_a, assume_unique=True)
        self._ids, self._bank, self._label = (a[: self.n][keep] for a in (self._ids, self._bank, self._label))
        self.n = len(self._ids)

    def lookup(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(found, bank id, label code) for each of these entry ids; bank and label are 0 where not found."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        held = self._ids[: self.n]
        found = np.zeros(len(ids), dtype=bool)
        bank = np.zeros(len(ids), dtype=np.int64)
        label = np.zeros(len(ids), dtype=np.int64)
        t = np.iinfo(held.dtype)
        fits = (ids >= t.min) & (ids <= t.max)  # an id the held dtype cannot hold is not held
        q = ids[fits].astype(held.dtype)  # searched in the held dtype: no copy of the held ids
        pos = np.searchsorted(held, q)
        ok = pos < self.n
        ok[ok] = held[pos[ok]] == q[ok]
        where = np.flatnonzero(fits)[ok]
        found[where] = True
        bank[where] = self._bank_of[self._bank[pos[ok]]]
        label[where] = self._label[pos[ok]]
        return found, bank, label


class Matcher:
    """All enabled banks in memory: exact dicts for MD5/SHA-256, one PdqIndex, vPDQ lists."""

    def __init__(self, banks: list[BankInfo], index_mode: str = "auto"):
        self.banks = {b.id: b for b in banks}
        enabled = [b for b in banks if b.enabled]
        self.radius = max([b.threshold for b in enabled] + [31])
        self.index = PdqIndex(mode=index_mode, radius=self.radius)
        self.exact: dict[tuple[str, str], list[tuple[int, int, str]]] = {}  # (type, hex) -> [(entry, bank, label)]
        self.pdq_meta = PdqEntries()  # entry id -> bank, label (the hash comes back from the index)
        self.videos: list[tuple[int, int, str, list[dict]]] = []  # (entry, bank, label, frames)
        self.max_entry_id = 0

    def add_entries(self, entries: list[dict]) -> int:
        """Add bank entries ({id, bank_id, signal_type, signal, label}); returns how many were used."""
        pdq_ids, pdq_hex, pdq_bank, pdq_label = [], [], [], []
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
                pdq_bank.append(bank.id)
                pdq_label.append(e.get("label") or "")
            elif t.matching == "vpdq":
                frames = vpdq_frames(sig)
                self.videos.append((int(e["id"]), bank.id, e.get("label") or "", frames))
        if pdq_ids:
            self.index.add(hex_to_u8(pdq_hex), np.array(pdq_ids, dtype=np.int64))
            self.pdq_meta.add(pdq_ids, pdq_bank, pdq_label)
        return used

    def remove_entries(self, entry_ids: list[int]) -> None:
        ids = set(entry_ids)
        self.index.remove(ids)
        for k in list(self.exact):
            self.exact[k] = [t for t in self.exact[k] if t[0] not in ids]
        self.videos = [v for v in self.videos if v[0] not in ids]
        self.pdq_meta.remove(ids)

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
            qi, ids, dist, h8 = self.index.search(hex_to_u8(q_hex), with_hashes=True)
            known, bank_ids, label_codes = self.pdq_meta.lookup(ids)
            labels = self.pdq_meta.labels
            best: dict[tuple[int, int], Match] = {}
            for k in np.flatnonzero(known).tolist():
                q, i, d = int(qi[k]), int(ids[k]), int(dist[k])
                b = self.banks[int(bank_ids[k])]
                if d > b.threshold:
                    continue
                n = q_owner[q]
                prev = best.get((n, i))
                if prev is None or d < prev.distance or (d == prev.distance and q_variant[q] == "orig"):
                    best[(n, i)] = Match(b.name, b.id, i, "pdq", h8[k].tobytes().hex(), labels[label_codes[k]], d,
                                         q_variant[q], b.negative)
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

