"""The review app: FastAPI + Jinja2 + HTMX, server-rendered, every asset vendored.

`create_app(db_url)` builds it. Every route except the login page and the static assets depends
on `deps.current_user` (a valid session; the CSRF token on every state-changing request), which
the route-enumerating test checks.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from urllib.parse import unquote, urlsplit

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from ..config import Settings, load, resolve_db
from ..errors import UserError
from ..store import Store, open_store
from . import routes_admin, routes_auth, routes_case, routes_media, routes_queue, routes_triage
from .deps import TEMPLATES, NotSignedIn, current_user

STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; media-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class RawSegments:
    """ASGI wrapper: route on the request path with %2F, %25 and %7E left encoded, so a platform id
    holding '/' (or '%', or the '~' marker) stays one path segment; handlers decode theirs with
    deps.segment(). Every other escape is decoded as usual."""

    _KEEP = re.compile(rb"(%2[fF5]|%7[eE])")

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        raw = scope.get("raw_path") if scope["type"] in ("http", "websocket") else None
        if raw and b"%" in raw:
            raw = raw.split(b"?", 1)[0]
            parts = self._KEEP.split(raw)
            scope = dict(scope, path="".join(p.decode("ascii", "replace").upper() if i % 2 else
                                             unquote(p.decode("ascii", "replace")) for i, p in enumerate(parts)))
        await self.app(scope, receive, send)


def parse_base_url(value: str) -> str:
    """The configured public URL, as scheme://host[:port] (http or https, no path)."""
    u = urlsplit(value.strip())
    if u.scheme not in ("http", "https") or not u.hostname or (u.path not in ("", "/")) or u.query or u.username:
        raise UserError(f"Base URL {value!r} is not of the form https://host[:port]; give the app's public URL.")
    return f"{u.scheme}://{u.netloc.lower()}"


def _location(value: str, base: str | None) -> str:
    """A redirect target never taken from the request's Host: an absolute one is rebuilt on the
    configured base URL, or made relative to this origin when none is configured."""
    u = urlsplit(value)
    if not u.scheme and not u.netloc:
        return value
    rest = (u.path or "/") + (f"?{u.query}" if u.query else "") + (f"#{u.fragment}" if u.fragment else "")
    rest = "/" + rest.lstrip("/")  # never //host
    return (base or "") + rest


def create_app(db_url: str | None = None, store: Store | None = None, media_roots: list[str] | None = None,
               secure_cookies: bool | None = None, secret: str | None = None, base_url: str | None = None,
               settings: Settings | None = None) -> FastAPI:
    """The review app over `store` (or `db_url`). `settings` (default: loaded now, once, from the config
    file and the environment) is kept as app.state.settings for the routes; the other arguments
    override their settings."""
    settings = settings if settings is not None else load()
    if store is None:
        if db_url is None:
            raise ValueError("create_app needs db_url or store")
        store = open_store(db_url, graph_dir=settings.graph_dir, kernel_dir=settings.kernel_dir)
    app = FastAPI(title="Netwarden review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store
    app.state.settings = settings
    app.state.media_roots = list(media_roots if media_roots is not None else settings.media_roots)
    app.state.secure_cookies = settings.secure_cookies if secure_cookies is None else secure_cookies
    # signs reveal grants; per process by default
    app.state.secret = secret or settings.secret or secrets.token_urlsafe(32)
    base_url = base_url or settings.base_url
    app.state.base_url = parse_base_url(base_url) if base_url else None
    allowed_host = urlsplit(app.state.base_url).netloc if app.state.base_url else None

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        if allowed_host and request.headers.get("host", "").lower() != allowed_host:
            return JSONResponse({"detail": "Unknown host."}, status_code=400)
        resp = await call_next(request)
        if "location" in resp.headers:
            resp.headers["location"] = _location(resp.headers["location"], app.state.base_url)
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["X-Frame-Options"] = "DENY"
        if not request.url.path.startswith("/static/"):
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, _exc: NotSignedIn):
        if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/login", status_code=303)
        return JSONResponse({"detail": "Sign in first."}, status_code=401)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if "text/html" in request.headers.get("accept", "") or request.headers.get("hx-request"):
            return TEMPLATES.TemplateResponse(request, "error.html", {"request": request, "user": None,
                                              "status": exc.status_code, "message": exc.detail},
                                              status_code=exc.status_code)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError):
        return await http_error(request, HTTPException(getattr(exc, "status", 400), str(exc)))

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.include_router(routes_auth.public)
    protected = [Depends(current_user)]
    for mod in (routes_auth, routes_queue, routes_case, routes_media, routes_admin, routes_triage):
        app.include_router(mod.router, dependencies=protected)
    # The HMA-compatible API (docs/media.md): machines sign in with an API key (web/hma_auth.py);
    # /status and /status/live are open.
    from . import hma

    hma.install(app)
    from .routes_intake import router as intake_router  # user reports in Coop's shape, same API keys

    app.include_router(intake_router)
    app.add_middleware(RawSegments)

    @app.get("/", response_class=HTMLResponse, dependencies=protected)
    def home():
        return RedirectResponse("/queue", status_code=303)

    return app


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` / several workers: each worker loads the settings once (the
    config file and the environment `netwarden serve` sets: NETWARDEN_DB, NETWARDEN_MEDIA_ROOTS,
    NETWARDEN_SECURE_COOKIES, NETWARDEN_BASE_URL and NETWARDEN_SECRET, which must be the same in every
    worker so reveal grants made by one are honoured by another)."""
    settings = load()
    return create_app(db_url=resolve_db(None, settings), settings=settings)
