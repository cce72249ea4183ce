"""Input formats: each turns one decoded record into native events (see docs/formats.md).

Every format is declared once in FORMATS: its name (`--format NAME`), one line of help, and the
module under netwarden.ingest that implements `FormatModule` (`sniff`, `to_events`). The CLI help
of `netwarden ingest` and `netwarden stream worker`, the unknown-format error and the guess offered
for a file in another format are all made from this list. docs/architecture.md has the recipe.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..config import Settings
from . import events as native


class FormatModule(Protocol):
    """What a format's module provides."""

    def sniff(self, rec: Any) -> bool:
        """Whether a decoded JSON record looks like this format (used to suggest --format)."""

    def to_events(self, rec: Any) -> list[dict]:
        """Native events for one record; raises events.BadRecord with one reason (dead-lettered).

        A format with settings (coop, mastodon) takes them as a keyword-only `settings=` argument
        (the face's `config.Settings`, None: the defaults); `Declared.load` binds it."""


@dataclass(frozen=True)
class Format:
    name: str
    sniff: Callable[[object], bool]
    to_events: Callable[[object], list[dict]] | None  # None: the record is itself a native event


@dataclass(frozen=True)
class Declared:
    name: str
    help: str  # what the records are, for the CLI help
    module: str | None  # netwarden.ingest.<module> implements FormatModule; None: native events

    def load(self, settings: Settings | None = None) -> Format:
        if self.module is None:
            return Format(self.name, native.looks_native, None)
        mod = importlib.import_module(f"netwarden.ingest.{self.module}")
        to_events = mod.to_events
        if "settings" in inspect.signature(to_events).parameters:
            to_events = functools.partial(to_events, settings=settings)
        return Format(self.name, mod.sniff, to_events)


FORMATS: list[Declared] = [
    Declared("native", "Netwarden's own events (docs/events.md)", None),
    Declared("twitter-v2", "Twitter/X API v2 responses as the API returns them", "twitter"),
    Declared("mastodon", "Mastodon REST entities (statuses, accounts, admin reports)", "mastodon"),
    Declared("coop", "Coop report-API bodies (docs/reports.md)", "coop"),
]
FORMAT_NAMES = tuple(f.name for f in FORMATS)


def get_format(name: str, settings: Settings | None = None) -> Format:
    """The format `name`, its settings (if it has any) taken from `settings` (None: the defaults)."""
    for f in FORMATS:
        if f.name == name:
            return f.load(settings)
    raise KeyError(name)


def help_text() -> str:
    """The --format help: every declared format with its line."""
    return "; ".join(f"{f.name}: {f.help}" for f in FORMATS) + "."


def guess_format(rec: object) -> str | None:
    """Which known format a record looks like, if any."""
    for name in FORMAT_NAMES:
        if get_format(name).sniff(rec):
            return name
    return None
