"""Operator term lists: loading (YAML or CSV), validation with line numbers, versions, reload.

A list is a file the operator supplies (the repo ships only the invented ``demo_terms.yaml``).
Its version is the first 16 hex digits of the SHA-256 of the file's bytes, so any edit makes a
new version and the scanner recompiles once for it. ``TermSource`` re-reads the file when it
changes on disk, without a restart; a broken edit keeps the last good list in force.
See docs/text.md for the format.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from ..errors import UserError
from .regex_safety import check_regex

log = logging.getLogger(__name__)

MODES = ("word", "substring", "regex", "hashtag")
CATEGORIES_HINT = ("signal_hashtag", "solicitation", "codeword", "age_indicator")
FIELDS = ("term", "category", "weight", "lang", "mode", "leet", "spacing", "id", "note")
_CATEGORY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$|^und$")
MAX_TERM_CHARS = 200


@dataclass(frozen=True, slots=True)
class Term:
    term: str
    category: str
    weight: float = 1.0
    lang: str = "und"
    mode: str = "word"
    leet: bool = True
    spacing: bool = True
    id: str = ""
    note: str = ""
    line: int = 0


@dataclass(frozen=True)
class TermList:
    terms: tuple[Term, ...]
    version: str
    source: str
    name: str = ""
    meta: dict = field(default_factory=dict, hash=False, compare=False)

    def __len__(self) -> int:
        return len(self.terms)

    def categories(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.terms:
            out[t.category] = out.get(t.category, 0) + 1
        return out


def content_version(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _bool(value, where: str, name: str) -> bool:
    if isinstance(value, bool):
        return value
    s = str(value).strip().lower()
    if s in ("1", "true", "yes", "y", "on"):
        return True
    if s in ("0", "false", "no", "n", "off", ""):
        return False
    raise UserError(f"{where}: {name} must be true or false, not {value!r}; fix that field.")


def _make_term(rec: dict, where: str, line: int) -> Term:
    unknown = [k for k in rec if k not in FIELDS]
    if unknown:
        raise UserError(f"{where}: unknown field {unknown[0]!r}; use only {', '.join(FIELDS)}.")
    term = rec.get("term")
    if term is None or not str(term).strip():
        raise UserError(f"{where}: the entry has no term; give a non-empty `term`.")
    term = str(term).strip()
    if len(term) > MAX_TERM_CHARS:
        raise UserError(f"{where}: the term is longer than {MAX_TERM_CHARS} characters; shorten it.")
    category = str(rec.get("category") or "").strip()
    if not _CATEGORY_RE.match(category):
        raise UserError(
            f"{where}: category {category!r} is missing or not a lower-case identifier; "
            f"use one like {', '.join(CATEGORIES_HINT)}."
        )
    try:
        weight = float(rec.get("weight", 1.0) if rec.get("weight", "") != "" else 1.0)
    except (TypeError, ValueError):
        raise UserError(f"{where}: weight {rec.get('weight')!r} is not a number; use e.g. 1.0.") from None
    if not (0 < weight <= 100):
        raise UserError(f"{where}: weight {weight} is out of range; use a number above 0 and at most 100.")
    lang = str(rec.get("lang") or "und").strip()
    if not _LANG_RE.match(lang):
        raise UserError(f"{where}: lang {lang!r} is not a language code; use e.g. en, ar, es or und.")
    mode = str(rec.get("mode") or "word").strip().lower()
    if mode not in MODES:
        raise UserError(f"{where}: mode {mode!r} is not one of {', '.join(MODES)}; pick one of those.")
    default_loose = mode != "regex"
    leet = _bool(rec.get("leet", default_loose), where, "leet")
    spacing = _bool(rec.get("spacing", default_loose), where, "spacing")
    if mode == "regex":
        if leet or spacing:
            raise UserError(f"{where}: regex terms cannot use leet or spacing folding; set both to false.")
        check_regex(term, where)
    if mode == "hashtag":
        term = term.lstrip("#＃")
        if not term:
            raise UserError(f"{where}: the hashtag is empty; give the tag text after '#'.")
    tid = str(rec.get("id") or "").strip() or f"{mode}:{term}"
    return Term(term=term, category=category, weight=weight, lang=lang, mode=mode, leet=leet,
                spacing=spacing, id=tid, note=str(rec.get("note") or ""), line=line)


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader, node, deep=False):
    m = yaml.SafeLoader.construct_mapping(loader, node, deep=deep)
    m["__line__"] = node.start_mark.line + 1
    return m


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _parse_yaml(text: str, source: str) -> tuple[list[tuple[dict, int]], dict]:
    try:
        doc = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise UserError(f"{source}{line}: not valid YAML ({problem}); fix the syntax there.") from None
    if isinstance(doc, list):
        doc = {"terms": doc}
    if not isinstance(doc, dict) or not isinstance(doc.get("terms"), list):
        raise UserError(f"{source}: expected a mapping with a `terms:` list (or a list of entries); see docs/text.md.")
    meta = {k: v for k, v in doc.items() if k not in ("terms", "__line__")}
    out = []
    for i, rec in enumerate(doc["terms"]):
        if isinstance(rec, str):
            raise UserError(f"{source}: entry {i + 1} of `terms` is a bare string; write it as `- term: ...` with a category.")
        if not isinstance(rec, dict):
            raise UserError(f"{source}: entry {i + 1} of `terms` is not a mapping; write `- term: ...`.")
        line = rec.pop("__line__", 0)
        out.append((rec, line))
    return out, meta


def _parse_csv(text: str, source: str) -> list[tuple[dict, int]]:
    rows = []
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    try:
        for row in reader:
            lineno = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if header is None:
                header = [h.strip().lower() for h in row]
                if "term" not in header or "category" not in header:
                    raise UserError(f"{source} line {lineno}: the CSV header must name at least `term` and `category` columns.")
                bad = [h for h in header if h not in FIELDS]
                if bad:
                    raise UserError(f"{source} line {lineno}: unknown column {bad[0]!r}; use only {', '.join(FIELDS)}.")
                continue
            if len(row) > len(header):
                raise UserError(
                    f"{source} line {lineno}: {len(row)} fields but the header has {len(header)}; "
                    "quote fields that contain commas."
                )
            rec = {h: v.strip() for h, v in zip(header, row, strict=False) if v.strip() != ""}
            rows.append((rec, lineno))
    except csv.Error as e:
        raise UserError(f"{source} line {reader.line_num}: not valid CSV ({e}); fix the quoting there.") from None
    if header is None:
        raise UserError(f"{source}: the CSV file is empty; add a header line `term,category,...`.")
    return rows


def parse_terms(data: bytes, source: str, fmt: str | None = None) -> TermList:
    """Parse and validate a list. fmt: 'yaml' or 'csv' (default: from the file extension)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise UserError(f"{source} line {line}: not valid UTF-8; save the file as UTF-8.") from None
    if fmt is None:
        fmt = "csv" if source.lower().endswith(".csv") else "yaml"
    meta: dict = {}
    if fmt == "csv":
        records = _parse_csv(text, source)
    else:
        records, meta = _parse_yaml(text, source)
    terms = []
    seen: dict[tuple[str, str, str], int] = {}
    for rec, line in records:
        where = f"{source} line {line}"
        t = _make_term(rec, where, line)
        key = (t.term.casefold(), t.mode, t.category)
        if key in seen:
            raise UserError(f"{where}: duplicate of the entry on line {seen[key]} (same term, mode and category); remove one.")
        seen[key] = line
        terms.append(t)
    ids: dict[str, int] = {}
    for t in terms:
        if t.id in ids:
            raise UserError(f"{source} line {t.line}: id {t.id!r} is already used on line {ids[t.id]}; give each entry its own id.")
        ids[t.id] = t.line
    from .scanner import check_compilable

    check_compilable(terms, source)
    return TermList(terms=tuple(terms), version=content_version(data), source=source,
                    name=str(meta.get("name") or Path(source).stem), meta=meta)


def load_terms(path: str | os.PathLike) -> TermList:
    """Load and validate the list at `path` (YAML or CSV by extension)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise UserError(f"Term list {p} does not exist; check the path (or NETWARDEN_TERMS).") from None
    except OSError as e:
        raise UserError(f"Cannot read term list {p} ({e.strerror}); check its permissions.") from None
    return parse_terms(data, str(p))


class TermSource:
    """A term list file that is re-read when it changes on disk (checked at most every `interval` s).

    `get()` returns the current TermList. An invalid edit is logged and the last good list stays
    in force; `error` holds the message until a good version is loaded.
    """

    def __init__(self, path: str | os.PathLike, interval: float = 1.0):
        self.path = Path(path)
        self.interval = interval
        self.error: str | None = None
        self._lock = threading.Lock()
        self._stat: tuple[int, int] | None = None
        self._checked = 0.0
        self._list = load_terms(self.path)
        self._stat = self._stat_now()

    def _stat_now(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def get(self) -> TermList:
        import time

        now = time.monotonic()
        if now - self._checked < self.interval:
            return self._list
        with self._lock:
            self._checked = now
            st = self._stat_now()
            if st is None or st == self._stat:
                return self._list
            self._stat = st
            try:
                data = self.path.read_bytes()
                if content_version(data) != self._list.version:
                    self._list = parse_terms(data, str(self.path))
                    log.info("term list %s reloaded: version %s", self.path, self._list.version)
                self.error = None
            except (UserError, OSError) as e:
                self.error = str(e)
                log.warning("term list %s not reloaded, keeping version %s: %s", self.path, self._list.version, e)
            return self._list


@cache
def demo_terms() -> TermList:
    """The invented demo list shipped with Netwarden (placeholder terms only)."""
    data = resources.files("netwarden.text").joinpath("demo_terms.yaml").read_bytes()
    return parse_terms(data, "demo_terms.yaml")


def demo_placeholders() -> dict[str, list[str]]:
    """Placeholder vocabulary for the world generator, from the demo list.

    Keys: 'hashtags' (signal hashtags, without '#'), 'terms' (other word/substring terms) and
    'by_lang' ({lang: [terms and hashtags]}). The generator plants these so scans find them.
    """
    tl = demo_terms()
    tags = [t.term for t in tl.terms if t.mode == "hashtag"]
    words = [t.term for t in tl.terms if t.mode in ("word", "substring")]
    by_lang: dict[str, list[str]] = {}
    for t in tl.terms:
        if t.mode != "regex":
            by_lang.setdefault(t.lang, []).append(("#" + t.term) if t.mode == "hashtag" else t.term)
    return {"hashtags": tags, "terms": words, "by_lang": by_lang}
