"""What every signal type declares: its python-threatexchange SignalType, its names, and how Netwarden matches it.

A signal type is one kind of bank entry (a hash or a link form). Each lives in its own module of
this package and is listed once in `netwarden.signal_types.BUILTIN`; banks, the matcher, Spark
retro-matching, the text hook, risk and the HMA routes read the list. Types are used as classes,
never instantiated, as python-threatexchange uses its SignalType classes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import ClassVar

MEDIA = "media"  # matched on media hashes (ingest, stream lookup, retro-matching, HMA lookups)
LINK = "link"  # matched on links in text (the text hook, risk)

_HEX_RE = re.compile(r"^[0-9a-f]+$")


class SignalType:
    name: ClassVar[str]  # stored in bank_entries.signal_type
    family: ClassVar[str]  # MEDIA | LINK
    aliases: ClassVar[tuple[str, ...]] = ()  # other names accepted on import (HMA, ThreatExchange indicator types)
    weight: ClassVar[float] = 1.0  # weight of the signal a match writes
    tx_type_name: ClassVar[str | None] = None  # tx().get_name(), written out so the registry imports no threatexchange

    @classmethod
    def tx(cls) -> type | None:
        """python-threatexchange's SignalType class for this type (imported when asked), or None."""
        return None

    @classmethod
    def tx_name(cls) -> str:
        """The name python-threatexchange and HMA use (on export); our own name when threatexchange has none."""
        return cls.tx_type_name or cls.name

    @classmethod
    def accepted_names(cls) -> tuple[str, ...]:
        return (cls.name, cls.tx_name(), *cls.aliases)

    @classmethod
    def normalize(cls, signal: str) -> str:
        """The canonical stored form of a signal; ValueError with a short reason when it is not one."""
        raise NotImplementedError


class MediaType(SignalType):
    family = MEDIA
    matching: ClassVar[str]  # "exact" (dict lookup on `column`) | "pdq" (the PDQ index) | "vpdq" (video frames)
    # HMA's API (web/hma.py): the content type this signal type is offered for (None: not offered), and
    # whether HMA hashes that content with it when the caller names no signal type.
    hma_content: ClassVar[str | None] = None
    hma_default: ClassVar[bool] = False

    @classmethod
    def closeness(cls, detail: Mapping) -> float:
        """How close a stored match is, 1.0 (exact) to 0.5 (at the match threshold), in this type's own unit."""
        return 1.0

    @classmethod
    def query(cls, hashes, signal: str) -> None:
        """Set a canonical signal of this type on a MediaHashes to look it up (the HMA lookup by signal)."""
        raise NotImplementedError


class ExactMediaType(MediaType):
    """A hash of the bytes, matched by equality. `column` names the MediaHashes attribute, the
    media_hashes and media table columns and the event's media field that carry it."""

    matching = "exact"
    column: ClassVar[str]
    hex_digits: ClassVar[int]

    @classmethod
    def normalize(cls, signal: str) -> str:
        return hex_signal(cls.name, signal, cls.hex_digits)

    @classmethod
    def query(cls, hashes, signal: str) -> None:
        setattr(hashes, cls.column, signal)


class LinkType(SignalType):
    family = LINK
    risk_first: ClassVar[float]  # risk points for an account's first link of this type (findings/text.py)

    @classmethod
    def index(cls, entries: Iterable[tuple[str, object]]) -> LinkIndex:
        """An index over (canonical signal, metadata) entries of this type."""
        raise NotImplementedError


class LinkIndex:
    def match(self, url: str, raw: str) -> list[tuple[str, object]]:
        """[(what matched, metadata)] for a link: `url` in netwarden.text.urls' normalized form, `raw` as written."""
        raise NotImplementedError


class ExactLinkIndex(LinkIndex):
    """Entries matched by equality on one or more keys a type derives from a link."""

    def __init__(self, entries: Iterable[tuple[str, object]], keys):
        self._keys = keys
        self._by: dict[str, list[object]] = {}
        for s, meta in entries:
            self._by.setdefault(s, []).append(meta)

    def match(self, url: str, raw: str) -> list[tuple[str, object]]:
        out, seen = [], set()
        for k in self._keys(url, raw):
            if k in seen:
                continue
            seen.add(k)
            out += [(k, meta) for meta in self._by.get(k, ())]
        return out


def hex_signal(name: str, signal: str, digits: int) -> str:
    s = (signal or "").strip().lower()
    if len(s) != digits or not _HEX_RE.match(s):
        raise ValueError(f"a {name} signal is {digits} hex digits, got {signal!r}")
    return s
