"""Sign-in and sign-out. The login form carries its own double-submit CSRF token."""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from .. import audit
from .auth import SESSION_HOURS, User, authenticate, create_session, end_session
from .deps import SESSION_COOKIE, current_user, render, store

public = APIRouter()
router = APIRouter()
LOGIN_CSRF_COOKIE = "nw_login_csrf"


@public.get("/login", response_class=HTMLResponse)
def login_page(request: Request, error: str = ""):
    token = secrets.token_urlsafe(24)
    resp = render(request, "login.html", None, login_csrf=token, error=error)
    resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                    secure=request.app.state.secure_cookies, max_age=3600)
    return resp


@public.post("/login")
def login(request: Request, username: str = Form(...), password: str = Form(...), csrf: str = Form("")):
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, csrf):
        return render(request, "login.html", None, status_code=403, login_csrf="",
                      error="The sign-in form expired; reload the page and try again.")
    st = store(request)
    with st.engine.begin() as conn:
        role = authenticate(conn, username, password)
        if role is None:
            audit.append(conn, username[:200], "login.failed", "user", username[:200],
                         {"ip": request.client.host if request.client else ""})
        else:
            token = create_session(conn, username)
            audit.append(conn, username, "login", "user", username,
                         {"ip": request.client.host if request.client else "", "role": role})
    if role is None:
        token = secrets.token_urlsafe(24)
        resp = render(request, "login.html", None, status_code=401, login_csrf=token,
                      error="Wrong user name or password, or the account is disabled.")
        resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.app.state.secure_cookies, max_age=3600)
        return resp
    resp = RedirectResponse("/queue", status_code=303)
    resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=request.app.state.secure_cookies,
                    max_age=SESSION_HOURS * 3600, path="/")
    resp.delete_cookie(LOGIN_CSRF_COOKIE)
    return resp


@router.post("/logout")
def logout(request: Request, user: User = Depends(current_user)):
    with store(request).engine.begin() as conn:
        end_session(conn, request.cookies.get(SESSION_COOKIE))
        audit.append(conn, user.name, "logout", "user", user.name, {})
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp
