"""Report intake over HTTP: `POST /api/v1/report` in Coop's report-API shape (roostorg/coop, docs/api/report.md).

A platform that already sends its user flags to Coop points the same client here. Authentication is
the API key of the HMA-compatible routes (`X-API-Key` or `Authorization: Bearer`, NETWARDEN_API_KEYS);
no session cookie is read, so the review app's CSRF check does not apply (a browser cannot send the
key header cross-site without the server allowing it, and this app allows no cross-origin requests).

The body becomes one native `report` event (netwarden.ingest.coop), stored like any ingested event.
Idempotent by report id: the client's `Idempotency-Key`, else a hash of the body. The first time a
report is stored the answer is 201 `{"reportId": ...}`; the same report again is 200 with the same id;
a key reused for a different body is 409. A bad body is 400 with one error naming the field, in
Coop's error format. After the answer, the report is processed (netwarden.triage.process_reports):
weighed, connected to its network and routed to a queue.
"""

from __future__ import annotations

import logging
import re

import orjson
from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from ..ingest import coop
from ..ingest import events as native
from ..ingest.apply import Rows
from ..ingest.reader import NUL_ESCAPE, clean_nul
from ..store import schema as t
from .hma import api_key

log = logging.getLogger(__name__)
router = APIRouter(tags=["intake"], dependencies=[Depends(api_key)])
MAX_BODY = 1_000_000
_FIELD = re.compile(r"^field ([A-Za-z0-9_.]+)")


def _error(status: int, title: str, detail: str) -> JSONResponse:
    err = {"status": status, "type": ["/errors/invalid-user-input" if status == 400 else f"/errors/http-{status}"],
           "title": title, "detail": detail}
    m = _FIELD.match(detail)
    if m:
        err["pointer"] = "/" + m.group(1).replace(".", "/")
    return JSONResponse({"errors": [err]}, status_code=status)


def _process(store, rid: str) -> None:
    from .. import triage

    try:
        triage.process_reports(store, report_ids=[rid])
    except Exception:  # the report is stored; `netwarden reports process` picks it up again
        log.exception("processing report %s failed; it stays in the store for `netwarden reports process`", rid)


@router.post("/api/v1/report")
async def intake_report(request: Request, background: BackgroundTasks):
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return _error(413, "Report too large", f"The body is larger than {MAX_BODY} bytes.")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _error(400, "Malformed JSON", "The body is not valid JSON; send one Coop report object.")
    if NUL_ESCAPE in raw:  # PostgreSQL stores no NUL: the ingest rule (netwarden.limits) applies here too
        body = clean_nul(body)
    try:
        ev = coop.to_report_event(body, request.headers.get("idempotency-key"),
                                  request.app.state.settings.coop_user_types)
        subject = native.validate(ev)
    except native.BadRecord as e:
        return _error(400, "Invalid report", str(e))
    rid = ev["id"]
    payload = orjson.dumps(ev).decode()
    store = request.app.state.store
    with store.engine.begin() as conn:
        prev = conn.execute(select(t.events.c.payload).where(t.events.c.event_id == rid)).first()
        if prev is None:
            rows = Rows()
            rows.add(ev, payload, subject, "coop-http")
            rows.write(conn)
    if prev is not None:
        if orjson.loads(prev.payload) != ev:
            return _error(409, "Idempotency-Key reused",
                          f"Report {rid} was stored with a different body; send a new Idempotency-Key for a new report.")
        return JSONResponse({"reportId": rid}, status_code=200)
    background.add_task(_process, store, rid)
    return JSONResponse({"reportId": rid}, status_code=201)
