"""HMA's exchanges API (`/c/exchanges...`, `/c/exchange/<name>...`) over python-threatexchange's
SignalExchangeAPI clients, the ones `netwarden bank fetch` runs (media/exchange.py): NCMEC, StopNCII,
ThreatExchange, the local file exchange and the static sample.

An exchange fills the bank of the same name (creating one creates the bank). Credentials set with
`POST /c/exchanges/api/<api>` are stored in the database and never returned; without them a client
uses python-threatexchange's own lookup (environment variable or credentials file). HMA fetches on a
timer in its server; Netwarden fetches when asked: `POST /nw/exchange/<name>/fetch` (or on a timer
of the operator's choosing calling it), resuming from the stored checkpoint and recording the fetch
status HMA reports. Every change is audited with the caller's name.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import time
import typing as t
from datetime import UTC, datetime

from fastapi import Request
from sqlalchemy import delete, insert, select, update

from .. import audit
from ..media.exchange import _apis, signal_types
from ..media.signals import canonical_type, normalize
from ..store.tables_hma import hma_exchange_credentials, hma_exchanges
from ..store.tables_media import bank_entries, banks
from . import hma
from . import hma_models as M
from .hma import _actor, _engine, _fail, _json_or_form, _validated, router

_BASE_FIELDS = {"name", "api", "enabled"}
STALE_FETCH_SECONDS = 3600  # a fetch marked running for longer than this died with its process


def _api(name: str, status: int = 400):
    cls = _apis().get(name)
    if cls is None:
        _fail(status, f"no such Exchange API '{name}'" if status == 400 else f"Exchange API '{name}' not found")
    return cls


def _supports_auth(cls) -> bool:
    from threatexchange.exchanges import auth

    return issubclass(cls, auth.SignalExchangeWithAuth)


def _has_creds(conn, api: str) -> bool:
    return conn.execute(select(hma_exchange_credentials.c.api).where(hma_exchange_credentials.c.api == api)).first() \
        is not None


@router.get("/c/exchanges/apis", summary="Exchange types")
def exchange_apis() -> list[str]:
    return sorted(_apis())


@router.get("/c/exchanges/api/{api_name}", summary="Whether an exchange type takes credentials and has them")
def exchange_api_get(api_name: str, request: Request) -> dict:
    cls = _api(api_name)
    with _engine(request).connect() as conn:
        return {"supports_authentification": _supports_auth(cls), "has_set_authentification": _has_creds(conn, api_name)}


@router.post("/c/exchanges/api/{api_name}", summary="Set (or with {} clear) an exchange type's credentials")
async def exchange_api_set(api_name: str, request: Request) -> dict:
    cls = _api(api_name)
    body = _validated(M.ExchangeCredentials, await _json_or_form(request))
    cred = body.credential_json
    with _engine(request).begin() as conn:
        if cred is not None:
            conn.execute(delete(hma_exchange_credentials).where(hma_exchange_credentials.c.api == api_name))
            if cred:
                if not _supports_auth(cls):
                    _fail(400, f"Exchange API '{api_name}' takes no credentials")
                _load_credentials(cls, cred)  # validates: 400 naming the problem, nothing stored
                conn.execute(insert(hma_exchange_credentials).values(
                    api=api_name, credentials=json.dumps(cred, sort_keys=True),
                    updated_at=datetime.now(UTC).isoformat(timespec="seconds")))
            audit.append(conn, _actor(request), "exchange.credentials.set" if cred else "exchange.credentials.clear",
                         "exchange_api", api_name, {"fields": sorted(cred) if cred else []})
        return {"supports_authentification": _supports_auth(cls), "has_set_authentification": _has_creds(conn, api_name)}


def _load_credentials(cls, cred: dict):
    from threatexchange.utils import dataclass_json

    try:
        c = dataclass_json.dataclass_load_dict(cred, cls.get_credential_cls())
    except Exception as e:
        _fail(400, f"credential_json is not valid for {cls.get_name()}: {e}")
    for f in dataclasses.fields(c):  # HMA stores what parses; an empty required value is refused here
        if f.default is dataclasses.MISSING and getattr(c, f.name) in ("", None):
            _fail(400, f"credential_json.{f.name} is empty; {cls.get_name()} needs it")
    return c


def _field_type(tp) -> tuple[str, list | None]:
    origin = t.get_origin(tp)
    args = [a for a in t.get_args(tp) if a is not type(None)]
    if origin is t.Union and len(args) == 1:
        return _field_type(args[0])
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "enum", [m.value for m in tp]
    if origin in (set, frozenset, list) and args:
        inner, _ = _field_type(args[0])
        return f"set_of_{inner}", None
    return {int: "number", float: "number", str: "string", bool: "boolean"}.get(tp, "string"), None


def _schema(dc) -> dict:
    hints = t.get_type_hints(dc)
    fields = []
    for f in dataclasses.fields(dc):
        if f.name in _BASE_FIELDS or not f.init:
            continue
        kind, choices = _field_type(hints.get(f.name, str))
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        default = None if required or f.default is dataclasses.MISSING else f.default
        if isinstance(default, enum.Enum):
            default = default.value
        fields.append({"name": f.name, "type": kind, "required": required, "default": default,
                       "help": str(f.metadata.get("help", "")), "choices": choices})
    return {"fields": fields}


@router.get("/c/exchanges/api/{api_name}/schema", summary="Fields of an exchange type's settings and credentials")
def exchange_api_schema(api_name: str) -> dict:
    cls = _api(api_name, 404)
    return {"config_schema": _schema(cls.get_config_cls()),
            "credentials_schema": _schema(cls.get_credential_cls()) if _supports_auth(cls) else None}


def _config(cls, name: str, api_json: dict, enabled: bool = True):
    from threatexchange.utils import dataclass_json

    data = {**api_json, "name": name, "api": cls.get_name(), "enabled": enabled}
    try:
        return dataclass_json.dataclass_load_dict(data, cls.get_config_cls())
    except Exception as e:
        _fail(400, f"Failed to parse `api_json` - {e}")


@router.post("/c/exchanges", status_code=201, summary="Create an exchange and the bank it fills")
async def exchange_create(request: Request):
    from fastapi.responses import JSONResponse

    body = _validated(M.ExchangeCreate, await _json_or_form(request))
    cls = _api(body.api)
    cfg = _config(cls, body.bank, body.api_json)
    from threatexchange.utils import dataclass_json

    settings = {k: v for k, v in dataclass_json.dataclass_dump_dict(cfg).items() if k not in _BASE_FIELDS}
    with _engine(request).begin() as conn:
        if conn.execute(select(hma_exchanges.c.name).where(hma_exchanges.c.name == body.bank)).first():
            _fail(403, "Exchange already exists")
        if conn.execute(select(banks.c.id).where(banks.c.name == body.bank)).first() is None:
            hma.create_bank_row(conn, body.bank, _actor(request), {}, source=f"exchange:{body.api}")
        conn.execute(insert(hma_exchanges).values(
            name=body.bank, api=body.api, config=json.dumps(settings, sort_keys=True), enabled=True,
            fetched_items=0, up_to_date=False, created_at=datetime.now(UTC).isoformat(timespec="seconds")))
        audit.append(conn, _actor(request), "exchange.create", "exchange", body.bank, {"api": body.api, **settings})
    return JSONResponse({"message": "Created successfully"}, status_code=201)


@router.get("/c/exchanges", summary="Exchange names")
def exchange_list(request: Request) -> list[str]:
    with _engine(request).connect() as conn:
        return [r.name for r in conn.execute(select(hma_exchanges.c.name).order_by(hma_exchanges.c.name))]


def _row(conn, name: str):
    r = conn.execute(select(hma_exchanges).where(hma_exchanges.c.name == name)).mappings().first()
    if r is None:
        _fail(404, f"Exchange '{name}' not found")
    return r


def _out(r) -> dict:
    return {"name": r["name"], "api": r["api"], "enabled": bool(r["enabled"]), **json.loads(r["config"])}


@router.get("/c/exchange/{exchange_name}", summary="An exchange's settings")
def exchange_get(exchange_name: str, request: Request) -> dict:
    with _engine(request).connect() as conn:
        return _out(_row(conn, exchange_name))


@router.get("/c/exchange/{exchange_name}/status", summary="An exchange's fetch status")
def exchange_status(exchange_name: str, request: Request) -> dict:
    with _engine(request).connect() as conn:
        r = _row(conn, exchange_name)
    return {"checkpoint_ts": r["checkpoint_ts"], "running_fetch_start_ts": r["running_fetch_start_ts"],
            "last_fetch_complete_ts": r["last_fetch_complete_ts"], "last_fetch_succeeded": r["last_fetch_succeeded"],
            "up_to_date": bool(r["up_to_date"]), "fetched_items": int(r["fetched_items"] or 0)}


@router.put("/c/exchange/{exchange_name}", summary="Switch an exchange's fetching on or off")
async def exchange_update(exchange_name: str, request: Request) -> dict:
    body = _validated(M.ExchangeUpdate, await _json_or_form(request))
    with _engine(request).begin() as conn:
        r = _row(conn, exchange_name)
        if body.enabled is not None and body.enabled != bool(r["enabled"]):
            conn.execute(update(hma_exchanges).where(hma_exchanges.c.name == exchange_name).values(enabled=body.enabled))
            audit.append(conn, _actor(request), "exchange.update", "exchange", exchange_name, {"enabled": body.enabled})
        return _out(_row(conn, exchange_name))


@router.delete("/c/exchange/{exchange_name}", summary="Delete an exchange and its bank (200 also when there is none)")
def exchange_delete(exchange_name: str, request: Request) -> dict:
    with _engine(request).begin() as conn:
        r = conn.execute(select(hma_exchanges).where(hma_exchanges.c.name == exchange_name)).first()
        if r is not None:
            conn.execute(delete(hma_exchanges).where(hma_exchanges.c.name == exchange_name))
            b = conn.execute(select(banks.c.id).where(banks.c.name == exchange_name)).first()
            n = 0
            if b is not None:
                n = conn.execute(delete(bank_entries).where(bank_entries.c.bank_id == b.id)).rowcount or 0
                conn.execute(delete(banks).where(banks.c.id == b.id))
            audit.append(conn, _actor(request), "exchange.delete", "exchange", exchange_name, {"bank_entries": int(n)})
    return {"message": "Exchange deleted"}


# ------------------------------------------------------------------------------------------ fetch


def fetch(engine, name: str, actor: str) -> dict:
    """Fetch an exchange once, from its checkpoint, into its bank; record the status. Returns the status."""
    from threatexchange.utils import dataclass_json

    with engine.begin() as conn:
        r = _row(conn, name)
        if not r["enabled"]:
            _fail(400, f"Exchange '{name}' is disabled; enable it with PUT /c/exchange/{name}")
        if r["running_fetch_start_ts"] and time.time() - r["running_fetch_start_ts"] < STALE_FETCH_SECONDS:
            _fail(409, f"Exchange '{name}' is already fetching")
        conn.execute(update(hma_exchanges).where(hma_exchanges.c.name == name)
                     .values(running_fetch_start_ts=int(time.time())))
        creds = conn.execute(select(hma_exchange_credentials.c.credentials)
                             .where(hma_exchange_credentials.c.api == r["api"])).scalar()
    cls = _api(r["api"])
    added, error, ckpt, ckpt_ts = 0, None, r["checkpoint"], r["checkpoint_ts"]
    try:
        collab = _config(cls, name, json.loads(r["config"]))
        if _supports_auth(cls):
            api = cls.for_collab(collab, _load_credentials(cls, json.loads(creds)) if creds else None)
        else:
            api = cls.for_collab(collab)
        start = dataclass_json.dataclass_loads(ckpt, cls.get_checkpoint_cls()) if ckpt else None
        types = signal_types()
        for delta in api.fetch_iter(types, start):
            merged: dict = {}
            cls.naive_fetch_merge(merged, delta.updates)
            by_type = cls.naive_convert_to_signal_type(types, collab, merged)
            with engine.begin() as conn:
                b = conn.execute(select(banks).where(banks.c.name == name)).mappings().first()
                if b is None:
                    _fail(404, f"bank '{name}' not found")
                for st_cls, sigs in by_type.items():
                    st = canonical_type(st_cls.get_name())
                    for sig in sigs:
                        if st is None:
                            continue  # a signal type Netwarden does not bank
                        try:
                            nst, value = normalize(st, sig)
                        except ValueError:
                            continue
                        before = conn.execute(select(bank_entries.c.id).where(
                            bank_entries.c.bank_id == b["id"], bank_entries.c.signal_type == nst,
                            bank_entries.c.signal == value)).first()
                        if before is None:
                            conn.execute(insert(bank_entries).values(
                                bank_id=b["id"], signal_type=nst, signal=value, label="",
                                added_at=datetime.now(UTC).isoformat(timespec="seconds"),
                                meta=json.dumps({"collab": {name: [str(sig)]}})))
                            added += 1
                ckpt = dataclass_json.dataclass_dumps(delta.checkpoint)
                ckpt_ts = delta.checkpoint.get_progress_timestamp()
                conn.execute(update(hma_exchanges).where(hma_exchanges.c.name == name)
                             .values(checkpoint=ckpt, checkpoint_ts=ckpt_ts))
    except hma.HmaError as e:
        error = e.message
    except Exception as e:  # credentials missing, network, the exchange's errors: one sentence, stored
        error = f"{e.__class__.__name__}: {e}"[:500]
    with engine.begin() as conn:
        r = _row(conn, name)
        conn.execute(update(hma_exchanges).where(hma_exchanges.c.name == name).values(
            running_fetch_start_ts=None, last_fetch_complete_ts=int(time.time()), last_fetch_succeeded=error is None,
            last_error=error, fetched_items=int(r["fetched_items"] or 0) + added, up_to_date=error is None))
        audit.append(conn, actor, "exchange.fetch", "exchange", name,
                     {"added": added, "succeeded": error is None, "error": error, "checkpoint_ts": ckpt_ts})
    return {"added": added, "succeeded": error is None, "error": error}


@router.post("/nw/exchange/{exchange_name}/fetch", summary="Netwarden: fetch an exchange now, into its bank")
def exchange_fetch(exchange_name: str, request: Request) -> dict:
    res = fetch(_engine(request), exchange_name, _actor(request))
    return {**res, "status": exchange_status(exchange_name, request)}
