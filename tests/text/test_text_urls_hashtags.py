"""URL normalization and banks; hashtag extraction and proposals."""

from netwarden.signal_types import LinkBank
from netwarden.text.hashtags import extract_hashtags, normalize_tag, propose_signal_hashtags
from netwarden.text.urls import classify, extract_links, normalize_url


def test_normalize_url():
    assert normalize_url("HTTP://WWW.Exämple.COM:80/Path/?utm_source=x&b=2&a=1&fbclid=z#frag") == (
        "https://xn--exmple-cua.com/Path?a=1&b=2"
    )
    assert normalize_url("example.com") == "https://example.com/"


def test_classify():
    assert classify("bit.ly/abc") == "shortener"
    assert classify("https://mega.nz/file/x") == "file_host"
    assert classify("t.me/joinchat/abc") == "invite"
    assert classify("discord.gg/abc") == "invite"
    assert classify("https://example.com/x") == "web"


def test_extract_links_spans():
    text = "see https://Example.com/a?utm_x=1). and t.me/abc, bit.ly/zz"
    links = extract_links(text)
    assert [(lk.url, lk.kind, text[lk.start:lk.end]) for lk in links] == [
        ("https://example.com/a", "web", "https://Example.com/a?utm_x=1"),
        ("https://t.me/abc", "invite", "t.me/abc"),
        ("https://bit.ly/zz", "shortener", "bit.ly/zz"),
    ]


def test_url_bank():
    b = LinkBank([("url", "https://example.com/a", "m1"), ("domain", "bad.example", "m2")])
    assert b.match("http://www.example.com/a/?utm_source=q") == [("url", "https://example.com/a", "m1")]
    assert b.match("https://x.bad.example/z") == [("domain", "bad.example", "m2")]
    assert b.match("https://good.example/") == []


def test_hashtags():
    tags = extract_hashtags("hi #Quixfen #غمزوقي #1 a#b #Zapéndra_2 ＃ＶＡＮＴＲＯ")
    assert [t.tag for t in tags] == ["quixfen", "غمزوقي", "zapendra_2", "vantro"]
    assert normalize_tag("#غَمْزُوقِي") == "غمزوقي"


def test_propose_hashtags():
    rows = [(f"f{i}", ["quixfen", "newtag"], True) for i in range(20)]
    rows += [(f"b{i}", ["cats", "newtag" if i < 1 else "dogs"], False) for i in range(200)]
    rows += [(f"c{i}", ["cats"], True) for i in range(3)]
    props = propose_signal_hashtags(rows, known=["#quixfen"])
    assert [p.tag for p in props] == ["newtag"]
    assert props[0].accounts == 21 and props[0].flagged_accounts == 20
    assert props[0].co_used_with == [("quixfen", 20)]
