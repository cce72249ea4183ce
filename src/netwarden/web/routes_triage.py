"""Triage queues of user reports: the queues with their stats, one report, claim/release/assign/escalate/
resolve, the reports beside a case and internal notes on accounts. See docs/reports.md and netwarden.triage.

Pages of their own (`/reports`, `/reports/{id}`) and two fragments loaded by the case and account pages
(`/cases/{id}/reports`, `/accounts/{id}/notes`), so the queue and case templates stay as they are."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from .. import triage
from ..errors import UserError
from ..store.tables_cases import users
from .auth import User
from .deps import current_user, render, require, segment, store, urlpart

router = APIRouter()


def _reviewers(conn) -> list[str]:
    return list(conn.scalars(select(users.c.name).where(users.c.disabled.is_(False),
                                                        users.c.role.in_(triage.ASSIGNABLE_ROLES))
                             .order_by(users.c.name)))


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, queue: str = "", mine: str = "", state: str = "open",
                 user: User = Depends(current_user)):
    if state not in ("open", "resolved", "all"):
        state = "open"
    with store(request).engine.begin() as conn:
        triage.ensure_default_queues(conn, user.name)
    with store(request).engine.connect() as conn:
        stats = triage.stats(conn)
        rows = triage.items(conn, queue=queue or None, assignee=user.name if mine else None, state=state)
    return render(request, "reports.html", user, stats=stats, items=rows,
                  filters={"queue": queue, "mine": mine, "state": state})


@router.get("/api/reports")
def reports_api(request: Request, queue: str = "", mine: str = "", state: str = "open",
                user: User = Depends(current_user)):
    with store(request).engine.connect() as conn:
        return {"stats": triage.stats(conn),
                "items": triage.items(conn, queue=queue or None, assignee=user.name if mine else None,
                                      state=state if state in ("open", "resolved", "all") else "open")}


def _item_or_404(conn, rid: str) -> dict:
    try:
        return triage.get_item(conn, rid)
    except UserError as e:
        raise HTTPException(404, str(e)) from None


@router.get("/reports/{rid}", response_class=HTMLResponse)
def report_page(request: Request, rid: str, user: User = Depends(current_user)):
    rid = segment(rid)
    with store(request).engine.connect() as conn:
        item = _item_or_404(conn, rid)
        notes = triage.account_notes_of(conn, item["account_id"])
        reviewers = _reviewers(conn)
    return render(request, "report.html", user, item=item, notes=notes, reviewers=reviewers,
                  outcomes=triage.RESOLVE_OUTCOMES)


def _back(rid: str) -> RedirectResponse:
    return RedirectResponse(f"/reports/{urlpart(rid)}", status_code=303)


@router.post("/reports/{rid}/claim")
def claim(request: Request, rid: str, user: User = Depends(current_user)):
    require(user, "assign")
    rid = segment(rid)
    with store(request).engine.begin() as conn:
        triage.claim(conn, rid, user.name)
    return _back(rid)


@router.post("/reports/{rid}/release")
def release(request: Request, rid: str, user: User = Depends(current_user)):
    require(user, "assign")
    rid = segment(rid)
    with store(request).engine.begin() as conn:
        triage.release(conn, rid, user.name)
    return _back(rid)


@router.post("/reports/{rid}/assign")
def assign(request: Request, rid: str, assignee: str = Form(""), user: User = Depends(current_user)):
    require(user, "assign")
    rid = segment(rid)
    with store(request).engine.begin() as conn:
        triage.assign(conn, rid, assignee.strip() or None, user.name)
    return _back(rid)


@router.post("/reports/{rid}/escalate")
def escalate(request: Request, rid: str, to: str = Form(""), reason: str = Form(""),
             user: User = Depends(current_user)):
    require(user, "assign")
    rid = segment(rid)
    with store(request).engine.begin() as conn:
        triage.escalate(conn, rid, to, reason, user.name)
    return _back(rid)


@router.post("/reports/{rid}/resolve")
def resolve(request: Request, rid: str, outcome: str = Form(...), note: str = Form(""),
            user: User = Depends(current_user)):
    require(user, "decide")
    rid = segment(rid)
    with store(request).engine.begin() as conn:
        triage.resolve(conn, rid, outcome, user.name, note)
    return _back(rid)


@router.get("/cases/{cid}/reports", response_class=HTMLResponse)
def case_reports(request: Request, cid: int, user: User = Depends(current_user)):
    with store(request).engine.connect() as conn:
        rows = triage.items(conn, case_id=cid, state="all")
    return render(request, "_case_reports.html", user, items=rows)


@router.get("/accounts/{aid}/notes", response_class=HTMLResponse)
def account_notes(request: Request, aid: str, user: User = Depends(current_user)):
    aid = segment(aid)
    with store(request).engine.connect() as conn:
        notes = triage.account_notes_of(conn, aid)
        reps = triage.reports_on(conn, aid)
    return render(request, "_account_reports_notes.html", user, account_id=aid, notes=notes, items=reps)


@router.post("/accounts/{aid}/notes")
def add_account_note(request: Request, aid: str, text: str = Form(""), back: str = Form(""),
                     user: User = Depends(current_user)):
    require(user, "note")
    aid = segment(aid)
    with store(request).engine.begin() as conn:
        triage.add_account_note(conn, aid, user.name, text)
    if back.startswith("/reports/") and "//" not in back:
        return RedirectResponse(back, status_code=303)
    return RedirectResponse(f"/accounts/{urlpart(aid)}", status_code=303)
