"""Links in posts and bios: extraction, normalization, classification, URL/domain bank matching.

Nothing here fetches a URL: shorteners are recognised by domain only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .normalize import fold

SHORTENERS = frozenset(
    "bit.ly t.co tinyurl.com goo.gl ow.ly is.gd buff.ly rebrand.ly cutt.ly shorturl.at rb.gy tiny.cc "
    "t.ly s.id v.gd lnkd.in trib.al shor.by bl.ink soo.gd qr.ae y2u.be clck.ru u.to".split()
)
FILE_HOSTS = frozenset(
    "mega.nz mega.io mediafire.com dropbox.com drive.google.com docs.google.com 1drv.ms onedrive.live.com "
    "gofile.io pixeldrain.com wetransfer.com we.tl sendspace.com zippyshare.com anonfiles.com files.catbox.moe "
    "catbox.moe krakenfiles.com uploadhaven.com terabox.com icedrive.net box.com pcloud.com".split()
)
# host -> path prefixes that make a link an invitation to another platform
INVITES = {
    "t.me": ("/joinchat/", "/+", "/"),
    "telegram.me": ("/",),
    "chat.whatsapp.com": ("/",),
    "wa.me": ("/",),
    "discord.gg": ("/",),
    "discord.com": ("/invite/",),
    "discordapp.com": ("/invite/",),
    "signal.group": ("/",),
    "signal.me": ("/",),
    "matrix.to": ("/",),
    "kik.me": ("/",),
    "snapchat.com": ("/add/",),
    "threema.id": ("/",),
}
TRACKING = re.compile(
    r"^(utm_.*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|igshid|igsh|mc_cid|mc_eid|_hsenc|_hsmi|ref|ref_src|ref_url|"
    r"si|spm|share_id|s_cid|mkt_tok|trk|__s|vero_id|oly_enc_id|oly_anon_id|_ga|_gl)$",
    re.I,
)
_TLDS = "com|net|org|me|gg|io|ly|co|to|nz|ms|be|id|ru|de|uk|app|link|info|xyz|tv|cc|moe|group|chat|site|online"
URL_RE = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'`)\]}]+"
    r"|(?<![\w@.])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:" + _TLDS + r")/[^\s<>\"'`)\]}]*",
    re.I,
)
_TRAIL = ".,;:!?'\")]}…"


@dataclass(frozen=True, slots=True)
class Link:
    raw: str
    url: str  # normalized
    host: str  # normalized (punycode, lower case, no www.)
    kind: str  # web | shortener | file_host | invite
    start: int
    end: int


def _host_idna(host: str) -> str:
    host = host.strip(".").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        try:
            import idna

            return idna.encode(host, uts46=True).decode("ascii")
        except Exception:  # noqa: BLE001 - an unencodable host stays as written
            return host


@lru_cache(maxsize=16_384)  # a link is normalized for its contact, its route and its class: once
def normalize_url(url: str) -> str:
    """Scheme and host lower case, IDN -> punycode, default port, fragment and tracking dropped."""
    url = url.strip()
    if not re.match(r"^[a-z][a-z0-9+.-]*://", url, re.I):
        url = "https://" + url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme == "http":
        scheme = "https"  # one form for matching
    host = _host_idna(parts.hostname or "")
    if host.startswith("www."):
        host = host[4:]
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING.match(k)]
    path = parts.path or "/"
    if path != "/" and path.endswith("/"):
        path = path.rstrip("/") or "/"
    fragment = parts.fragment if host in ("matrix.to", "signal.me") else ""
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), fragment))


def _parents(host: str) -> Iterable[str]:
    parts = host.split(".")
    for i in range(len(parts) - 1):
        yield ".".join(parts[i:])


def classify(url: str) -> str:
    """web | shortener | file_host | invite (invite and file_host are off-platform routes)."""
    n = normalize_url(url)
    sp = urlsplit(n)
    host = sp.hostname or ""
    path = sp.path
    for h in _parents(host):
        if h in INVITES and path not in ("", "/") and any(path.startswith(p) for p in INVITES[h]):
            return "invite"
        if h in FILE_HOSTS:
            return "file_host"
        if h in SHORTENERS:
            return "shortener"
    return "web"


def extract_links(text: str) -> list[Link]:
    """URLs in `text` (with spans in `text`), normalized and classified."""
    out = []
    if "." not in text and "://" not in text and text.isascii():  # no URL can start here
        return out
    for m in URL_RE.finditer(text):
        raw = m.group().rstrip(_TRAIL)
        if not raw:
            continue
        n = normalize_url(raw)
        out.append(Link(raw=raw, url=n, host=urlsplit(n).hostname or "", kind=classify(n),
                        start=m.start(), end=m.start() + len(raw)))
    if not out and not text.isascii():
        # links typed with fullwidth or homoglyph characters: match on the folded text
        folded = fold(text)
        if folded != text and URL_RE.search(folded):
            return [Link(raw=lk.raw, url=lk.url, host=lk.host, kind=lk.kind, start=-1, end=-1)
                    for lk in extract_links(folded)]
    return out


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def bank_domain(text: str) -> str:
    """A domain bank entry in matching form (punycode, lower case, no `www.`/`*.`); ValueError if invalid."""
    d = (text or "").strip().lower().rstrip(".")
    for prefix in ("*.", "."):
        d = d.removeprefix(prefix)
    if not d or any(c in d for c in "/:@?#") or any(c.isspace() for c in d):
        raise ValueError(f"a domain is a host name like example.com, got {text!r} (full links are signal type url)")
    d = _host_idna(d).removeprefix("www.")
    labels = d.split(".")
    if len(labels) < 2 or not all(_LABEL.match(x) for x in labels):
        raise ValueError(f"{text!r} is not a valid domain name (labels of letters, digits and hyphens, "
                         "at least one dot)")
    return d


def bank_url(text: str) -> str:
    """A URL bank entry in matching form (`normalize_url`); ValueError if it is not an http(s) link."""
    u = (text or "").strip()
    if not u or any(c.isspace() for c in u):
        raise ValueError(f"a url is one http(s) link without spaces, got {text!r}")
    m = re.match(r"^([a-z][a-z0-9+.-]*)://", u, re.I)
    if m and m.group(1).lower() not in ("http", "https"):
        raise ValueError(f"only http(s) links can be banked, got {text!r}")
    n = normalize_url(u)
    try:
        bank_domain(urlsplit(n).hostname or "")
    except ValueError:
        raise ValueError(f"{text!r} has no valid host name; give a link like https://example.com/path") from None
    return n

