"""Off-platform contacts in bios, display names, posts and link URLs.

`extract_contacts(text)` returns (platform, normalized handle, span in the original text) for
Kik, Snapchat, WhatsApp, Telegram, Signal, Session, Wickr, Threema, Discord, Matrix, email and
phone numbers, including obfuscated forms: homoglyphs, fullwidth and zero-width characters
(undone by folding first), leet and separators in the platform name ("k1k", "s-n-a-p",
"k🔥i🔥k"), and "snap: x_y" style labels. Handles are lower-cased (except Session IDs, which are
hex) so two accounts giving the same handle link in the graph.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache

import hyperscan
import phonenumbers

from .normalize import fold, fold_map
from .urls import _TRAIL, URL_RE, normalize_url

_LEET = {"a": "a4@", "e": "e3", "i": "i1!|l", "o": "o0", "s": "s5$", "t": "t7", "g": "g9", "l": "l1|i", "b": "b8"}
_GAP = r"(?:[^\w\s]{0,2}|\s)"  # emoji, dots, dashes or one space between letters


def _kw(word: str) -> str:
    parts = []
    for ch in word:
        if ch == " ":
            parts.append(r"\s*")
            continue
        alts = _LEET.get(ch, ch)
        parts.append("[" + re.escape(alts) + "]")
    return _GAP.join(parts)


# platform -> keywords (folded text: lower case, no accents or homoglyphs)
KEYWORDS = {
    "kik": ["kik", "kik me", "kikme"],
    "snapchat": ["snapchat", "snap", "sc", "snp"],
    "whatsapp": ["whatsapp", "whats app", "watsapp", "watsap", "whatsap", "wa", "wapp", "wsp"],
    "telegram": ["telegram", "tele", "tg", "telegrm", "tlgrm"],
    "signal": ["signal"],
    "session": ["session", "session id"],
    "wickr": ["wickr", "wickr me", "wickrme", "wikr"],
    "threema": ["threema", "threema id"],
    "discord": ["discord", "dc", "disc", "dscrd"],
}
_EMOJI_KW = {"👻": "snapchat"}
HANDLE = {
    "kik": r"[a-z0-9][a-z0-9._]{1,31}",
    "snapchat": r"[a-z][a-z0-9._-]{2,14}",
    "telegram": r"[a-z][a-z0-9_]{3,31}",
    "signal": r"[a-z][a-z0-9_]{2,31}\.[0-9]{2,10}",
    "wickr": r"[a-z0-9][a-z0-9._-]{2,31}",
    "threema": r"[a-z0-9*]{8}",
    "discord": r"[a-z0-9_.]{2,32}(?:#[0-9]{4})?",
    "session": r"05[0-9a-f]{64}",
}
_LABEL_SEP = r"\s*(?P<sep>[:：=\-–—>»→|~]+|\bis\b|\bme\b|\bat\b|\bid\b)?\s*"
# keywords that are also everyday words: without a label separator the handle must look like one
_COMMON_KW = {"snap", "sc", "signal", "session", "tele", "tg", "dc", "disc", "wa", "sessionid"}
_KW_RE = {
    p: re.compile(
        r"(?<![a-z0-9])(?P<kw>" + "|".join(_kw(k) for k in sorted(ks, key=len, reverse=True)) + r")(?![a-z])"
        + _LABEL_SEP + r"[\(\[]?@?(?P<h>" + HANDLE.get(p, r"[a-z0-9._]{3,32}") + r")(?![a-z0-9_])",
        re.I,
    )
    for p, ks in KEYWORDS.items()
}
_PHONE_KW = {"whatsapp", "signal", "telegram"}
_PHONE_AFTER_KW = {
    p: re.compile(
        r"(?<![a-z0-9])(?:" + "|".join(_kw(k) for k in sorted(KEYWORDS[p], key=len, reverse=True)) + r")(?![a-z])"
        + r"\s*[:：=\-–—>»→|~]*\s*(?P<h>\+?[0-9][0-9 ().\-]{6,20}[0-9])",
        re.I,
    )
    for p in _PHONE_KW
}
_SESSION_RE = re.compile(r"(?<![0-9a-f])05[0-9a-f]{64}(?![0-9a-f])")
_MATRIX_RE = re.compile(r"(?<![\w@])@([a-z0-9._=\-/]{1,64}):([a-z0-9.-]+\.[a-z]{2,24})(?![\w.])", re.I)
_DOT = r"(?:\s*(?:\(dot\)|\[dot\])\s*|\.|\sdot\s)"
_EMAIL_RE = re.compile(
    r"(?<![\w.+-])([a-z0-9._%+-]{1,64})\s*(?:@|\(at\)|\[at\]|\sat\s)\s*([a-z0-9-]+(?:" + _DOT + r"[a-z0-9-]+)*" + _DOT + r"[a-z]{2,24})(?![\w])",
    re.I,
)
# Necessary conditions, checked once per text, so that the pattern families below run only where
# they could match (most posts name no contact at all).
_ANY_KW_RE = re.compile(
    r"(?<![a-z0-9])(?:" + "|".join(
        f"(?P<{p}>" + "|".join(_kw(k) for k in sorted(ks, key=len, reverse=True)) + ")"
        for p, ks in KEYWORDS.items()) + r")(?![a-z])",
)  # runs on folded (lower-case) text, so no re.I
# six digits, each within 3 characters of the last (written digit-first so the regex engine skips
# straight to digits: same matches as (?:[0-9][^0-9]{0,3}){6})
_DIGITS_RE = re.compile(r"[0-9](?:[^0-9]{0,3}[0-9]){5}")
# the plain-word separator of an email ("zorb at example dot com"), as opposed to "@", "(at)", "[at]"
_BREAK_CHARS = "\n\r\v\f\u2028\u2029\x85"
_PLAIN_AT_RE = re.compile(r"\s*\sat\s")
_UNLEET = str.maketrans("4@3105$7981|!", "aaeiosstbgiii")
_SNAP_EMOJI_RE = re.compile(r"👻\s*[:：=\-–—>»→|~]*\s*@?([a-z][a-z0-9._-]{2,14})(?![a-z0-9_])", re.I)


@dataclass(frozen=True, slots=True)
class Contact:
    platform: str
    handle: str
    start: int  # span in the original text (-1 when not mappable)
    end: int

    def key(self) -> tuple[str, str]:
        return (self.platform, self.handle)


def _norm_handle(platform: str, h: str) -> str:
    h = h.strip().lstrip("@").rstrip("._-")
    if platform == "session":
        return h.lower()
    return h.lower()


def _phone(raw: str, region: str | None) -> str | None:
    """E.164 form of a number given after a WhatsApp/Signal label or in a wa.me link.

    The number must have a full length for its country (`IS_POSSIBLE`): a local-only length (a
    North American "+1" followed by seven digits, say) is a fragment of something else, not a number.
    """
    digits = re.sub(r"[^\d+]", "", raw)
    if not digits:
        return None
    for cand, reg in ((digits, region), ("+" + digits.lstrip("+"), None)):
        try:
            n = phonenumbers.parse(cand, reg)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(n) or (
                phonenumbers.is_possible_number_with_reason(n) == phonenumbers.ValidationResult.IS_POSSIBLE):
            return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
    return None


def _phone_prefix(seg: str, region: str | None) -> tuple[str, int] | None:
    """(E.164, length) of the number `seg` starts with: all of it, or (when the digits run on into
    something else, "+44 20 7946 0958. 07911 ...") the first number the phone matcher finds at its start."""
    ph = _phone(seg, region)
    if ph:
        return ph, len(seg)
    try:
        for pm in phonenumbers.PhoneNumberMatcher(seg, region, leniency=phonenumbers.Leniency.POSSIBLE):
            if pm.start <= 1:
                return phonenumbers.format_number(pm.number, phonenumbers.PhoneNumberFormat.E164), pm.end
            break
    except Exception:  # noqa: BLE001 - phonenumbers on odd input must not break extraction
        pass
    return None


def _from_url(url: str) -> tuple[str, str] | None:
    n = normalize_url(url)
    m = re.match(r"https://([^/]+)(/[^?#]*)?(?:\?([^#]*))?(?:#(.*))?$", n)
    if not m:
        return None
    host, path, query, frag = m.group(1), (m.group(2) or "/"), m.group(3) or "", m.group(4) or ""
    seg = [s for s in path.split("/") if s]
    if host == "wa.me" and seg:
        p = _phone(seg[0], None)
        return ("whatsapp", p) if p else None
    if host in ("api.whatsapp.com", "whatsapp.com") and "phone=" in query:
        p = _phone(re.search(r"phone=([\d+]+)", query).group(1), None) if re.search(r"phone=([\d+]+)", query) else None
        return ("whatsapp", p) if p else None
    if host == "chat.whatsapp.com" and seg:
        return ("whatsapp", "group:" + seg[0])
    if host in ("t.me", "telegram.me", "telegram.dog") and seg:
        if seg[0] == "joinchat" and len(seg) > 1:
            return ("telegram", "invite:" + seg[1])
        if seg[0].startswith("+"):
            return ("telegram", "invite:" + seg[0][1:])
        if seg[0] == "s" and len(seg) > 1:
            return ("telegram", seg[1].lower())
        return ("telegram", seg[0].lower())
    if host in ("discord.gg",) and seg:
        return ("discord", "invite:" + seg[0])
    if host in ("discord.com", "discordapp.com") and len(seg) > 1 and seg[0] == "invite":
        return ("discord", "invite:" + seg[1])
    if host == "kik.me" and seg:
        return ("kik", seg[0].lower())
    if host == "snapchat.com" and len(seg) > 1 and seg[0] == "add":
        return ("snapchat", seg[1].lower())
    if host == "threema.id" and seg:
        return ("threema", seg[0].lower())
    if host == "signal.group":
        return ("signal", "group:" + (frag or (seg[0] if seg else "")))
    if host == "signal.me":
        return ("signal", "link:" + frag) if frag else None
    if host == "matrix.to" and frag:
        mm = _MATRIX_RE.search(frag.lstrip("/"))
        if mm:
            return ("matrix", f"@{mm.group(1).lower()}:{mm.group(2).lower()}")
    return None


def extract_contacts(text: str, region: str | None = None) -> list[Contact]:
    """Contacts in `text`, deduplicated by (platform, handle), in order of appearance.

    region: ISO country for phone numbers written without a country code (default: only
    numbers with a +country code, or after a WhatsApp/Signal/Telegram label, are read).
    """
    if not text:
        return []
    folded, offs = fold_map(text)
    return _extract(text, folded, offs, region, True)


def extract_contacts_many(texts: list[str], region: str | None = None) -> list[list[Contact]]:
    """`extract_contacts` of each text (the same results), faster on a batch.

    The platform-keyword cue is looked for in all the texts at once by one Hyperscan pass over
    a pattern that matches wherever `_ANY_KW_RE` can (a superset, see `_cue_db`); only the texts
    it flags run the exact cue regex.
    """
    folded = [fold_map(t) if t else ("", None) for t in texts]
    flagged = _keyword_cues([f for f, _ in folded])
    out: list[list[Contact]] = []
    for i, (t, (f, offs)) in enumerate(zip(texts, folded, strict=True)):
        out.append(_extract(t, f, offs, region, i in flagged))
    return out


def _restore_case(text: str, offs: list[int] | None, s: int, e: int, folded: str) -> str:
    """folded[s:e] with each letter put back in the case the original text wrote it (a plain ASCII
    letter folded to itself): invite and group codes are case-sensitive."""
    out = []
    for i in range(s, e):
        ch = folded[i]
        j = offs[i] if offs is not None else i
        o = text[j] if j < len(text) else ch
        out.append(o if o.isascii() and o.lower() == ch else ch)
    return "".join(out)


def _mark_breaks(text: str, folded: str, offs: list[int] | None) -> str:
    """folded with "|" where the original text has a line break (same length, same offsets)."""
    if not any(b in text for b in _BREAK_CHARS):
        return folded
    out = list(folded)
    for i in range(len(out)):
        j = offs[i] if offs is not None else i
        if j < len(text) and text[j] in _BREAK_CHARS:
            out[i] = "|"
    return "".join(out)


def _has_letter(kw: str) -> bool:
    """A keyword written with at least one letter ("k1k"): one written only in digits ("79" for
    "tg", "7313" for "tele") is a piece of a number, not a platform name."""
    return any("a" <= c <= "z" for c in kw)


def _extract(text: str, folded: str, offs: list[int] | None, region: str | None, kw_cue: bool) -> list[Contact]:
    has_digits = _DIGITS_RE.search(folded) is not None
    if not (kw_cue or has_digits or "." in folded or "@" in folded or "05" in folded or "👻" in folded
            or ("at" in folded and "dot" in folded)):
        return []  # no pattern family's cue (the checks below, each family behind its own): nothing to find
    # Links first: a link's contact (t.me/..., discord.gg/...) is taken whole, and nothing else is
    # read from inside any link (no email "more@t.me" from "more at t.me/+code", no phone from a
    # link's digits). The other families' candidates are then kept longest first, so no contact is
    # read from inside another one ("+44 7911 123456" is one phone number, not a Telegram "79").
    links: list[tuple[int, int, str, str]] = []
    link_spans: list[tuple[int, int]] = []
    if "." in folded:
        for m in URL_RE.finditer(folded):
            raw = m.group().rstrip(_TRAIL)
            if not raw:
                continue
            s, e = m.start(), m.start() + len(raw)
            link_spans.append((s, e))
            r = _from_url(_restore_case(text, offs, s, e, folded))
            if r:
                links.append((s, e, r[0], r[1]))
    found: list[tuple[int, int, str, str]] = []  # candidates, (start, end) in folded

    def add(p: str, h: str, s: int, e: int) -> None:
        if h and not any(s < le and ls < e for ls, le in link_spans):
            found.append((s, e, p, h))

    platforms = {m.lastgroup for m in _ANY_KW_RE.finditer(folded)} if kw_cue else set()
    # folding makes a line break a space; numbers are read where a break stays a break, so one
    # number never runs across two lines (nor would the phone matcher join two lines' digits)
    lines = _mark_breaks(text, folded, offs) if has_digits else folded
    for p, rx in _PHONE_AFTER_KW.items():
        if p not in platforms or not has_digits:
            continue
        for m in rx.finditer(lines):
            if not _has_letter(folded[m.start():m.start("h")]):
                continue
            got = _phone_prefix(m.group("h"), region)
            if got:
                add(p if p == "whatsapp" or p == "signal" else "telegram", got[0], m.start(), m.start("h") + got[1])
    for p, rx in _KW_RE.items():
        if p not in platforms:
            continue
        for m in rx.finditer(folded):
            h = m.group("h")
            if p in ("whatsapp",):
                continue  # WhatsApp handles are phone numbers (above)
            if h.isdigit() or not _has_letter(m.group("kw")):
                continue
            kw = re.sub(r"[^a-z]", "", m.group("kw").translate(_UNLEET))
            if not m.group("sep") and kw in _COMMON_KW and not re.search(r"[0-9_.]", h):
                continue
            add(p, _norm_handle(p, h), m.start(), m.end())
    for m in _SNAP_EMOJI_RE.finditer(folded) if "👻" in folded else ():
        add("snapchat", _norm_handle("snapchat", m.group(1)), m.start(), m.end())
    for m in _SESSION_RE.finditer(folded) if "05" in folded else ():
        add("session", m.group(), m.start(), m.end())
    for m in _MATRIX_RE.finditer(folded) if "@" in folded and ":" in folded else ():
        add("matrix", f"@{m.group(1).lower()}:{m.group(2).lower()}", m.start(), m.end())
    maybe_email = ("@" in folded or "at" in folded) and ("." in folded or "dot" in folded)
    for m in _EMAIL_RE.finditer(folded) if maybe_email else ():
        local, dom_raw = m.group(1), m.group(2)
        if _PLAIN_AT_RE.match(folded, m.end(1)) and "." in dom_raw and not re.search(r"dot", dom_raw) \
                and not re.search(r"[0-9._%+-]", local):
            continue  # "more at example.com" is English; "zorb.lat at example.com" looks like an address
        dom = re.sub(_DOT, ".", dom_raw.lower())
        add("email", f"{local.lower()}@{dom}", m.start(), m.end())
    if has_digits:  # a phone number has at least six digits
        try:
            for pm in phonenumbers.PhoneNumberMatcher(lines, region, leniency=phonenumbers.Leniency.VALID):
                add("phone", phonenumbers.format_number(pm.number, phonenumbers.PhoneNumberFormat.E164), pm.start, pm.end)
        except Exception:  # noqa: BLE001 - phonenumbers on odd input must not break extraction
            pass
    kept: list[tuple[int, int, str, str]] = list(links)
    taken: list[tuple[int, int]] = []
    for s, e, p, h in sorted(found, key=lambda f: (f[0] - f[1], f[0])):  # longest first, then leftmost
        if any(s < te and ts < e for ts, te in taken):
            continue
        taken.append((s, e))
        kept.append((s, e, p, h))
    return _finish(text, offs, kept)


def _finish(text: str, offs: list[int] | None, found: list[tuple[int, int, str, str]]) -> list[Contact]:
    """Deduplicate by (platform, handle) in order of appearance, with spans in the original text."""
    if not found:
        return []
    if offs is None:
        offs = list(range(len(text) + 1))
    found.sort()
    seen: set[tuple[str, str]] = set()
    out = []
    for s, e, p, h in found:
        if (p, h) in seen:
            continue
        seen.add((p, h))
        os_ = offs[s] if s < len(offs) else len(text)
        oe = offs[e - 1] + 1 if e > 0 and e - 1 < len(offs) else len(text)
        out.append(Contact(platform=p, handle=h, start=os_, end=oe))
    return out


# The keyword cue for a whole batch. Each keyword of `_ANY_KW_RE` becomes a byte pattern that
# matches (in the UTF-8 of the folded text) wherever the exact one can: the same letter classes; a
# gap is any run of bytes that cannot be part of an ASCII word character or ASCII whitespace (the
# exact gap is at most two characters of [^\w\s], but an unbounded run compiles ten times faster)
# or one ASCII whitespace byte (other whitespace is 2-3 bytes outside ASCII, covered by the first
# form); the look-behind and look-ahead become one byte that is not [a-z0-9] / not [a-z] (texts
# are separated by a newline, so a text's first and last keyword see one). Keywords with a space
# are cut before it (the rest only narrows the match). Every text where the exact regex matches is
# therefore flagged; a flagged text then runs the exact regex, so results are unchanged
# (tests/text/test_text_contacts.py checks this against `extract_contacts` on generated texts).
_HS_GAP = rb"(?:[^a-zA-Z0-9_\t-\r ]*|[\t-\r ])"


def _kw_bytes(word: str) -> tuple[bytes, bool]:
    """(byte pattern, whole keyword?) for one keyword."""
    head = word.split(" ")[0]
    parts = [b"[" + b"".join(b"\\x%02x" % ord(c) for c in _LEET.get(ch, ch)) + b"]" for ch in head]
    return _HS_GAP.join(parts), head == word


@cache
def _cue_db() -> hyperscan.Database:
    exprs = []
    for ks in KEYWORDS.values():
        for k in ks:
            body, whole = _kw_bytes(k)
            exprs.append(b"[^a-z0-9]" + body + (b"[^a-z]" if whole else b""))
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs),
               flags=[hyperscan.HS_FLAG_DOTALL] * len(exprs))
    return db


_cue_local = threading.local()


def _keyword_cues(folded: list[str]) -> set[int]:
    """Indexes of the texts where a platform keyword may occur (every one where it does)."""
    if not folded:
        return set()
    db = _cue_db()
    scratch = getattr(_cue_local, "scratch", None)
    if scratch is None:
        scratch = _cue_local.scratch = hyperscan.Scratch(db)
    bufs = [f.encode("utf-8", "surrogatepass") for f in folded]
    starts = []
    pos = 1
    for b in bufs:
        starts.append(pos)
        pos += len(b) + 1
    ends: list[int] = []

    def on_match(_id, _frm, to, _flags, _ctx) -> int:
        ends.append(to)
        return 0

    db.scan(b"\n" + b"\n".join(bufs) + b"\n", match_event_handler=on_match, scratch=scratch)
    # the match's last byte is in its text, or is the newline right after it
    return {bisect_right(starts, e - 1) - 1 for e in ends}


def contacts_in_url(url: str) -> Contact | None:
    """The contact a link URL points at (wa.me, t.me, discord.gg, ...), if any."""
    r = _from_url(url)
    return Contact(r[0], r[1], -1, -1) if r else None


__all__ = ["Contact", "contacts_in_url", "extract_contacts", "extract_contacts_many", "fold"]
