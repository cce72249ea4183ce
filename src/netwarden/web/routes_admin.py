"""Reviewer accounts (admin), wellness preferences (each user; organisation defaults by admin), audit."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import audit
from ..errors import UserError
from ..store.tables_cases import preferences
from ..store.upsert import upsert
from .auth import ROLES, User, add_user, disable_user, list_users
from .deps import PREF_CHOICES, current_user, render, require, segment, store

router = APIRouter()


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, user: User = Depends(current_user)):
    require(user, "manage_users")
    with store(request).engine.connect() as conn:
        rows = list_users(conn)
    return render(request, "users.html", user, users=rows, roles=ROLES)


@router.post("/admin/users")
def users_add(request: Request, name: str = Form(...), role: str = Form(...), password: str = Form(...),
              user: User = Depends(current_user)):
    require(user, "manage_users")
    with store(request).engine.begin() as conn:
        add_user(conn, name, role, password, actor=user.name)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{name}/disable")
def users_disable(request: Request, name: str, user: User = Depends(current_user)):
    name = segment(name)
    require(user, "manage_users")
    with store(request).engine.begin() as conn:
        disable_user(conn, name, actor=user.name)
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/prefs", response_class=HTMLResponse)
def prefs_page(request: Request, user: User = Depends(current_user)):
    return render(request, "prefs.html", user, choices=PREF_CHOICES)


@router.post("/prefs")
async def prefs_save(request: Request, user: User = Depends(current_user)):
    form = await request.form()
    scope = str(form.get("scope", "user"))
    if scope == "org":
        require(user, "org_prefs")
    owner = "*" if scope == "org" else user.name
    rows = []
    for key, choices in PREF_CHOICES.items():
        v = str(form.get(key, ""))
        if v:
            if v not in choices:
                raise HTTPException(400, f"{key} must be one of {', '.join(choices)}.")
            rows.append({"user": owner, "key": key, "value": v})
    with store(request).engine.begin() as conn:
        upsert(conn, preferences, rows, ["user", "key"], ["value"])
        audit.append(conn, user.name, "prefs.set", "user", owner, {r["key"]: r["value"] for r in rows})
    return RedirectResponse("/prefs", status_code=303)


AUDIT_PAGE = 100
AUDIT_FILTERS = ("actor", "action", "subject_type", "subject_id", "since", "until")


def _audit_filters(params) -> dict:
    """The page's filters (case-insensitive substrings; times as ISO text); a bad time is a 400."""
    f = {k: str(params.get(k, "") or "").strip()[:200] for k in AUDIT_FILTERS}
    try:
        for k in ("since", "until"):
            f[k] = audit.check_time(f[k], k) or ""
    except UserError as e:
        raise HTTPException(400, str(e)) from e
    return f


def _audit_view(request: Request, user: User, f: dict, before: int | None, result):
    q = {k: v or None for k, v in f.items()}
    with store(request).engine.connect() as conn:
        rows = audit.entries(conn, limit=AUDIT_PAGE + 1, before=before, contains=True, **q)
        total = audit.count(conn, contains=True, **q)
    older = None
    if len(rows) > AUDIT_PAGE:
        rows = rows[:AUDIT_PAGE]
        older = {**f, "before": rows[-1]["seq"]}
    return render(request, "audit.html", user, entries=rows, verify=result, filters=f, total=total,
                  older=older, newest=f)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, before: int | None = None, user: User = Depends(current_user)):
    """Paged, filtered; the chain is verified from the newest checkpoint on each load."""
    require(user, "audit")
    f = _audit_filters(request.query_params)
    with store(request).engine.begin() as conn:
        result = audit.verify(conn, incremental=True)
        audit.checkpoint(conn, result, user.name)
    return _audit_view(request, user, f, before, result)


@router.post("/audit/verify", response_class=HTMLResponse)
def audit_verify_full(request: Request, user: User = Depends(current_user)):
    """Recompute the whole chain from the first entry (on demand); audited."""
    require(user, "audit")
    with store(request).engine.begin() as conn:
        result = audit.verify(conn)
        audit.checkpoint(conn, result, user.name)
        audit.append(conn, user.name, "audit.verify", "audit", "",
                     {"ok": result.ok, "entries": result.entries, "problem": result.problem})
    return _audit_view(request, user, _audit_filters({}), None, result)


@router.post("/audit/export")
async def audit_export(request: Request, user: User = Depends(current_user)):
    """The filtered entries as a JSONL or CSV download; the export is audited with its filters."""
    require(user, "audit")
    form = await request.form()
    f = _audit_filters(form)
    fmt = str(form.get("format", "jsonl"))
    if fmt not in ("jsonl", "csv"):
        raise HTTPException(400, "format must be jsonl or csv.")
    buf = io.StringIO()
    with store(request).engine.begin() as conn:
        audit.export(conn, buf, fmt, user.name, contains=True, **{k: v or None for k, v in f.items()})
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    media = "text/csv" if fmt == "csv" else "application/x-ndjson"
    return Response(buf.getvalue(), media_type=f"{media}; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="netwarden-audit-{stamp}.{fmt}"',
        "X-Content-Type-Options": "nosniff"})
