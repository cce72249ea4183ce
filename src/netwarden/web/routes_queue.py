"""The queue: open cases and accounts by risk, with filters; opening a case from seeds."""

from __future__ import annotations

import time
from collections import OrderedDict

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from sqlalchemy import func, select

from .. import cases, findings, risk, search
from ..model import MEMBER_STATES
from ..store import schema as t
from ..store.tables_cases import account_risk
from ..store.tables_cases import cases as cases_t
from .auth import User
from .deps import TEMPLATES, current_user, render, require, store

router = APIRouter()


_ACCOUNTS_CACHE: OrderedDict[tuple, str] = OrderedDict()
_CACHE_SIZE = 128


def _refresh(request: Request) -> None:
    with store(request).engine.begin() as conn:
        risk.refresh(conn)  # scores follow the signals that arrived since the last look


def _queue(request: Request, kind: str, lang: str, state: str, assignee: str, limit: int) -> dict:
    _refresh(request)
    with store(request).engine.connect() as conn:
        return {
            "cases": cases.list_cases(conn, state="open", assignee=assignee or None),
            "accounts": cases.account_queue(conn, kind=kind or None, lang=lang or None, state=state or None,
                                            assignee=assignee or None, limit=min(max(limit, 1), 500)),
        }


def _accounts_html(request: Request, conn, kind: str, lang: str, state: str, assignee: str, limit: int) -> str:
    """The rendered account table, cached per process until any score or case changes: the key holds
    the risk watermark and the cases' count and version sum (every change to a case bumps its version;
    every score change bumps the versions of the cases showing the account, or the watermark)."""
    mark, n, vsum = conn.execute(select(
        select(func.coalesce(func.max(account_risk.c.last_signal_id), 0)).scalar_subquery(),
        select(func.count()).select_from(cases_t).scalar_subquery(),
        select(func.coalesce(func.sum(cases_t.c.version), 0)).scalar_subquery())).one()
    key = (id(request.app), kind, lang, state, assignee, limit, mark, n, vsum)
    html = _ACCOUNTS_CACHE.get(key)
    if html is None:
        rows = cases.account_queue(conn, kind=kind or None, lang=lang or None, state=state or None,
                                   assignee=assignee or None, limit=limit)
        html = _ACCOUNTS_CACHE[key] = TEMPLATES.get_template("_accounts.html").render(accounts=rows)
        while len(_ACCOUNTS_CACHE) > _CACHE_SIZE:
            _ACCOUNTS_CACHE.popitem(last=False)
    return html


_LANGS: dict[int, tuple[float, list[str]]] = {}
LANGS_TTL = 600.0  # seconds a worker keeps the language list
MAX_LANGS = 60


def _languages(request: Request, conn) -> list[str]:
    """The post languages in the store, most used first (kept per worker for LANGS_TTL)."""
    hit = _LANGS.get(id(request.app))
    if hit is None or time.monotonic() - hit[0] > LANGS_TTL:
        q = (select(t.posts.c.lang).where(t.posts.c.lang.is_not(None), t.posts.c.lang != "")
             .group_by(t.posts.c.lang).order_by(func.count().desc(), t.posts.c.lang).limit(MAX_LANGS))
        hit = _LANGS[id(request.app)] = (time.monotonic(), list(conn.scalars(q)))
    return hit[1]


@router.get("/queue", response_class=HTMLResponse)
def queue_page(request: Request, kind: str = "", lang: str = "", state: str = "", assignee: str = "",
               limit: int = 100, q: str = "", user: User = Depends(current_user)):
    _refresh(request)
    limit = min(max(limit, 1), 500)
    with store(request).engine.connect() as conn:
        open_cases = cases.list_cases(conn, state="open", assignee=assignee or None)
        accounts_html = Markup(_accounts_html(request, conn, kind, lang, state, assignee, limit))
        found = search.accounts(conn, q) if q.strip() else None
        langs = _languages(request, conn)
    filters = {"kind": kind, "lang": lang, "state": state, "assignee": assignee}
    return render(request, "queue.html", user, filters=filters, kinds=[(k.name, k.label) for k in findings.kinds()],
                  states=MEMBER_STATES, langs=langs, cases=open_cases, accounts_html=accounts_html, q=q,
                  found=found, min_chars=search.MIN_CHARS)


@router.get("/api/queue")
def queue_api(request: Request, kind: str = "", lang: str = "", state: str = "", assignee: str = "",
              limit: int = 100, q: str = "", user: User = Depends(current_user)):
    out = _queue(request, kind, lang, state, assignee, limit)
    if q.strip():
        with store(request).engine.connect() as conn:
            out["search"] = search.accounts(conn, q)
    return out


@router.post("/cases")
def open_case(request: Request, seeds: str = Form(...), user: User = Depends(current_user)):
    require(user, "open_case")
    cid = cases.open_case(store(request), seeds.replace(",", " ").split(), user.name)
    return RedirectResponse(f"/cases/{cid}", status_code=303)
