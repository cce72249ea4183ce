"""The whole-platform sweep on Spark: multi-seed personalized PageRank by iterated DataFrame joins.

The sweep (`netwarden.graph.sweep.sweep`) propagates distrust from every confirmed account
(suspended, or with a bank match) as one personalized PageRank seeded on all of them, takes the
best-scored accounts, splits them into Leiden communities and peels each to its dense core.
At platform scale the PageRank over every edge is the part that does not fit one machine; it runs
here as synchronous push iterations over an edge DataFrame:

    p += alpha * r            (r: the residual mass, on the seeds at first)
    r  = (1 - alpha) * sum over edges (u -> v) of r(u) * w(u, v) / deg(u)

After k iterations the residual left is (1 - alpha)^k exactly, so the iteration count for a
tolerance is known in advance and no per-iteration action is needed; lineage is cut with a local
checkpoint every few iterations. An account with no edges keeps its mass (as the push does).

`sweep_spark` builds the fused graph itself on Spark (`scale.spark_graph`: the same layers and
rules as graph/build.py, from the store's tables), ranks accounts by the sweep's score
(p / sqrt(deg) * prior) on Spark, and collects only the candidates (at most 20,000), their
subgraph and global degrees; the groups then come from `graph.sweep.groups_from`, the
single-machine sweep's own Leiden / dense-core / reasons step.
"""

from __future__ import annotations

import math

import numpy as np

from ..graph.expand import ALPHA  # the restart probability, the same as the single-machine expansion's

CHECKPOINT_EVERY = 4


def ppr_df(spark, edges, deg, seeds, alpha: float = ALPHA, tol: float = 1e-4):
    """PPR as a DataFrame (id, p). edges: (src, dst, w) both directions; deg: (id, deg);
    seeds: {id: mass} or a DataFrame (id, r).

    The transition (edges with w / deg) is partitioned by src once and cached; each iteration's
    residual comes out of its groupBy partitioned by id the same way, so an iteration shuffles the
    residual only, never the edges. Each residual is checkpointed as it is made (one small job an
    iteration, no lineage to recompute), and p is summed from them every CHECKPOINT_EVERY iterations."""
    from pyspark.sql import functions as F

    nparts = int(spark.conf.get("spark.sql.shuffle.partitions"))
    trans = (edges.join(deg.withColumnRenamed("id", "src"), "src")
             .select("src", "dst", (F.col("w") / F.col("deg") * (1 - alpha)).alias("t"))
             .repartition(nparts, "src").cache())
    trans.count()
    r = seeds if not isinstance(seeds, dict) else spark.createDataFrame(
        [(int(k), float(v)) for k, v in seeds.items()], "id long, r double")
    has_deg = deg.select("id", F.lit(True).alias("d"))
    p = (r.join(has_deg, "id", "left")
         .select("id", F.when(F.col("d").isNotNull(), F.col("r") * alpha).otherwise(F.col("r")).alias("p")))
    pending = []
    iters = max(1, math.ceil(math.log(tol) / math.log(1 - alpha)))
    for k in range(iters):
        r = (r.join(trans, r.id == trans.src).select(F.col("dst").alias("id"), (F.col("r") * F.col("t")).alias("r"))
             .groupBy("id").agg(F.sum("r").alias("r")).localCheckpoint())
        if k + 1 < iters:
            pending.append(r)
        if (k + 1) % CHECKPOINT_EVERY == 0 or k + 1 == iters:
            for q in pending:  # every node r reaches has edges: it keeps alpha of what arrives
                p = p.unionByName(q.select("id", (F.col("r") * alpha).alias("p")))
            p = p.groupBy("id").agg(F.sum("p").alias("p")).localCheckpoint()
            pending = []
    trans.unpersist()
    return p


def sweep_spark(store, spark, min_size: int | None = None, tol: float = 1e-4, views: bool = True,
                budget: int | None = None):
    """`netwarden.graph.sweep.sweep` with the graph built and the PageRank run on Spark; the same groups.

    views=False: the graph's tables are already registered as Spark views (spark_graph.VIEWS), e.g.
    from Parquet exports; `store` is then not read.
    """
    import scipy.sparse as sp
    from pyspark.sql import functions as F

    from ..graph import sweep as sw
    from ..graph.core import camouflage_scale
    from ..graph.expand import HUB_DAMPING
    from .spark_graph import confirmed_df, fused_edges, priors_df, register_views, strength_df

    if views:
        register_views(spark, store)
    edges, nodes = fused_edges(spark)
    edges = edges.localCheckpoint()
    deg = edges.groupBy("src").agg(F.sum("w").alias("deg"), F.count("*").alias("nnz")).withColumnRenamed(
        "src", "id").cache()
    conf = confirmed_df(spark, nodes).cache()
    n_seeds = conf.count()
    if n_seeds == 0:
        return []
    seeds = conf.select(F.col("idx").alias("id"), F.lit(1.0 / n_seeds).alias("r"))
    p = ppr_df(spark, edges.select("src", "dst", "w"), deg.select("id", "deg"), seeds, tol=tol).where("p > 0")
    d = F.greatest(F.coalesce(F.col("deg"), F.lit(0.0)), F.lit(1e-12))
    damp = F.sqrt(d) if HUB_DAMPING == 0.5 else F.pow(d, F.lit(HUB_DAMPING))
    scored = (p.join(deg, "id", "left").join(priors_df(spark, nodes).withColumnRenamed("idx", "id"), "id", "left")
              .select("id", (F.col("p") / damp * F.coalesce(F.col("pri"), F.lit(1.0))).alias("score"),
                      F.coalesce(F.col("nnz"), F.lit(0)).alias("nnz")))
    budget = sw._check_budget(sw.DEFAULT_BUDGET if budget is None else budget)
    ranked = [r.id for r in scored.orderBy(F.desc("score"), F.asc("id")).limit(2 * budget).select("id").collect()]
    top = scored.where(F.col("id").isin(ranked[:budget]))
    beyond_ids = sorted(ranked[budget:])
    flagged = nodes.join(strength_df(spark).where("strength > 0"), "account_id").select(F.col("idx").alias("id"))
    rows = (top.join(nodes.withColumnRenamed("idx", "id"), "id")
            .join(conf.select(F.col("idx").alias("id"), F.lit(True).alias("conf")), "id", "left")
            .join(flagged.withColumn("flag", F.lit(True)), "id", "left").orderBy("id").collect())
    if not rows:
        return []
    cand = [int(r.id) for r in rows]
    pos = {c: i for i, c in enumerate(cand)}
    ids = spark.createDataFrame([(c,) for c in cand], "id long")
    sub_rows = (edges.join(F.broadcast(ids.withColumnRenamed("id", "src")), "src")
                .join(F.broadcast(ids.withColumnRenamed("id", "dst")), "dst").select("src", "dst", "w1").collect())
    n = len(cand)
    sub = sp.csr_matrix(([r.w1 for r in sub_rows], ([pos[r.src] for r in sub_rows], [pos[r.dst] for r in sub_rows])),
                        shape=(n, n))
    sub.sort_indices()
    gdeg = np.array([r.nnz for r in rows], dtype=float)
    sub = camouflage_scale(sub, gdeg)
    # the accounts ranked just past the budget: their ties into the candidates, and their neighbour counts
    bpos = {c: i for i, c in enumerate(beyond_ids)}
    outside = sp.csr_matrix((len(beyond_ids), n))
    outside_deg = np.zeros(len(beyond_ids))
    if beyond_ids:
        bids = spark.createDataFrame([(c,) for c in beyond_ids], "id long")
        out_rows = (edges.join(F.broadcast(bids.withColumnRenamed("id", "src")), "src")
                    .join(F.broadcast(ids.withColumnRenamed("id", "dst")), "dst").select("src", "dst").collect())
        outside = sp.csr_matrix((np.ones(len(out_rows)), ([bpos[r.src] for r in out_rows], [pos[r.dst] for r in out_rows])),
                                shape=(len(beyond_ids), n))
        for r in deg.join(F.broadcast(bids), "id").select("id", "nnz").collect():
            outside_deg[bpos[r.id]] = r.nnz
    edges.unpersist()
    deg.unpersist()
    return sw.groups_from([r.account_id for r in rows], np.array([r.score for r in rows]), sub,
                          np.array([bool(r.conf) for r in rows]), np.array([bool(r.flag) for r in rows]),
                          sw.MIN_GROUP if min_size is None else min_size, gdeg=gdeg, outside=outside,
                          outside_deg=outside_deg, budget=budget)




def run_sweep(store, master: str = "local[*]", spark=None, actor: str = "system:spark", tol: float = 1e-4) -> dict:
    """Sweep on Spark and store the run like `netwarden sweep` does (method "spark", audited)."""
    from ..graph.sweep import record_sweep
    from .spark_common import spark_session

    spark = spark or spark_session(master, "netwarden-sweep")
    groups = sweep_spark(store, spark, tol=tol)
    rid = record_sweep(store, groups, actor, method="spark", graph_info={"built_on": "spark", "master": master})
    return {"run": rid, "groups": [g.as_dict() for g in groups]}
