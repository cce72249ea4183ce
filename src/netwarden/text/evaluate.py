"""Scanner quality: recall on obfuscated variants of a list, false positives on benign text.

Everything is generated: obfuscated variants from the list's own terms (homoglyphs, zero-width
characters, spacing, leetspeak, case, diacritics, fullwidth; each only where the term allows it)
inside benign sentences, and a benign multilingual corpus (English, Spanish, Arabic, emoji,
numbers, links, punctuation standing alone) that contains none of the terms. Terms that allow
both leet and spacing also get a variant with both on the same letters ("s-n-4-p", "k * ! * k").
Used by `netwarden terms evaluate [--synthetic N]`. Also generates synthetic lists of invented words
for benchmarks (bench/text.py).
"""

from __future__ import annotations

import random

from .normalize import fold
from .scanner import Scanner
from .terms import Term, TermList

EN = ("the a to and of in is it you that for on with this my was are have be at so but not just "
      "like all me what your about can get out up one more time now day new people when good today "
      "love see know go think great morning weekend coffee music game team school work home family "
      "photo city rain summer friends happy thanks please watch read book world news best video").split()
ES = ("el la de que y en los se del las un por con no una su para es al lo como más pero sus le ya "
      "o este sí porque esta entre cuando muy sin sobre también me hasta hay donde quien desde todo "
      "nos durante todos uno les ni contra otros ese eso ante ellos día mañana ciudad fútbol música "
      "gracias amigos familia año niño señor canción café playa").split()
AR = ("في من على إلى عن مع هذا هذه كان التي الذي كل بعد قبل عند بين حتى لكن أو ثم إذا نحن أنت "
      "اليوم غدا صباح مساء الخير شكرا جميل كبير صغير مدينة بيت مدرسة كتاب قهوة موسيقى عائلة أصدقاء "
      "سعيد عمل وقت يوم سنة طعام ماء شمس قمر بحر").split()
EMOJI = ["🔥", "😂", "❤️", "👍", "🎉", "🙏", "😍", "✨", "⚽", "☕"]
LINKS = ["https://example.com/news", "www.example.org/a?utm_source=x", "bit.ly/abc123"]
PUNCT = ["!", "!!", "$", "|", "@", "-", "*", "?", "...", "&"]

HOMO = {"a": "аα", "e": "еε", "o": "оο", "p": "рρ", "c": "с", "x": "хχ", "y": "у", "i": "іι", "s": "ѕ",
        "j": "ј", "k": "κ", "v": "ν", "h": "һ", "t": "τ"}
LEET_OUT = {"a": "4@", "e": "3", "i": "1!", "o": "0", "s": "5$", "t": "7", "g": "9", "b": "8", "l": "1"}
ACCENT = {"a": "áàâä", "e": "éèêë", "i": "íìîï", "o": "óòôö", "u": "úùûü", "n": "ñ", "c": "ç"}
ZW = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
SEPS = [" ", ".", "-", "_", "*", " 🔥 ".strip(), "·"]


def _homoglyph(s: str, r: random.Random) -> str:
    return "".join(r.choice(HOMO[c]) if c in HOMO and r.random() < 0.5 else c for c in s)


def _zero_width(s: str, r: random.Random) -> str:
    out = []
    for i, c in enumerate(s):
        out.append(c)
        if i < len(s) - 1 and r.random() < 0.4:
            out.append(r.choice(ZW))
    return "".join(out)


def _spacing(s: str, r: random.Random) -> str:
    sep = r.choice(SEPS)
    return " ".join(sep.join(w) for w in s.split(" "))


def _leet(s: str, r: random.Random) -> str:
    return "".join(r.choice(LEET_OUT[c]) if c in LEET_OUT and r.random() < 0.6 else c for c in s)


def _case(s: str, r: random.Random) -> str:
    return "".join(c.upper() if r.random() < 0.5 else c for c in s)


def _diacritics(s: str, r: random.Random) -> str:
    out = []
    for c in s:
        if c in ACCENT and r.random() < 0.5:
            out.append(r.choice(ACCENT[c]))
        elif c.isalpha() and r.random() < 0.15:
            out.append(c + r.choice("\u0301\u0308\u0300"))
        else:
            out.append(c)
    return "".join(out)


def _fullwidth(s: str, r: random.Random) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" and r.random() < 0.7 else c for c in s)


TRANSFORMS = {
    "homoglyph": (_homoglyph, None), "zero_width": (_zero_width, None), "spacing": (_spacing, "spacing"),
    "leet": (_leet, "leet"), "case": (_case, None), "diacritics": (_diacritics, None), "fullwidth": (_fullwidth, None),
}


def benign_post(r: random.Random, length: int = 280) -> str:
    lang = r.choice((EN, ES, AR))
    words: list[str] = []
    n = 0
    while n < length:
        x = r.random()
        if x < 0.05:
            w = r.choice(EMOJI)
        elif x < 0.07:
            w = "#" + r.choice(lang)
        elif x < 0.08:
            w = r.choice(LINKS)
        elif x < 0.10:
            w = str(r.randint(0, 2030))
        elif x < 0.12:
            w = r.choice(EN + ES)
        elif x < 0.14:
            w = r.choice(PUNCT)  # standing alone, as people type it ("wow ! great", "$ 5")
        else:
            w = r.choice(lang)
        words.append(w)
        n += len(w) + 1
    return " ".join(words)[:length]


def variants(term: Term, r: random.Random) -> list[tuple[str, str]]:
    """(transform name, obfuscated text of the term) for each transform the term allows."""
    base = term.term.lower()
    out = []
    for name, (fn, needs) in TRANSFORMS.items():
        if needs == "leet" and not term.leet:
            continue
        if needs == "spacing" and not term.spacing:
            continue
        if name == "homoglyph" and not term.leet and not term.spacing and term.mode == "regex":
            continue
        v = fn(base, r)
        if term.mode == "hashtag":
            v = "#" + v if name != "fullwidth" else "＃" + v
        out.append((name, v))
    # combined: two transforms at once
    names = [n for n, _ in out]
    if len(names) >= 2:
        a, b = r.sample(names, 2)
        v = TRANSFORMS[b][0](TRANSFORMS[a][0](base, r), r) if b not in ("spacing",) else TRANSFORMS[a][0](TRANSFORMS[b][0](base, r), r)
        out.append((f"{a}+{b}", ("#" + v) if term.mode == "hashtag" else v))
    if term.leet and term.spacing:  # always: leet and spacing on the same letters ("s-n-4-p", "k * ! * k")
        v = _spacing(_leet(base, r), r)
        out.append(("leet+spacing", ("#" + v) if term.mode == "hashtag" else v))
    return out


def evaluate(tl: TermList, seeds: int = 5, benign_posts: int = 20000) -> dict:
    scanner = Scanner(tl)
    terms = [t for t in tl.terms if t.mode != "regex"]
    total = found = 0
    misses: list[dict] = []
    by_transform: dict[str, list[int]] = {}
    for seed in range(seeds):
        r = random.Random(seed)
        texts, meta = [], []
        for t in terms:
            for name, v in variants(t, r):
                pre = " ".join(r.choice(EN) for _ in range(r.randint(0, 6)))
                post = " ".join(r.choice(EN) for _ in range(r.randint(0, 6)))
                texts.append(f"{pre} {v} {post}".strip())
                meta.append((t, name, v))
        for (t, name, v), hits in zip(meta, scanner.scan_many(texts), strict=True):
            ok = any(h.term_id == t.id for h in hits)
            total += 1
            found += ok
            bt = by_transform.setdefault(name if name in ("leet+spacing",) or "+" not in name else "combined", [0, 0])
            bt[0] += ok
            bt[1] += 1
            if not ok and len(misses) < 20:
                misses.append({"term": t.term, "transform": name, "text": v})
    r = random.Random(10_000 + seeds)
    posts = [benign_post(r) for _ in range(benign_posts)]
    fp_posts = 0
    fp_examples: list[dict] = []
    for i in range(0, len(posts), 500):
        chunk = posts[i:i + 500]
        for p, hits in zip(chunk, scanner.scan_many(chunk), strict=True):
            if hits:
                fp_posts += 1
                if len(fp_examples) < 10:
                    fp_examples.append({"post": p[:80], "terms": [h.term for h in hits]})
    return {
        "list": tl.name, "list_version": tl.version, "terms": len(terms), "seeds": seeds,
        "obfuscated": total, "recall": found / total if total else 1.0,
        "by_transform": {k: round(v[0] / v[1], 4) for k, v in sorted(by_transform.items())},
        "misses": misses, "benign_posts": len(posts), "fp_posts": fp_posts,
        "fp_rate": fp_posts / len(posts) if posts else 0.0, "fp_examples": fp_examples,
    }


def synthetic_list(n: int, seed: int = 0, regex: int = 0) -> TermList:
    """An invented list of `n` pseudo-words (Latin, Arabic and Spanish-looking), for benchmarks.

    The words are random letter strings filtered against the benign vocabulary, so they are
    placeholders by construction.
    """
    r = random.Random(seed)
    cons, vow = "bcdfghjkmnpqrstvwxz", "aeiou"
    ar_letters = "بتثجحخدذرزسشصضطظعغفقكلمنهوي"
    benign = {fold(w) for w in EN + ES + AR}
    seen: set[str] = set()
    terms: list[Term] = []
    cats = ("signal_hashtag", "solicitation", "codeword", "age_indicator")
    while len(terms) < n:
        k = len(terms)
        if k % 10 == 9:
            w = "".join(r.choice(ar_letters) for _ in range(r.randint(5, 8)))
            lang = "ar"
        else:
            w = "".join(r.choice(cons) + r.choice(vow) for _ in range(r.randint(3, 5)))
            if r.random() < 0.3:
                w += r.choice(cons)
            lang = "es" if k % 10 in (3, 7) else "en"
        if w in seen or fold(w) in benign:
            continue
        seen.add(w)
        mode = "hashtag" if k % 7 == 0 else ("substring" if k % 13 == 0 else "word")
        terms.append(Term(term=w, category=cats[k % 4], weight=1.0, lang=lang, mode=mode, id=f"{mode}:{w}", line=k + 1))
    for j in range(regex):
        w = "".join(r.choice(cons) + r.choice(vow) for _ in range(4))
        terms.append(Term(term=w + " ?[0-9]{1,2}", category="age_indicator", mode="regex", leet=False, spacing=False,
                          id=f"regex:{w}", line=n + j + 1))
    return TermList(terms=tuple(terms), version=f"synthetic-{n}-{seed}-{regex}", source="synthetic", name="synthetic")
