"""Request bodies of the HMA-compatible API as pydantic models: what the OpenAPI document shows is
what is validated. A bad value is a 422 whose message names the field; nothing is stored.

Field names and types follow OpenMediaMatch's documented API (its schemas and route docs), with
Netwarden's own bank settings (threshold, negative, label) as optional extra fields.
"""

from __future__ import annotations

import re
import time
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

BANK_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")  # HMA's bank names
EXCHANGE_BANK_NAME = re.compile(r"^[A-Z0-9_]+$")  # HMA's rule for POST /c/exchanges
NOTE_MAX = 255
# A bank's threshold, per signal type that uses it: PDQ bits, and vPDQ's per-frame PDQ bits. Above
# 128 bits two unrelated PDQ hashes match more often than not. MD5 / SHA-256 are exact (no threshold).
THRESHOLD_BOUNDS = {"pdq": (0, 128), "vpdq": (0, 128)}
FIVE_YEARS = 5 * 365 * 24 * 3600


def check_bank_name(v: str | None) -> str | None:
    if v is not None and (len(v) > 100 or not BANK_NAME.match(v)):
        raise ValueError(f"bank name {v[:120]!r} must match [A-Z_][A-Z0-9_]* (upper case letters, digits, "
                         "underscores; not starting with a digit), at most 100 characters")
    return v


def check_threshold(v: int | None) -> int | None:
    if v is None:
        return v
    for st, (lo, hi) in THRESHOLD_BOUNDS.items():
        if not lo <= v <= hi:
            raise ValueError(f"threshold {v} is out of range for {st}: use {lo}-{hi} bits (default 31)")
    return v


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def check_ratio(v: float | None) -> float | None:
    """matching_enabled_ratio: a number or a numeric string (Coop sends "0"), 0..1."""
    if v is not None and not 0.0 <= v <= 1.0:
        raise ValueError(f"enabled_ratio {v} must be between 0 and 1")
    return v


class BankCreate(_Strict):
    name: str = Field(..., description="Bank name, [A-Z_][A-Z0-9_]*")
    enabled_ratio: float | None = Field(None, description="matching_enabled_ratio 0..1 (number or numeric string); "
                                        "default 1", validation_alias=AliasChoices("enabled_ratio",
                                                                                   "matching_enabled_ratio"))
    enabled: bool | None = Field(None, description="true = ratio 1, false = ratio 0 (when enabled_ratio is absent)")
    threshold: int | None = Field(None, description="Netwarden: PDQ / vPDQ frame distance in bits, 0-128 "
                                  "(default 31)")
    negative: StrictBool | None = Field(None, description="Netwarden: a bank of known false positives")
    label: str | None = Field(None, max_length=200, description="Netwarden: a label copied onto matches")

    _name = field_validator("name")(check_bank_name)
    _threshold = field_validator("threshold")(check_threshold)
    _ratio = field_validator("enabled_ratio")(check_ratio)


class BankUpdate(_Strict):
    name: str | None = Field(None, description="New name (rename), [A-Z_][A-Z0-9_]*")
    enabled_ratio: float | None = Field(None, description="matching_enabled_ratio 0..1", validation_alias=AliasChoices(
        "enabled_ratio", "matching_enabled_ratio"))
    enabled: bool | None = Field(None, description="true = ratio 1, false = ratio 0")
    threshold: int | None = Field(None, description="Netwarden: PDQ / vPDQ distance in bits, 0-128")
    negative: StrictBool | None = Field(None, description="Netwarden: a bank of known false positives")
    label: str | None = Field(None, max_length=200, description="Netwarden: a label copied onto matches")

    _name = field_validator("name")(check_bank_name)
    _threshold = field_validator("threshold")(check_threshold)
    _ratio = field_validator("enabled_ratio")(check_ratio)


class ContentMetadata(_Strict):
    """HMA's banked content metadata (all optional)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    content_id: str | None = Field(None, max_length=1000)
    content_uri: str | None = Field(None, max_length=4000)
    json_data: dict[str, Any] | None = Field(None, alias="json")


class ContentAdd(_Strict):
    """JSON body of POST /c/bank/NAME/content (the media comes by ?url= or as a multipart upload)."""

    metadata: ContentMetadata | None = None
    note: str | None = Field(None, max_length=NOTE_MAX)


class ContentUpdate(_Strict):
    disable_until_ts: int | None = Field(None, description="Unix time; not matched by the HMA API before it")
    note: str | None = Field(None, max_length=NOTE_MAX, description="'' clears it")

    @field_validator("disable_until_ts")
    @classmethod
    def _ts(cls, v):
        if v is not None and v < 0:
            raise ValueError("disable_until_ts must be a non-negative integer")
        if v is not None and v > time.time() + FIVE_YEARS:
            raise ValueError("disable_until_ts must be less than 5 years in the future")
        return v


class ExchangeCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    bank: str = Field(..., description="Bank (and exchange) name, [A-Z0-9_]+")
    api: str = Field(..., description="Exchange type, one of GET /c/exchanges/apis")
    api_json: dict[str, Any] = Field(default_factory=dict, description="The exchange type's settings")

    @field_validator("bank")
    @classmethod
    def _bank(cls, v):
        if len(v) > 100 or not EXCHANGE_BANK_NAME.match(v):
            raise ValueError("bank must match /^[A-Z0-9_]+$/, at most 100 characters")
        return v


class ExchangeUpdate(_Strict):
    enabled: bool | None = None


class ExchangeCredentials(BaseModel):
    model_config = ConfigDict(extra="ignore")
    credential_json: dict[str, Any] | None = None


class SignalTypeUpdate(_Strict):
    enabled_ratio: float

    _ratio = field_validator("enabled_ratio")(check_ratio)


class SignalAdd(BaseModel):
    """POST /c/bank/NAME/signal: {signal_type: signal, ..., "note": "..."}."""

    model_config = ConfigDict(extra="allow")
    note: str | None = Field(None, max_length=NOTE_MAX)

    @model_validator(mode="after")
    def _signals(self):
        extra = self.model_extra or {}
        if not extra:
            raise ValueError("give at least one {signal_type: signal} pair")
        for k, v in extra.items():
            if not isinstance(v, str):
                raise ValueError(f"{k}: the signal must be a string")
        return self

    def signals(self) -> dict[str, str]:
        return dict(self.model_extra or {})
