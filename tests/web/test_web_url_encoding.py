"""Issue 14 item 1: platform ids go into URLs percent-encoded (the `urlpart` filter), never into selectors."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
import pytest
from fastapi.testclient import TestClient
from hostile_world import ACCOUNTS, MEDIA
from web_helpers import login

from netwarden.web.deps import dom_token, querystring, segment, urlpart

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "netwarden" / "web" / "templates"
URL_ATTRS = ("href", "src", "action", "formaction", "hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete",
             "data-graph", "poster")
ATTR_RE = re.compile(r'(?<![\w-])(' + "|".join(URL_ATTRS) + r')\s*=\s*"([^"]*)"')
EXPR_RE = re.compile(r"\{\{(.*?)\}\}")


def unencoded_url_expressions(text: str) -> list[str]:
    """Every {{ expression }} inside a URL attribute that does not end with the urlpart (or, for a
    whole query string, the querystring) filter."""
    bad = []
    for m in ATTR_RE.finditer(text):
        for e in EXPR_RE.findall(m.group(2)):
            if not re.search(r"\|\s*(?:urlpart|querystring)\s*$", e.strip()):
                bad.append(f"{m.group(1)}=\"{m.group(2)}\"")
    # a selector built from a value: hx-target / hx-select / hx-include with an expression in it
    bad += [m.group(0) for m in re.finditer(r'hx-(?:target|select|include|indicator)\s*=\s*"[^"]*\{\{[^"]*"', text)]
    return bad


def test_the_checker_catches_an_unencoded_id():
    assert unencoded_url_expressions('<a href="/accounts/{{ a.id }}">') == ['href="/accounts/{{ a.id }}"']
    assert unencoded_url_expressions('<img src="/media/{{ mid|e }}/blurred">')
    assert unencoded_url_expressions('<button hx-target="#media-{{ mid }}">')
    assert unencoded_url_expressions('<b data-action="{{ x }}">') == []  # not a URL attribute
    assert unencoded_url_expressions('<a href="/accounts/{{ a.id|urlpart }}">') == []
    assert unencoded_url_expressions('<a href="/audit?{{ q|querystring }}">') == []
    assert unencoded_url_expressions('<a href="{{ q }}">')


def test_querystring_encodes_keys_and_values_and_drops_empties():
    assert querystring({"actor": "a&b=c", "action": "", "before": 7, "x": None}) == "actor=a%26b%3Dc&before=7"


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_no_template_puts_an_unencoded_value_into_a_url(path):
    assert unencoded_url_expressions(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("value", [*ACCOUNTS, *MEDIA, ".", "..", "~", "~..", "%", "%2F", "a b", "é/ü", "?#&="])
def test_urlpart_round_trips_and_stays_one_segment(value):
    enc = urlpart(value)
    assert re.fullmatch(r"[A-Za-z0-9._~%-]+", enc)
    assert "/" not in enc and "?" not in enc and "#" not in enc
    assert enc not in (".", "..") and enc.lower().replace("%2e", ".") not in (".", "..")
    assert segment(enc) == value
    assert re.fullmatch(r"n[0-9a-f]{16}", dom_token(value))


@pytest.fixture(scope="module")
def client(hostile_store):
    from netwarden.web.app import create_app

    app = create_app(store=hostile_store["store"], media_roots=[str(hostile_store["world"])], secure_cookies=False)
    with TestClient(app) as c:
        login(c, "moderator")
        yield c


def _url_attrs(html: str) -> list[tuple[str, str]]:
    doc = lxml.html.fromstring(html)
    return [(a, el.get(a)) for el in doc.iter() if isinstance(el.tag, str) for a in URL_ATTRS if el.get(a)]


@pytest.mark.parametrize("aid", list(ACCOUNTS))
def test_hostile_account_page_opens_and_every_link_stays_in_its_place(client, hostile_store, aid):
    r = client.get(f"/accounts/{urlpart(aid)}")
    assert r.status_code == 200, r.text[:300]
    doc = lxml.html.fromstring(r.text)
    assert aid in doc.xpath("string(//h1)")
    known_accounts, known_media = set(ACCOUNTS), set(MEDIA)
    for attr, url in _url_attrs(r.text):
        u = urlsplit(url)
        assert not u.scheme and not u.netloc, (attr, url)  # nothing leaves the app
        parts = u.path.split("/")
        assert ".." not in parts and "." not in parts, (attr, url)
        if parts[1:2] == ["accounts"]:
            assert len(parts) in (3, 4) and segment(parts[2]) in known_accounts, (attr, url)
            assert parts[3:] in ([], ["notes"], ["labels"]), (attr, url)  # its notes (routes_triage), labels
        if parts[1:2] == ["media"]:
            assert segment(parts[2]) in known_media, (attr, url)
            assert parts[3:] in ([], ["blurred"], ["reveal"], ["item"]), (attr, url)
        assert parts[1] not in ("api", "admin", "logout") or attr == "action", (attr, url)
    # the elements HTMX swaps are found by a server-made token, never by the platform id
    for fig in doc.xpath("//figure[@data-media]"):
        assert fig.get("id") == dom_token(fig.get("data-media"))
    for b in doc.xpath("//*[@hx-target]"):
        assert b.get("hx-target") in ("closest figure", "#members")


@pytest.mark.parametrize("mid", [m for m in MEDIA])
def test_hostile_media_page_and_blurred_rendition_answer_for_that_item(client, mid):
    r = client.get(f"/media/{urlpart(mid)}")
    assert r.status_code == 200
    assert mid in lxml.html.fromstring(r.text).xpath("string(//h1)")
    r = client.get(f"/media/{urlpart(mid)}/blurred")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"


def test_the_hostile_world_ingests_whole(hostile_store):
    """Every payload is within ingestion's limits, so each reaches the pages (none dead-lettered)."""
    assert [f.dead for f in hostile_store["summary"].files] == [0]
