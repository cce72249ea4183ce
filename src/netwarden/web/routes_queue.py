"""The queue: open cases and accounts by risk, with filters; opening a case from seeds."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from .. import cases, risk
from .auth import User
from .deps import current_user, render, require, store

router = APIRouter()
SIGNAL_KINDS = ("media_match", "term_hit", "contact", "off_platform_route", "proximity")
MEMBER_STATES = ("candidate", "confirmed", "cleared", "escalated")


def _queue(request: Request, kind: str, lang: str, state: str, assignee: str, limit: int) -> dict:
    st = store(request)
    with st.engine.begin() as conn:
        risk.refresh(conn)  # scores follow the signals that arrived since the last look
    with st.engine.connect() as conn:
        return {
            "cases": cases.list_cases(conn, state="open", assignee=assignee or None),
            "accounts": cases.account_queue(conn, kind=kind or None, lang=lang or None, state=state or None,
                                            assignee=assignee or None, limit=min(max(limit, 1), 500)),
        }


@router.get("/queue", response_class=HTMLResponse)
def queue_page(request: Request, kind: str = "", lang: str = "", state: str = "", assignee: str = "",
               limit: int = 100, user: User = Depends(current_user)):
    q = _queue(request, kind, lang, state, assignee, limit)
    filters = {"kind": kind, "lang": lang, "state": state, "assignee": assignee}
    return render(request, "queue.html", user, filters=filters, kinds=SIGNAL_KINDS, states=MEMBER_STATES,
                  langs=("en", "es", "ar"), **q)


@router.get("/api/queue")
def queue_api(request: Request, kind: str = "", lang: str = "", state: str = "", assignee: str = "",
              limit: int = 100, user: User = Depends(current_user)):
    return _queue(request, kind, lang, state, assignee, limit)


@router.post("/cases")
def open_case(request: Request, seeds: str = Form(...), user: User = Depends(current_user)):
    require(user, "open_case")
    cid = cases.open_case(store(request), seeds.replace(",", " ").split(), user.name)
    return RedirectResponse(f"/cases/{cid}", status_code=303)
