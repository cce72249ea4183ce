"""The Signal type and the registry of signal kinds.

A signal is one finding about one subject (an account, a post or a media): a bank match, a term
hit, a link. Its kind is registered once here, with everything the rest of the system needs to
know about it:

- `key`: how its idempotency key is made (ingest, the stream and Spark write the same finding
  once, whoever finds it first);
- `risk`: its contribution to an account's risk score (netwarden.risk sums the kinds' reasons);
- `prior`: its weight in the graph priors (netwarden.graph.expand, scale.spark_graph);
- `label`: how the review queue's filter names it;
- `describe`: how one stored signal reads in words (case members' reasons, the account page).

Writers build `Signal`s and call `rows()`; a kind that is not registered cannot be written.
Readers (risk, priors, queue, web pages) iterate `kinds()`, so a new kind counts everywhere.
Two reason kinds that are not stored as signals (`contact`, from the contacts table, and
`proximity`, from case membership) are registered with `stored=False`: they score and filter
like the others. See docs/architecture.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

KEY_MAX = 300  # signals.key column width


@dataclass(frozen=True, slots=True)
class Signal:
    """One finding about one subject. `identity` is what makes it this finding (the bank entry, the
    term and its span, the link) and goes into its key; `detail` is what explains it."""

    kind: str
    subject_type: str
    subject_id: str
    account_id: str | None
    weight: float
    detail: Mapping = field(default_factory=dict)
    identity: tuple = ()

    @classmethod
    def of(cls, s: Signal | Mapping) -> Signal:
        """A Signal from a stored row or a plain dict with kind, subject_type, subject_id, weight, detail."""
        if isinstance(s, Signal):
            return s
        return cls(s["kind"], s.get("subject_type") or "", s.get("subject_id") or "", s.get("account_id"),
                   float(s["weight"]) if s.get("weight") is not None else 1.0, s.get("detail") or {})

    @property
    def key(self) -> str:
        k = get(self.kind)
        if k.key is None:
            raise ValueError(f"signal kind {self.kind!r} is derived from other tables and is never stored")
        return k.key(self)[:KEY_MAX]

    def row(self, now: str) -> dict:
        """The `signals` table row (insert-or-ignore on `key`)."""
        return {"key": self.key, "account_id": self.account_id or None, "subject_type": self.subject_type,
                "subject_id": self.subject_id, "kind": self.kind, "weight": self.weight,
                "detail": json.dumps(self.detail, sort_keys=True, ensure_ascii=False), "created_at": now}


def hashed_key(prefix: str) -> Callable[[Signal], str]:
    """`prefix:subject_type:subject_id:<24 hex of sha1 over the identity>`: the scheme for any new kind."""
    def key(s: Signal) -> str:
        h = hashlib.sha1("\x1f".join(str(p) for p in s.identity).encode("utf-8", "surrogatepass")).hexdigest()[:24]
        return f"{prefix}:{s.subject_type}:{s.subject_id}:{h}"
    return key


def per_media_key(prefix: str) -> Callable[[Signal], str]:
    """`prefix:<identity but the media id>:subject_type:subject_id[:media id]` for kinds recorded on a
    media, its post and its account (identity ends with the media id). Kept for the media kinds whose
    stored rows already use it: changing a key would store every finding again on the next rescan."""
    def key(s: Signal) -> str:
        *head, media_id = s.identity
        tail = f":{media_id}" if s.subject_type != "media" else ""
        return ":".join([prefix, *map(str, head), s.subject_type, s.subject_id]) + tail
    return key


@dataclass
class RiskInputs:
    """What one account's risk is computed from: its signals by kind, its contacts, its case memberships and the
    user reports on it (each with its reporter's credibility weight)."""

    signals: dict[str, list[Signal]]
    contacts: list[dict]
    proximity: list[dict]
    reports: list[dict] = field(default_factory=list)  # open reports on the account, with their weight

    def of(self, kind: str) -> list[Signal]:
        return self.signals.get(kind, [])


@dataclass(frozen=True)
class SignalKind:
    name: str
    label: str  # the queue filter's name for it
    describe: Callable[[Mapping], str]  # one signal's detail in words
    risk: Callable[[RiskInputs], list[dict]]  # reasons {kind, points, text, ...} for one account
    prior: float  # graph prior: factor on the summed weights of the account's rows (0: not a prior)
    key: Callable[[Signal], str] | None = None  # its idempotency key scheme (hashed_key, per_media_key)
    stored: bool = True  # False: a reason kind computed from other tables, never written as a signal
    per_media: bool = False  # recorded on the media, its post and its account: risk reads the account row

    def __post_init__(self) -> None:
        if self.stored == (self.key is None):
            raise ValueError(f"signal kind {self.name!r}: a stored kind declares a key scheme, a derived one none")


_KINDS: dict[str, SignalKind] = {}


def register(kind: SignalKind) -> SignalKind:
    """Register a kind (once: a second registration of the same name is an error)."""
    if kind.name in _KINDS:
        raise ValueError(f"signal kind {kind.name!r} is already registered")
    _KINDS[kind.name] = kind
    return kind


def get(name: str) -> SignalKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise KeyError(f"signal kind {name!r} is not registered in netwarden.findings") from None


def kinds(stored: bool | None = None) -> list[SignalKind]:
    """Every registered kind in registration order (the order reasons tie in and the queue lists them)."""
    return [k for k in _KINDS.values() if stored is None or k.stored == stored]


def prior_factors() -> dict[str, float]:
    """kind -> factor, for the stored kinds that feed the graph priors."""
    return {k.name: k.prior for k in kinds(stored=True) if k.prior > 0}


def describe(kind: str, detail: Mapping) -> str:
    k = _KINDS.get(kind)
    return k.describe(detail) if k is not None else kind


def rows(signals: Iterable[Signal], now: str) -> list[dict]:
    return [s.row(now) for s in signals]


def on_media(kind: str, media: Mapping, weight: float, detail: Mapping, identity: tuple) -> list[Signal]:
    """One finding about a media, recorded on the media, its post (if any) and its account (if any)."""
    mid = media["id"]
    subjects = [("media", mid)]
    if media.get("post_id"):
        subjects.append(("post", media["post_id"]))
    if media.get("account_id"):
        subjects.append(("account", media["account_id"]))
    return [Signal(kind, st, sid, media.get("account_id"), weight, detail, (*identity, mid)) for st, sid in subjects]
