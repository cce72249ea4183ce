"""The sweep's fused account graph built on Spark, from the store's tables, by graph/build.py's rules.

`graph.build.build_graph` reads the store into one process (62 GiB at a billion edges with the
fused matrix). Here the same layers are DataFrames, so the PageRank input never exists on the
driver:

- The tables the graph reads are Spark temp views (`spark_common.register_views`: from the store
  through `spark_common.table_df`; in production register the same names from Parquet exports or a JDBC
  read of a replica). The layer queries are the single-machine build's own SQL text (`store/layer_queries.py`:
  `INTERACTION_SQL`, `GROUP_SQL`), run by Spark SQL (`json_extract` becomes `get_json_object`).
- interaction: per (src, dst, kind) the kind's weight times 1 + ln(repeats); the directed weight
  D(u, v) sums the kinds; the symmetric weight is D(u, v) + D(v, u) + min(D(u, v), D(v, u))
  (a mutual tie adds its smaller direction once more; a one-way tie has min 0).
- handle, media (bank entry or byte-identical media), hashtag, avatar: each group of k distinct
  accounts (2 <= k <= the layer's cap, `build.group_cap`) is a clique of `build.group_weight(layer, k, n)`
  (GROUP_WEIGHT / (k - 1) with k and n rounded to steps, times the inverse frequency for hashtags).
- fused: the layers summed with `expand.LAYER_WEIGHTS` (`w`, PageRank's input) and with weight 1
  each (`w1`, what the dense-core step re-weights).
- Node indices: accounts in id order (bytewise, as SQLite's ORDER BY id), then accounts that
  appear only in edges, in id order (graph/build.py appends those in the order it meets them:
  the one difference, which only changes the vertex order Leiden sees).

Everything after the PageRank (at most 20,000 candidates) is collected: the candidates' subgraph
and global degrees, and their signal strength.
"""

from __future__ import annotations

from .. import findings
from ..graph.build import (
    GROUP_LAYERS,
    INTERACTION_WEIGHTS,
    group_cap,
    group_weight,
)
from ..graph.expand import LAYER_WEIGHTS, PRIOR_GAIN
from ..store import graph_queries as gq
from ..store.layer_queries import GROUP_SQL, INTERACTION_SQL
from .spark_common import VIEWS, register_views  # noqa: F401 (the graph's inputs)


def _spark_sql(q: str) -> str:
    return q.replace("json_extract(", "get_json_object(")


def nodes_df(spark):
    """(account_id, idx): accounts in id order, then accounts met only in edges or groups."""
    from pyspark.sql import functions as F

    ends = interaction_pairs(spark).select(F.col("src").alias("account_id")).union(
        interaction_pairs(spark).select(F.col("dst").alias("account_id")))
    for name in GROUP_SQL:
        ends = ends.union(_group_rows(spark, name).select(F.col("a").alias("account_id")))
    acc = spark.sql("SELECT id AS account_id FROM accounts WHERE id IS NOT NULL")
    extra = ends.distinct().join(acc, "account_id", "left_anti")
    ordered = acc.select("account_id", F.lit(0).alias("grp")).union(extra.select("account_id", F.lit(1).alias("grp")))
    rdd = ordered.orderBy("grp", F.col("account_id").cast("binary")).rdd.zipWithIndex()
    return rdd.map(lambda t: (t[0][0], t[1])).toDF("account_id string, idx long")


def interaction_pairs(spark):
    """(src, dst, kind) for every directed tie, as store.layer_queries.INTERACTION_SQL reads them for graph/build.py."""
    from pyspark.sql import functions as F

    out = None
    for kind, q in INTERACTION_SQL.items():
        df = spark.sql(_spark_sql(q)).toDF("src", "dst").where(
            (F.col("src") != "") & (F.col("dst") != "") & (F.col("src") != F.col("dst"))).withColumn("kind", F.lit(kind))
        out = df if out is None else out.union(df)
    return out


def _group_rows(spark, name: str):
    from pyspark.sql import functions as F

    q = GROUP_SQL[name]
    return (spark.sql(_spark_sql(q)).toDF("a", "key").select("a", F.col("key").cast("string").alias("key"))
            .where(F.col("a").isNotNull() & (F.col("a") != "") & F.col("key").isNotNull() & (F.col("key") != "")))


def interaction_layer(spark):
    """(src, dst, w): the symmetric interaction layer, both directions."""
    from pyspark.sql import functions as F

    weight = F.create_map(*[x for k, w in INTERACTION_WEIGHTS.items() for x in (F.lit(k), F.lit(w))])
    per_kind = (interaction_pairs(spark).groupBy("src", "dst", "kind").count()
                .select("src", "dst", (weight[F.col("kind")] * (F.lit(1.0) + F.log(F.col("count")))).alias("w")))
    d = per_kind.groupBy("src", "dst").agg(F.sum("w").alias("d"))
    dt = d.select(F.col("dst").alias("src"), F.col("src").alias("dst"), F.col("d").alias("dt"))
    both = d.join(dt, ["src", "dst"], "full").fillna(0.0, ["d", "dt"])
    return both.select("src", "dst", ((F.col("d") + F.col("dt")) + F.least("d", "dt")).alias("w"))


def group_layer(spark, name: str, n: int):
    """(src, dst, w): one group layer's cliques, duplicates summed."""
    from pyspark.sql import functions as F

    rows = _group_rows(spark, name)
    if name == "media":
        rows = rows.union(_group_rows(spark, "media_bytes"))
    members = rows.distinct()
    cap = group_cap(name, n)
    sizes = members.groupBy("key").agg(F.count("*").alias("k")).where((F.col("k") >= 2) & (F.col("k") <= cap))
    # the weight of each group size, by graph/build.py's own function (a few thousand sizes at most)
    ks = [int(r["k"]) for r in sizes.select("k").distinct().collect()]
    table = spark.createDataFrame([(k, group_weight(name, k, n)) for k in ks] or [(0, 0.0)], "k long, w double")
    sizes = sizes.join(F.broadcast(table), "k").where(F.col("w") > 0)
    groups = members.join(sizes.select("key", "w"), "key")
    pairs = (groups.select("key", F.col("a").alias("src"), "w")
             .join(groups.select("key", F.col("a").alias("dst")), "key").where(F.col("src") != F.col("dst")))
    return pairs.groupBy("src", "dst").agg(F.sum("w").alias("w"))


def fused_edges(spark, nodes=None):
    """(src, dst, w, w1) by node index, both directions: the fused graph with LAYER_WEIGHTS (w) and with
    weight 1 per layer (w1); and the node table (account_id, idx). Call `register_views` first."""
    from pyspark.sql import functions as F

    nodes = nodes if nodes is not None else nodes_df(spark).cache()
    n = nodes.count()
    layers = [("interaction", interaction_layer(spark))] + [(g, group_layer(spark, g, n)) for g in GROUP_LAYERS]
    allw = None
    for name, df in layers:
        lw = float(LAYER_WEIGHTS.get(name, 1.0))
        part = df.select("src", "dst", (F.col("w") * F.lit(lw)).alias("w"), F.col("w").alias("w1"))
        allw = part if allw is None else allw.union(part)
    fused = allw.groupBy("src", "dst").agg(F.sum("w").alias("w"), F.sum("w1").alias("w1"))
    ix = nodes.select(F.col("account_id").alias("a"), "idx")
    return (fused.join(ix.withColumnRenamed("a", "src").withColumnRenamed("idx", "s"), "src")
            .join(ix.withColumnRenamed("a", "dst").withColumnRenamed("idx", "t"), "dst")
            .select(F.col("s").alias("src"), F.col("t").alias("dst"), "w", "w1")), nodes


def strength_df(spark):
    """(account_id, strength): an account's own signals, as `graph.expand.signal_priors` sums them."""
    from pyspark.sql import functions as F

    factors = findings.prior_factors()
    per_kind = spark.sql(gq.strength_sql(factors))  # the single-machine priors' query
    factor = F.lit(0.0)
    for kind, f in factors.items():
        factor = F.when(F.col("kind") == kind, F.lit(f)).otherwise(factor)
    return per_kind.groupBy("account_id").agg(F.sum(F.coalesce(F.col("w"), F.lit(0.0)) * factor).alias("strength"))


def priors_df(spark, nodes):
    """(idx, pri): 1 + PRIOR_GAIN * (1 - exp(-strength / 2)) for accounts with signals (1 elsewhere)."""
    from pyspark.sql import functions as F

    s = strength_df(spark)
    return (nodes.join(s, "account_id").select(
        "idx", (F.lit(1.0) + F.lit(PRIOR_GAIN) * (F.lit(1.0) - F.exp(-F.col("strength") / F.lit(2.0)))).alias("pri")))


def confirmed_df(spark, nodes):
    """(idx): suspended accounts and accounts with a bank match (graph.sweep.confirmed_accounts), in the graph."""
    c = spark.sql(gq.CONFIRMED_SQL)  # the single-machine sweep's seeds' query
    return nodes.join(c, "account_id").select("idx").distinct()
