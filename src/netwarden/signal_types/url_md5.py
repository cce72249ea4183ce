"""URL MD5: python-threatexchange's `url_md5`, the MD5 of a link lower-cased without its scheme
(`UrlMD5Signal.hash_from_str`), as partners share links they will not send in the clear.

A link in text is hashed as written and in Netwarden's normalized form, so a partner's hash of
either matches; the stored signal is 32 lower-case hex digits.
"""

from __future__ import annotations

from .base import ExactLinkIndex, LinkType, hex_signal


class URL_MD5(LinkType):
    name = "url_md5"
    tx_type_name = "url_md5"
    aliases = ("hash_url_md5",)  # ThreatExchange's indicator type HASH_URL_MD5
    risk_first = 40.0  # as a link in a URL bank: it is one, hashed

    @classmethod
    def tx(cls):
        from threatexchange.signal_type.url_md5 import UrlMD5Signal

        return UrlMD5Signal

    @classmethod
    def normalize(cls, signal: str) -> str:
        return hex_signal(cls.name, signal, 32)

    @classmethod
    def index(cls, entries):
        return ExactLinkIndex(entries, _keys)


def _keys(url: str, raw: str):
    h = URL_MD5.tx().hash_from_str
    yield h(raw)
    yield h(url)
