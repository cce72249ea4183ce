"""Ban-evasion linking at scale: candidate pairs on Spark, scored by the single-machine rules.

`netwarden.graph.evasion` pairs every account created after a suspension with suspended accounts
that share an off-platform handle, a rare avatar, or an overlapping set of followed accounts
(MinHash LSH), and scores each pair. The candidate generation is the part that grows with the
platform; here it runs on Spark:

- shared handle and shared rare avatar (used by at most 5 accounts): equi-joins;
- overlapping follows: `pyspark.ml.feature.MinHashLSH` over the followed-account sets (accounts
  following at least 3), `approxSimilarityJoin` at Jaccard distance <= 1 - FOLLOW_JACCARD, which
  reports the exact Jaccard of every candidate pair.

Candidate pairs (few) are then scored on the driver with `graph.evasion`'s weights and window,
through `score_pair` below (a copy of its per-pair rules: keep the two in step; the test compares
the reported links with `graph.evasion.find_evasion` on the same world).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from difflib import SequenceMatcher

from sqlalchemy import text

NUM_TABLES = 20  # OR-amplification: recall at Jaccard 0.3 about 1 - 0.7**20 > 0.999


def _load(store):
    from ..graph.evasion import _t

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
    return susp, newer, handles, handle_count, avatars, avatar_count, follows, tags


def candidate_pairs(spark, susp, newer, handles, avatars, avatar_count, follows) -> set[tuple[str, str]]:
    """(new, suspended) candidate pairs, generated with Spark joins and MinHash LSH."""
    from pyspark.ml.feature import MinHashLSH
    from pyspark.ml.linalg import SparseVector
    from pyspark.sql import functions as F

    def side(accts, tag):
        h = [(a, k) for a in accts for k in handles.get(a, ())]
        v = [(a, avatars[a][0]) for a in accts if a in avatars and avatars[a][0] and avatar_count[avatars[a][0]] <= 5]
        return (spark.createDataFrame(h, f"{tag} string, k string"), spark.createDataFrame(v, f"{tag} string, k string"))

    nh, nv = side(newer, "n")
    sh, sv = side(susp, "s")
    pairs = {(r.n, r.s) for r in nh.join(sh, "k").select("n", "s").union(nv.join(sv, "k").select("n", "s")).collect()}

    vocab: dict[str, int] = {}
    rows = []
    for a in list(newer) + list(susp):
        f = follows.get(a)
        if not f or len(f) < 3:
            continue
        idx = sorted({vocab.setdefault(x, len(vocab)) for x in f})
        rows.append((a, a in susp, idx))
    if not rows:
        return pairs
    size = max(1, len(vocab))
    data = [(a, is_s, SparseVector(size, idx, [1.0] * len(idx))) for a, is_s, idx in rows]
    df = spark.createDataFrame(data, ["id", "suspended", "features"])
    from .spark_common import lsh_threshold

    model = MinHashLSH(inputCol="features", outputCol="hashes", numHashTables=NUM_TABLES, seed=1).fit(df)
    new_df = df.where(~F.col("suspended"))
    s_df = df.where(F.col("suspended"))
    joined = model.approxSimilarityJoin(new_df, s_df, lsh_threshold(), distCol="dist")
    found = joined.select(F.col("datasetA.id").alias("n"), F.col("datasetB.id").alias("s")).collect()
    pairs |= {(r.n, r.s) for r in found if r.n in newer}
    return pairs


def score_pair(n, s, susp, newer, handles, handle_count, avatars, avatar_count, follows, tags):
    """graph.evasion's evidence and score for one (new, suspended) pair; None outside the window."""
    from ..graph.evasion import FOLLOW_JACCARD, WEIGHTS, WINDOW_DAYS, EvasionLink, _pdq_close

    created, uname = newer[n]
    st, sname = susp[s]
    if st is None or created is None or not (st <= created <= st + timedelta(days=WINDOW_DAYS)):
        return None
    ev: list[dict] = []
    score = 0.0
    for h in sorted(handles.get(n, set()) & handles.get(s, set())):
        w = WEIGHTS["handle"] / max(1, handle_count[h] - 1)
        score += w
        ev.append({"kind": "handle", "value": h, "shared_by": handle_count[h], "weight": round(w, 3)})
    sa, sp_ = avatars.get(s, (None, None))
    na, np_ = avatars.get(n, (None, None))
    if sa and na and avatar_count[sa] <= 5 and (sa == na or _pdq_close(sp_, np_)):
        score += WEIGHTS["avatar"]
        ev.append({"kind": "avatar", "value": na, "weight": WEIGHTS["avatar"]})
    fs, fn = follows.get(s, set()), follows.get(n, set())
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
    common_tags = tags.get(n, set()) & tags.get(s, set())
    if common_tags:
        score += WEIGHTS["hashtags"]
        ev.append({"kind": "hashtags", "tags": sorted(common_tags)[:10], "weight": WEIGHTS["hashtags"]})
    return EvasionLink(n, s, score, 0, ev) if score > 0 else None


def evasion_spark(store, spark, threshold: float | None = None, top: int = 3) -> list:
    """Reported links, as `graph.evasion.find_evasion`, with candidates generated on Spark."""
    from ..graph.evasion import LINK_THRESHOLD

    threshold = LINK_THRESHOLD if threshold is None else threshold
    loaded = _load(store)
    if loaded is None:
        return []
    susp, newer, handles, handle_count, avatars, avatar_count, follows, tags = loaded
    by_new: dict[str, list] = defaultdict(list)
    for n, s in candidate_pairs(spark, susp, newer, handles, avatars, avatar_count, follows):
        link = score_pair(n, s, susp, newer, handles, handle_count, avatars, avatar_count, follows, tags)
        if link is not None:
            by_new[n].append(link)
    out = []
    for links in by_new.values():
        links.sort(key=lambda x: (-x.score, x.suspended_account))
        best = links[0]
        best.rank = 1
        if best.score >= threshold:
            out.append(best)
    return sorted(out, key=lambda x: (-x.score, x.new_account))


def run_evasion(store, master: str = "local[*]", spark=None) -> dict:
    from .spark_common import spark_session

    spark = spark or spark_session(master, "netwarden-evasion")
    return {"links": [lk.as_dict() for lk in evasion_spark(store, spark)]}
