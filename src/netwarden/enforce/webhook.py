"""Signed generic webhook adapter.

POSTs the action as JSON. Headers: X-Netwarden-Timestamp (Unix seconds), X-Netwarden-Signature
("sha256=" + hex HMAC-SHA256 with the shared secret over "<timestamp>." + body bytes) and
Idempotency-Key (the action's key; receivers must treat a repeated key as already done).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx

from .base import DeliveryError, http_error

MAX_SKEW = 300


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: bytes, timestamp: str, body: bytes, signature: str, now: float | None = None) -> bool:
    """Receiver side: the signature matches and the timestamp is within MAX_SKEW seconds."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - ts) > MAX_SKEW:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")


class WebhookAdapter:
    name = "webhook"

    def __init__(self, url: str, secret: str, timeout: float = 15.0):
        if not url or not secret:
            raise DeliveryError("the webhook adapter needs NETWARDEN_WEBHOOK_URL and NETWARDEN_WEBHOOK_SECRET",
                                retryable=False)
        self.url = url
        self.secret = secret.encode()
        self.client = httpx.Client(timeout=timeout)

    def deliver(self, action: dict) -> dict:
        body = json.dumps({"key": action["key"], "case_id": action["case_id"], "account_id": action["account_id"],
                           "action": action["action"], "payload": action["payload"],
                           "decided_by": action["decided_by"], "approved_by": action["approved_by"]},
                          sort_keys=True, separators=(",", ":")).encode()
        ts = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Netwarden-Timestamp": ts,
                   "X-Netwarden-Signature": sign(self.secret, ts, body), "Idempotency-Key": action["key"]}
        try:
            r = self.client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as e:
            raise DeliveryError(f"POST {self.url}: {e}") from None
        if r.status_code >= 300:
            raise http_error(r.status_code, r.text, f"POST {self.url}")
        return {"status": r.status_code}
