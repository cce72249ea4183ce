"""Spark plumbing shared by the batch jobs: the session, and store tables as DataFrames.

The jobs themselves are functions from DataFrames to DataFrames, so a production deployment can
feed them from wherever the platform keeps its tables (Parquet exports, a JDBC read of the
PostgreSQL store's replica). `table_df` reads the store:

- PostgreSQL, with the JDBC driver present (Debian's libpostgresql-jdbc-java, or
  NETWARDEN_SPARK_JDBC_JAR): Spark's JDBC source on the executors, split into JDBC_PARTITIONS
  partitions by a hash of the first selected column, so no row passes through the driver;
- otherwise (SQLite, the laptop default): through SQLAlchemy in chunks on the driver.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

from sqlalchemy import select

from ..config import Settings

CHUNK = 50_000
JDBC_JAR = Settings().spark_jdbc_jar  # Debian's libpostgresql-jdbc-java
JDBC_PARTITIONS = Settings().spark_jdbc_partitions  # parallel reads per table (spark_jdbc_partitions)
# The Spark face's settings travel with its session: spark_session puts them in the session's conf
# under these keys, and the readers (table_df, jdbc_df) take them from the session they are given.
JAR_CONF, PARTITIONS_CONF = "spark.netwarden.jdbcJar", "spark.netwarden.jdbcPartitions"


def jdbc_jar(path: str = JDBC_JAR) -> str | None:
    """`path` (the spark_jdbc_jar setting) when that file exists, else None."""
    return path if path and os.path.isfile(path) else None


def session_conf(settings: Settings | None = None) -> dict[str, str]:
    """The Spark conf the settings give (None: the defaults): driver memory, and the JDBC driver jar
    with its parallel reads when the jar is there."""
    s = settings if settings is not None else Settings()
    conf = {"spark.driver.memory": s.spark_driver_memory, PARTITIONS_CONF: str(s.spark_jdbc_partitions)}
    jar = jdbc_jar(s.spark_jdbc_jar)
    if jar:  # PostgreSQL stores are then read by the executors (table_df)
        conf.update({"spark.jars": jar, JAR_CONF: jar})
    return conf


def spark_session(master: str = "local[*]", app: str = "netwarden", shuffle_partitions: int | None = None,
                  conf: dict | None = None, settings: Settings | None = None):
    """A SparkSession (the one already running in this process, if any), configured by the face's
    `settings` (None: the defaults; see session_conf)."""
    from pyspark.sql import SparkSession

    # Process-level on purpose: the environment Spark starts its Python workers with (a subprocess
    # environment being built), not a Netwarden setting.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    b = (SparkSession.builder.master(master).appName(app)
         .config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false")
         .config("spark.sql.adaptive.enabled", "true"))
    for k, v in session_conf(settings).items():
        b = b.config(k, v)
    if shuffle_partitions:
        b = b.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    for k, v in (conf or {}).items():
        b = b.config(k, v)
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def table_df(spark, store, query, schema: str, batch: int = CHUNK):
    """A DataFrame of a SQLAlchemy select's rows, with a DDL schema string (JDBC on PostgreSQL, see above)."""
    if store.dialect == "postgresql" and _jdbc_loaded(spark):
        return jdbc_df(spark, store, query, schema)
    return _driver_df(spark, store, query, schema, batch)


def _jdbc_loaded(spark) -> bool:
    """Whether the session was started with the JDBC driver jar its settings name."""
    jar = spark.conf.get(JAR_CONF, None)
    jars = spark.sparkContext.getConf().get("spark.jars", "") or ""
    return bool(jar) and jar in jars.split(",")


def jdbc_partitions(spark) -> int:
    """The parallel JDBC reads per table of the session's settings (spark_jdbc_partitions)."""
    return int(spark.conf.get(PARTITIONS_CONF, None) or JDBC_PARTITIONS)


def jdbc_url(store) -> tuple[str, dict]:
    """The store's JDBC URL and connection properties (user, password) from its SQLAlchemy URL."""
    u = store.engine.url
    # $USER is the OS login, as libpq's own default user: a process fact, not a Netwarden setting
    props = {"driver": "org.postgresql.Driver", "user": u.username or os.environ.get("USER", "postgres")}
    if u.password:
        props["password"] = u.password
    return f"jdbc:postgresql://{u.host or 'localhost'}:{u.port or 5432}/{u.database}", props


def jdbc_df(spark, store, query, schema: str, partitions: int | None = None):
    """The select read by Spark's JDBC source, JDBC_PARTITIONS parallel reads split by hashtext(first column)."""
    sql = str(query.compile(dialect=store.engine.dialect, compile_kwargs={"literal_binds": True}))
    first = next(iter(query.selected_columns)).name
    n = partitions or jdbc_partitions(spark)
    preds = [f'abs(mod(hashtext(coalesce(CAST("{first}" AS text), \'\')), {n})) = {i}' for i in range(n)]
    url, props = jdbc_url(store)
    df = spark.read.jdbc(url, f"({sql}) AS q", predicates=preds, properties=props)
    cols = [c.strip().split(None, 1) for c in schema.split(",")]
    return df.selectExpr(*[f"CAST(`{name}` AS {typ}) AS `{name}`" for name, typ in cols])


def _driver_df(spark, store, query, schema: str, batch: int = CHUNK):
    rows: list[tuple] = []
    with store.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
        for part in result.partitions(batch):
            rows.extend(tuple(r) for r in part)
    return spark.createDataFrame(rows, schema=schema)


# The columns of the store's tables that the sweep's graph and evasion linking read (DDL per view).
VIEWS = {
    "accounts": "id string, avatar_media_id string, state string, state_time string, created_at string, "
                "handle_lc string",
    "follows": "src string, dst string, state string",
    "follow_requests": "src string, dst string, state string",
    "posts": "id string, author_id string, reply_to string, reply_to_account string, repost_of string, quote_of string",
    "post_mentions": "post_id string, account_id string",
    "likes": "account_id string, post_id string, state string",
    "contacts": "account_id string, platform string, handle string",
    "signals": "account_id string, subject_type string, kind string, weight double, detail string",
    "post_media": "post_id string, media_id string",
    "media": "id string, sha256 string, uri string",
    "media_hashes": "media_id string, pdq string",
    "post_hashtags": "post_id string, tag string",
}


def register_views(spark, store, names: Iterable[str] | None = None) -> None:
    """The store's tables (the columns in VIEWS) as Spark temp views of the same names.

    In production register the same views from Parquet exports or a JDBC read of a replica instead;
    the jobs only read the views.
    """
    from sqlalchemy import column, table

    from .. import findings

    for name in names or VIEWS:
        ddl = VIEWS[name]
        q = select(*[column(c.strip().split()[0]) for c in ddl.split(",")]).select_from(table(name))
        if name == "signals":  # only the kinds the graph's priors read (media_match confirms seeds too)
            q = q.where(column("kind").in_(sorted({*findings.prior_factors(), "media_match"})))
        table_df(spark, store, q, ddl).createOrReplaceTempView(name)


def lsh_threshold() -> float:
    """Jaccard distance below which MinHash LSH pairs are kept: 1 - graph.evasion.FOLLOW_JACCARD."""
    from ..graph.evasion import FOLLOW_JACCARD

    return 1.0 - FOLLOW_JACCARD + 1e-9  # approxSimilarityJoin keeps distance < threshold
