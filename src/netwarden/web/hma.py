"""HMA-compatible API (Meta's Hasher-Matcher-Actioner, OpenMediaMatch): hashing (`/h`), matching
(`/m`), curation (`/c`), exchanges, status, signal and content types, with HMA's paths, status codes,
JSON shapes, parameter semantics and `{"message": ...}` error bodies, so HMA clients such as ROOST's
Coop point at Netwarden unchanged. docs/media.md ("HMA-compatible API") lists what is and is not
the same, and why.

`install(app)` adds it to a FastAPI app (the review app does; `create_app(store)` makes a standalone
one). Who may call it: `hma_auth`. Request bodies: `hma_models` (pydantic; the OpenAPI document at
`/openapi/openapi.json` shows them). Every bank and content change is written to the audit log in
the transaction of the change, with the caller's name as actor.

HMA's signal types here: `pdq` (photos), `video_md5` (videos; Netwarden's `md5` entries), `vpdq`
(videos, on request with `types=`). Netwarden's own names (`md5`, `sha256`, `photo_md5`) are
accepted in lookups and signal adds too. Photos are hashed with a full decode and no dihedral
variants, as HMA hashes them; a PDQ below quality 50 is `""`, as HMA returns it.
"""

from __future__ import annotations

import json
import random
import threading
import time
from datetime import UTC, datetime
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import ValidationError
from sqlalchemy import delete, func, insert, select, update

from .. import audit
from .. import signal_types as stypes
from ..config import Settings, load
from ..media.decode import Limits
from ..media.hashing import MIN_QUALITY, MediaHashes
from ..media.service import BankMatcher
from ..media.signals import canonical_type, normalize
from ..store.tables_media import bank_entries, banks
from . import hma_auth
from . import hma_models as M

HMA_PREFIXES = ("/h/", "/m/", "/c/", "/nw/", "/status", "/site-map", "/openapi")
OPENAPI_TITLE = "Open Media Match API"  # the interface's name; the description says who implements it

# HMA signal type -> (Netwarden's stored type, content type, hashed by default for that content type),
# from the registry: every media signal type that declares an HMA content type, in the registry's order.
SIGNAL_TYPES = {t.tx_name(): (t.name, t.hma_content, t.hma_default) for t in stypes.media_types() if t.hma_content}
CONTENT_TYPES = tuple(dict.fromkeys(ct for _, ct, _ in SIGNAL_TYPES.values()))


class HmaError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _fail(status: int, message: str):
    raise HmaError(status, message)


_MATCHER_LOCK = threading.Lock()
router = APIRouter(tags=["hma"], dependencies=[Depends(hma_auth.caller)])
api_key = hma_auth.caller  # the dependency other machine-facing routes share (routes_intake)
public = APIRouter(tags=["hma"])


def _engine(request: Request):
    return request.app.state.store.engine


def _actor(request: Request) -> str:
    return getattr(request.state, "hma_actor", "api:unknown")


def _matcher(request: Request):
    """One matcher over every bank, disabled ones included: bypass_coinflip answers from those too."""
    state = request.app.state
    with _MATCHER_LOCK:  # requests run in a thread pool; one refresh at a time (it mutates the index)
        bm = getattr(state, "hma_matcher", None)
        if bm is None:
            bm = state.hma_matcher = BankMatcher(all_banks=True)
        with _engine(request).connect() as conn:
            return bm.refresh(conn)


def _ts(iso: str | None) -> int:
    if not iso:
        return -1
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


# ------------------------------------------------------------------------------------------ banks


def _ratio(b) -> float:
    """A bank's effective matching_enabled_ratio (a bank disabled from the CLI answers 0)."""
    if not b["enabled"]:
        return 0.0
    r = float(b["enabled_ratio"])
    return r if r > 0 else 1.0


def _bank_out(b) -> dict:
    return {"name": b["name"], "matching_enabled_ratio": _ratio(b)}


def _bank(conn, name: str, status: int = 404):
    b = conn.execute(select(banks).where(banks.c.name == name)).mappings().first()
    if b is None:
        _fail(status, f"bank '{name}' not found")
    return b


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _ratio_values(enabled_ratio: float | None, enabled: bool | None) -> dict:
    if enabled_ratio is None and enabled is not None:
        enabled_ratio = 1.0 if enabled else 0.0
    if enabled_ratio is None:
        return {}
    return {"enabled_ratio": enabled_ratio, "enabled": enabled_ratio > 0}


@router.get("/c/banks", summary="List banks")
def list_banks(request: Request) -> list[dict]:
    with _engine(request).connect() as conn:
        return [_bank_out(b) for b in conn.execute(select(banks).order_by(banks.c.id)).mappings()]


@router.get("/c/bank/{bank_name}", summary="Get bank")
def get_bank(bank_name: str, request: Request) -> dict:
    with _engine(request).connect() as conn:
        return _bank_out(_bank(conn, bank_name))


def create_bank_row(conn, name: str, actor: str, values: dict, source: str = "hma-api") -> dict:
    if conn.execute(select(banks.c.id).where(banks.c.name == name)).first() is not None:
        _fail(403, "Bank already exists")
    t = _now_iso()
    row = {"name": name, "label": "", "threshold": 31, "negative": False, "enabled": True, "enabled_ratio": 1.0,
           "source": source, "created_at": t, "updated_at": t, **values}
    conn.execute(insert(banks).values(**row))
    audit.append(conn, actor, "bank.create", "bank", name,
                 {k: row[k] for k in ("enabled_ratio", "threshold", "negative", "label", "source")})
    return _bank(conn, name)


@router.post("/c/banks", status_code=201, summary="Create bank")
def create_bank(body: M.BankCreate, request: Request):
    values = {k: v for k, v in body.model_dump(include={"threshold", "negative", "label"}).items() if v is not None}
    values.update(_ratio_values(body.enabled_ratio, body.enabled))
    with _engine(request).begin() as conn:
        b = create_bank_row(conn, body.name, _actor(request), values)
        return JSONResponse(_bank_out(b), status_code=201)


@router.put("/c/bank/{bank_name}", summary="Update bank (rename with name)")
def update_bank(bank_name: str, body: M.BankUpdate, request: Request) -> dict:
    values = {k: v for k, v in body.model_dump(include={"name", "threshold", "negative", "label"}).items()
              if v is not None}
    values.update(_ratio_values(body.enabled_ratio, body.enabled))
    with _engine(request).begin() as conn:
        b = _bank(conn, bank_name)
        new = values.get("name", bank_name)
        if new != bank_name and conn.execute(select(banks.c.id).where(banks.c.name == new)).first() is not None:
            _fail(403, "Bank name already exists")
        before = {k: b[k] for k in values}
        if values:
            conn.execute(update(banks).where(banks.c.id == b["id"]).values(**values, updated_at=_now_iso()))
            if new != bank_name:
                from ..store.tables_hma import hma_exchanges

                conn.execute(update(hma_exchanges).where(hma_exchanges.c.name == bank_name).values(name=new))
            audit.append(conn, _actor(request), "bank.rename" if new != bank_name else "bank.update", "bank",
                         bank_name, {"before": before, "after": values})
        return _bank_out(_bank(conn, new))


@router.delete("/c/bank/{bank_name}", summary="Delete bank (200 also when there is none)")
def delete_bank(bank_name: str, request: Request) -> dict:
    from ..store.tables_hma import hma_exchanges

    with _engine(request).begin() as conn:
        b = conn.execute(select(banks).where(banks.c.name == bank_name)).mappings().first()
        if b is not None:
            n = conn.execute(delete(bank_entries).where(bank_entries.c.bank_id == b["id"])).rowcount
            conn.execute(delete(banks).where(banks.c.id == b["id"]))
            conn.execute(delete(hma_exchanges).where(hma_exchanges.c.name == bank_name))
            audit.append(conn, _actor(request), "bank.delete", "bank", bank_name, {"entries": int(n or 0)})
    return {"message": "Done"}


@router.get("/nw/banks", summary="Netwarden: every bank with its Netwarden settings")
def nw_banks(request: Request) -> list[dict]:
    counts = select(bank_entries.c.bank_id, func.count().label("n")).group_by(bank_entries.c.bank_id).subquery()
    q = (select(banks, func.coalesce(counts.c.n, 0).label("entries"))
         .select_from(banks.outerjoin(counts, counts.c.bank_id == banks.c.id)).order_by(banks.c.id))
    with _engine(request).connect() as conn:
        return [{"name": b["name"], "matching_enabled_ratio": _ratio(b), "enabled": bool(b["enabled"]),
                 "threshold": b["threshold"], "negative": bool(b["negative"]), "label": b["label"],
                 "source": b["source"], "entries": b["entries"]} for b in conn.execute(q).mappings()]


# ---------------------------------------------------------------------------------------- content


def _stored(hma_type: str) -> str:
    """Netwarden's stored type for an HMA (or Netwarden) signal type name; 400 if there is none."""
    st = SIGNAL_TYPES.get(hma_type, (None,))[0] or canonical_type(hma_type)
    if st is None or stypes.get(st).family != stypes.MEDIA:  # links are matched in text
        _fail(400, f"No such signal type {hma_type}")
    return st


def _normalized(hma_type: str, value: str) -> tuple[str, str]:
    st = _stored(hma_type)
    try:
        return normalize(st, value)
    except ValueError as e:
        _fail(400, f"Invalid {hma_type} signal: {e}")


def add_content(conn, bank, signals: dict[str, str], actor: str, note: str | None = None,
                meta: dict | None = None, source: str = "api") -> int:
    """Store one HMA content (one or more signals); returns its content id. Signals the bank already
    holds join the content they belong to."""
    if not signals:
        _fail(400, "No signals given")
    rows = [_normalized(k, v) for k, v in signals.items()]
    content_id = None
    t = datetime.now(UTC).isoformat(timespec="seconds")
    for st, sig in rows:
        old = conn.execute(select(bank_entries.c.id, bank_entries.c.content_id).where(
            bank_entries.c.bank_id == bank["id"], bank_entries.c.signal_type == st,
            bank_entries.c.signal == sig)).first()
        if old is not None:
            content_id = content_id or old.content_id or old.id
            continue
        first = content_id is None
        res = conn.execute(insert(bank_entries).values(
            bank_id=bank["id"], signal_type=st, signal=sig, label=bank["label"] or "", added_at=t,
            content_id=content_id, note=note if first else None,
            meta=json.dumps(meta, sort_keys=True) if (first and meta) else None))
        if first:
            content_id = res.inserted_primary_key[0]
    audit.append(conn, actor, "bank.content.add", "bank", bank["name"],
                 {"content_id": content_id, "signals": {st: sig for st, sig in rows}, "note": note,
                  "metadata": meta, "source": source})
    return int(content_id)


def _content_rows(conn, bank_id: int, content_id: int) -> list:
    return list(conn.execute(select(bank_entries).where(
        bank_entries.c.bank_id == bank_id,
        (bank_entries.c.id == content_id) | (bank_entries.c.content_id == content_id))
        .order_by(bank_entries.c.id)).mappings())


def _content_out(bank, rows, include_signals: bool = False, include_metadata: bool = True) -> dict:
    head = rows[0]
    out = {"id": head["content_id"] or head["id"], "disable_until_ts": head["disable_until_ts"] or 0,
           "original_media_uri": None, "bank": _bank_out(bank)}
    if include_signals:
        out["signals"] = {stypes.tx_name(r["signal_type"]): r["signal"] for r in rows}
    if include_metadata and head["meta"]:
        out["metadata"] = json.loads(head["meta"])
    if head["note"]:
        out["note"] = head["note"]
    return out


def _flag(request: Request, name: str, default: bool) -> bool:
    v = request.query_params.get(name)
    return default if v is None else v.lower() == "true"


@router.get("/c/bank/{bank_name}/content/{content_id}", summary="Get bank content")
def get_content(bank_name: str, content_id: int, request: Request) -> dict:
    with _engine(request).connect() as conn:
        b = _bank(conn, bank_name)
        rows = _content_rows(conn, b["id"], content_id)
        if not rows:
            _fail(404, f"content '{content_id}' not found")
        return _content_out(b, rows, _flag(request, "include_signals", False), _flag(request, "include_metadata", True))


async def _json_or_form(request: Request) -> dict:
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            _fail(400, "The body is not valid JSON.")
        if not isinstance(body, dict):
            _fail(400, "this endpoint expects a json object payload")
        return body
    return {}


def _validated(model, data: dict):
    try:
        return model.model_validate(data)
    except ValidationError as e:
        _fail(400, _validation_message(e.errors()))


@router.post("/c/bank/{bank_name}/content", summary="Add content by ?url= or a multipart upload (photo, video)")
async def add_content_route(bank_name: str, request: Request) -> dict:
    with _engine(request).connect() as conn:
        _bank(conn, bank_name)
    q = request.query_params
    form = None
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        data = {k: form[k] for k in ("note",) if k in form}
        if "metadata" in form:
            try:
                data["metadata"] = json.loads(str(form["metadata"]))
            except ValueError:
                _fail(400, "metadata form field must be valid JSON")
    else:
        data = await _json_or_form(request)
    if isinstance(data.get("metadata"), dict):
        data["metadata"] = {k: v for k, v in data["metadata"].items() if k != "collab"}
    body = _validated(M.ContentAdd, {k: v for k, v in data.items() if k in ("metadata", "note")} |
                      {k: v for k, v in data.items() if k not in ("metadata", "note", "url")})
    meta = body.metadata.model_dump(by_alias=True, exclude_none=True) if body.metadata else None
    if q.get("url"):
        hashes = hash_url(q["url"], q.get("content_type"), q.get("types"), request.app.state.settings)
    elif form is not None:
        hashes = await hash_form(form, q.get("types"), _limits(request))
    else:
        _fail(400, "Neither `url` nor multipart file upload was received")
    with _engine(request).begin() as conn:
        b = _bank(conn, bank_name)
        cid = add_content(conn, b, hashes, _actor(request), note=body.note or None, meta=meta or None)
    return {"id": cid, "signals": hashes}


@router.post("/c/bank/{bank_name}/signal", summary="Add signals {signal_type: signal, note?} to a bank")
async def add_signal(bank_name: str, request: Request) -> dict:
    with _engine(request).connect() as conn:
        _bank(conn, bank_name)
    body = _validated(M.SignalAdd, await _json_or_form(request))
    sigs = body.signals()
    with _engine(request).begin() as conn:
        b = _bank(conn, bank_name)
        cid = add_content(conn, b, sigs, _actor(request), note=body.note or None)
    return {"id": cid, "signals": {k: _normalized(k, v)[1] for k, v in sigs.items()}}


@router.put("/c/bank/{bank_name}/content/{content_id}", summary="Update content (disable_until_ts, note)")
async def update_content(bank_name: str, content_id: int, request: Request) -> dict:
    data = await _json_or_form(request)
    body = _validated(M.ContentUpdate, data)
    values = {}
    if "disable_until_ts" in data:
        values["disable_until_ts"] = body.disable_until_ts
    if "note" in data:
        values["note"] = body.note or None
    with _engine(request).begin() as conn:
        b = _bank(conn, bank_name)
        rows = _content_rows(conn, b["id"], content_id)
        if not rows:
            _fail(404, f"content '{content_id}' not found")
        if values:
            conn.execute(update(bank_entries).where(bank_entries.c.id == rows[0]["id"]).values(**values))
            if "disable_until_ts" in values:  # every signal of the content
                ids = [r["id"] for r in rows]
                conn.execute(update(bank_entries).where(bank_entries.c.id.in_(ids))
                             .values(disable_until_ts=values["disable_until_ts"]))
            audit.append(conn, _actor(request), "bank.content.update", "bank", bank_name,
                         {"content_id": content_id, **values})
        return _content_out(b, _content_rows(conn, b["id"], content_id))


@router.delete("/c/bank/{bank_name}/content/{content_id}", summary="Remove content from a bank")
def delete_content(bank_name: str, content_id: int, request: Request) -> dict:
    with _engine(request).begin() as conn:
        b = _bank(conn, bank_name)
        rows = _content_rows(conn, b["id"], content_id)
        if rows:
            conn.execute(delete(bank_entries).where(bank_entries.c.id.in_([r["id"] for r in rows])))
            conn.execute(update(banks).where(banks.c.id == b["id"]).values(updated_at=_now_iso()))
            audit.append(conn, _actor(request), "bank.content.remove", "bank", bank_name,
                         {"content_id": content_id, "signals": {r["signal_type"]: r["signal"] for r in rows}})
    return {"deleted": 1 if rows else 0}


# ---------------------------------------------------------------------------------------- hashing


def _types_for(content_type: str, types: str | None) -> list[str]:
    if content_type not in CONTENT_TYPES:
        _fail(400, f"no such content_type: '{content_type}'")
    allowed = [n for n, (_, ct, _) in SIGNAL_TYPES.items() if ct == content_type]
    if types is None:
        return [n for n in allowed if SIGNAL_TYPES[n][2]]
    out = []
    for n in (s.strip() for s in types.split(",")):
        if not n:
            continue
        if n not in allowed:
            _fail(400, f"signal type '{n}' doesn't exist or is disabled")
        out.append(n)
    if not out:
        _fail(400, "empty signal type selection")
    return out


def _limits(request: Request) -> Limits:
    """The decode limits of the app's settings (media_max_bytes, media_max_pixels, media_time_limit)."""
    return Limits.of(request.app.state.settings)


def hash_media(data: bytes, content_type: str, types: str | None, name: str = "upload",
               limits: Limits | None = None) -> dict[str, str]:
    """HMA's hash of one file: {signal type: value}; a PDQ below quality 50 is "". `limits`: the
    app's settings' decode limits (None: the defaults)."""
    import hashlib

    from ..errors import UserError

    want = _types_for(content_type, types)
    limits = limits if limits is not None else Limits()
    out: dict[str, str] = {}
    if "pdq" in want:
        from ..media.decode import decode
        from ..media.hashing import pdq_from_rgb

        try:
            r = pdq_from_rgb(decode(data, name=name, **limits.kw()).rgb, dihedral=False)
        except UserError as e:
            _fail(400, str(e))
        out["pdq"] = r.hash if r.quality >= MIN_QUALITY else ""
    if "video_md5" in want:
        out["video_md5"] = hashlib.md5(data).hexdigest()
    if "vpdq" in want:
        from ..media.video import video_time_limit, vpdq_from_bytes

        try:
            frames = vpdq_from_bytes(data, name, max_pixels=limits.max_pixels,
                                     time_limit=video_time_limit(limits.time_limit))
        except UserError as e:
            _fail(400, str(e))
        out["vpdq"] = json.dumps([f.to_dict() for f in frames], separators=(",", ":"))
    return out


async def hash_form(form, types: str | None = None, limits: Limits | None = None) -> dict[str, str]:
    limits = limits if limits is not None else Limits()
    files = [(k, v) for k, v in form.multi_items() if hasattr(v, "read")]
    if not files:
        _fail(400, "Missing multipart/form-data file upload")
    if len(files) > 1:
        _fail(400, "Only one file allowed per request")
    field, up = files[0]
    if field not in CONTENT_TYPES:
        _fail(400, f"no such content_type: '{field}'")
    data = await up.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        _fail(413, "Content too large")
    return hash_media(data, field, types, up.filename or "upload", limits)


def fetch_url(url: str, settings: Settings | None = None) -> tuple[bytes, str]:
    """The bytes and Content-Type at an allow-listed URL (netwarden.fetch: origins on the
    fetch_allow_hosts setting, public addresses only, one deadline, one error for every refusal);
    `settings`: the app's (None: the defaults, which allow no origin)."""
    from .. import fetch

    s = settings if settings is not None else Settings()
    try:
        return fetch.fetch(url, s.media_max_bytes, allow=fetch.allow_list(s.fetch_allow_hosts),
                           nets=fetch.private_networks(s.fetch_allow_private), deadline=s.fetch_deadline)
    except fetch.TooLarge:
        _fail(413, "Content too large")
    except fetch.Refused:
        _fail(400, fetch.REFUSED)


def hash_url(url: str, content_type: str | None, types: str | None, settings: Settings | None = None) -> dict[str, str]:
    data, mime = fetch_url(url, settings)
    if not content_type:
        m = mime.lower()
        content_type = "photo" if m.startswith("image") else "video" if m.startswith("video") else None
        if content_type is None:
            _fail(400, f"unsupported url ContentType: '{mime}', if you know the expected type, provide it "
                       "with the content_type query param")
    return hash_media(data, content_type, types, urlparse(url).path.rsplit("/", 1)[-1] or "url", Limits.of(settings))


@router.get("/h/hash", summary="Hash the media at an allow-listed URL")
def hash_get(url: str, request: Request, content_type: str | None = None, types: str | None = None) -> dict:
    return hash_url(url, content_type, types, request.app.state.settings)


@router.post("/h/hash", summary="Hash an uploaded file (multipart field photo or video)")
async def hash_post(request: Request) -> dict:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        _fail(400, "Missing multipart/form-data file upload")
    return await hash_form(await request.form(), request.query_params.get("types"), _limits(request))


# --------------------------------------------------------------------------------------- matching


def _query_hashes(st: str, signal: str, quality: int | None) -> MediaHashes:
    h = MediaHashes(name="signal")
    stypes.get(st).query(h, signal)  # each signal type sets its own hash (netwarden.signal_types)
    if h.pdq is not None and quality is not None:
        h.quality = quality
    return h


def lookup(request: Request, hma_type: str, signal: str, banks_filter: set[str] | None = None,
           bypass_coinflip: bool = False, seed: str | None = None, quality: int | None = None,
           respect_ratio: bool = True) -> dict[str, list[dict]]:
    """HMA's lookup of one signal: {BANK: [{bank_content_id, distance}]}. The coin flip: one draw
    per lookup (seeded by `seed` when given); a bank answers when its ratio >= the draw (always with
    bypass_coinflip). Content disabled until a later time is left out; an enabled negative bank's
    match suppresses every positive one (Netwarden's negative banks). With respect_ratio False (raw
    lookups, as HMA's /m/raw_lookup) none of that applies: every indexed match is returned."""
    st, sig = _normalized(hma_type, signal)
    m = _matcher(request)
    res = m.match(_query_hashes(st, sig, quality))
    found = [x for x in res.matches + res.suppressed + res.negatives if x.signal_type == st]
    if not found:
        return {}
    with _engine(request).connect() as conn:
        ents = {r.id: r for r in conn.execute(select(bank_entries.c.id, bank_entries.c.content_id,
                                                     bank_entries.c.disable_until_ts)
                                              .where(bank_entries.c.id.in_([x.entry_id for x in found])))}
        brows = {r["id"]: r for r in conn.execute(select(banks)).mappings()}
    now = time.time()
    found = [x for x in found if x.entry_id in ents and (not respect_ratio or (ents[x.entry_id].disable_until_ts or 0) <= now)]
    if respect_ratio and any(x.negative and _ratio(brows[x.bank_id]) > 0 for x in found if x.bank_id in brows):
        return {}
    coin = 0.0 if (bypass_coinflip or not respect_ratio) else random.Random(seed).random()
    out: dict[str, list[dict]] = {}
    seen = set()
    for x in sorted(found, key=lambda x: (x.bank, x.entry_id)):
        b = brows.get(x.bank_id)
        if b is None or (x.negative and respect_ratio) or _ratio(b) < coin or (banks_filter is not None and b["name"] not in banks_filter):
            continue
        if respect_ratio and not bypass_coinflip and _ratio(b) <= 0:
            continue
        cid = ents[x.entry_id].content_id or x.entry_id
        if (b["name"], cid) in seen:
            continue
        seen.add((b["name"], cid))
        out.setdefault(b["name"], []).append({"bank_content_id": cid, "distance": str(x.distance)})
    return out


def _banks_param(v: str | None) -> set[str] | None:
    return {b for b in v.split(",") if b} if v else None


def _int_param(request: Request, name: str) -> int | None:
    v = request.query_params.get(name)
    if v is None:
        return None
    try:
        return int(v)
    except ValueError:
        _fail(400, f"Invalid int: '{v}' for {name}")


@router.get("/m/lookup", summary="Look up a signal (signal_type + signal) or the media at a url")
def lookup_get(request: Request, url: str | None = None, content_type: str | None = None, types: str | None = None,
               signal: str | None = None, signal_type: str | None = None, banks: str | None = None,
               seed: str | None = None, bypass_coinflip: bool = False) -> dict:
    wanted = _banks_param(banks)
    quality = _int_param(request, "quality")
    if url:
        hashes = hash_url(url, content_type, types, request.app.state.settings)
        resp = {st: lookup(request, st, sig, wanted, bypass_coinflip, seed) if sig else {}
                for st, sig in hashes.items()}
        return resp.get(signal_type, {}) if signal_type else resp
    if not signal or not signal_type:
        _fail(400, "Either url or both signal and signal_type are required")
    return lookup(request, signal_type, signal, wanted, bypass_coinflip, seed, quality)


@router.post("/m/lookup", summary="Look up an uploaded file (multipart field photo or video)")
async def lookup_post(request: Request) -> dict:
    q = request.query_params
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        _fail(400, "Missing multipart/form-data file upload")
    hashes = await hash_form(await request.form(), q.get("types"), _limits(request))
    bypass = q.get("bypass_coinflip", "false") == "true"
    return {st: lookup(request, st, sig, _banks_param(q.get("banks")), bypass, q.get("seed")) if sig else {}
            for st, sig in hashes.items()}


@router.get("/m/raw_lookup", summary="Look up a signal in the index (bank ratios not applied)")
def raw_lookup(request: Request, signal: str, signal_type: str, banks: str | None = None,
               include_distance: bool = False) -> dict:
    r = lookup(request, signal_type, signal, _banks_param(banks), respect_ratio=False)
    ms = sorted((m for ms in r.values() for m in ms), key=lambda m: m["bank_content_id"])
    if include_distance:
        return {"matches": ms}
    return {"matches": sorted({m["bank_content_id"] for m in ms})}


def _type_counts(m) -> dict[str, int]:
    return {"pdq": len(m.index), "video_md5": sum(len(v) for (st, _), v in m.exact.items() if st == "md5"),
            "vpdq": len(m.videos)}


@router.get("/m/index/status", summary="Index status per signal type")
def index_status(request: Request, signal_type: str | None = None) -> dict:
    if signal_type is not None and signal_type not in SIGNAL_TYPES:
        _fail(400, f"No such signal type '{signal_type}'")
    m = _matcher(request)
    counts = _type_counts(m)
    with _engine(request).connect() as conn:
        newest = dict(conn.execute(select(bank_entries.c.signal_type, func.max(bank_entries.c.added_at))
                                   .where(bank_entries.c.id <= m.max_entry_id)
                                   .group_by(bank_entries.c.signal_type)).all())
    out = {}
    for name, (st, _, _) in SIGNAL_TYPES.items():
        if signal_type is None or name == signal_type:
            out[name] = {"present": True, "built_to": _ts(newest.get(st)), "size": counts[name]}
    return out


@router.post("/m/compare", summary="Compare pairs of hashes: {signal_type: [a, b]}")
async def compare(request: Request) -> dict:
    try:
        body = json.loads(await request.body())
    except ValueError:
        _fail(400, "Request input was not a dict")
    if not isinstance(body, dict):
        _fail(400, "Request input was not a dict")
    out = {}
    for st, pair in body.items():
        if not isinstance(pair, list):
            _fail(400, f"Comparison hashes for {st} was not a list")
        if len(pair) != 2:
            _fail(400, "Comparison hash list length must be exactly 2")
        if st == "pdq":
            from ..media.hashing import hamming_hex

            a, b = (_normalized("pdq", str(x))[1] for x in pair)
            d = hamming_hex(a, b)
            out[st] = [d <= 31, {"distance": d}]
        elif st == "video_md5":
            a, b = (_normalized("video_md5", str(x))[1] for x in pair)
            out[st] = [a == b, {}]
        else:
            _fail(400, f"No such SignalType '{st}'" if st not in SIGNAL_TYPES else f"{st} does not support hash comparison")
    return out


# -------------------------------------------------------------------------- signal/content types


@router.get("/c/signal_type", summary="Signal types")
def signal_types() -> list[dict]:
    return [{"name": n, "enabled_ratio": 1.0} for n in SIGNAL_TYPES]


@router.get("/c/signal_type/index", summary="Index build status per signal type")
def signal_type_index(request: Request, signal_type: str | None = None) -> dict:
    if signal_type is not None and signal_type not in SIGNAL_TYPES:
        _fail(400, f"No such signal type '{signal_type}'")
    m = _matcher(request)
    counts = _type_counts(m)
    with _engine(request).connect() as conn:
        rows = {r.signal_type: r for r in conn.execute(
            select(bank_entries.c.signal_type, func.count().label("n"), func.max(bank_entries.c.added_at).label("t"))
            .group_by(bank_entries.c.signal_type))}
        built = dict(conn.execute(select(bank_entries.c.signal_type, func.max(bank_entries.c.added_at))
                                  .where(bank_entries.c.id <= m.max_entry_id).group_by(bank_entries.c.signal_type)).all())
    out = {}
    for name, (st, _, _) in SIGNAL_TYPES.items():
        if signal_type is None or name == signal_type:
            r = rows.get(st)
            db = r.n if r else 0
            out[name] = {"db_size": db, "index_size": counts[name], "index_out_of_date": db != counts[name],
                         "newest_db_item": _ts(r.t) if r else -1, "index_built_to": _ts(built.get(st))}
    return out


@router.put("/c/signal_type/{name}", summary="Not supported: Netwarden's signal types are fixed")
def signal_type_update(name: str) -> dict:
    _fail(501, "Netwarden's signal types are always on; switch banks off with PUT /c/bank/<name> instead.")


@router.get("/c/content_type", summary="Content types")
def content_types() -> list[dict]:
    return [{"name": n, "enabled": True} for n in CONTENT_TYPES]


# ------------------------------------------------------------------------------ status, site map


@public.get("/status", summary="Health check", response_class=PlainTextResponse)
def status(request: Request):
    try:
        with _engine(request).connect() as conn:
            conn.execute(select(1))
    except Exception:
        return PlainTextResponse("DATABASE-UNREACHABLE", status_code=503)
    return PlainTextResponse("I-AM-ALIVE")


@public.get("/status/live", summary="Liveness check", response_class=PlainTextResponse)
def status_live():
    return PlainTextResponse("I-AM-ALIVE")


@router.get("/site-map", summary="The API's routes")
def site_map(request: Request) -> list[str]:
    return sorted({r.path for r in router.routes} | {r.path for r in public.routes} | {"/openapi/openapi.json"})


@router.get("/openapi/openapi.json", include_in_schema=False)
def openapi_doc(request: Request) -> dict:
    doc = getattr(request.app.state, "hma_openapi", None)
    if doc is None:
        from fastapi.openapi.utils import get_openapi

        from .. import __version__

        doc = request.app.state.hma_openapi = get_openapi(
            title=OPENAPI_TITLE, version=str(__version__),
            description="Netwarden's implementation of the Hasher-Matcher-Actioner (OpenMediaMatch) API.",
            routes=[r for r in router.routes + public.routes])
    return doc


# ------------------------------------------------------------------------------------ assembling


def _validation_message(errors) -> str:
    parts = []
    for e in errors:
        loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path"))
        parts.append(f"{loc or 'body'}: {e.get('msg', 'invalid')}")
    return "Invalid request: " + "; ".join(parts)


def is_hma_path(path: str) -> bool:
    return path.startswith(HMA_PREFIXES)


class CollapseSlashes:
    """ASGI wrapper: `//c/banks` (what a base URL ending in '/' plus '/c/banks' gives, as Coop's
    default does) routes as `/c/banks`. Paths outside the HMA API are left alone."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and "//" in scope.get("path", ""):
            import re

            path = re.sub("/{2,}", "/", scope["path"])
            if is_hma_path(path):  # only the HMA API: a review-app URL with an empty segment stays as it is
                scope = dict(scope, path=path)
        await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    """Add the HMA routes, their error bodies and the slash collapsing to an app; log the auth
    modes that are on (hma_auth.warnings)."""
    import logging

    from . import hma_exchanges  # noqa: F401  (its routes are on `router`)

    app.include_router(public)
    app.include_router(router)

    @app.exception_handler(HmaError)
    async def hma_error(request: Request, exc: HmaError):
        return JSONResponse({"message": exc.message}, status_code=exc.status)

    @app.exception_handler(hma_auth.AuthError)
    async def auth_error(request: Request, exc: hma_auth.AuthError):
        return JSONResponse({"message": str(exc)}, status_code=401)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        if is_hma_path(request.url.path):
            return JSONResponse({"message": _validation_message(exc.errors())}, status_code=400)
        from fastapi.exception_handlers import request_validation_exception_handler

        return await request_validation_exception_handler(request, exc)

    app.add_middleware(CollapseSlashes)
    if getattr(app.state, "settings", None) is None:
        app.state.settings = load()
    if getattr(app.state, "hma_auth", None) is None:
        app.state.hma_auth = hma_auth.AuthConfig.from_settings(app.state.settings)
    for w in app.state.hma_auth.warnings():
        logging.getLogger("netwarden.hma").warning(w)


def create_app(store, api_keys: list[str] | dict[str, str] | None = None, auth: hma_auth.AuthConfig | None = None,
               settings: Settings | None = None):
    """A standalone app with only these endpoints (tests, or `uvicorn` behind a proxy); `settings`
    (default: loaded now, once, from the config file and the environment) is app.state.settings."""
    app = FastAPI(title="Netwarden HMA-compatible API", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store
    app.state.settings = settings if settings is not None else load()
    if auth is not None:
        app.state.hma_auth = auth
    elif api_keys is not None:
        app.state.hma_auth = hma_auth.AuthConfig(keys=hma_auth._named(api_keys))
    install(app)
    return app


__all__ = ["install", "create_app", "router", "public", "HmaError", "api_key"]
