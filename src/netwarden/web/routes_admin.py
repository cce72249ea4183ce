"""Reviewer accounts (admin), wellness preferences (each user; organisation defaults by admin), audit."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from .. import audit
from ..store.tables_cases import preferences
from ..store.upsert import upsert
from .auth import ROLES, User, add_user, disable_user, list_users
from .deps import PREF_CHOICES, current_user, render, require, store

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


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, action: str = "", subject_id: str = "", user: User = Depends(current_user)):
    require(user, "audit")
    with store(request).engine.connect() as conn:
        rows = audit.entries(conn, action=action or None, subject_id=subject_id or None, limit=200)
        ok = audit.verify(conn)
    return render(request, "audit.html", user, entries=rows, verify=ok, action=action, subject_id=subject_id)
