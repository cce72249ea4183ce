"""Coop's report API shape (roostorg/coop `POST /api/v1/report`) -> a native `report` event.

A platform that already sends its user flags to Coop can send the same JSON to Netwarden (the HTTP
intake in web/routes_intake.py) or save it as JSON Lines for `netwarden report-intake --format coop`.
The body, as Coop documents it:

    {"reporter": {"kind": "user", "typeId": "...", "id": "..."},
     "reportedAt": "2024-01-15T10:30:00.000Z",
     "reportedForReason": {"policyId": "...", "reason": "free text", "csam": false},
     "reportedItem": {"id": "...", "typeId": "...", "data": {...}},
     "reportedItemThread": [...], "reportedItemsInThread": [{"id": "...", "typeId": "..."}],
     "additionalItems": [...]}

Mapping (docs/reports.md): a reported item whose `data.creatorId` names its author (Coop's related-item
`{"id", "typeId"}`) is a post of that account; any other item (or one whose type id is listed in
NETWARDEN_COOP_USER_TYPES) is the account itself. `reportedItemsInThread` are reported posts too.
`csam: true` is the category child_sexual_exploitation; a `policyId` that is one of Netwarden's
categories is that category, any other is kept in `rules` (category `other`). A `rule` reporter is
`automated`. Coop assigns the report id itself and the body has none, so the id is the client's
`Idempotency-Key` when it sends one, else a hash of the body: the same report sent twice is one report.
Media URLs in `data.images` are never fetched (the post's media come from the platform's events).
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import limits as L
from ..config import Settings
from ..model import REPORT_CATEGORIES
from .events import BadRecord

_ID = Field(min_length=1, max_length=L.ID)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Reporter(_Model):
    kind: Literal["user", "rule"]
    id: str = _ID
    typeId: str | None = Field(default=None, max_length=200)


class Reason(_Model):
    policyId: str | None = Field(default=None, max_length=L.SHORT)
    reason: str | None = Field(default=None, max_length=L.TEXT)
    csam: bool | None = None


class TypeSelector(_Model):
    id: str = Field(min_length=1, max_length=200)


class Item(_Model):
    id: str = _ID
    typeId: str | None = Field(default=None, max_length=200)
    type: TypeSelector | None = None
    data: dict[str, Any]

    def type_id(self) -> str | None:
        return self.typeId or (self.type.id if self.type else None)


class ItemId(_Model):
    id: str = _ID
    typeId: str = Field(max_length=200)


class CoopReport(_Model):
    reporter: Reporter
    reportedAt: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
    reportedForReason: Reason | None = None
    reportedItem: Item
    reportedItemThread: list[dict[str, Any]] = Field(default_factory=list, max_length=L.LIST)
    reportedItemsInThread: list[ItemId] = Field(default_factory=list, max_length=L.LIST)
    additionalItems: list[dict[str, Any]] = Field(default_factory=list, max_length=L.LIST)


def first_error(e: ValidationError) -> str:
    """One sentence for the first problem of a body, naming the field."""
    err = e.errors()[0]
    loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-")) or "body"
    return f"field {loc}: {err['msg']}"


def parse(body: Any) -> CoopReport:
    if not isinstance(body, dict):
        raise BadRecord(f"a Coop report must be a JSON object, not {type(body).__name__}")
    try:
        return CoopReport.model_validate(body)
    except ValidationError as e:
        raise BadRecord(first_error(e)) from None


def report_id(body: Any, key: str | None = None) -> str:
    if key:
        if len(key) > 100:
            raise BadRecord("the Idempotency-Key header is longer than 100 characters")
        return f"coop:{key}"
    return "coop:" + hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def _author(item: Item) -> str | None:
    creator = item.data.get("creatorId")
    if isinstance(creator, dict):
        creator = creator.get("id")
    if creator is not None and (not isinstance(creator, str) or not 0 < len(creator) <= 128):
        raise BadRecord("field reportedItem.data.creatorId must be a related item {id, typeId} with an id of 1-128 characters")
    return creator


def to_report_event(body: Any, key: str | None = None, user_types: tuple[str, ...] | frozenset[str] = ()) -> dict:
    """The native `report` event of one body; `user_types` (the coop_user_types setting) are the item
    types that are accounts."""
    r = parse(body)
    rid = report_id(body, key)
    item = r.reportedItem
    author = None if item.type_id() in user_types else _author(item)
    posts = [item.id] if author else []
    posts += [i.id for i in r.reportedItemsInThread if i.id not in posts]
    reason = r.reportedForReason or Reason()
    rules = []
    if reason.csam:
        category = "child_sexual_exploitation"
    elif reason.policyId in REPORT_CATEGORIES:
        category = reason.policyId
    else:
        category = "other"
    if reason.policyId and reason.policyId != category:
        rules.append(f"coop-policy:{reason.policyId}")
    lang = item.data.get("lang") or item.data.get("language")
    data = {"id": rid, "account_id": author or item.id, "category": category,
            "reporter_kind": "account" if r.reporter.kind == "user" else "automated",
            "reporter_id": r.reporter.id if r.reporter.kind == "user" else f"coop-rule:{r.reporter.id}",
            "posts": posts, "rules": rules, "comment": reason.reason or "", "created_at": r.reportedAt,
            "source": "coop"}
    if isinstance(lang, str) and 0 < len(lang) <= 20:
        data["lang"] = lang
    return {"v": 1, "id": rid, "kind": "report", "time": r.reportedAt, "data": data}


# -- the `coop` input format (JSON Lines of report bodies) --------------------------------------------
def sniff(rec: Any) -> bool:
    return isinstance(rec, dict) and "reportedItem" in rec and "reporter" in rec


def to_events(rec: Any, *, settings: Settings | None = None) -> list[dict]:
    return [to_report_event(rec, user_types=(settings or Settings()).coop_user_types)]
