"""The scanner: modes, folding where the term allows, spans in the original text."""

from netwarden.text.scanner import Scanner, scanner_for
from netwarden.text.terms import demo_terms, parse_terms

LIST = """terms:
  - {term: zorblat, category: codeword, weight: 2}
  - {term: vantro, category: codeword, leet: false, spacing: false}
  - {term: snib, category: codeword, mode: substring}
  - {term: "#quixfen", category: signal_hashtag, mode: hashtag}
  - {term: 'yemblix ?[0-9]{1,2}', category: age_indicator, mode: regex}
  - {term: "trade the gorvex", category: solicitation}
  - {term: زنقلوط, category: codeword, lang: ar}
  - {term: zapéndra, category: codeword, lang: es}
""".encode()


def scan(text):
    return Scanner(parse_terms(LIST, "l.yaml")).scan(text)


def terms(text):
    return [h.term for h in scan(text)]


def test_whole_word():
    assert terms("a zorblat here") == ["zorblat"]
    assert terms("zorblats") == []
    assert terms("xzorblat") == []


def test_substring():
    assert terms("snibbleworth") == ["snib"]


def test_hashtag_only():
    assert terms("#quixfen now") == ["quixfen"]
    assert terms("quixfen now") == []
    assert terms("a#quixfen") == []
    assert terms("#quixfenx") == []
    assert terms("#QUİXFEN".replace("İ", "I")) == ["quixfen"]


def test_regex():
    hits = scan("Yemblix 12 and yemblix7")
    assert [(h.matched, h.start, h.end) for h in hits] == [("Yemblix 12", 0, 10), ("yemblix7", 15, 23)]


def test_obfuscations_folded_when_allowed():
    for t in ["z0rb1at", "Z O R B L A T", "z.o.r.b.l.a.t", "zоrblаt", "ｚｏｒｂｌａｔ", "zor\u200bblat", "zörblát", "z🔥o🔥r🔥b🔥l🔥a🔥t"]:
        assert terms(t) == ["zorblat"], t


def test_leet_and_spacing_on_the_same_letters():
    for t in ["z 0 r 8 1 @ 7", "z*0*r*b*!*a*t", "Z-0-R-B-|-@-T", "z·0·r·8·l·4·7"]:
        text = f"got {t} today!"
        hits = scan(text)
        assert [h.term for h in hits] == ["zorblat"], t
        assert text[hits[0].start:hits[0].end] == t
    assert terms("z | o | r | b | l | a | t") == ["zorblat"]  # | as the separator, not a letter


def test_no_leet_or_spacing_when_term_forbids():
    assert terms("vantro") == ["vantro"]
    assert terms("VANTRO") == ["vantro"]  # case folding always applies
    assert terms("v4ntro") == []
    assert terms("v a n t r o") == []


def test_span_in_original():
    text = "hey 🔥 Z O R\u200b B L A T!! ok"
    (h,) = scan(text)
    assert text[h.start:h.end] == h.matched == "Z O R\u200b B L A T"
    assert h.normalized == "zorbiat" and h.weight == 2.0 and h.category == "codeword"


def test_phrase_and_multilingual():
    assert terms("pls TRADE   the g0rvex") == ["trade the gorvex"]
    assert terms("كلمة زَنْقَلُوط هنا") == ["زنقلوط"]
    assert terms("ZAPENDRA y zapéndra") == ["zapéndra", "zapéndra"]


def test_scan_many_keeps_texts_apart():
    s = Scanner(parse_terms(LIST, "l.yaml"))
    out = s.scan_many(["zorb", "lat", "zorblat", "", "yemblix", "5"])
    assert [[h.term for h in hs] for hs in out] == [[], [], ["zorblat"], [], [], []]


def test_invalid_unicode_and_huge_input_are_bounded():
    s = Scanner(parse_terms(LIST, "l.yaml"))
    assert [h.term for h in s.scan("\ud800zorblat\udfff")] == ["zorblat"]
    big = "zorblat " * 100_000  # capped at MAX_CHARS before matching
    assert len(s.scan(big)) <= 20_000 // 8 + 1


def test_scanner_cached_per_version():
    tl = demo_terms()
    assert scanner_for(tl) is scanner_for(tl)
    assert scanner_for(tl).scan("#quixfen")[0].list_version == tl.version
