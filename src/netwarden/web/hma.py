"""HMA-compatible hashing, matching and bank endpoints (Meta's Hasher-Matcher-Actioner / OpenMediaMatch).

An `APIRouter` with the same paths and JSON shapes as HMA's hasher (`/h`), matcher (`/m`) and
curator (`/c`) blueprints, so existing HMA clients can point at Netwarden. Mount it with
`app.include_router(hma.router)` and set `app.state.store`. Authentication: an API key in
`X-API-Key` or `Authorization: Bearer ...`, checked against NETWARDEN_API_KEYS (comma-separated);
with no keys configured every request is refused. `GET /h/hash?url=` fetches only from hosts in
NETWARDEN_FETCH_ALLOW_HOSTS (comma-separated); no other URL is ever fetched.
"""

from __future__ import annotations

import hmac
import os
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from pydantic import BaseModel

from ..errors import UserError
from ..media.decode import MAX_BYTES
from ..media.hashing import MediaHashes, hash_bytes
from ..media.service import BankMatcher
from ..media.signals import LINK_TYPES, TX_NAMES, normalize
from ..store import media_banks as mb


def _keys() -> list[str]:
    return [k.strip() for k in os.environ.get("NETWARDEN_API_KEYS", "").split(",") if k.strip()]


def api_key(request: Request) -> str:
    """Dependency: a valid API key, or 401."""
    given = request.headers.get("x-api-key") or ""
    auth = request.headers.get("authorization") or ""
    if not given and auth.lower().startswith("bearer "):
        given = auth[7:].strip()
    keys = getattr(request.app.state, "api_keys", None) or _keys()
    if not given or not any(hmac.compare_digest(given, k) for k in keys):
        raise HTTPException(401, "A valid API key is required (X-API-Key or Authorization: Bearer).")
    return given


router = APIRouter(tags=["hma"], dependencies=[Depends(api_key)])


def _store(request: Request):
    store = request.app.state.store
    if not getattr(request.app.state, "_media_tables", False):
        mb.ensure_tables(store.engine)
        request.app.state._media_tables = True
    return store


def _matcher(request: Request):
    bm = getattr(request.app.state, "bank_matcher", None)
    if bm is None:
        bm = request.app.state.bank_matcher = BankMatcher()
    with _store(request).engine.connect() as conn:
        return bm.refresh(conn)


def _signals(h: MediaHashes) -> dict:
    """HMA's hash response: {signal_type: value}."""
    if h.error:
        raise HTTPException(422, h.error)
    out = {"md5": h.md5, "video_md5": h.md5} if h.kind == "video" else {"md5": h.md5}
    if h.pdq is not None:
        out["pdq"] = h.pdq
    if h.vpdq:
        out["vpdq"] = ";".join(f"{f['frame']},{f['quality']},{f['pdq']},{f['timestamp']}" for f in h.vpdq)
    return out


def _allowed(url: str) -> bool:
    hosts = {h.strip().lower() for h in os.environ.get("NETWARDEN_FETCH_ALLOW_HOSTS", "").split(",") if h.strip()}
    u = urlparse(url)
    return u.scheme in ("https", "http") and (u.hostname or "").lower() in hosts


def _fetch(url: str) -> bytes:
    if not _allowed(url):
        raise HTTPException(403, f"Fetching from {urlparse(url).hostname!r} is not allowed; add the host to NETWARDEN_FETCH_ALLOW_HOSTS.")
    import httpx

    try:
        with httpx.Client(timeout=15.0, follow_redirects=False) as c, c.stream("GET", url) as r:
            if r.status_code != 200:
                raise HTTPException(502, f"Fetching {url} gave HTTP {r.status_code}.")
            data = bytearray()
            for chunk in r.iter_bytes():
                data += chunk
                if len(data) > MAX_BYTES:
                    raise HTTPException(413, f"{url} is larger than the {MAX_BYTES}-byte cap.")
            return bytes(data)
    except httpx.HTTPError as e:
        raise HTTPException(502, f"Fetching {url} failed ({e.__class__.__name__}).") from None


# ------------------------------------------------------------------------------------------ hasher


@router.get("/h/hash")
def hash_url(url: str, request: Request) -> dict:
    data = _fetch(url)
    return _signals(hash_bytes(data, urlparse(url).path or url))


@router.post("/h/hash")
async def hash_upload(request: Request, photo: UploadFile | None = File(None), video: UploadFile | None = File(None),
                      file: UploadFile | None = File(None)) -> dict:
    up = photo or video or file
    if up is None:
        raise HTTPException(400, "Upload the media as form field 'photo', 'video' or 'file'.")
    data = await up.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise HTTPException(413, f"{up.filename} is larger than the {MAX_BYTES}-byte cap.")
    return _signals(hash_bytes(data, up.filename or "upload"))


# ----------------------------------------------------------------------------------------- matcher


def _lookup(request: Request, h: MediaHashes) -> dict:
    res = _matcher(request).match(h)
    out: dict[str, list[dict]] = {}
    for m in res.matches:
        out.setdefault(m.bank, []).append({"bank_content_id": m.entry_id, "distance": str(m.distance),
                                           "signal_type": TX_NAMES.get(m.signal_type, m.signal_type),
                                           "variant": m.variant, "label": m.label})
    return out


def _hashes_from_signal(signal_type: str, signal: str) -> MediaHashes:
    try:
        st, s = normalize(signal_type, signal)
    except ValueError as e:
        raise HTTPException(400, str(e)) from None
    if st in LINK_TYPES:
        raise HTTPException(400, f"{st} signals are matched on links in text during ingestion, not here; "
                                 "look up media signals (pdq, md5, sha256, vpdq).")
    h = MediaHashes(name="signal")
    if st == "pdq":
        h.pdq, h.quality = s, 100
    elif st in ("md5", "sha256"):
        setattr(h, st, s)
    else:
        from ..media.matcher import _parse_vpdq_lines

        h.kind, h.vpdq = "video", _parse_vpdq_lines(s)
    return h


@router.get("/m/lookup")
def lookup_get(request: Request, signal_type: str | None = None, signal: str | None = None,
               url: str | None = None) -> dict:
    if url:
        return _lookup(request, hash_bytes(_fetch(url), url))
    if not (signal_type and signal):
        raise HTTPException(400, "Give signal_type and signal, or url.")
    return _lookup(request, _hashes_from_signal(signal_type, signal))


@router.get("/m/raw_lookup")
def raw_lookup(request: Request, signal_type: str, signal: str) -> dict:
    r = _lookup(request, _hashes_from_signal(signal_type, signal))
    return {"matches": sorted({m["bank_content_id"] for ms in r.values() for m in ms})}


@router.post("/m/lookup")
async def lookup_post(request: Request, photo: UploadFile | None = File(None), video: UploadFile | None = File(None),
                      file: UploadFile | None = File(None)) -> dict:
    up = photo or video or file
    if up is not None:
        data = await up.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise HTTPException(413, f"{up.filename} is larger than the {MAX_BYTES}-byte cap.")
        return _lookup(request, hash_bytes(data, up.filename or "upload"))
    body = await request.json()
    if not isinstance(body, dict):
        raise HTTPException(400, "Send a JSON object {signal_type: signal} or upload a file.")
    out: dict[str, list[dict]] = {}
    for st, sig in body.items():
        for bank, ms in _lookup(request, _hashes_from_signal(st, sig)).items():
            out.setdefault(bank, []).extend(ms)
    return out


@router.get("/m/index/status")
def index_status(request: Request) -> dict:
    m = _matcher(request)
    return {"pdq": {"size": len(m.index), "exact": m.index.exact, "built_to": m.max_entry_id}}


# ----------------------------------------------------------------------------------------- curator


class BankIn(BaseModel):
    name: str
    enabled: bool = True
    matching_enabled_ratio: float | None = None
    threshold: int = 31
    negative: bool = False
    label: str = ""


def _bank_out(b: dict) -> dict:
    return {"name": b["name"], "matching_enabled_ratio": 1.0 if b["enabled"] else 0.0, "is_active": bool(b["enabled"]),
            "threshold": b["threshold"], "negative": bool(b["negative"]), "label": b["label"],
            "entries": b.get("entries")}


def _user_error(e: UserError, status: int = 400):
    return HTTPException(status, str(e))


@router.get("/c/banks")
def list_banks(request: Request) -> list[dict]:
    with _store(request).engine.connect() as conn:
        return [_bank_out(b) for b in mb.list_banks(conn)]


@router.get("/c/bank/{name}")
def get_bank(name: str, request: Request) -> dict:
    with _store(request).engine.connect() as conn:
        for b in mb.list_banks(conn):
            if b["name"] == name:
                return _bank_out(b)
    raise HTTPException(404, f"There is no bank named {name!r}.")


@router.post("/c/banks")
def create_bank(body: BankIn, request: Request) -> dict:
    enabled = body.enabled if body.matching_enabled_ratio is None else body.matching_enabled_ratio > 0
    try:
        with _store(request).engine.begin() as conn:
            b = mb.create_bank(conn, body.name, label=body.label, threshold=body.threshold, negative=body.negative,
                               enabled=enabled, source="api")
    except UserError as e:
        raise _user_error(e, 409 if "already exists" in str(e) else 400) from None
    return _bank_out({**b, "entries": 0})


@router.put("/c/bank/{name}")
async def update_bank(name: str, request: Request) -> dict:
    body = await request.json()
    values = {}
    if "matching_enabled_ratio" in body:
        values["enabled"] = float(body["matching_enabled_ratio"]) > 0
    for k in ("enabled", "threshold", "negative", "label"):
        if k in body:
            values[k] = body[k]
    try:
        with _store(request).engine.begin() as conn:
            b = mb.update_bank(conn, name, **values)
    except UserError as e:
        raise _user_error(e, 404) from None
    return _bank_out(b)


@router.delete("/c/bank/{name}")
def delete_bank(name: str, request: Request) -> dict:
    from sqlalchemy import delete

    from ..store.tables_media import bank_entries, banks

    try:
        with _store(request).engine.begin() as conn:
            b = mb.bank_row(conn, name)
            conn.execute(delete(bank_entries).where(bank_entries.c.bank_id == b["id"]))
            conn.execute(delete(banks).where(banks.c.id == b["id"]))
    except UserError as e:
        raise _user_error(e, 404) from None
    return {"deleted": name}


@router.post("/c/bank/{name}/signal")
async def add_signal(name: str, request: Request) -> dict:
    """Add signals: JSON {signal_type: signal, ...} (HMA), optionally with "label"."""
    body = await request.json()
    label = str(body.pop("label", "")) if isinstance(body, dict) else ""
    if not isinstance(body, dict) or not body:
        raise HTTPException(400, "Send a JSON object {signal_type: signal}.")
    rows = []
    for st, sig in body.items():
        try:
            rows.append((*normalize(st, str(sig)), label))
        except ValueError as e:
            raise HTTPException(400, str(e)) from None
    try:
        with _store(request).engine.begin() as conn:
            b = mb.bank_row(conn, name)
            mb.add_entries(conn, b["id"], rows)
            ids = [e["id"] for e in mb.entries(conn, b["id"]) if (e["signal_type"], e["signal"]) in {(r[0], r[1]) for r in rows}]
    except UserError as e:
        raise _user_error(e, 404) from None
    return {"id": ids[0] if ids else None, "signals": {r[0]: r[1] for r in rows}}


@router.post("/c/bank/{name}/content")
async def add_content(name: str, request: Request, photo: UploadFile | None = File(None),
                      video: UploadFile | None = File(None), label: str = Form("")) -> dict:
    up = photo or video
    if up is None:
        raise HTTPException(400, "Upload the media as form field 'photo' or 'video'.")
    h = hash_bytes(await up.read(MAX_BYTES + 1), up.filename or "upload", fast=False)
    sig = _signals(h)
    rows = [("md5", h.md5, label)]
    if h.pdq and h.usable:
        rows.append(("pdq", h.pdq, label))
    try:
        with _store(request).engine.begin() as conn:
            b = mb.bank_row(conn, name)
            mb.add_entries(conn, b["id"], rows)
    except UserError as e:
        raise _user_error(e, 404) from None
    return {"signals": sig}


@router.get("/c/bank/{name}/content/{content_id}")
def get_content(name: str, content_id: int, request: Request) -> dict:
    with _store(request).engine.connect() as conn:
        try:
            b = mb.bank_row(conn, name)
        except UserError as e:
            raise _user_error(e, 404) from None
        for e in mb.entries(conn, b["id"], after_id=content_id - 1):
            if e["id"] == content_id:
                return {"id": e["id"], "bank": name, "signals": {e["signal_type"]: e["signal"]}, "label": e["label"],
                        "added_at": e["added_at"]}
            break
    raise HTTPException(404, f"Bank {name!r} has no content {content_id}.")


@router.delete("/c/bank/{name}/content/{content_id}")
def delete_content(name: str, content_id: int, request: Request) -> dict:
    try:
        with _store(request).engine.begin() as conn:
            b = mb.bank_row(conn, name)
            n = mb.remove_entries(conn, b["id"], entry_id=content_id)
    except UserError as e:
        raise _user_error(e, 404) from None
    if not n:
        raise HTTPException(404, f"Bank {name!r} has no content {content_id}.")
    return {"deleted": content_id}


def create_app(store, api_keys: list[str] | None = None):
    """A standalone app with only these endpoints (tests, or `uvicorn` behind a proxy)."""
    from fastapi import FastAPI

    app = FastAPI(title="Netwarden HMA-compatible API")
    app.state.store = store
    if api_keys is not None:
        app.state.api_keys = api_keys
    app.include_router(router)
    return app
