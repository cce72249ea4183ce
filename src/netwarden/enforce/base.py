"""The adapter interface: deliver one outbox action to the platform."""

from __future__ import annotations

from typing import Protocol


class DeliveryError(Exception):
    """Delivery failed. `retryable` False means retrying cannot help (bad config, unknown account)."""

    def __init__(self, message: str, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


class Adapter(Protocol):
    name: str

    def deliver(self, action: dict) -> dict:
        """Carry out `action` (a row of enforce_actions, payload decoded); return a result summary.

        Must be safe to repeat: the worker may deliver an action again after a crash.
        """
        ...


def http_error(status: int, text: str, what: str) -> DeliveryError:
    retryable = status >= 500 or status in (408, 429)
    return DeliveryError(f"{what}: HTTP {status} {text[:200]}", retryable=retryable)
