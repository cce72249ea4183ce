"""Shared request plumbing: the store, the signed-in user, CSRF, permissions, templates."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from urllib.parse import quote, unquote

from fastapi import HTTPException, Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from sqlalchemy import select

from ..config import Settings
from ..store import Store
from ..store.tables_cases import preferences
from .auth import User, session_user

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def urlpart(value) -> str:
    """Percent-encode one URL path segment or query value: every character but A-Z a-z 0-9 - . _.

    Every platform value that goes into a URL attribute (href, src, action, hx-*) goes through this
    filter (`{{ m.account_id|urlpart }}`); tests/web/test_web_url_encoding.py fails on a template
    that puts any other expression into a URL attribute. Browsers treat "." and ".." (and their
    %2E forms) as dot segments and walk up the path, so those two ids get the marker "~" in front
    ("~" itself is always encoded, so a literal one can only be the marker); `segment()` undoes it."""
    s = quote(str(value), safe="").replace("~", "%7E")
    return "~" + s if s in (".", "..") else s


def segment(value: str) -> str:
    """A platform id from a path segment made by `urlpart` (the app keeps %2F, %25 and %7E encoded
    in the routed path, so an id with '/' stays one segment; see app.RawSegments)."""
    if value.startswith("~"):
        value = value[1:]
    return unquote(value)


def dom_token(value) -> str:
    """A server-made element id for a platform value: its hash, never the value (no selector built
    from platform text)."""
    return "n" + hashlib.blake2b(str(value).encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def querystring(params: dict) -> str:
    """A whole query string from a dict (`href="/audit?{{ q|querystring }}"`): every key and value
    percent-encoded (no character but A-Z a-z 0-9 - . _ ~ is left), empty values left out. No dot
    marker: a query value is never a path segment."""
    return "&".join(f"{quote(str(k), safe='')}={quote(str(v), safe='')}"
                    for k, v in params.items() if v not in (None, ""))


def bidi(value) -> Markup:
    """Platform text isolated from the text around it (<bdi>): a right-to-left override in a
    display name cannot reverse what follows it."""
    return Markup("<bdi>{}</bdi>").format("" if value is None else str(value))


def clip(value, limit: int = 60) -> Markup:
    """Platform text for a link: isolated, and cut to `limit` characters with an ellipsis (the
    full value is on the page the link opens)."""
    s = "" if value is None else str(value)
    if len(s) <= limit:
        return bidi(s)
    return Markup('<bdi class="cut">{}</bdi>…').format(s[:limit])


def long(value, limit: int = 80) -> Markup:
    """Platform text outside a link: isolated, and when longer than `limit` cut with the full value
    one click away (a <details> that opens in place, wrapped to the page's width)."""
    s = "" if value is None else str(value)
    if len(s) <= limit:
        return bidi(s)
    return Markup('<details class="long"><summary><bdi>{}</bdi>… <span class="muted">{} characters</span></summary>'
                  '<bdi class="full">{}</bdi></details>').format(s[:limit], len(s), s)


TEMPLATES.env.filters["bidi"] = bidi
TEMPLATES.env.filters["clip"] = clip
TEMPLATES.env.filters["long"] = long
TEMPLATES.env.filters["urlpart"] = urlpart
TEMPLATES.env.filters["querystring"] = querystring
TEMPLATES.env.filters["dom_token"] = dom_token
SESSION_COOKIE = "nw_session"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

# Wellness defaults; the organisation's row (user "*") overrides these, a user's own row overrides both.
PREF_DEFAULTS = {"blur": "strong", "reveal_greyscale": "on", "thumbnails": "show", "video_autoplay": "off"}
PREF_CHOICES = {"blur": ("strong", "medium"), "reveal_greyscale": ("on", "off"), "thumbnails": ("show", "hide"),
                "video_autoplay": ("off",)}


class NotSignedIn(Exception):
    pass


def settings(request: Request) -> Settings:
    """The settings the app was made with (create_app; loaded once per process)."""
    return request.app.state.settings


def store(request: Request) -> Store:
    return request.app.state.store


async def current_user(request: Request) -> User:
    """Every protected route depends on this: a valid session, and the CSRF token on writes."""
    token = request.cookies.get(SESSION_COOKIE)
    with store(request).engine.connect() as conn:
        user = session_user(conn, token)
    if user is None:
        raise NotSignedIn()
    if request.method not in SAFE_METHODS:
        sent = request.headers.get("x-csrf-token")
        if not sent and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")):
            sent = (await request.form()).get("csrf")
        if not sent or not hmac.compare_digest(str(sent), user.csrf):
            raise HTTPException(403, "Missing or wrong CSRF token; reload the page and try again.")
    request.state.user = user
    return user


def require(user: User, permission: str) -> None:
    if not user.can(permission):
        raise HTTPException(403, f"Your role ({user.role}) does not allow {permission.replace('_', ' ')}.")


def prefs(request: Request, user: User) -> dict:
    out = dict(PREF_DEFAULTS)
    with store(request).engine.connect() as conn:
        rows = conn.execute(select(preferences).where(preferences.c.user.in_(["*", user.name]))).all()
    for r in sorted(rows, key=lambda r: r.user != "*"):  # organisation first, then the user's own
        if r.key in PREF_CHOICES and r.value in PREF_CHOICES[r.key]:
            out[r.key] = r.value
    return out


def render(request: Request, name: str, user: User | None, status_code: int = 200, **ctx):
    ctx.update(request=request, user=user, csrf=user.csrf if user else "",
               hx_headers=json.dumps({"X-CSRF-Token": user.csrf}) if user else "{}")
    if user is not None and "prefs" not in ctx:
        ctx["prefs"] = prefs(request, user)
    return TEMPLATES.TemplateResponse(request, name, ctx, status_code=status_code)


def highlight(text: str, needles: list[str]) -> Markup:
    """Escape `text` and wrap each occurrence of a needle in <mark>, matched as the text scanner
    matches (netwarden.text.normalize.fold: case and compatibility folding) but with the spans
    mapped back onto the text as displayed (fold_map's offsets), so a character whose folding is
    longer or shorter ('İ' folds to two) does not shift the marks onto the wrong characters."""
    from ..text.normalize import fold, fold_map

    text = text or ""
    low, offsets = fold_map(text)

    def orig(i: int) -> int:
        return i if offsets is None else offsets[i]

    spans: list[tuple[int, int]] = []
    for n in sorted({fold(n) for n in needles if n and fold(n)}, key=len, reverse=True):
        start = 0
        while (i := low.find(n, start)) >= 0:
            s, e = orig(i), orig(i + len(n) - 1) + 1
            if all(s >= pe or e <= ps for ps, pe in spans):
                spans.append((s, e))
            start = i + len(n)
    out, pos = [], 0
    for s, e in sorted(spans):
        out.append(escape(text[pos:s]))
        out.append(Markup("<mark>") + escape(text[s:e]) + Markup("</mark>"))
        pos = e
    out.append(escape(text[pos:]))
    return Markup("").join(out)
