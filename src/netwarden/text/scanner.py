"""The term scanner: one Hyperscan database per normalized form, compiled once per list version.

Terms are normalized exactly like the text they are matched against: every term is folded;
terms that allow leet and/or separator folding are matched against that loose form of the text.
Literal terms (word, substring, hashtag modes) go into pure-literal databases; word and hashtag
boundaries are checked on the hits. Regex terms run against the folded text, leftmost start.
Texts are scanned in batches (joined with NUL separators) so the per-text cost stays small.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass

import hyperscan
import numpy as np

from ..errors import UserError
from .normalize import Batch, normalize_many
from .terms import Term, TermList

_REGEX_FLAGS = hyperscan.HS_FLAG_UTF8 | hyperscan.HS_FLAG_UCP | hyperscan.HS_FLAG_SOM_LEFTMOST | hyperscan.HS_FLAG_CASELESS


@dataclass(frozen=True, slots=True)
class Hit:
    term: str
    term_id: str
    category: str
    weight: float
    mode: str
    lang: str
    start: int  # span in the original text
    end: int
    matched: str  # original text of the span
    normalized: str  # the normalized text that matched
    list_version: str

    def as_dict(self) -> dict:
        return asdict(self)


def _literal_bytes(s: str) -> bytes:
    return s.encode("utf-8", "surrogatepass")


class _FormDB:
    """Literal terms matched against one normalized form."""

    def __init__(self, key: tuple[bool, bool], terms: list[Term], lits: list[str]):
        self.key = key
        self.terms = terms
        self.lits = lits
        self.lens = np.array([len(_literal_bytes(x)) for x in lits], dtype=np.int64)
        self.modes = np.array([{"word": 0, "substring": 1, "hashtag": 2}[t.mode] for t in terms], dtype=np.int8)
        self.db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self.db.compile(expressions=[_literal_bytes(x) for x in lits], ids=list(range(len(lits))),
                        elements=len(lits), flags=0, literal=True)
        self.scratch = hyperscan.Scratch(self.db)


_EDGE_LEET = {"a": "@", "s": "$", "i": "!|"}


def _normalize_literal(terms: list[Term], key: tuple[bool, bool]) -> list[str]:
    forms = normalize_many([t.term for t in terms], *key)
    out = []
    for t, f in zip(terms, forms, strict=True):
        f = f.strip()
        out.append(("#" + f) if t.mode == "hashtag" else f)
    return out


def _literal_variants(lit: str, key: tuple[bool, bool]) -> list[str]:
    """Extra literals: @ $ ! | written for a first or last letter (leet), words run together (spacing)."""
    leet, spacing = key
    out = [lit]
    if spacing and " " in lit:
        out.append(lit.replace(" ", ""))
    if leet:
        for v in list(out):
            body, pre = (v[1:], "#") if v.startswith("#") else (v, "")
            if len(body) < 3:
                continue
            firsts = [body[0]] + list(_EDGE_LEET.get(body[0], ""))
            lasts = [body[-1]] + list(_EDGE_LEET.get(body[-1], ""))
            for a in firsts:
                for b in lasts:
                    if a == body[0] and b == body[-1]:
                        continue
                    out.append(pre + a + body[1:-1] + b)
    return out


def check_compilable(terms: list[Term], source: str) -> None:
    """Raise UserError naming the line of the first term that cannot be compiled."""
    lit = [t for t in terms if t.mode != "regex"]
    for key in {(t.leet, t.spacing) for t in lit}:
        group = [t for t in lit if (t.leet, t.spacing) == key]
        for t, f in zip(group, _normalize_literal(group, key), strict=True):
            if not any(c.isalnum() for c in f):
                raise UserError(f"{source} line {t.line}: term {t.term!r} is empty after normalization; use letters or digits.")
    for t in terms:
        if t.mode == "regex":
            db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            try:
                db.compile(expressions=[t.term.encode()], ids=[0], elements=1, flags=_REGEX_FLAGS)
            except hyperscan.error as e:
                raise UserError(f"{source} line {t.line}: regex {t.term!r} cannot be compiled ({e}); simplify it.") from None


class Scanner:
    """Matches a TermList against texts. Thread-safe: each call uses its own scratch clone."""

    def __init__(self, terms: TermList):
        self.list = terms
        self.version = terms.version
        lit = [t for t in terms.terms if t.mode != "regex"]
        self.forms: list[_FormDB] = []
        for key in sorted({(t.leet, t.spacing) for t in lit}):
            group = [t for t in lit if (t.leet, t.spacing) == key]
            vt: list[Term] = []
            vl: list[str] = []
            for t, lit_ in zip(group, _normalize_literal(group, key), strict=True):
                for v in _literal_variants(lit_, key):
                    vt.append(t)
                    vl.append(v)
            self.forms.append(_FormDB(key, vt, vl))
        self.regex_terms = [t for t in terms.terms if t.mode == "regex"]
        self.regex_db = None
        if self.regex_terms:
            self.regex_db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            self.regex_db.compile(expressions=[t.term.encode() for t in self.regex_terms],
                                  ids=list(range(len(self.regex_terms))), elements=len(self.regex_terms),
                                  flags=_REGEX_FLAGS)
            self.regex_scratch = hyperscan.Scratch(self.regex_db)
        self._local = threading.local()

    def _scratch(self, db, base):
        cache = getattr(self._local, "s", None)
        if cache is None:
            cache = self._local.s = {}
        s = cache.get(id(db))
        if s is None:
            s = cache[id(db)] = base.clone()
        return s

    def scan(self, text: str) -> list[Hit]:
        return self.scan_many([text])[0]

    def scan_many(self, texts: list[str]) -> list[list[Hit]]:
        """Hits for each text, in order of start."""
        out: list[list[Hit]] = [[] for _ in texts]
        if not texts:
            return out
        batch = Batch(texts)
        for fdb in self.forms:
            form = batch.form(*fdb.key)
            ids: list[int] = []
            ends: list[int] = []

            def on_match(i, _frm, to, _flags, _ctx, ids=ids, ends=ends):
                ids.append(i)
                ends.append(to)
                return 0

            fdb.db.scan(form.buf, match_event_handler=on_match, scratch=self._scratch(fdb.db, fdb.scratch))
            if not ids:
                continue
            ida = np.array(ids, dtype=np.int64)
            eb = np.array(ends, dtype=np.int64)
            sb = eb - fdb.lens[ida]
            cs = form.char_index(sb)
            ce = form.char_index(eb)
            modes = fdb.modes[ida]
            ok = np.ones(len(ida), dtype=bool)
            bounded = modes != 1
            if bounded.any():
                before = form.is_word(cs - 1)
                after = form.is_word(ce)
                # a hashtag literal starts with '#': the character before it must not be a word char either
                ok &= ~(bounded & (before | after))
            if not ok.any():
                continue
            ida, cs, ce = ida[ok], cs[ok], ce[ok]
            which, os_, oe = batch.locate(form, cs, ce)
            ftext = form.text
            for k in range(len(ida)):
                t = fdb.terms[ida[k]]
                w = int(which[k])
                s, e = batch.original_span(w, int(os_[k]), int(oe[k]))
                out[w].append(self._hit(t, batch.texts[w], s, e, ftext[cs[k]:ce[k]]))
        if self.regex_db is not None:
            form = batch.form()
            found: dict[tuple[int, int], int] = {}

            def on_rx(i, frm, to, _flags, _ctx):
                k = (i, frm)
                if found.get(k, -1) < to:
                    found[k] = to
                return 0

            self.regex_db.scan(form.buf, match_event_handler=on_rx, scratch=self._scratch(self.regex_db, self.regex_scratch))
            if found:
                keys = list(found)
                ida = np.array([k[0] for k in keys], dtype=np.int64)
                cs = form.char_index(np.array([k[1] for k in keys], dtype=np.int64))
                ce = form.char_index(np.array([found[k] for k in keys], dtype=np.int64))
                nonempty = ce > cs
                ida, cs, ce = ida[nonempty], cs[nonempty], ce[nonempty]
                which, os_, oe = batch.locate(form, cs, ce)
                which_end, _, _ = batch.locate(form, ce - 1, ce)
                ftext = form.text
                for k in range(len(ida)):
                    if which[k] != which_end[k] or "\x00" in ftext[cs[k]:ce[k]]:
                        continue  # spans two texts of the batch
                    w = int(which[k])
                    s, e = batch.original_span(w, int(os_[k]), int(oe[k]))
                    out[w].append(self._hit(self.regex_terms[ida[k]], batch.texts[w], s, e, ftext[cs[k]:ce[k]]))
        for hits in out:
            if len(hits) > 1:
                hits.sort(key=lambda h: (h.start, h.end, h.term_id))
        return out

    def _hit(self, t: Term, text: str, s: int, e: int, norm: str) -> Hit:
        return Hit(term=t.term, term_id=t.id, category=t.category, weight=t.weight, mode=t.mode, lang=t.lang,
                   start=s, end=e, matched=text[s:e], normalized=norm, list_version=self.version)


_CACHE: OrderedDict[str, Scanner] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def scanner_for(terms: TermList) -> Scanner:
    """The compiled scanner for this list version (compiled once, a few versions kept)."""
    with _CACHE_LOCK:
        s = _CACHE.get(terms.version)
        if s is not None:
            _CACHE.move_to_end(terms.version)
            return s
    s = Scanner(terms)
    with _CACHE_LOCK:
        _CACHE[terms.version] = s
        while len(_CACHE) > 4:
            _CACHE.popitem(last=False)
    return s
