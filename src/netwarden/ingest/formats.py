"""Input formats: each turns one decoded record into native events (see docs/formats.md)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from . import events as native


@dataclass(frozen=True)
class Format:
    name: str
    sniff: Callable[[object], bool]
    to_events: Callable[[object], list[dict]] | None  # None: the record is itself a native event


def _lazy(module: str, name: str) -> Format:
    mod = importlib.import_module(f"netwarden.ingest.{module}")
    return Format(name, mod.sniff, mod.to_events)


def get_format(name: str) -> Format:
    if name == "native":
        return Format("native", native.looks_native, None)
    if name == "twitter-v2":
        return _lazy("twitter", name)
    if name == "mastodon":
        return _lazy("mastodon", name)
    if name == "coop":  # Coop's report API bodies (docs/reports.md)
        return _lazy("coop", name)
    raise KeyError(name)


FORMAT_NAMES = ("native", "twitter-v2", "mastodon", "coop")


def guess_format(rec: object) -> str | None:
    """Which known format a record looks like, if any."""
    for name in FORMAT_NAMES:
        if get_format(name).sniff(rec):
            return name
    return None
