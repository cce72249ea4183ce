"""A local stand-in for Mastodon's admin API and a signed-webhook receiver, for tests and demos.

Mastodon part (bearer token, admin scopes): POST /api/v1/admin/accounts/:id/action (type
none|sensitive|disable|silence|suspend), POST /api/v1/admin/accounts/:id/{unsuspend,unsilence,
unsensitive,enable}, DELETE /api/v1/statuses/:id (404 when gone), POST
/api/v1/admin/reports/:id/resolve. Webhook part: POST /webhook checks X-Netwarden-Signature and
X-Netwarden-Timestamp and treats a repeated Idempotency-Key as already done.
Run it: `PYTHONPATH=tests python -m support.mastodon_server --port 8766`. Loopback only.
"""

from __future__ import annotations

from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse

from netwarden.enforce.webhook import verify

TYPES = ("none", "sensitive", "disable", "silence", "suspend")


class MastodonState:
    def __init__(self, token: str = "admin-token", webhook_secret: str = "hook-secret", statuses: dict | None = None):
        self.token = token
        self.webhook_secret = webhook_secret.encode()
        self.accounts: dict[str, dict] = {}
        self.statuses: dict[str, str] = dict(statuses or {})  # status id -> account id
        self.deleted: list[str] = []
        self.actions: list[tuple[str, str]] = []  # (account, type) of every admin call
        self.resolved: list[str] = []
        self.webhook_calls: list[dict] = []
        self.webhook_effects: dict[str, dict] = {}  # idempotency key -> first body
        self.fail_next: int = 0  # answer this many admin calls with 503 (retry tests)

    def account(self, aid: str) -> dict:
        return self.accounts.setdefault(aid, {"suspended": False, "silenced": False, "sensitized": False,
                                              "disabled": False})


def make_app(state: MastodonState | None = None) -> FastAPI:
    state = state or MastodonState()
    app = FastAPI()
    app.state.mastodon = state

    def authorized(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {state.token}"

    def denied():
        return JSONResponse({"error": "This action is outside the authorized scopes"}, status_code=403)

    def flaky():
        if state.fail_next > 0:
            state.fail_next -= 1
            return JSONResponse({"error": "Service Unavailable"}, status_code=503)
        return None

    @app.post("/api/v1/admin/accounts/{aid}/action")
    def action(aid: str, request: Request, type: str = Form(...), text: str = Form(""),  # noqa: A002
               report_id: str = Form(None), send_email_notification: str = Form("true")):
        if not authorized(request):
            return denied()
        if (r := flaky()) is not None:
            return r
        if type not in TYPES:
            return JSONResponse({"error": "Validation failed: type"}, status_code=422)
        a = state.account(aid)
        state.actions.append((aid, type))
        if type == "suspend":
            a["suspended"] = True
        elif type == "silence":
            a["silenced"] = True
        elif type == "sensitive":
            a["sensitized"] = True
        elif type == "disable":
            a["disabled"] = True
        return JSONResponse({})

    @app.post("/api/v1/admin/accounts/{aid}/{op}")
    def reverse(aid: str, op: str, request: Request):
        if not authorized(request):
            return denied()
        flag = {"unsuspend": "suspended", "unsilence": "silenced", "unsensitive": "sensitized",
                "enable": "disabled"}.get(op)
        if flag is None:
            return JSONResponse({"error": "Record not found"}, status_code=404)
        state.account(aid)[flag] = False
        state.actions.append((aid, op))
        return JSONResponse({"id": aid})

    @app.delete("/api/v1/statuses/{sid}")
    def delete_status(sid: str, request: Request):
        if not authorized(request):
            return denied()
        if sid not in state.statuses:
            return JSONResponse({"error": "Record not found"}, status_code=404)
        state.statuses.pop(sid)
        state.deleted.append(sid)
        return JSONResponse({"id": sid})

    @app.post("/api/v1/admin/reports/{rid}/resolve")
    def resolve(rid: str, request: Request):
        if not authorized(request):
            return denied()
        state.resolved.append(rid)
        return JSONResponse({"id": rid, "action_taken": True})

    @app.post("/webhook")
    async def webhook(request: Request):
        body = await request.body()
        if not verify(state.webhook_secret, request.headers.get("x-netwarden-timestamp", ""), body,
                      request.headers.get("x-netwarden-signature", "")):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        key = request.headers.get("idempotency-key", "")
        state.webhook_calls.append({"key": key})
        if key in state.webhook_effects:
            return JSONResponse({"status": "duplicate"}, status_code=200)
        import json

        state.webhook_effects[key] = json.loads(body)
        return JSONResponse({"status": "accepted"}, status_code=202)

    return app


if __name__ == "__main__":
    import argparse

    import uvicorn

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=8766)
    ap.add_argument("--token", default="admin-token")
    ap.add_argument("--webhook-secret", default="hook-secret")
    a = ap.parse_args()
    uvicorn.run(make_app(MastodonState(a.token, a.webhook_secret)), host="127.0.0.1", port=a.port)
