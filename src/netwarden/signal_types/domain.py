"""Domain: a host and all its subdomains (a link matches when its host or a parent domain is banked).
threatexchange has no domain signal type; ThreatExchange's indicator type is `domain_name`."""

from __future__ import annotations

from .base import ExactLinkIndex, LinkType


class DOMAIN(LinkType):
    name = "domain"
    aliases = ("domain_name",)
    weight = 0.8
    risk_first = 25.0

    @classmethod
    def normalize(cls, signal: str) -> str:
        from ..text.urls import bank_domain

        return bank_domain(signal)

    @classmethod
    def index(cls, entries):
        from ..text.urls import _host_idna

        return ExactLinkIndex(((_host_idna(d.removeprefix("www.")), m) for d, m in entries), _hosts)


def _hosts(url: str, raw: str):
    """The link's host and each parent domain (a.b.example, b.example, example is not a domain)."""
    from urllib.parse import urlsplit

    from ..text.urls import _parents

    return _parents(urlsplit(url).hostname or "")
