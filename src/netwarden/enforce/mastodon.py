"""Mastodon admin API adapter.

Endpoints (Mastodon 4.x): POST /api/v1/admin/accounts/:id/action with type suspend | disable |
silence | sensitive | none; POST /api/v1/admin/accounts/:id/unsuspend | unsilence | unsensitive |
enable to reverse; DELETE /api/v1/statuses/:id; POST /api/v1/admin/reports/:id/resolve. The token
needs the admin:write:accounts and admin:write:reports scopes (and write:statuses for deletion).
Every call is safe to repeat: a second suspend is a no-op on Mastodon, a deleted status answers 404.
"""

from __future__ import annotations

import httpx

from .base import DeliveryError, http_error

# decision action -> admin action type
ACTION_TYPE = {"suspend": "suspend", "restrict": "silence"}
REVERSE = ("unsuspend", "unsilence", "unsensitive", "enable")


class MastodonAdapter:
    name = "mastodon"

    def __init__(self, base_url: str, token: str, timeout: float = 15.0, transport: httpx.BaseTransport | None = None):
        if not base_url or not token:
            raise DeliveryError("the Mastodon adapter needs NETWARDEN_MASTODON_URL and NETWARDEN_MASTODON_TOKEN",
                                retryable=False)
        self.client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport,
                                   headers={"Authorization": f"Bearer {token}"})

    def _post(self, path: str, data: dict | None = None, ok404: bool = False) -> httpx.Response:
        try:
            r = self.client.post(path, data=data or {})
        except httpx.HTTPError as e:
            raise DeliveryError(f"POST {path}: {e}") from None
        if r.status_code >= 300 and not (ok404 and r.status_code == 404):
            raise http_error(r.status_code, r.text, f"POST {path}")
        return r

    def deliver(self, action: dict) -> dict:
        acct = action["account_id"]
        payload = action["payload"]
        kind = action["action"]
        result: dict = {}
        text = f"Netwarden case {action['case_id']} ({action['key']})"
        if kind in ACTION_TYPE:
            data = {"type": ACTION_TYPE[kind], "text": text, "send_email_notification": "false"}
            if payload.get("platform_report_id"):
                data["report_id"] = payload["platform_report_id"]
            self._post(f"/api/v1/admin/accounts/{acct}/action", data)
            result["type"] = data["type"]
        elif kind == "remove_posts":
            deleted, gone = 0, 0
            for sid in payload.get("post_ids", []):
                try:
                    r = self.client.delete(f"/api/v1/statuses/{sid}")
                except httpx.HTTPError as e:
                    raise DeliveryError(f"DELETE /api/v1/statuses/{sid}: {e}") from None
                if r.status_code == 404:
                    gone += 1
                elif r.status_code >= 300:
                    raise http_error(r.status_code, r.text, f"DELETE /api/v1/statuses/{sid}")
                else:
                    deleted += 1
            # mark the account's remaining media sensitive too (the admin action for content)
            self._post(f"/api/v1/admin/accounts/{acct}/action", {"type": "sensitive", "text": text})
            result.update(deleted=deleted, already_gone=gone)
        elif kind == "reverse":
            for step in REVERSE:
                self._post(f"/api/v1/admin/accounts/{acct}/{step}", ok404=False)
            result["reversed"] = list(REVERSE)
        else:
            raise DeliveryError(f"unknown action {kind}", retryable=False)
        if payload.get("platform_report_id") and kind != "reverse":
            self._post(f"/api/v1/admin/reports/{payload['platform_report_id']}/resolve")
            result["report_resolved"] = payload["platform_report_id"]
        return result
