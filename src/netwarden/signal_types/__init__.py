"""The signal types Netwarden banks and matches, one module each, listed once in BUILTIN.

Each is a `base.MediaType` (matched on media hashes) or a `base.LinkType` (matched on links in
text) and names its python-threatexchange SignalType (`tx()`), so names on import and export,
exchange fetches and the HMA routes follow threatexchange. Banks, the matcher, Spark
retro-matching, the text hook, risk and the CLI read this list; docs/architecture.md has the
recipe for a new type.
"""

from __future__ import annotations

from collections.abc import Iterable

from .base import LINK, MEDIA, ExactMediaType, LinkType, MediaType, SignalType
from .domain import DOMAIN
from .md5 import MD5
from .pdq import PDQ, PDQ_THRESHOLD
from .sha256 import SHA256
from .url import URL
from .url_md5 import URL_MD5
from .vpdq import VPDQ, VPDQ_MATCH_PERCENT

BUILTIN: list[type[SignalType]] = [PDQ, MD5, SHA256, VPDQ, URL, DOMAIN, URL_MD5]

_TYPES: list[type[SignalType]] = []
_BY_NAME: dict[str, type[SignalType]] = {}


def register(t: type[SignalType]) -> type[SignalType]:
    """Add a signal type (its name and every accepted name must be new)."""
    names = {n.lower() for n in t.accepted_names()}
    taken = sorted(n for n in names if n in _BY_NAME)
    if taken:
        raise ValueError(f"signal type name {taken[0]!r} is already registered")
    if t.family not in (MEDIA, LINK):
        raise ValueError(f"signal type {t.name!r} has family {t.family!r}; use {MEDIA!r} or {LINK!r}")
    _TYPES.append(t)
    for n in names:
        _BY_NAME[n] = t
    return t


for _t in BUILTIN:
    register(_t)


def types(family: str | None = None) -> list[type[SignalType]]:
    return [t for t in _TYPES if family is None or t.family == family]


def names(family: str | None = None) -> tuple[str, ...]:
    return tuple(t.name for t in types(family))


def media_types() -> list[type[MediaType]]:
    return types(MEDIA)  # type: ignore[return-value]


def exact_media_types() -> list[type[ExactMediaType]]:
    return [t for t in media_types() if issubclass(t, ExactMediaType)]


def link_types() -> list[type[LinkType]]:
    return types(LINK)  # type: ignore[return-value]


def get(name: str | None) -> type[SignalType] | None:
    """The type a name stands for (ours, threatexchange's or an alias; any case), or None."""
    return _BY_NAME.get((name or "").strip().lower())


def tx_name(name: str) -> str:
    t = get(name)
    return t.tx_name() if t is not None else name


def tx_types() -> list[type]:
    """python-threatexchange SignalType classes of the registered types (for exchange fetches)."""
    return [tx for t in _TYPES if (tx := t.tx()) is not None]


class LinkBank:
    """Link entries of every link type, matched against links found in text.

    `entries`: (signal_type, canonical signal, metadata). Several entries may share a signal: each
    one is reported."""

    def __init__(self, entries: Iterable[tuple[str, str, object]] = ()):
        by_type: dict[str, list[tuple[str, object]]] = {}
        for st, s, meta in entries:
            by_type.setdefault(st, []).append((s, meta))
        self._indexes = [(t.name, t.index(by_type[t.name])) for t in link_types() if t.name in by_type]

    def match(self, url: str, raw: str | None = None) -> list[tuple[str, str, object]]:
        """[(signal type, what matched, meta)] for a link (`raw` as written, if known)."""
        from ..text.urls import normalize_url

        n = normalize_url(url)
        return [(name, matched, meta) for name, idx in self._indexes for matched, meta in idx.match(n, raw or url)]


__all__ = ["BUILTIN", "DOMAIN", "LINK", "MD5", "MEDIA", "PDQ", "PDQ_THRESHOLD", "SHA256", "URL", "URL_MD5", "VPDQ",
           "VPDQ_MATCH_PERCENT", "LinkBank", "SignalType", "exact_media_types", "get", "link_types", "media_types",
           "names", "register", "tx_name", "tx_types", "types"]
