"""`ban_evasion`: an account created after a suspension that matches the suspended account's watch
list (netwarden.graph.evasion), written by the stream worker as the signup arrives and by
`netwarden evasion --propose`."""

from __future__ import annotations

from collections.abc import Mapping

from .registry import RiskInputs, SignalKind, hashed_key

EVASION_POINTS = 12.0  # at a link score of 2 or more (two identifiers); less below


def evasion_risk(inp: RiskInputs) -> list[dict]:
    best = max(inp.of("ban_evasion"), key=lambda s: float(s.detail.get("score", 0)), default=None)
    if best is None:
        return []
    pts = round(EVASION_POINTS * min(1.0, float(best.detail.get("score", 0)) / 2.0), 1)
    return [{"kind": "ban_evasion", "points": pts, "text": describe_evasion(best.detail)}] if pts > 0 else []


def describe_evasion(d: Mapping) -> str:
    reasons = "; ".join(d.get("reasons") or []) or "matching identifiers"
    return f"may be suspended account {d.get('suspended_account')} again (score {d.get('score')}): {reasons}"


# identity: (suspended account,)
BAN_EVASION = SignalKind("ban_evasion", "ban evasion", describe_evasion, evasion_risk, prior=1.0,
                         key=hashed_key("ban_evasion"))
