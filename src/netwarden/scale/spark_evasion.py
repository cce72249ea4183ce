"""Ban-evasion linking at scale: candidate pairs on Spark, scored by the single-machine rules.

It runs the contact, avatar and follows blocks (`graph.evasion.SPARK_BLOCKS`) and reads their
identifiers; the name, bio, handle-family, device and follower blocks run on a single machine only
(`netwarden evasion`, the stream worker), so this job finds the links `find_evasion(store,
kinds=SPARK_BLOCKS)` finds, fewer than the single-machine run on worlds where re-registrations
carry only a name, a bio or a handle family.

`netwarden.graph.evasion` pairs every account created after a suspension with suspended accounts
that share an off-platform handle, a rare avatar, or an overlapping set of followed accounts
(MinHash LSH), and scores each pair. The candidate generation is the part that grows with the
platform; here it runs on Spark:

- shared handle and shared rare avatar (used by at most 5 accounts): equi-joins;
- overlapping follows: `pyspark.ml.feature.MinHashLSH` over the followed-account sets (accounts
  following at least 3, as binary CountVectorizer vectors), `approxSimilarityJoin` at Jaccard distance <= 1 - FOLLOW_JACCARD, which
  reports the exact Jaccard of every candidate pair.

The inputs are DataFrames over the store's tables registered as views (`spark_common.register_views`;
in production the same views from Parquet or JDBC): store.evasion_queries (graph.evasion.load_inputs' queries), run by
Spark SQL. Only the candidate pairs (few) and their accounts' identifiers (handles with their
counts, avatars with theirs, followed sets, hashtags, times) are collected, and scored on the
driver by `graph.evasion.best_links`, the same per-pair rules the single-machine path uses (the
test compares the reported links with `graph.evasion.find_evasion` on the same world).
"""

from __future__ import annotations

from ..graph import evasion as ev
from ..store import evasion_queries as evq

NUM_TABLES = 20  # OR-amplification: recall at Jaccard 0.3 about 1 - 0.7**20 > 0.999


def _frames(spark, first: str):
    """The evasion inputs as DataFrames over the registered views (store.evasion_queries, the queries graph.evasion.load_inputs runs)."""
    from pyspark.sql import functions as F

    susp = spark.sql(evq.SUSPENDED_SQL)
    newer = spark.sql(evq.NEWER_SQL, args={"t": first})
    handles = spark.sql(evq.CONTACTS_SQL).where(F.col("k").isNotNull())
    avatars = spark.sql(evq.AVATAR_SQL)
    avatar_count = avatars.where(F.col("sha").isNotNull() & (F.col("sha") != "")).groupBy("sha").agg(
        F.count("*").alias("n"))
    from ..graph.evasion import HASHTAG_MAX, POPULAR_MIN, POPULAR_SHARE

    edges = spark.sql(evq.FOLLOWS_SQL)
    n_accounts = spark.sql(evq.ACCOUNTS_COUNT_SQL).first()[0] or 0
    popular = (edges.groupBy(F.col("dst").alias("p")).count()
               .where(F.col("count") > max(POPULAR_MIN, POPULAR_SHARE * n_accounts)).select("p"))
    follows = (edges.join(F.broadcast(popular), edges.dst == popular.p, "left_anti")
               .groupBy(F.col("src").alias("a")).agg(F.collect_set("dst").alias("f")))
    tags = spark.sql(evq.TAGS_SQL)
    rare = tags.groupBy("tag").count().where(F.col("count") <= HASHTAG_MAX).select("tag")
    tags = tags.join(rare, "tag")
    return susp, newer, handles, avatars, avatar_count, follows, tags


def candidate_pairs_df(spark, susp, newer, handles, avatars, avatar_count, follows):
    """(n, s) candidate pairs: shared handle, shared rare avatar, MinHash LSH over followed sets."""
    from pyspark.ml.feature import CountVectorizer, MinHashLSH
    from pyspark.sql import functions as F

    from .spark_common import lsh_threshold

    ns, ss = newer.select(F.col("a").alias("n")), susp.select(F.col("a").alias("s"))
    by_handle = (handles.join(ns, handles.a == ns.n).select("n", "k")
                 .join(handles.join(ss, handles.a == ss.s).select("s", "k"), "k").select("n", "s"))
    rare = avatars.join(avatar_count.where(F.col("n") <= ev.AVATAR_MAX).select("sha"), "sha").select("a", "sha")
    by_avatar = (rare.join(ns, rare.a == ns.n).select("n", "sha")
                 .join(rare.join(ss, rare.a == ss.s).select("s", "sha"), "sha").select("n", "s"))
    pairs = by_handle.union(by_avatar)
    involved = (newer.select("a", F.lit(False).alias("suspended"))
                .union(susp.select("a", F.lit(True).alias("suspended"))))
    fsets = follows.where(F.size("f") >= 3).join(involved, "a").cache()
    if fsets.limit(1).count():
        vocab = max(1, fsets.select(F.explode("f")).distinct().count())
        vec = CountVectorizer(inputCol="f", outputCol="features", binary=True, vocabSize=vocab).fit(fsets).transform(fsets)
        model = MinHashLSH(inputCol="features", outputCol="hashes", numHashTables=NUM_TABLES, seed=1).fit(vec)
        joined = model.approxSimilarityJoin(vec.where(~F.col("suspended")), vec.where(F.col("suspended")),
                                            lsh_threshold(), distCol="dist")
        pairs = pairs.union(joined.select(F.col("datasetA.a").alias("n"), F.col("datasetB.a").alias("s")))
    return pairs.distinct()


def evasion_spark(store, spark, threshold: float | None = None, top: int = 3, views: bool = True) -> list:
    """Reported links, as `graph.evasion.find_evasion`: inputs and candidates on Spark, and only the
    candidate pairs' accounts collected to be scored by `graph.evasion.best_links`."""
    from collections import defaultdict

    from pyspark.sql import functions as F

    from ..graph.evasion import LINK_THRESHOLD, EvasionInputs, _t, add_family, best_links
    from .spark_common import register_views

    threshold = LINK_THRESHOLD if threshold is None else threshold
    if views:
        register_views(spark, store, ["accounts", "contacts", "media", "media_hashes", "follows", "follow_requests",
                                      "posts", "post_hashtags"])
    first = spark.sql("SELECT MIN(state_time) FROM accounts WHERE state = 'suspended' AND state_time IS NOT NULL"
                      ).first()[0]
    first_t = _t(first)
    if first_t is None:
        return []
    susp, newer, handles, avatars, avatar_count, follows, tags = _frames(spark, first_t.strftime("%Y-%m-%dT%H:%M:%SZ"))
    pairs = [(r.n, r.s) for r in candidate_pairs_df(spark, susp, newer, handles, avatars, avatar_count, follows)
             .collect()]
    if not pairs:
        return []
    # Collect what the scorer reads, for the accounts in candidate pairs only.
    acc = spark.createDataFrame(sorted({a for p in pairs for a in p}), "string").withColumnRenamed("value", "a")
    mine = F.broadcast(acc)
    inp = EvasionInputs(
        susp={r.a: (_t(r.t), r.h) for r in susp.join(mine, "a").collect()},
        newer={r.a: (_t(r.t), r.h) for r in newer.join(mine, "a").collect()},
        handles=defaultdict(set), handle_count=defaultdict(int), avatars={}, avatar_count=defaultdict(int),
        follows=defaultdict(set), tags=defaultdict(set))
    # newer accounts' handles in the candidates' families (graph.evasion.handle_stem: the letters a-z only)
    mine_stems = newer.join(mine, "a").select(F.regexp_replace(F.coalesce(F.col("h"), F.lit("")), "[^a-z]", "")
                                              .alias("stem")).distinct()
    fam = newer.select(F.regexp_replace(F.coalesce(F.col("h"), F.lit("")), "[^a-z]", "").alias("stem"), "h", "t")
    for r in fam.join(F.broadcast(mine_stems), "stem").collect():  # the candidates' families (close_family)
        add_family(inp, r.h, _t(r.t))
    hk = handles.join(mine, "a").cache()
    for r in hk.collect():
        inp.handles[r.a].add(r.k)
    for r in handles.groupBy("k").count().join(F.broadcast(hk.select("k").distinct()), "k").collect():
        inp.handle_count[r.k] = int(r["count"])
    av = avatars.join(mine, "a").cache()
    for r in av.collect():
        inp.avatars[r.a] = (r.sha, r.pdq)
    for r in avatar_count.join(F.broadcast(av.select("sha").distinct()), "sha").collect():
        inp.avatar_count[r.sha] = int(r.n)
    for r in follows.join(mine, "a").collect():
        inp.follows[r.a] = set(r.f)
    for r in tags.join(mine, "a").collect():
        inp.tags[r.a].add(r.tag)
    hk.unpersist()
    av.unpersist()
    ranked = best_links(pairs, inp, top)
    out = [links[0] for links in ranked.values() if links and links[0].score >= threshold]
    return sorted(out, key=lambda x: (-x.score, x.new_account))


def run_evasion(store, master: str = "local[*]", spark=None) -> dict:
    from .spark_common import spark_session

    spark = spark or spark_session(master, "netwarden-evasion")
    return {"links": [lk.as_dict() for lk in evasion_spark(store, spark)]}
