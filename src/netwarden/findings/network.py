"""Reason kinds that are not stored as signals: `contact` (off-platform contacts, from the contacts
table) and `proximity` (membership of an open case found from seeds). They score and filter the
queue like the stored kinds; their inputs come from netwarden.risk."""

from __future__ import annotations

from collections.abc import Mapping

from .registry import RiskInputs, SignalKind

CONTACT_EACH = 4.0
CONTACT_CAP = 8.0
CONTACT_WITH_TERMS = 12.0
PROXIMITY_CORE = 15.0
PROXIMITY_MEMBER = 8.0


def contact_risk(inp: RiskInputs) -> list[dict]:
    reasons, total = [], 0.0
    for c in inp.contacts:
        pts = min(CONTACT_EACH, CONTACT_CAP - total)
        if pts <= 0:
            break
        total += pts
        reasons.append({"kind": "contact", "points": pts, "text": describe_contact(c)})
    if inp.contacts and inp.of("term_hit"):
        reasons.append({"kind": "contact", "points": CONTACT_WITH_TERMS,
                        "text": "off-platform contact together with term hits"})
    return reasons


def proximity_risk(inp: RiskInputs) -> list[dict]:
    best = None
    for p in inp.proximity:
        pts = PROXIMITY_CORE if p.get("core") else PROXIMITY_MEMBER
        if best is None or pts > best["points"]:
            best = {"kind": "proximity", "points": pts, "case_id": p["case_id"], "text": describe_proximity(p)}
    return [best] if best else []


def describe_contact(c: Mapping) -> str:
    return f"off-platform contact {c.get('platform')}:{c.get('handle')} in {c.get('field')}"


def describe_proximity(p: Mapping) -> str:
    return f"{'core ' if p.get('core') else ''}member of case {p.get('case_id')} (rank {p.get('rank')})"


CONTACT = SignalKind("contact", "off-platform contact", describe_contact, contact_risk, prior=0.0,
                              stored=False)
PROXIMITY = SignalKind("proximity", "case proximity", describe_proximity, proximity_risk, prior=0.0,
                                stored=False)
