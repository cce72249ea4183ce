"""Text normalization before matching, with a map from normalized positions back to the original.

Two layers:

* **fold** (every term, every text): one per-character mapping, applied with ``str.translate``:
  invalid code points (lone surrogates) -> U+FFFD; whitespace and control characters -> ' ';
  zero-width / invisible / format characters, emoji variation selectors and tag characters
  removed; Unicode NFKC (fullwidth, mathematical alphanumerics, ligatures, presentation forms);
  case folding; accents and other combining marks removed (NFKD then drop marks, which also
  removes Arabic tashkeel); Arabic tatweel removed and alef / yaa / taa marbuta forms unified;
  non-ASCII decimal digits -> ASCII digits; homoglyphs (Cyrillic, Greek, ... from the Unicode
  confusables data in ``confusables.json``) folded onto ASCII letters.
  Because it is per character, ``fold_map`` gives the original index of every output character.

* **loose** (only for terms that allow it, see ``terms.Term.leet`` / ``spacing``), applied to the
  folded text: leetspeak digits and letters folded (``0->o 1->i 3->e 4->a 5->s 7->t 8->b 9->g``,
  ``l->i``; ``@ $ ! |`` only between letters), and separators folded: runs of 3+ single
  characters separated by 1-3 non-word characters are joined ("k i k", "s-n-a-p", "k🔥i🔥k"),
  and joiner punctuation or symbols between two letters is dropped ("zorb.lat", "zorb_lat");
  runs of spaces collapse to one. With both, leet and spacing apply to the same letters: digits
  as letters of a run ("s-n-4-p"), and ``@ $ ! |`` standing alone inside a run ("s * ! * b") are
  letters unless they are the separator of the whole spaced word ("k | i | k").

Texts longer than ``MAX_CHARS`` are cut there before matching, so time per text is bounded.
"""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from pathlib import Path

import numpy as np

MAX_CHARS = 20_000

# Characters that render as nothing but are not in category Cf/Mn/Me.
_INVISIBLE = {
    0x115F, 0x1160, 0x3164, 0xFFA0,  # Hangul fillers
    0x2800,  # braille blank
    0x0640,  # Arabic tatweel (kashida)
    0x180E,  # Mongolian vowel separator
}

# Arabic letter unification (after NFKD + mark removal has taken hamza/madda off most forms).
_ARABIC = {
    "\u0671": "\u0627",  # alef wasla -> alef
    "\u0672": "\u0627", "\u0673": "\u0627", "\u0675": "\u0627",
    "\u0649": "\u064a",  # alef maksura -> yaa
    "\u06cc": "\u064a",  # Farsi yeh -> yaa
    "\u06d2": "\u064a",  # yeh barree -> yaa
    "\u0629": "\u0647",  # taa marbuta -> haa
    "\u06c0": "\u0647", "\u06c1": "\u0647", "\u06d5": "\u0647",
    "\u06a9": "\u0643",  # keheh -> kaf
    "\u0621": "",  # lone hamza dropped
}

# Ranges the translate table covers; everything else maps to itself except the planes below.
_TABLE_RANGES = [(0, 0x30000), (0xE0000, 0xE0080), (0xE0100, 0xE01F0)]


@cache
def confusables() -> dict[str, str]:
    """Non-ASCII letter -> ASCII letter/digit it is confusable with (Unicode confusables data)."""
    path = Path(__file__).with_name("confusables.json")
    return json.loads(path.read_text(encoding="utf-8"))


def _fold_char(ch: str, conf: dict[str, str]) -> str:
    cp = ord(ch)
    cat = unicodedata.category(ch)
    if cat == "Cs":
        return "\ufffd"
    if cat in ("Zs", "Zl", "Zp", "Cc"):
        return " "
    if cat in ("Cf", "Mn", "Me") or cp in _INVISIBLE:
        return ""
    if cat == "Cn" or cat == "Co":
        return ch
    s = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", ch).casefold())
    out = []
    for c in s:
        ccat = unicodedata.category(c)
        if ccat in ("Mn", "Me", "Cf") or ord(c) in _INVISIBLE:
            continue
        if ccat in ("Zs", "Cc"):
            out.append(" ")
            continue
        if ccat == "Nd" and not c.isascii():
            c = str(unicodedata.digit(c))
        c = _ARABIC.get(c, c)
        c = conf.get(c, c)
        out.append(c.lower() if c.isascii() else c)
    return "".join(out)


@cache
def fold_table() -> dict[int, str]:
    """The per-code-point fold mapping (only code points that change)."""
    conf = confusables()
    table: dict[int, str] = {}
    for lo, hi in _TABLE_RANGES:
        for cp in range(lo, hi):
            ch = chr(cp)
            f = _fold_char(ch, conf)
            if f != ch:
                table[cp] = f
    return table


@cache
def _fast_table() -> list:
    """fold_table as a dense list over the BMP+SMP for fast ``str.translate`` (no KeyError per char)."""
    t = fold_table()
    dense: list = list(range(0x30000))
    for cp, v in t.items():
        if cp < 0x30000:
            dense[cp] = v
    return dense


_HIGH = "\U00030000"


def fold(text: str) -> str:
    """The folded form of `text` (see module docstring)."""
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS]
    if text.isascii():
        return text.translate(_ascii_table()) if _needs_ascii(text) else text.lower()
    if max(text) >= _HIGH:
        return text.translate(_HighTable(fold_table()))
    return text.translate(_fast_table())


@cache
def _ascii_table() -> dict[int, str]:
    return {cp: v for cp, v in fold_table().items() if cp < 128}


def _needs_ascii(text: str) -> bool:
    """For ASCII text: whether it has a control character (\\x00-\\x1f, \\x7f), the only ASCII the
    table does more to than lower-casing; those are exactly the ASCII characters not printable."""
    return not text.isprintable()


class _HighTable(dict):
    __slots__ = ()

    def __missing__(self, key: int) -> int:
        return key


def fold_map(text: str) -> tuple[str, list[int] | None]:
    """(fold(text), offsets) where offsets[i] is the index in `text` of output character i.

    offsets has one extra entry at the end: len(text) (or MAX_CHARS when cut). It is None when the
    offsets are the identity (offsets[i] == i), as for most text: plain ASCII that folds one to one.
    """
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS]
    if text.isascii() and not _needs_ascii(text):  # most text: lower case, one output char per input
        return text.lower(), None
    return fold_walk(text)


def fold_walk(text: str) -> tuple[str, list[int]]:
    """fold_map without the plain-ASCII shortcut: the table applied character by character."""
    table = fold_table()
    out: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        f = table.get(ord(ch), ch)
        if f:
            out.append(f)
            offsets.extend([i] * len(f))
    offsets.append(len(text))
    return "".join(out), offsets


# ---------------------------------------------------------------- loose layer and batches
#
# Scanning works on batches: the texts are joined with NUL separators and every step runs as a
# numpy array operation over the whole batch, which keeps the per-character cost to a few ns.
# `fold` above and the batch fold share `fold_table`, so they agree character for character.

LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "l": "i"}
LEET_PUNCT = {"@": "a", "$": "s", "!": "i", "|": "i"}  # only between two word characters
JOINERS = "-._*~·•+/\\=^'’`"
_SEP = 0  # batch separator code point (NUL; NULs in the input are folded to spaces first)
_N = 0x30000


class _Tables:
    def __init__(self) -> None:
        table = fold_table()
        counts = np.ones(_N, dtype=np.int64)
        starts = np.arange(_N, dtype=np.int64)
        extra: list[int] = []
        for cp, out in table.items():
            if cp >= _N:
                continue
            counts[cp] = len(out)
            if len(out) == 1:
                starts[cp] = _N + len(extra)
                extra.append(ord(out))
            elif out:
                starts[cp] = _N + len(extra)
                extra.extend(ord(c) for c in out)
        counts[_SEP] = 1
        starts[_SEP] = _SEP
        self.counts = counts
        self.starts = starts
        self.pool = np.concatenate([np.arange(_N, dtype=np.uint32), np.array(extra, dtype=np.uint32)])
        isword = np.zeros(_N, dtype=bool)
        joiner = np.zeros(_N, dtype=bool)
        for cp in range(_N):
            ch = chr(cp)
            cat = unicodedata.category(ch)
            if ch.isalnum() or cat == "Mc":
                isword[cp] = True
            elif cat in ("So", "Sk", "Sm", "Sc", "Pd", "Pc") or ch in JOINERS:
                joiner[cp] = True
        joiner[ord("#")] = joiner[ord("@")] = False
        self.isword = isword
        self.joiner = joiner
        leet = np.arange(_N, dtype=np.uint32)
        for a, b in LEET.items():
            leet[ord(a)] = ord(b)
        self.leet = leet
        self.leet_punct = np.arange(_N, dtype=np.uint32)
        for a, b in LEET_PUNCT.items():
            self.leet_punct[ord(a)] = ord(b)


@cache
def tables() -> _Tables:
    return _Tables()


def _is_word(codes: np.ndarray) -> np.ndarray:
    t = tables()
    w = t.isword[np.minimum(codes, _N - 1)]
    hi = codes >= _N
    if hi.any():
        w[hi] = True
    return w


def _fold_codes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Folded code points and, for each, the index of the input code point it came from."""
    t = tables()
    hi = codes >= _N
    idx = np.minimum(codes, _N - 1) if hi.any() else codes
    cnt = t.counts[idx]
    if hi.any():
        cnt = cnt.copy()
        c = codes[hi]
        cnt[hi] = np.where(((c >= 0xE0000) & (c < 0xE0080)) | ((c >= 0xE0100) & (c < 0xE01F0)), 0, 1)
    src = np.repeat(np.arange(len(codes), dtype=np.int64), cnt)
    if len(src) == len(codes):  # no deletions or expansions: the common case
        out = t.pool[t.starts[idx]]
        if hi.any():
            out[hi] = codes[hi]
        return out, src
    first = np.cumsum(cnt) - cnt
    intra = np.arange(len(src), dtype=np.int64) - first[src]
    out = t.pool[t.starts[idx][src] + intra]
    if hi.any():
        m = hi[src]
        out[m] = codes[src[m]]
    return out, src


def _clear_ranges(mask: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
    """Set mask[a:b] = False for every (a, b), vectorized."""
    if len(starts) == 0:
        return
    n = len(mask) + 1
    delta = np.bincount(starts, minlength=n) - np.bincount(ends, minlength=n)
    mask &= np.cumsum(delta[:-1]) == 0


def _spaced_runs(codes: np.ndarray, w: np.ndarray, sep_at: np.ndarray, whole_separator: bool = False):
    """Runs of 3+ single word characters separated by the same 1-3 non-word characters.

    A run's separators agree in length and first character, or with `whole_separator` in every
    character, and then only runs that no other separator continues on either side are kept.
    None if there are none, else (starts, ends, interior): the ranges between each run's first
    and last character (its separators, to drop), and the indexes of the characters strictly
    inside a run (neither its first nor its last).
    """
    n = len(codes)
    prev_w = np.zeros(n, dtype=bool)
    next_w = np.zeros(n, dtype=bool)
    prev_w[1:] = w[:-1]
    next_w[:-1] = w[1:]
    single = np.flatnonzero(w & ~prev_w & ~next_w)
    if len(single) < 3:
        return None
    gaps = single[1:] - single[:-1] - 1
    # no text boundary between two singles (sep_at: the positions of the batch separators)
    seps_between = np.searchsorted(sep_at, single[1:]) - np.searchsorted(sep_at, single[:-1] + 1)
    link = (gaps >= 1) & (gaps <= 3) & (seps_between == 0)
    if link.sum() < 2:
        return None
    # a run: consecutive links with the same separator (length and first character)
    gkey = gaps * (1 << 22) + codes[np.minimum(single[:-1] + 1, n - 1)].astype(np.int64)
    if whole_separator:
        for k in (2, 3):
            c = codes[np.minimum(single[:-1] + k, n - 1)].astype(np.int64)
            gkey = gkey * 1_000_003 + np.where(gaps >= k, c, 0)
    newrun = link.copy()
    newrun[1:] &= ~link[:-1] | (gkey[1:] != gkey[:-1])
    rid = np.cumsum(newrun) - 1
    lr = rid[link]
    counts = np.bincount(lr)
    li = np.flatnonzero(link)
    firsts = np.full(len(counts), -1, dtype=np.int64)
    lasts = np.full(len(counts), -1, dtype=np.int64)
    firsts[lr[::-1]] = li[::-1]
    lasts[lr] = li
    long_ = counts >= 2
    if whole_separator:  # a link just before or after the run: it is part of a longer spaced word
        before = np.zeros(len(counts), dtype=bool)
        after = np.zeros(len(counts), dtype=bool)
        before[firsts > 0] = link[firsts[firsts > 0] - 1]
        ok = lasts + 1 < len(link)
        after[ok] = link[lasts[ok] + 1]
        long_ &= ~before & ~after
        if not long_.any():
            return None
    # single j is inside a run when links j-1 and j both belong to the same long run
    inner = link[:-1] & link[1:] & ~newrun[1:] & long_[np.maximum(rid[1:], 0)]
    return single[firsts[long_]] + 1, single[lasts[long_] + 1], single[1:-1][inner]


def _loose_codes(folded: np.ndarray, leet: bool, spacing: bool) -> tuple[np.ndarray, np.ndarray]:
    """The loose form of folded code points and, for each output, its index in `folded`."""
    t = tables()
    codes = folded
    n = len(codes)
    if n == 0:
        return codes, np.arange(0, dtype=np.int64)
    small = np.minimum(codes, _N - 1)
    if leet:
        codes = t.leet[small]
        hi = folded >= _N
        if hi.any():
            codes[hi] = folded[hi]
        w = _is_word(codes)
        lp = t.leet_punct[small]
        cand = (lp != small) & ~hi
        if cand.any():
            left = np.zeros(n, dtype=bool)
            right = np.zeros(n, dtype=bool)
            left[1:] = w[:-1]
            right[:-1] = w[1:]
            m = cand & left & right
            codes[m] = lp[m]
            w = w | m
        small = np.minimum(codes, _N - 1)
    else:
        codes = codes.copy()
        w = _is_word(codes)
    keep = np.ones(n, dtype=bool)
    if spacing:
        sep = codes == _SEP
        sep_at = np.flatnonzero(sep)
        # (a) 3+ single word characters separated by 1-3 non-word characters
        runs = _spaced_runs(codes, w, sep_at)
        if leet:
            # leet punctuation standing alone between separators ("s * ! * b", "z-0-r-8-1-@-7") is a
            # letter of a spaced run, unless it is part of the one separator of a whole spaced word
            # ("k | i | k"); it is read as a letter only inside a run, never at its first or last place
            cand = (lp != small) & ~w & ~hi
            if cand.any():
                prev_w = np.zeros(n, dtype=bool)
                next_w = np.zeros(n, dtype=bool)
                prev_w[1:] = w[:-1]
                next_w[:-1] = w[1:]
                cand &= ~prev_w & ~next_w & ~sep
                seps = _spaced_runs(codes, w, sep_at, whole_separator=True) if cand.any() else None
                if seps is not None:  # drop candidates inside those separators (ranges are sorted, disjoint)
                    ci = np.flatnonzero(cand)
                    k = np.searchsorted(seps[0], ci, side="right") - 1
                    inside = (k >= 0) & (ci < seps[1][np.maximum(k, 0)])
                    cand[ci[inside]] = False
            if cand.any():
                runs2 = _spaced_runs(codes, w | cand, sep_at)
                if runs2 is not None and len(runs2[2]):
                    letters = runs2[2][cand[runs2[2]]]
                    codes[letters] = lp[letters]
                    w = w.copy()
                    w[letters] = True
                    runs = runs2
        if runs is not None:
            _clear_ranges(keep, runs[0], runs[1])
            keep[w] = True
        # (b) joiner runs between two word characters
        j = t.joiner[small] & ~w
        if j.any():
            nonword = ~w
            # maximal non-word segments
            nw = np.concatenate([[False], nonword, [False]]).astype(np.int8)
            d = np.diff(nw)
            ss = np.flatnonzero(d == 1)
            se = np.flatnonzero(d == -1)
            cj = np.concatenate([[0], np.cumsum(j)])
            alljoin = (cj[se] - cj[ss]) == (se - ss)
            bounded = (ss > 0) & (se < n)
            sel = alljoin & bounded
            _clear_ranges(keep, ss[sel], se[sel])
        # (c) runs of spaces collapse to one
        sp = codes == 32
        dup = np.zeros(n, dtype=bool)
        dup[1:] = sp[1:] & sp[:-1]
        keep &= ~dup
        keep[sep] = True
    if keep.all():
        return codes, np.arange(n, dtype=np.int64)
    idx = np.flatnonzero(keep)
    return codes[idx], idx


def _to_str(codes: np.ndarray) -> str:
    return codes.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")


def _utf8_lengths(codes: np.ndarray) -> np.ndarray:
    return 1 + (codes >= 0x80).astype(np.int64) + (codes >= 0x800) + (codes >= 0x10000)


class Form:
    """One normalized form of a whole batch: code points, the joined text and its UTF-8 bytes."""

    __slots__ = ("codes", "to_folded", "_text", "_buf", "_bytepos")

    def __init__(self, codes: np.ndarray, to_folded: np.ndarray | None):
        self.codes = codes
        self.to_folded = to_folded  # index in the folded form, or None for the folded form itself
        self._text: str | None = None
        self._buf: bytes | None = None
        self._bytepos: np.ndarray | None = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = _to_str(self.codes)
        return self._text

    @property
    def buf(self) -> bytes:
        if self._buf is None:
            self._buf = self.text.encode("utf-8", "surrogatepass")
        return self._buf

    def char_index(self, byte_offsets: np.ndarray) -> np.ndarray:
        """Character indexes for byte offsets into `buf` (offsets on character boundaries)."""
        if self._bytepos is None:
            self._bytepos = np.concatenate([[0], np.cumsum(_utf8_lengths(self.codes))])
        return np.searchsorted(self._bytepos, byte_offsets)

    def is_word(self, idx: np.ndarray) -> np.ndarray:
        """Whether the characters at `idx` are word characters (False outside the text)."""
        out = np.zeros(len(idx), dtype=bool)
        ok = (idx >= 0) & (idx < len(self.codes))
        out[ok] = _is_word(self.codes[idx[ok]])
        return out


class Batch:
    """Normalized forms of a batch of texts, with spans mapped back to each original text."""

    def __init__(self, texts: list[str]):
        self.texts = [t[:MAX_CHARS].replace("\x00", " ") for t in texts]
        joined = "\x00".join(self.texts)
        lens = np.array([len(t) for t in self.texts], dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(lens + 1)])[:-1]  # original start per text
        codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.uint32)
        folded, src = _fold_codes(codes)
        self.src = src  # folded index -> joined original index
        self.forms: dict[tuple[bool, bool], Form] = {(False, False): Form(folded, None)}

    def form(self, leet: bool = False, spacing: bool = False) -> Form:
        key = (leet, spacing)
        f = self.forms.get(key)
        if f is None:
            codes, idx = _loose_codes(self.forms[(False, False)].codes, leet, spacing)
            f = self.forms[key] = Form(codes, idx)
        return f

    def texts_of(self, leet: bool = False, spacing: bool = False) -> list[str]:
        """The normalized text of each input, in order."""
        return self.form(leet, spacing).text.split("\x00")

    def locate(self, form: Form, cstart: np.ndarray, cend: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(text index, original start, original end) for char spans [cstart, cend) of `form`."""
        last = np.maximum(cend - 1, cstart)
        if form.to_folded is not None:
            fs, fl = form.to_folded[cstart], form.to_folded[last]
        else:
            fs, fl = cstart, last
        os_, ol = self.src[fs], self.src[fl]
        which = np.searchsorted(self.starts, os_, side="right") - 1
        base = self.starts[which]
        return which, os_ - base, ol - base + 1

    def original_span(self, which: int, start: int, end: int) -> tuple[int, int]:
        """Widen an original span over combining marks that follow it (they fold to nothing)."""
        t = self.texts[which]
        while end < len(t) and unicodedata.category(t[end]) in ("Mn", "Me"):
            end += 1
        return start, end


def loose(text: str, leet: bool = True, spacing: bool = True) -> str:
    """Fold `text` and apply the loose layer (see module docstring)."""
    return Batch([text]).form(leet, spacing).text


def normalize_many(texts: list[str], leet: bool = False, spacing: bool = False) -> list[str]:
    """Normalized form of each text (fold, plus the loose layer when asked)."""
    return Batch(texts).texts_of(leet, spacing) if texts else []
