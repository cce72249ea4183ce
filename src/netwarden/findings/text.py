"""Signal kinds found in text: `url_match` (a link matching a bank's entry of any link signal type),
`term_hit` (an operator-listed term) and `off_platform_route` (an invite or file-hosting link)."""

from __future__ import annotations

from collections.abc import Mapping

from .. import signal_types
from .registry import RiskInputs, SignalKind, hashed_key

URL_EXTRA = 5.0  # each further distinct bank entry
URL_CAP = 50.0
TERM_EACH = 4.0  # times the term's weight
TERM_CAP = 20.0
ROUTE_EACH = 3.0
ROUTE_CAP = 6.0


def url_first(detail: Mapping) -> float:
    """Points for an account's first matching link: its signal type's `risk_first` (url 40, domain 25)."""
    t = signal_types.get(str(detail.get("signal_type")))
    return float(getattr(t, "risk_first", signal_types.DOMAIN.risk_first))


def term_key(detail: Mapping) -> str:
    """The identity of the term behind a term_hit signal (its list id, else the term itself)."""
    return str(detail.get("term_id") or detail.get("term"))


def url_risk(inp: RiskInputs) -> list[dict]:
    links: dict[tuple, dict] = {}
    for s in inp.of("url_match"):
        d = s.detail
        links.setdefault((d.get("bank_id"), d.get("entry")), {**d, "subject": f"{s.subject_type} {s.subject_id}"})
    reasons, total = [], 0.0
    ordered = sorted(links.values(), key=lambda d: (-url_first(d), str(d.get("bank")), str(d.get("signal"))))
    for i, d in enumerate(ordered):
        pts = min(url_first(d) if i == 0 else URL_EXTRA, URL_CAP - total)
        if pts <= 0:
            break
        total += pts
        label = f", {d['label']}" if d.get("label") else ""
        reasons.append({"kind": "url_match", "points": round(pts, 1),
                        "text": f"link {d.get('url')} in {d.get('field')} of {d['subject']} matches "
                                f"{d.get('signal_type')} {d.get('signal')} in bank {d.get('bank')}{label}"})
    return reasons


def term_risk(inp: RiskInputs) -> list[dict]:
    terms: dict[str, dict] = {}
    for s in inp.of("term_hit"):
        d = s.detail
        h = terms.setdefault(term_key(d), {"term": d.get("term"), "category": d.get("category"),
                                           "weight": float(s.weight or 1.0), "subjects": []})
        h["subjects"].append(f"{s.subject_type} {s.subject_id}")
    reasons, total = [], 0.0
    for key, h in sorted(terms.items()):
        pts = min(TERM_EACH * h["weight"], TERM_CAP - total)
        if pts <= 0:
            break
        total += pts
        where = ", ".join(h["subjects"][:3]) + (" ..." if len(h["subjects"]) > 3 else "")
        reasons.append({"kind": "term_hit", "points": round(pts, 1), "term": key,
                        "text": f"term {h['term']!s} ({h['category']}) in {where}"})
    return reasons


def route_risk(inp: RiskInputs) -> list[dict]:
    routes: dict[str, dict] = {}
    for s in inp.of("off_platform_route"):
        routes.setdefault(str(s.detail.get("url")), {"route": s.detail.get("route"), "field": s.detail.get("field")})
    reasons, total = [], 0.0
    for url, r in sorted(routes.items()):
        pts = min(ROUTE_EACH, ROUTE_CAP - total)
        if pts <= 0:
            break
        total += pts
        reasons.append({"kind": "off_platform_route", "points": pts, "text": f"{r['route']} link {url} in {r['field']}"})
    return reasons


def describe_url(d: Mapping) -> str:
    return (f"link {d.get('url')} in {d.get('field')} matches {d.get('signal_type')} {d.get('signal')} "
            f"in bank {d.get('bank')}")


def describe_term(d: Mapping) -> str:
    return f"term {d.get('term')!r} ({d.get('category')}) in {d.get('field')}"


def describe_route(d: Mapping) -> str:
    return f"{d.get('route')} link {d.get('url')} in {d.get('field')}"


URL_MATCH = SignalKind("url_match", "link bank match", describe_url, url_risk, prior=1.0,
                                key=hashed_key("url_match"))  # identity: (field, bank_id, entry_id, url)
TERM_HIT = SignalKind("term_hit", "term hit", describe_term, term_risk, prior=1.0,
                               key=hashed_key("term_hit"))  # identity: (field, term_id, start, end, list_version)
OFF_PLATFORM_ROUTE = SignalKind("off_platform_route", "off-platform route", describe_route, route_risk,
                                         prior=1.0, key=hashed_key("route"))  # identity: (field, url)
