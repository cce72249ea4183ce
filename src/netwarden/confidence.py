"""A member's confidence: the share of accounts like it that belonged to the network.

"Like it" means the same core flag and the same band of expansion score relative to the median
score of the case's core (so a case's scale does not matter). Two sources are combined:

- MEASURED: the share on generated worlds with known truth (scripts/calibrate_confidence.py; the
  table below, its worlds named beside it), used as a prior worth at most PRIOR_WEIGHT decisions;
- this platform's own decisions: among decided members (confirmed = in, cleared = not) of every
  case in the same core flag and band.

So "confidence 97%" reads: of the accounts in this band, 97% were in the network (on generated
worlds, then as this platform's reviewers decided). Each estimate says how many decisions it rests
on. It is a statement about similar accounts, not a probability this one is guilty.
"""

from __future__ import annotations

from collections import defaultdict
from statistics import median

from sqlalchemy import select
from sqlalchemy.engine import Connection

from .store.tables_cases import case_members

BANDS = (0.1, 0.25, 0.5, 1.0, 2.0)  # upper edges of score / median core score; the last band is open
PRIOR_WEIGHT = 20  # a measured share counts as at most this many decisions
# (core, band) -> (members, in the network), from scripts/calibrate_confidence.py on 10,000-account
# worlds, seeds 4, 5, 6, three networks of 60-200 each (camouflage 0.3/0.5/0.7), one poster seed per
# network, top 200. Bands with no members there have no prior.
MEASURED: dict[tuple[bool, int], tuple[int, int]] = {
    (False, 1): (395, 0), (False, 2): (260, 0), (False, 3): (2, 2), (True, 1): (14, 0), (True, 3): (560, 560),
    (True, 4): (569, 569),
}


def band(score: float, core_median: float) -> int:
    ratio = float(score) / core_median if core_median > 0 else 0.0
    for i, edge in enumerate(BANDS):
        if ratio <= edge:
            return i
    return len(BANDS)


def band_label(i: int) -> str:
    lo = 0.0 if i == 0 else BANDS[i - 1]
    return f"{lo:g}-{BANDS[i]:g}x the core's median score" if i < len(BANDS) else f"over {BANDS[-1]:g}x the core's median score"


def core_median(members: list[dict]) -> float:
    scores = [float(m["score"]) for m in members if m.get("core") and float(m.get("score") or 0) > 0]
    return median(scores) if scores else 0.0


def decided_counts(conn: Connection) -> dict[tuple[bool, int], tuple[int, int]]:
    """(core, band) -> (decided, confirmed) over every case's confirmed and cleared members."""
    by_case: dict[int, list[dict]] = defaultdict(list)
    for r in conn.execute(select(case_members.c.case_id, case_members.c.score, case_members.c.core,
                                 case_members.c.state)):
        by_case[int(r.case_id)].append({"score": r.score or 0.0, "core": bool(r.core), "state": r.state})
    out: dict[tuple[bool, int], list[int]] = defaultdict(lambda: [0, 0])
    for rows in by_case.values():
        med = core_median(rows)
        for m in rows:
            if m["state"] in ("confirmed", "cleared"):
                c = out[(m["core"], band(m["score"], med))]
                c[0] += 1
                c[1] += m["state"] == "confirmed"
    return {k: (v[0], v[1]) for k, v in out.items()}


def estimate(core: bool, b: int, decided: dict[tuple[bool, int], tuple[int, int]]) -> dict:
    """{"p": share or None, "decisions": n, "measured": n on generated worlds, "text": in words}."""
    n, hits = decided.get((bool(core), b), (0, 0))
    mn, mh = MEASURED.get((bool(core), b), (0, 0))
    w = min(PRIOR_WEIGHT, mn)
    prior_hits = w * (mh / mn) if mn else 0.0
    total = w + n
    if total == 0:
        return {"p": None, "decisions": 0, "measured": 0,
                "text": "no similar account measured or decided yet"}
    p = (prior_hits + hits) / total
    where = [f"{mn} on generated worlds" if mn else "", f"{n} decided here" if n else ""]
    return {"p": p, "decisions": n, "measured": mn,
            "text": f"{p:.0%} of similar accounts ({'core' if core else 'periphery'}, {band_label(b)}) were in "
                    f"the network: {', '.join(x for x in where if x)}"}
