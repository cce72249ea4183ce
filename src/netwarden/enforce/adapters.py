"""Enforcement adapters, declared once: ADAPTERS lists every `--adapter` value.

make_adapter, the CLI's --adapter help and the docs' test read this list. Kept apart from the worker
so the command line can list the adapters without loading the store (each adapter is imported when made).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..config import Settings
from .base import Adapter, DeliveryError


@dataclass(frozen=True)
class Declared:
    """An enforcement adapter: its name (`--adapter NAME`), one line of help, the settings it takes
    (named by their environment variable, each a field of config.Settings), and how to make it from their
    values ("" when unset; raising DeliveryError when one it needs is missing). The adapter implements
    base.Adapter."""

    name: str
    help: str
    settings: tuple[str, ...]
    make: Callable[[dict[str, str]], Adapter]

    def from_settings(self, settings: Settings) -> Adapter:
        return self.make({k: str(settings.env_value(k) or "") for k in self.settings})


def _dryrun(env: dict[str, str]) -> Adapter:
    from .dryrun import DryRunAdapter

    return DryRunAdapter(env["NETWARDEN_DRYRUN_LOG"] or None)


def _mastodon(env: dict[str, str]) -> Adapter:
    from .mastodon import MastodonAdapter

    return MastodonAdapter(env["NETWARDEN_MASTODON_URL"], env["NETWARDEN_MASTODON_TOKEN"])


def _webhook(env: dict[str, str]) -> Adapter:
    from .webhook import WebhookAdapter

    return WebhookAdapter(env["NETWARDEN_WEBHOOK_URL"], env["NETWARDEN_WEBHOOK_SECRET"])


ADAPTERS: list[Declared] = [
    Declared("dryrun", "log what would be done, call nothing", ("NETWARDEN_DRYRUN_LOG",), _dryrun),
    Declared("mastodon", "Mastodon's admin API", ("NETWARDEN_MASTODON_URL", "NETWARDEN_MASTODON_TOKEN"), _mastodon),
    Declared("webhook", "a signed POST to the platform's own endpoint",
             ("NETWARDEN_WEBHOOK_URL", "NETWARDEN_WEBHOOK_SECRET"), _webhook),
]
DEFAULT_ADAPTER = "dryrun"


def adapters_help() -> str:
    return ("; ".join(f"{a.name}: {a.help}" for a in ADAPTERS)
            + f" (default: $NETWARDEN_ENFORCE_ADAPTER or {DEFAULT_ADAPTER}).")


def make_adapter(name: str | None = None, settings: Settings | None = None) -> Adapter:
    """The adapter named (or the settings' enforce_adapter, default dryrun), configured from `settings`
    (the face's; None: the defaults)."""
    from ..errors import UserError

    settings = settings if settings is not None else Settings()
    name = name or settings.enforce_adapter
    for a in ADAPTERS:
        if a.name == name:
            try:
                return a.from_settings(settings)
            except DeliveryError as e:
                raise UserError(f"The {name} adapter is not configured ({e}); set those variables or config "
                                "keys (docs/enforcement.md).") from None
    raise UserError(f"Unknown adapter {name!r}; use {', '.join(a.name for a in ADAPTERS[:-1])} or {ADAPTERS[-1].name}.")
