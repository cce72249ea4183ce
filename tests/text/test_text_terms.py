"""Term lists: YAML and CSV, validation errors naming the line, versions and reload."""

import os
import time

import pytest

from netwarden.errors import UserError
from netwarden.text.regex_safety import check_regex
from netwarden.text.terms import TermSource, demo_placeholders, demo_terms, load_terms, parse_terms

YAML = b"""name: t
terms:
  - term: zorblat
    category: codeword
    weight: 2
    lang: en
  - {term: "#quixfen", category: signal_hashtag, mode: hashtag}
  - {term: 'vantro[0-9]+', category: age_indicator, mode: regex}
"""


def test_yaml_list():
    tl = parse_terms(YAML, "t.yaml")
    assert [t.term for t in tl.terms] == ["zorblat", "quixfen", "vantro[0-9]+"]
    z = tl.terms[0]
    assert (z.category, z.weight, z.lang, z.mode, z.leet, z.spacing, z.line) == ("codeword", 2.0, "en", "word", True, True, 3)
    assert tl.terms[2].leet is False and tl.terms[2].spacing is False
    assert len(tl.version) == 16


def test_csv_list():
    data = b"term,category,weight,lang,mode,leet\nzorblat,codeword,1.5,en,word,false\n#quixfen,signal_hashtag,,en,hashtag,\n"
    tl = parse_terms(data, "t.csv")
    assert tl.terms[0].leet is False and tl.terms[0].weight == 1.5
    assert tl.terms[1].term == "quixfen" and tl.terms[1].line == 3


def test_version_is_content_hash():
    a = parse_terms(YAML, "a.yaml")
    b = parse_terms(YAML, "b.yaml")
    c = parse_terms(YAML + b"  - {term: gorvex, category: codeword}\n", "a.yaml")
    assert a.version == b.version != c.version


@pytest.mark.parametrize(
    "data, fragment",
    [
        (b"terms:\n  - term: zorblat\n    category: codeword\n  - term: x\n    category: Bad Cat\n", "line 4"),
        (b"terms:\n  - term: zorblat\n    category: codeword\n    mode: fuzzy\n", "mode 'fuzzy'"),
        (b"terms:\n  - term: zorblat\n    category: codeword\n    weight: heavy\n", "weight"),
        (b"terms:\n  - {term: zorblat, category: codeword}\n  - {term: ZORBLAT, category: codeword}\n", "duplicate of the entry on line 2"),
        (b"terms:\n  - {term: '(a+', category: codeword, mode: regex}\n", "invalid regex"),
        (b"terms:\n  - {term: '(a+)+b', category: codeword, mode: regex}\n", "catastrophically"),
        (b"terms: [\n", "not valid YAML"),
        (b"terms:\n  - {term: '...', category: codeword}\n", "empty after normalization"),
        (b"terms:\n  - {term: zorblat, category: codeword, colour: red}\n", "unknown field"),
    ],
)
def test_bad_lists_name_the_line(data, fragment):
    with pytest.raises(UserError) as e:
        parse_terms(data, "bad.yaml")
    assert fragment in str(e.value) and "bad.yaml" in str(e.value)
    assert "\n" not in str(e.value)


def test_bad_csv_names_line():
    with pytest.raises(UserError, match=r"bad.csv line 3"):
        parse_terms(b"term,category\nzorblat,codeword\nvantro,NOPE NOPE\n", "bad.csv")


@pytest.mark.parametrize("pattern", ["(a+)+", "(\\w*)*x", "(ab|a.)*c", "(a|b+)*", "(x)\\1", "a(?=b)", "a{5000}"])
def test_unsafe_regexes_refused(pattern):
    with pytest.raises(UserError):
        check_regex(pattern, "l.yaml line 1")


@pytest.mark.parametrize("pattern", ["yemblix ?[0-9]{1,2}", "(ab|cd)+", "zorb(lat|let)", "[a-z]+[0-9]{2}"])
def test_safe_regexes_accepted(pattern):
    check_regex(pattern, "l.yaml line 1")


def test_missing_file():
    with pytest.raises(UserError, match="does not exist"):
        load_terms("/nonexistent/terms.yaml")


def test_reload_on_change(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_bytes(YAML)
    src = TermSource(p, interval=0)
    v1 = src.get().version
    p.write_bytes(YAML + b"  - {term: gorvex, category: codeword}\n")
    os.utime(p, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert src.get().version != v1 and len(src.get()) == 4
    # a broken edit keeps the last good list
    p.write_bytes(b"terms: [\n")
    os.utime(p, ns=(time.time_ns(), time.time_ns() + 2 * 10**9))
    assert len(src.get()) == 4 and src.error and "not valid YAML" in src.error


def test_demo_list_is_placeholders():
    tl = demo_terms()
    assert set(tl.categories()) == {"signal_hashtag", "solicitation", "codeword", "age_indicator"}
    assert {t.lang for t in tl.terms} == {"en", "ar", "es"}
    ph = demo_placeholders()
    assert "quixfen" in ph["hashtags"] and "vantro" in ph["terms"]
