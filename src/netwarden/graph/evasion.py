"""Ban evasion: link accounts created after a suspension to the suspended account they replace.

Evidence, each with its own weight, for a (new, suspended) pair where the new account was created
after the suspension (within ``WINDOW_DAYS``):

- the same off-platform handle (weighted by 1 / number of accounts showing it: a network's shared
  handle says "same network", a personal one says "same person");
- the same avatar image (SHA-256, or PDQ within ``AVATAR_PDQ``; stock avatars shared by many ignored);
- overlap of followed accounts (MinHash LSH over followed sets, exact Jaccard for candidates);
- username similarity; shared rare hashtags.

A new account's candidates are ranked by total evidence; a link is reported when the best score
reaches ``LINK_THRESHOLD`` (two independent identifiers, or one personal handle plus anything).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from difflib import SequenceMatcher

from sqlalchemy import text

WINDOW_DAYS = 60
AVATAR_PDQ = 31
FOLLOW_JACCARD = 0.3
LINK_THRESHOLD = 1.25
WEIGHTS = {"handle": 1.0, "avatar": 1.0, "follows": 1.5, "username": 0.3, "hashtags": 0.3}


@dataclass
class EvasionLink:
    new_account: str
    suspended_account: str
    score: float
    rank: int
    evidence: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"new_account": self.new_account, "suspended_account": self.suspended_account,
                "score": round(self.score, 4), "rank": self.rank, "evidence": self.evidence}


def _t(s: str | None) -> datetime | None:
    if not s:
        return None
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass
class EvasionInputs:
    """What evasion linking reads from the store: suspended accounts, newer accounts and their identifiers."""

    susp: dict[str, tuple[datetime | None, str]]  # suspended account -> (suspension time, handle)
    newer: dict[str, tuple[datetime | None, str]]  # account created after a suspension -> (created, handle)
    handles: dict[str, set[str]]  # account -> "platform:handle" off-platform contacts
    handle_count: dict[str, int]  # "platform:handle" -> accounts showing it
    avatars: dict[str, tuple[str | None, str | None]]  # account -> (avatar sha256 or uri, avatar PDQ)
    avatar_count: dict[str, int]
    follows: dict[str, set[str]]
    tags: dict[str, set[str]]


def load_inputs(store) -> EvasionInputs | None:
    """Read the identifiers of suspended accounts and of accounts created after a suspension."""
    with store.engine.connect() as conn:
        susp = {a: (_t(st), h) for a, st, h in conn.execute(text(
            "SELECT id, state_time, handle_lc FROM accounts WHERE state = 'suspended'"))}
        if not susp:
            return None
        first = min((t for t, _ in susp.values() if t), default=None)
        if first is None:
            return None
        newer = {a: (_t(c), h) for a, c, h in conn.execute(text(
            "SELECT id, created_at, handle_lc FROM accounts WHERE state != 'suspended' AND created_at >= :t"),
            {"t": first.strftime("%Y-%m-%dT%H:%M:%SZ")})}
        involved = set(susp) | set(newer)
        handles: dict[str, set[str]] = defaultdict(set)
        handle_count: dict[str, int] = defaultdict(int)
        for a, key in conn.execute(text("SELECT DISTINCT account_id, platform || ':' || handle FROM contacts")):
            handle_count[key] += 1
            if a in involved:
                handles[a].add(key)
        avatars: dict[str, tuple[str | None, str | None]] = {}
        avatar_count: dict[str, int] = defaultdict(int)
        for a, sha, pdq in conn.execute(text(
                "SELECT a.id, COALESCE(m.sha256, m.uri), h.pdq FROM accounts a LEFT JOIN media m ON m.id = a.avatar_media_id "
                "LEFT JOIN media_hashes h ON h.media_id = a.avatar_media_id WHERE a.avatar_media_id IS NOT NULL")):
            if sha:
                avatar_count[sha] += 1
            if a in involved:
                avatars[a] = (sha, pdq)
        follows: dict[str, set[str]] = defaultdict(set)
        for s, d in conn.execute(text("SELECT src, dst FROM follows WHERE state = 'active' UNION "
                                      "SELECT src, dst FROM follow_requests WHERE state IN ('approved','pending')")):
            if s in involved:
                follows[s].add(d)
        tags: dict[str, set[str]] = defaultdict(set)
        for a, tag in conn.execute(text("SELECT DISTINCT p.author_id, h.tag FROM post_hashtags h JOIN posts p ON p.id = h.post_id")):
            if a in involved:
                tags[a].add(tag)
    return EvasionInputs(susp, newer, handles, handle_count, avatars, avatar_count, follows, tags)


def score_pair(n: str, s: str, inp: EvasionInputs) -> EvasionLink | None:
    """The evidence that new account `n` is suspended account `s` again, or None (none, or outside the window)."""
    created, uname = inp.newer[n]
    st, sname = inp.susp[s]
    if st is None or created is None or not (st <= created <= st + timedelta(days=WINDOW_DAYS)):
        return None
    ev: list[dict] = []
    score = 0.0
    for h in sorted(inp.handles.get(n, set()) & inp.handles.get(s, set())):
        w = WEIGHTS["handle"] / max(1, inp.handle_count[h] - 1)
        score += w
        ev.append({"kind": "handle", "value": h, "shared_by": inp.handle_count[h], "weight": round(w, 3)})
    sa, sp_ = inp.avatars.get(s, (None, None))
    na, np_ = inp.avatars.get(n, (None, None))
    if sa and na and inp.avatar_count[sa] <= 5 and (sa == na or _pdq_close(sp_, np_)):
        score += WEIGHTS["avatar"]
        ev.append({"kind": "avatar", "value": na, "weight": WEIGHTS["avatar"]})
    fs, fn = inp.follows.get(s, set()), inp.follows.get(n, set())
    if fs and fn:
        jac = len(fs & fn) / len(fs | fn)
        if jac >= FOLLOW_JACCARD:
            w = WEIGHTS["follows"] * jac
            score += w
            ev.append({"kind": "follows", "jaccard": round(jac, 3), "common": len(fs & fn), "weight": round(w, 3)})
    if uname and sname:
        sim = SequenceMatcher(None, uname, sname).ratio()
        if sim >= 0.6:
            score += WEIGHTS["username"] * sim
            ev.append({"kind": "username", "similarity": round(sim, 3), "weight": round(WEIGHTS["username"] * sim, 3)})
    common_tags = inp.tags.get(n, set()) & inp.tags.get(s, set())
    if common_tags:
        score += WEIGHTS["hashtags"]
        ev.append({"kind": "hashtags", "tags": sorted(common_tags)[:10], "weight": WEIGHTS["hashtags"]})
    return EvasionLink(n, s, score, 0, ev) if score > 0 else None


def best_links(pairs, inp: EvasionInputs, top: int = 3) -> dict[str, list[EvasionLink]]:
    """Score candidate (new, suspended) pairs; each new account's best `top` links, ranked."""
    by_new: dict[str, list[EvasionLink]] = defaultdict(list)
    for n, s in pairs:
        link = score_pair(n, s, inp)
        if link is not None:
            by_new[n].append(link)
    out: dict[str, list[EvasionLink]] = {}
    for n, links in by_new.items():
        links.sort(key=lambda x: (-x.score, x.suspended_account))
        for i, lk in enumerate(links[:top]):
            lk.rank = i + 1
        out[n] = links[:top]
    return out


def candidate_links(store, top: int = 3) -> dict[str, list[EvasionLink]]:
    """For every account created after some suspension, its best `top` suspended candidates."""
    from datasketch import MinHash, MinHashLSH

    inp = load_inputs(store)
    if inp is None:
        return {}
    by_handle: dict[str, list[str]] = defaultdict(list)
    by_avatar: dict[str, list[str]] = defaultdict(list)
    for a in inp.susp:
        for h in inp.handles.get(a, ()):
            by_handle[h].append(a)
        sha = inp.avatars.get(a, (None, None))[0]
        if sha and inp.avatar_count[sha] <= 5:
            by_avatar[sha].append(a)
    lsh = MinHashLSH(threshold=FOLLOW_JACCARD, num_perm=64)
    for a in inp.susp:
        f = inp.follows.get(a)
        if f and len(f) >= 3:
            m = MinHash(num_perm=64, seed=1)
            m.update_batch([x.encode() for x in f])
            lsh.insert(a, m)
    pairs: list[tuple[str, str]] = []
    for n in inp.newer:
        cands: set[str] = set()
        for h in inp.handles.get(n, ()):
            cands.update(by_handle.get(h, ()))
        sha = inp.avatars.get(n, (None, None))[0]
        if sha and inp.avatar_count[sha] <= 5:
            cands.update(by_avatar.get(sha, ()))
        f = inp.follows.get(n)
        if f and len(f) >= 3:
            m = MinHash(num_perm=64, seed=1)
            m.update_batch([x.encode() for x in f])
            cands.update(lsh.query(m))
        pairs.extend((n, s) for s in cands)
    return best_links(pairs, inp, top)


def _pdq_close(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return bin(int(a, 16) ^ int(b, 16)).count("1") <= AVATAR_PDQ


def find_evasion(store, threshold: float = LINK_THRESHOLD) -> list[EvasionLink]:
    """Reported links: each new account's best candidate when its score reaches `threshold`."""
    links = [c[0] for c in candidate_links(store).values() if c and c[0].score >= threshold]
    return sorted(links, key=lambda x: (-x.score, x.new_account))
