"""A case (network view, ranked members, bulk decisions, enforcement) and an account page."""

from __future__ import annotations

import json
from collections import OrderedDict

import orjson
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from sqlalchemy import func, select

from .. import audit, cases, confidence, explain, findings, history, labels, risk
from ..errors import UserError
from ..store import schema as t
from ..store.tables_cases import case_members
from ..store.tables_cases import cases as cases_table
from . import network
from .auth import User
from .deps import TEMPLATES, current_user, highlight, render, require, segment, settings, store, urlpart

router = APIRouter()


def _display(m: dict, words: list[dict], handles: dict) -> dict:
    """Pre-formatted cells (cheaper than formatting 200 rows in the template)."""
    tags = []
    if m["protected"]:
        tags.append("protected")
    if m["account_state"] and m["account_state"] != "active":
        tags.append(m["account_state"])
    m["tags"] = Markup("".join(f' <span class="tag">{escape(x)}</span>' for x in tags))
    m["risk_text"] = f"{m['risk']:.0f}"
    p = m.get("confidence", {}).get("p")
    m["confidence_text"] = "?" if p is None else f"{p:.0%}"
    m["score_text"] = f"{m['score']:.2f}"
    layers = {k: float(v) for k, v in m["layers"].items() if isinstance(v, int | float)}
    total = sum(layers.values()) or 1.0
    m["layers_text"] = ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in
                                 sorted(layers.items(), key=lambda kv: -kv[1]) if v > 0)
    m["words"] = words
    m["path_steps"] = explain.path_steps(m["path"], handles)
    return m


_MEMBERS_CACHE: OrderedDict[tuple, tuple[str, int, int]] = OrderedDict()
_CACHE_SIZE = 64


PAGE_SIZE = 250  # members per page of the case's table (the network view always shows them all)


def _members_block(request: Request, conn, cid: int, user: User, page: int = 1) -> tuple[str, int, int]:
    """The rendered member table, cached per process by case version and the viewer's permissions.

    It holds no per-viewer value (the CSRF field sits outside it in case.html, tied to the form by
    its `form` attribute), so nothing is substituted into it afterwards: no placeholder swap runs
    over platform text (issue 14 item 9: a handle equal to the old placeholder showed the token).
    The version is read before the members, so an entry is never older than its key; every change
    to a case or its members' scores bumps it (netwarden.cases.bump, risk.recompute)."""
    key = (id(request.app), cid, cases.version(conn, cid), user.can("decide"), user.can("enforce"), page)
    hit = _MEMBERS_CACHE.get(key)
    if hit is None:
        case = cases.get_case(conn, cid)
        everyone = cases.members(conn, cid)
        pages = max(1, -(-len(everyone) // PAGE_SIZE))
        page = min(max(page, 1), pages)
        rows = everyone[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
        members = _annotated(conn, cid, everyone, rows)
        core = [m for m in members if m["core"]]
        pager = {"page": page, "pages": pages, "first": (page - 1) * PAGE_SIZE + 1,
                 "last": (page - 1) * PAGE_SIZE + len(rows), "total": len(everyone)}
        html = TEMPLATES.get_template("_members.html").render(
            case=case, core=core, periphery=[m for m in members if not m["core"]], user=user, pager=pager)
        hit = (html, len(everyone), sum(1 for m in everyone if m["core"]))
        _MEMBERS_CACHE[key] = hit
        while len(_MEMBERS_CACHE) > _CACHE_SIZE:
            _MEMBERS_CACHE.popitem(last=False)
    return hit


def _annotated(conn, cid: int, everyone: list[dict], rows: list[dict]) -> list[dict]:
    """`rows` (some of the case's members) with their reasons in words, confidence and path, ready
    for the member table or the side panel; `everyone` is the whole case (ties and shared contacts
    are counted over it)."""
    ids = [m["account_id"] for m in everyone]
    words = explain.case_reasons(conn, cid, everyone, network.ties(conn, ids), only={m["account_id"] for m in rows})
    decided, med = confidence.decided_counts(conn), confidence.core_median(everyone)
    handles = explain.handles_of(conn, [p for m in rows for p in m["path"][::2] if isinstance(p, str)])
    for m in rows:
        m["confidence"] = confidence.estimate(bool(m["core"]), confidence.band(m["score"] or 0.0, med), decided)
    return [_display(m, words[m["account_id"]], handles) for m in rows]


def _case_ctx(request: Request, cid: int, user: User, page: int = 1) -> dict:
    with store(request).engine.connect() as conn:
        case = cases.get_case(conn, cid)
        html, n, n_core = _members_block(request, conn, cid, user, page)
        decisions = cases.case_decisions(conn, cid)
        members = cases.members(conn, cid) if any(d["state"] == "pending" for d in decisions) else []
        for d in decisions:  # what approving now would act on: recomputed from current states
            if d["state"] == "pending":
                d["targets"], d["dropped"] = cases.approval_targets(conn, d)
                d["seen"] = cases.targets_digest(d["targets"])
                d["conflict"] = cases.approver_conflict(conn, d, user.name) if settings(request).four_eyes else None
                d["evidence"] = _approval_evidence(conn, cid, d["targets"], members)
        return {"case": case, "members_html": Markup(html), "n_members": n,
                "n_core": n_core, "notes": cases.notes(conn, cid), "decisions": decisions,
                "enforcement": cases.enforcement_status(conn, cid), "four_eyes": settings(request).four_eyes,
                "actions": cases.ACTIONS, "tie_kinds": network.TIE_KINDS, "signal_kinds": [k.name for k in findings.kinds()]}


def _approval_evidence(conn, cid: int, targets: list[str], members: list[dict]) -> list[dict]:
    """What an approver checks per account: handle, current state in this case, risk and its top
    reasons, other cases where it was cleared (a conflict)."""
    if not targets:
        return []
    rows = {m["account_id"]: m for m in members}
    clash = history.conflicted(conn, targets)
    out = []
    for a in targets:
        m = rows.get(a, {})
        out.append({"id": a, "handle": m.get("handle") or a, "state": m.get("state"), "risk": float(m.get("risk") or 0.0),
                    "conflict": a in clash,
                    "reasons": [r.get("text", "") for r in m.get("reasons") or [] if not explain.circular(r, cid)][:3]})
    return out


def _case_or_404(request: Request, cid: int, user: User, page: int = 1) -> dict:
    try:
        return _case_ctx(request, cid, user, page)
    except UserError as e:  # a missing case
        raise HTTPException(404, str(e)) from None


@router.get("/cases/{cid}", response_class=HTMLResponse)
def case_page(request: Request, cid: int, page: int = 1, user: User = Depends(current_user)):
    return render(request, "case.html", user, **_case_or_404(request, cid, user, page))


@router.get("/api/cases/{cid}")
def case_api(request: Request, cid: int, user: User = Depends(current_user)):
    ctx = _case_or_404(request, cid, user)
    with store(request).engine.begin() as conn:
        members = cases.members(conn, cid)
        audit.append(conn, user.name, "export", "case", str(cid), {"format": "json", "members": len(members)})
    return {"members": members, **{k: ctx[k] for k in ("case", "notes", "decisions", "enforcement")}}


_LAYOUT_CACHE: OrderedDict[tuple, dict] = OrderedDict()


@router.get("/cases/{cid}/graph.json")
def case_graph(request: Request, cid: int, user: User = Depends(current_user)):
    """The network view: a layout by structure (web.network), cached per member set, with each
    member's current state, role and signal kinds read fresh (a decision changes only those)."""
    with store(request).engine.connect() as conn:
        try:
            case = cases.get_case(conn, cid)
        except UserError as e:
            raise HTTPException(404, str(e)) from None
        members = cases.members(conn, cid)
        ids = tuple(m["account_id"] for m in members)
        key = (id(request.app), cid, hash(ids), len(ids))
        hit = _LAYOUT_CACHE.get(key)
        if hit is None:
            hit = _LAYOUT_CACHE[key] = network.layout(members, network.ties(conn, list(ids)), case["seeds"])
            while len(_LAYOUT_CACHE) > _CACHE_SIZE:
                _LAYOUT_CACHE.popitem(last=False)
    fresh = {m["account_id"]: m for m in members}
    nodes = []
    for n in hit["nodes"]:
        m = fresh[n["id"]]
        nodes.append({**n, "state": m["state"], "risk": round(float(m["risk"] or 0.0), 1),
                      "signals": sorted({r["kind"] for r in m["reasons"] if r.get("kind")})})
    # serialized once by orjson: FastAPI's encoder walks every one of 10,000+ ties in Python
    return Response(orjson.dumps({**hit, "nodes": nodes}), media_type="application/json")


@router.post("/cases/{cid}/decide", response_class=HTMLResponse)
def decide(request: Request, cid: int, decision: str = Form(...), account_ids: list[str] = Form([]),
           note: str = Form(""), negative_bank: str = Form(""), confirm: str = Form(""), then: str = Form(""),
           page: int = Form(1), user: User = Depends(current_user)):
    """Decide members. A decision on more than one member, or a clear as false-positive media, is
    made only when the form carries `confirm` equal to its member count: the first submit answers
    with that count (and the negative-bank entries it would propose) and a Confirm button.
    `then=next` (the account page's form) goes on to the case's next undecided member by rank."""
    require(user, "decide")
    ids = sorted(set(account_ids))
    neg = negative_bank == "on" and user.can("enforce") and decision == "clear"
    if (len(ids) > 1 or neg) and confirm != str(len(ids)):
        with store(request).engine.connect() as conn:
            case = cases.open_case_row(conn, cid)
            entries = len(cases.negative_bank_rows(conn, ids, cid)[0]) if neg else 0
        if decision not in cases.MEMBER_DECISIONS or not ids:
            raise HTTPException(400, "Pick a decision and at least one member.")
        tpl = "_confirm_decision.html" if request.headers.get("hx-request") else "confirm_decision.html"
        return render(request, tpl, user, case=case, decision=decision, ids=ids, note=note,
                      negative_bank=neg, entries=entries, page=page)
    with store(request).engine.begin() as conn:
        cases.decide_members(conn, cid, ids, decision, user.name, note=note, negative_bank=neg,
                            four_eyes=settings(request).four_eyes)
        after = cases.next_undecided(conn, cid, ids[0]) if then in ("next", "panel") and ids else None
    if then == "panel":  # the side panel: the next undecided member's panel; the page reloads its table
        resp = _panel(request, cid, after or "", user)
        resp.headers["HX-Trigger"] = "nw-members-changed"
        return resp
    if request.headers.get("hx-request"):
        return HTMLResponse(_case_ctx(request, cid, user, page)["members_html"])
    if then == "next":
        return RedirectResponse(f"/accounts/{urlpart(after)}?case={cid}" if after else f"/cases/{cid}", status_code=303)
    return RedirectResponse(f"/cases/{cid}", status_code=303)


@router.get("/cases/{cid}/members", response_class=HTMLResponse)
def members_fragment(request: Request, cid: int, page: int = 1, user: User = Depends(current_user)):
    """The member table alone (the case page reloads it after a decision made in the side panel)."""
    return HTMLResponse(_case_or_404(request, cid, user, page)["members_html"])


def _panel(request: Request, cid: int, aid: str, user: User) -> HTMLResponse:
    with store(request).engine.connect() as conn:
        try:
            case = cases.get_case(conn, cid)
        except UserError as e:
            raise HTTPException(404, str(e)) from None
        everyone = cases.members(conn, cid)
        m = next((x for x in everyone if x["account_id"] == aid), None)
        if m is None:
            return HTMLResponse('<p class="muted" id="panel-empty">Every member of this case is decided.</p>'
                                if not aid else '<p class="muted" id="panel-empty">Not a member of this case.</p>')
        (m,) = _annotated(conn, cid, everyone, [m])
        acc = conn.execute(select(t.accounts.c.display_name, t.accounts.c.bio).where(t.accounts.c.id == aid)).first()
        n_posts = conn.execute(select(func.count()).select_from(t.posts).where(t.posts.c.author_id == aid)).scalar()
    return render(request, "_panel.html", user, case=case, m=m, acc=acc, n_posts=n_posts)


@router.get("/cases/{cid}/panel", response_class=HTMLResponse)
def member_panel(request: Request, cid: int, account: str = "", user: User = Depends(current_user)):
    """The side panel: one member's reasons, confidence and path, with decision buttons."""
    return _panel(request, cid, account, user)


@router.post("/cases/{cid}/refresh")
def refresh(request: Request, cid: int, user: User = Depends(current_user)):
    """Re-rank the case with its confirmed members as extra seeds (cases.refresh_case; audited)."""
    require(user, "decide")
    cases.refresh_case(store(request), cid, user.name)
    return RedirectResponse(f"/cases/{cid}", status_code=303)


@router.post("/cases/{cid}/notes")
def add_note(request: Request, cid: int, text: str = Form(...), user: User = Depends(current_user)):
    require(user, "note")
    with store(request).engine.begin() as conn:
        cases.get_case(conn, cid)
        cases.add_note(conn, cid, user.name, text)
    return RedirectResponse(f"/cases/{cid}", status_code=303)


@router.post("/cases/{cid}/assign")
def assign(request: Request, cid: int, assignee: str = Form(""), user: User = Depends(current_user)):
    require(user, "assign")
    with store(request).engine.begin() as conn:
        cases.get_case(conn, cid)
        cases.assign(conn, cid, assignee.strip() or None, user.name)
    return RedirectResponse(f"/cases/{cid}", status_code=303)


@router.post("/cases/{cid}/state")
def case_state(request: Request, cid: int, state: str = Form(...), user: User = Depends(current_user)):
    require(user, "enforce")
    with store(request).engine.begin() as conn:
        cases.set_state(conn, cid, state, user.name)
    return RedirectResponse(f"/cases/{cid}" if state == "open" else "/queue", status_code=303)


@router.post("/cases/{cid}/enforce")
def enforce(request: Request, cid: int, action: str = Form(...), user: User = Depends(current_user)):
    require(user, "enforce")
    with store(request).engine.begin() as conn:
        cases.get_case(conn, cid)
        cases.request_enforcement(conn, cid, action, user.name, four_eyes=settings(request).four_eyes)
    return RedirectResponse(f"/cases/{cid}#enforcement", status_code=303)


@router.post("/decisions/{did}/approve")
def approve(request: Request, did: int, case_id: int = Form(...), seen: str = Form(...),
            user: User = Depends(current_user)):
    """Approve what the approver was shown: `seen` is the digest of the recomputed member list on the
    case page; a list that changed since is refused (cases.approve)."""
    require(user, "approve")
    with store(request).engine.begin() as conn:
        cases.approve(conn, did, user.name, seen=seen, four_eyes=settings(request).four_eyes)
    return RedirectResponse(f"/cases/{case_id}#enforcement", status_code=303)


@router.post("/decisions/{did}/withdraw")
def withdraw(request: Request, did: int, case_id: int = Form(...), user: User = Depends(current_user)):
    """Undo an approved negative-bank decision (its entries and term exceptions go; audited)."""
    require(user, "enforce")
    with store(request).engine.begin() as conn:
        cases.withdraw(conn, did, user.name)
    return RedirectResponse(f"/cases/{case_id}#enforcement", status_code=303)


@router.post("/decisions/{did}/reject")
def reject(request: Request, did: int, case_id: int = Form(...), user: User = Depends(current_user)):
    require(user, "approve")
    with store(request).engine.begin() as conn:
        cases.reject(conn, did, user.name)
    return RedirectResponse(f"/cases/{case_id}#enforcement", status_code=303)


def _account_ctx(request: Request, aid: str) -> dict:
    with store(request).engine.connect() as conn:
        acc = conn.execute(select(t.accounts).where(t.accounts.c.id == aid)).first()
        if acc is None:
            raise HTTPException(404, f"Account {aid} is not in the store.")
        contacts = [dict(r._mapping) for r in conn.execute(select(t.contacts).where(t.contacts.c.account_id == aid))]
        sigs = [{**r._mapping, "detail": json.loads(r.detail or "{}")} for r in conn.execute(
            select(t.signals).where(t.signals.c.account_id == aid, t.signals.c.subject_type != "media")
            .order_by(t.signals.c.id).limit(200))]
        for s in sigs:
            s["reads"] = findings.describe(s["kind"], s["detail"])
        posts = [dict(r._mapping) for r in conn.execute(
            select(t.posts).where(t.posts.c.author_id == aid).order_by(t.posts.c.created_at.desc()).limit(50))]
        pm: dict[str, list[str]] = {}
        if posts:
            for r in conn.execute(select(t.post_media).where(t.post_media.c.post_id.in_([p["id"] for p in posts]))):
                pm.setdefault(r.post_id, []).append(r.media_id)
        in_cases = [dict(r._mapping) for r in conn.execute(
            select(case_members.c.case_id, case_members.c.rank, case_members.c.state, case_members.c.core,
                   cases_table.c.state.label("case_state"), cases_table.c.title)
            .join(cases_table, cases_table.c.id == case_members.c.case_id)
            .where(case_members.c.account_id == aid).order_by(case_members.c.case_id))]
        pairs: dict[tuple[str, str], set[str]] = {}
        for c in in_cases:  # every tie kind the graph counts, both directions, from each case's ties
            ids = list(conn.scalars(select(case_members.c.account_id).where(case_members.c.case_id == c["case_id"])
                                    .order_by(case_members.c.rank)))
            for a, b, kind in network.ties(conn, ids):
                if aid in (a, b):
                    pairs.setdefault((a, b), set()).add(kind)
        edges = []
        if pairs:  # with the other end's handle
            handles = explain.handles_of(conn, {x for p in pairs for x in p})
            edges = [{"src": a, "dst": b, "kinds": sorted(kinds), "src_handle": handles.get(a) or a,
                      "dst_handle": handles.get(b) or b} for (a, b), kinds in sorted(pairs.items())]
        r = risk.get(conn, aid)
        media_ids = [m for ids in pm.values() for m in ids] + ([acc.avatar_media_id] if acc.avatar_media_id else [])
        history_rows = history.timeline(conn, aid, media_ids)
        conflict = history.conflicts(conn, aid)
        account_labels = labels.of(conn, aid)
    bio = highlight(acc.bio, [c["handle"] for c in contacts if c["field"] == "bio"])
    return {"account": dict(acc._mapping), "bio": bio, "contacts": contacts, "signals": sigs, "posts": posts,
            "post_media": pm, "cases": in_cases, "edges": edges, "risk": r, "history": history_rows,
            "conflict": conflict, "labels": account_labels}


@router.post("/accounts/{aid}/labels")
def account_label(request: Request, aid: str, label: str = Form(...), remove: str = Form(""),
                  user: User = Depends(current_user)):
    """Add (or with remove=1, remove) a label on an account; audited (netwarden.labels)."""
    require(user, "decide")
    aid = segment(aid)
    with store(request).engine.begin() as conn:
        try:
            if remove:
                labels.remove(conn, aid, label, user.name)
            else:
                labels.add(conn, aid, label, user.name, settings(request).labels)
        except UserError as e:
            raise HTTPException(400, str(e)) from None
    return RedirectResponse(f"/accounts/{urlpart(aid)}#labels", status_code=303)


@router.get("/accounts/{aid}", response_class=HTMLResponse)
def account_page(request: Request, aid: str, user: User = Depends(current_user)):
    aid = segment(aid)
    return render(request, "account.html", user, **_account_ctx(request, aid))


@router.get("/api/accounts/{aid}")
def account_api(request: Request, aid: str, user: User = Depends(current_user)):
    aid = segment(aid)
    ctx = _account_ctx(request, aid)
    with store(request).engine.begin() as conn:
        audit.append(conn, user.name, "export", "account", aid, {"format": "json"})
    ctx["bio"] = ctx["account"]["bio"]
    ctx["risk"] = {"score": ctx["risk"].score, "reasons": ctx["risk"].reasons}
    return ctx
