"""Account risk: signals -> a score from 0 to 100 with the reasons that make it up.

Media matches weigh most; then links matching a URL or domain bank; then off-platform contacts, more
so with term hits beside them; then term hits and invite links alone; then network proximity
(membership of a case found from seeds). Every point comes with a reason naming its evidence (bank
and distance, bank entry and link, term and post, contact, case).

`refresh` recomputes the accounts whose signals arrived since the last run (a watermark on the
signals' ids), so scores follow the signals as ingestion adds them; `score` is the pure core.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from .store import schema as t
from .store.tables_cases import account_risk, case_members, cases, term_exceptions
from .store.upsert import upsert

MEDIA_FIRST = 60.0  # an exact match of a banked item; less with PDQ distance
MEDIA_EXTRA = 10.0  # each further distinct banked item
MEDIA_CAP = 80.0
CONTACT_EACH = 4.0
CONTACT_CAP = 8.0
CONTACT_WITH_TERMS = 12.0
TERM_EACH = 4.0  # times the term's weight
TERM_CAP = 20.0
ROUTE_EACH = 3.0
ROUTE_CAP = 6.0
URL_FIRST = {"url": 40.0, "domain": 25.0}  # a link that is in a URL bank / on a banked domain
URL_EXTRA = 5.0  # each further distinct bank entry
URL_CAP = 50.0
PROXIMITY_CORE = 15.0
PROXIMITY_MEMBER = 8.0
PDQ_MAX = 31  # match threshold: distance 31 keeps half the points


@dataclass
class Risk:
    account_id: str
    score: float
    reasons: list[dict] = field(default_factory=list)

    @property
    def kinds(self) -> list[str]:
        return sorted({r["kind"] for r in self.reasons})


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def score(account_id: str, signals: Iterable[dict], contacts: Iterable[dict] = (),
          proximity: Iterable[dict] = ()) -> Risk:
    """Score one account. signals: {kind, subject_type, subject_id, weight, detail: dict};
    contacts: {platform, handle, field}; proximity: {case_id, rank, core}."""
    reasons: list[dict] = []
    media: dict[str, dict] = {}
    terms: dict[str, dict] = {}
    routes: dict[str, dict] = {}
    links: dict[tuple, dict] = {}
    for s in signals:
        d = s.get("detail") or {}
        if s["kind"] == "media_match":
            label = str(d.get("label") or d.get("entry") or s["subject_id"])
            dist = int(d.get("distance") or 0)
            if label not in media or dist < media[label]["distance"]:
                media[label] = {"distance": dist, "bank": d.get("bank"), "media_id": d.get("media_id"),
                                "signal_type": d.get("signal_type")}
        elif s["kind"] == "term_hit":
            key = term_key(d)
            terms.setdefault(key, {"term": d.get("term"), "category": d.get("category"),
                                   "weight": float(s.get("weight") or 1.0), "subjects": []})
            terms[key]["subjects"].append(f"{s['subject_type']} {s['subject_id']}")
        elif s["kind"] == "off_platform_route":
            routes.setdefault(str(d.get("url")), {"route": d.get("route"), "field": d.get("field")})
        elif s["kind"] == "url_match":
            links.setdefault((d.get("bank_id"), d.get("entry")), {**d, "subject": f"{s['subject_type']} {s['subject_id']}"})
    media_pts = 0.0
    for i, (label, m) in enumerate(sorted(media.items(), key=lambda kv: kv[1]["distance"])):
        if i == 0:
            pts = MEDIA_FIRST * (1 - 0.5 * min(m["distance"], PDQ_MAX) / PDQ_MAX)
        else:
            pts = MEDIA_EXTRA
        pts = min(pts, MEDIA_CAP - media_pts)
        if pts <= 0:
            break
        media_pts += pts
        reasons.append({"kind": "media_match", "points": round(pts, 1), "media_id": m["media_id"],
                        "text": f"media {m['media_id']} matches {label} in bank {m['bank']} "
                                f"({m['signal_type']} distance {m['distance']})"})
    url_pts = 0.0
    ordered = sorted(links.values(), key=lambda d: (d.get("signal_type") != "url", str(d.get("bank")), str(d.get("signal"))))
    for i, d in enumerate(ordered):
        pts = min(URL_FIRST.get(str(d.get("signal_type")), URL_FIRST["domain"]) if i == 0 else URL_EXTRA, URL_CAP - url_pts)
        if pts <= 0:
            break
        url_pts += pts
        label = f", {d['label']}" if d.get("label") else ""
        reasons.append({"kind": "url_match", "points": round(pts, 1),
                        "text": f"link {d.get('url')} in {d.get('field')} of {d['subject']} matches "
                                f"{d.get('signal_type')} {d.get('signal')} in bank {d.get('bank')}{label}"})
    term_pts = 0.0
    for key, h in sorted(terms.items()):
        pts = min(TERM_EACH * h["weight"], TERM_CAP - term_pts)
        if pts <= 0:
            break
        term_pts += pts
        where = ", ".join(h["subjects"][:3]) + (" ..." if len(h["subjects"]) > 3 else "")
        reasons.append({"kind": "term_hit", "points": round(pts, 1), "term": key,
                        "text": f"term {h['term']!s} ({h['category']}) in {where}"})
    contacts = list(contacts)
    c_pts = 0.0
    for c in contacts:
        pts = min(CONTACT_EACH, CONTACT_CAP - c_pts)
        if pts <= 0:
            break
        c_pts += pts
        reasons.append({"kind": "contact", "points": pts,
                        "text": f"off-platform contact {c['platform']}:{c['handle']} in {c['field']}"})
    if contacts and terms:
        reasons.append({"kind": "contact", "points": CONTACT_WITH_TERMS,
                        "text": "off-platform contact together with term hits"})
    r_pts = 0.0
    for url, r in sorted(routes.items()):
        pts = min(ROUTE_EACH, ROUTE_CAP - r_pts)
        if pts <= 0:
            break
        r_pts += pts
        reasons.append({"kind": "off_platform_route", "points": pts,
                        "text": f"{r['route']} link {url} in {r['field']}"})
    best = None
    for p in proximity:
        pts = PROXIMITY_CORE if p.get("core") else PROXIMITY_MEMBER
        if best is None or pts > best["points"]:
            best = {"kind": "proximity", "points": pts, "case_id": p["case_id"],
                    "text": f"{'core ' if p.get('core') else ''}member of case {p['case_id']} (rank {p['rank']})"}
    if best:
        reasons.append(best)
    total = min(100.0, sum(r["points"] for r in reasons))
    reasons.sort(key=lambda r: -r["points"])
    return Risk(account_id, round(total, 1), reasons)


def term_key(detail: dict) -> str:
    """The identity of the term behind a term_hit signal (its list id, else the term itself)."""
    return str(detail.get("term_id") or detail.get("term"))


def _inputs(conn: Connection, ids: list[str], link_bank) -> tuple[dict, dict, dict, dict]:
    sigs: dict[str, list[dict]] = defaultdict(list)
    last: dict[str, int] = defaultdict(int)
    q = select(t.signals.c.id, t.signals.c.account_id, t.signals.c.kind, t.signals.c.subject_type,
               t.signals.c.subject_id, t.signals.c.weight, t.signals.c.detail)
    excepted = set(conn.execute(select(term_exceptions.c.account_id, term_exceptions.c.term_id)
                                .where(term_exceptions.c.account_id.in_(ids))).all())
    for r in conn.execute(q.where(t.signals.c.account_id.in_(ids))):
        last[r.account_id] = max(last[r.account_id], r.id)
        if r.kind == "media_match" and r.subject_type != "account":
            continue  # the same match is also recorded on the account; count it once
        detail = json.loads(r.detail or "{}")
        if r.kind == "term_hit" and (r.account_id, term_key(detail)) in excepted:
            continue  # cleared by a reviewer as a false positive for this account
        if r.kind == "url_match" and any(meta.negative for *_, meta in link_bank().match(str(detail.get("url")))):
            continue  # a negative bank holds the link now (e.g. cleared in review): kept as evidence only
        sigs[r.account_id].append({"kind": r.kind, "subject_type": r.subject_type, "subject_id": r.subject_id,
                                   "weight": r.weight, "detail": detail})
    cons: dict[str, list[dict]] = defaultdict(list)
    for r in conn.execute(select(t.contacts).where(t.contacts.c.account_id.in_(ids))):
        key = (r.platform, r.handle)
        if all((c["platform"], c["handle"]) != key for c in cons[r.account_id]):
            cons[r.account_id].append({"platform": r.platform, "handle": r.handle, "field": r.field})
    prox: dict[str, list[dict]] = defaultdict(list)
    q = (select(case_members.c.account_id, case_members.c.case_id, case_members.c.rank, case_members.c.core)
         .join(cases, cases.c.id == case_members.c.case_id)
         .where(case_members.c.account_id.in_(ids), cases.c.state == "open",
                case_members.c.state != "cleared"))
    for r in conn.execute(q):
        prox[r.account_id].append({"case_id": r.case_id, "rank": r.rank, "core": bool(r.core)})
    return sigs, cons, prox, last


def recompute(conn: Connection, account_ids: Iterable[str], chunk: int = 500) -> int:
    """Recompute and store the risk of these accounts; returns how many were written."""
    ids = sorted(set(account_ids))
    n = 0
    loaded: list = []

    def link_bank():
        """The enabled banks' link entries as ingestion matches them, read once per recompute when needed."""
        if not loaded:
            from .ingest.text_signals import LinkBanks
            from .text.urls import UrlBank

            loaded.append(LinkBanks().refresh(conn) or UrlBank())
        return loaded[0]

    for i in range(0, len(ids), chunk):
        part = ids[i:i + chunk]
        sigs, cons, prox, last = _inputs(conn, part, link_bank)
        rows = []
        for a in part:
            r = score(a, sigs.get(a, ()), cons.get(a, ()), prox.get(a, ()))
            rows.append({"account_id": a, "score": r.score, "reasons": json.dumps(r.reasons, ensure_ascii=False),
                         "kinds": "," + ",".join(r.kinds) + ",", "last_signal_id": last.get(a, 0),
                         "updated_at": _now()})
        if rows:
            upsert(conn, account_risk, rows, ["account_id"],
                   ["score", "reasons", "kinds", "last_signal_id", "updated_at"])
            n += len(rows)
            # cases showing these accounts show their new scores
            conn.execute(update(cases).where(cases.c.id.in_(
                select(case_members.c.case_id).where(case_members.c.account_id.in_(part)).distinct()))
                .values(version=cases.c.version + 1))
    return n


def refresh(conn: Connection) -> int:
    """Recompute every account with signals newer than the last refresh (all of them the first time)."""
    mark = conn.execute(select(func.coalesce(func.max(account_risk.c.last_signal_id), 0))).scalar_one()
    q = select(t.signals.c.account_id).where(t.signals.c.id > mark, t.signals.c.account_id.is_not(None)).distinct()
    ids = [r[0] for r in conn.execute(q)]
    if mark == 0:  # first run: accounts with contacts but no signals count too
        ids += [r[0] for r in conn.execute(select(t.contacts.c.account_id).distinct())]
    return recompute(conn, ids)


def get(conn: Connection, account_id: str) -> Risk:
    r = conn.execute(select(account_risk).where(account_risk.c.account_id == account_id)).first()
    if r is None:
        return Risk(account_id, 0.0, [])
    return Risk(account_id, r.score, json.loads(r.reasons))
