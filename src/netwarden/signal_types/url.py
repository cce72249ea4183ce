"""URL: a link, stored and matched in netwarden.text.urls' normalized form (https, punycode host
without `www.`, tracking parameters dropped), through python-threatexchange's URLSignal index."""

from __future__ import annotations

from .base import LinkIndex, LinkType


class URL(LinkType):
    name = "url"
    tx_type_name = "url"
    aliases = ("uri", "raw_uri")
    risk_first = 40.0

    @classmethod
    def tx(cls):
        from threatexchange.signal_type.url import URLSignal

        return URLSignal

    @classmethod
    def normalize(cls, signal: str) -> str:
        from ..text.urls import bank_url

        return bank_url(signal)

    @classmethod
    def index(cls, entries):
        return _UrlIndex(cls.tx(), entries)


class _UrlIndex(LinkIndex):
    def __init__(self, tx, entries):
        from ..text.urls import normalize_url

        self._index = tx.get_index_cls().build([(normalize_url(u), meta) for u, meta in entries])

    def match(self, url: str, raw: str) -> list[tuple[str, object]]:
        return [(url, r.metadata) for r in self._index.query(url)]
