"""User reports as a reason kind: `user_report`, weighted by the reporter's credibility.

A report is not stored as a signal: its weight depends on what happened to the reporter's other
reports (a reporter whose reports are repeatedly cleared counts less, a trusted flagger more), which
changes after the report arrives. netwarden.risk reads the open reports on an account and their
reporters' records from the `reports` table (docs/reports.md) and hands them here.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..model import CHILD_SAFETY  # the child-safety categories of the report vocabulary
from .registry import RiskInputs, SignalKind

BASE_WEIGHT = {"trusted_flagger": 2.0, "automated": 1.0, "account": 1.0, "anonymous": 0.5}
MAX_WEIGHT = {"trusted_flagger": 3.0, "automated": 1.5, "account": 2.0, "anonymous": 1.0}
MIN_WEIGHT = 0.1
CHILD_SAFETY_POINTS = 15.0  # times the reporter's weight
OTHER_POINTS = 3.0
REPORT_CAP = 30.0
CLEARED = ("no_violation",)  # outcomes that count against the reporter
UPHELD = ("actioned",)
NOT_COUNTED = ("no_violation", "duplicate")  # a report with this outcome adds no risk


def credibility(reporter_kind: str, upheld: int = 0, cleared: int = 0) -> tuple[float, str]:
    """The weight of one reporter's reports and why: the kind's base weight times
    2 (upheld + 1) / (upheld + cleared + 2) (1 for a reporter with no resolved reports; below 1 when more
    were cleared than upheld), between MIN_WEIGHT and the kind's maximum. `upheld` and
    `cleared` count the reporter's other reports resolved as actioned and as no violation."""
    base = BASE_WEIGHT.get(reporter_kind, 1.0)
    w = base * 2 * (upheld + 1) / (upheld + cleared + 2)
    w = round(min(MAX_WEIGHT.get(reporter_kind, 2.0), max(MIN_WEIGHT, w)), 2)
    who = reporter_kind.replace("_", " ")
    if upheld or cleared:
        why = f"{who}, {upheld} earlier report(s) upheld, {cleared} cleared"
    else:
        why = f"{who}, no earlier resolved reports"
    return w, why


def describe_report(d: Mapping) -> str:
    by = d.get("reporter_id") or d.get("reporter_kind")
    return (f"user report {d.get('id')} ({d.get('category')}) by {by}: weight {d.get('weight', 1.0)}"
            f" ({d.get('credibility', d.get('reporter_kind'))})")


def report_risk(inp: RiskInputs) -> list[dict]:
    reasons, total = [], 0.0
    ordered = sorted(inp.reports, key=lambda d: (d.get("category") not in CHILD_SAFETY, -float(d.get("weight", 1.0)),
                                                 str(d.get("id"))))
    for d in ordered:
        if d.get("outcome") in NOT_COUNTED:
            continue
        each = CHILD_SAFETY_POINTS if d.get("category") in CHILD_SAFETY else OTHER_POINTS
        pts = round(min(each * float(d.get("weight", 1.0)), REPORT_CAP - total), 1)
        if pts <= 0:
            break
        total += pts
        reasons.append({"kind": "user_report", "points": pts, "report_id": d.get("id"), "text": describe_report(d)})
    return reasons


USER_REPORT = SignalKind("user_report", "user report", describe_report, report_risk, prior=0.0, stored=False)
