"""Sign-in and sign-out.

The login form's CSRF token is bound to a server-side value: the cookie holds a random nonce and
the form the nonce signed with the app's secret (itsdangerous, one hour), so a pair an attacker
makes up (for example by planting a cookie) never matches. The page shows only its own fixed
messages (MESSAGES), never text from the request. Failed sign-ins are throttled per account and
per address (web.throttle).
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer

from .. import audit
from . import throttle
from .auth import SESSION_HOURS, User, authenticate, create_session, end_session
from .deps import SESSION_COOKIE, current_user, render, store

public = APIRouter()
router = APIRouter()
LOGIN_CSRF_COOKIE = "nw_login_csrf"
LOGIN_CSRF_SECONDS = 3600
MESSAGES = {
    "expired": "The sign-in form expired; reload the page and try again.",
    "wrong": "Wrong user name or password, or the account is disabled.",
    "throttled": "Too many failed sign-ins for this account or from this address; wait a few minutes and try again.",
}


def _signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.secret, salt="netwarden-login-csrf")


def _login_form(request: Request, status_code: int = 200, message: str | None = None):
    nonce = secrets.token_urlsafe(24)
    resp = render(request, "login.html", None, status_code=status_code, login_csrf=_signer(request).dumps(nonce),
                  error=MESSAGES.get(message or "", ""))
    resp.set_cookie(LOGIN_CSRF_COOKIE, nonce, httponly=True, samesite="strict",
                    secure=request.app.state.secure_cookies, max_age=LOGIN_CSRF_SECONDS)
    return resp


def _csrf_ok(request: Request, token: str) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    try:
        nonce = _signer(request).loads(token, max_age=LOGIN_CSRF_SECONDS)
    except BadSignature:  # SignatureExpired is one
        return False
    return bool(cookie) and isinstance(nonce, str) and hmac.compare_digest(cookie, nonce)


@public.get("/login", response_class=HTMLResponse)
def login_page(request: Request):
    return _login_form(request)


@public.post("/login")
def login(request: Request, username: str = Form(...), password: str = Form(...), csrf: str = Form("")):
    if not _csrf_ok(request, csrf):
        return _login_form(request, 403, "expired")
    address = request.client.host if request.client else ""
    st = store(request)
    with st.engine.begin() as conn:
        if throttle.locked_until(conn, username, address) is not None:
            return _login_form(request, 429, "throttled")
        role = authenticate(conn, username, password)
        if role is None:
            throttle.failure(conn, username, address)
        else:
            throttle.success(conn, username)
            token = create_session(conn, username)
            audit.append(conn, username, "login", "user", username, {"ip": address, "role": role})
    if role is None:
        return _login_form(request, 401, "wrong")
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
