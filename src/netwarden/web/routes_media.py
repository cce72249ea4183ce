"""Media: a blurred greyscale rendition by default; the original only after an audited reveal.

A reveal (POST, CSRF-checked, `reveal` permission) writes an audit entry and returns a short-lived
grant signed for this user, session and media item; the original is served only with that grant,
only as what it decodes to (web.media.servable: the Content-Type of the decoded format, never the
platform's declared one), with nosniff, a sandboxing CSP and a Content-Disposition. A file that
does not decode as an image or video is refused before the reveal is granted (and audited).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from .. import audit
from ..media.decode import Limits, MediaError
from ..store import schema as t
from . import media as m
from .auth import User
from .deps import current_user, prefs, render, require, segment, store

router = APIRouter()
GRANT_SECONDS = 120
# Served with every original: nothing in it runs, loads or submits, even if opened as a page.
ORIGINAL_CSP = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; frame-ancestors 'none'"
NOT_MEDIA = "The file of this media item is not an image or video the app shows; it stays blurred."


def _media(request: Request, mid: str):
    with store(request).engine.connect() as conn:
        row = conn.execute(select(t.media).where(t.media.c.id == mid)).first()
        if row is None:
            raise HTTPException(404, f"Media {mid} is not in the store.")
        st = store(request)
        db_file = st.engine.url.database if st.engine.dialect.name == "sqlite" else None
        path = m.resolve(row.uri, m.media_roots(conn, request.app.state.media_roots), m.own_files(conn, db_file))
        posts = list(conn.scalars(select(t.post_media.c.post_id).where(t.post_media.c.media_id == mid).limit(20)))
        matches = [r.detail for r in conn.execute(
            select(t.signals.c.detail).where(t.signals.c.subject_type == "media", t.signals.c.subject_id == mid,
                                             t.signals.c.kind == "media_match"))]
    return row, path, posts, matches


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.secret, salt="netwarden-reveal")


@router.get("/media/{mid}", response_class=HTMLResponse)
def media_page(request: Request, mid: str, user: User = Depends(current_user)):
    mid = segment(mid)
    row, path, posts, matches = _media(request, mid)
    return render(request, "media.html", user, media=dict(row._mapping), available=path is not None,
                  posts=posts, matches=matches)


@router.get("/media/{mid}/blurred")
def media_blurred(request: Request, mid: str, user: User = Depends(current_user)):
    mid = segment(mid)
    _row, path, _p, _m = _media(request, mid)
    strength = prefs(request, user)["blur"]
    data = m.blurred(path, strength, _limits(request)) if path is not None and _row.kind == "photo" else m.placeholder()
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, no-store"})


@router.post("/media/{mid}/reveal", response_class=HTMLResponse)
def reveal(request: Request, mid: str, user: User = Depends(current_user)):
    mid = segment(mid)
    require(user, "reveal")
    row, path, _p, _m = _media(request, mid)
    if path is None:
        raise HTTPException(404, f"The file of media {mid} is not in platform storage.")
    _servable(path, row.kind, request)  # refused before a grant or an audit entry for something not shown
    with store(request).engine.begin() as conn:
        seq = audit.append(conn, user.name, "reveal", "media", mid,
                           {"uri": row.uri, "kind": row.kind, "sha256": row.sha256})
    grant = _serializer(request).dumps({"u": user.name, "s": user.session, "m": mid, "a": seq})
    return render(request, "_revealed.html", user, media=dict(row._mapping), grant=grant, audit_seq=seq)


@router.get("/media/{mid}/original")
def original(request: Request, mid: str, grant: str = "", user: User = Depends(current_user)):
    mid = segment(mid)
    require(user, "reveal")
    try:
        g = _serializer(request).loads(grant, max_age=GRANT_SECONDS)
    except (BadSignature, SignatureExpired):
        raise HTTPException(403, "This reveal has expired; reveal the item again.") from None
    if g.get("u") != user.name or g.get("s") != user.session or g.get("m") != mid:
        raise HTTPException(403, "This reveal was made for another item or session; reveal the item again.")
    row, path, _p, _m = _media(request, mid)
    if path is None:
        raise HTTPException(404, f"The file of media {mid} is not in platform storage.")
    out = _servable(path, row.kind, request)
    return Response(out.data, media_type=out.content_type,
                    headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": ORIGINAL_CSP,
                             "Content-Disposition": f'inline; filename="original.{out.ext}"'})


def _limits(request: Request) -> Limits:
    """The decode limits of the app's settings (media_max_bytes, media_max_pixels, media_time_limit)."""
    return Limits.of(request.app.state.settings)


def _servable(path, kind: str, request: Request) -> m.Servable:
    try:
        return m.servable(path, kind, _limits(request))
    except MediaError:
        raise HTTPException(415, NOT_MEDIA) from None


@router.get("/media/{mid}/item", response_class=HTMLResponse)
def media_item(request: Request, mid: str, user: User = Depends(current_user)):
    """The blurred item again (after Hide)."""
    mid = segment(mid)
    _media(request, mid)
    return render(request, "_media_item.html", user, mid=mid)
