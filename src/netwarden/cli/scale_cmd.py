"""`netwarden worker`, `netwarden produce` and `netwarden spark ...`: the scale-out faces."""

from __future__ import annotations

from pathlib import Path

import typer

from ..deps import require_extra
from ..errors import UserError
from ..ingest.formats import help_text as formats_help
from .common import DB_OPT, JSON_OPT, emit, open_db, settings

KAFKA_OPT = typer.Option(..., "--kafka", help="Kafka bootstrap servers, host:port[,host:port...].")
TOPIC_OPT = typer.Option("netwarden-events", "--topic", help="Topic of platform events (one JSON event per message).")


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("produce")(produce)
    spark = typer.Typer(help="Whole-platform batch jobs on Apache Spark.", no_args_is_help=True)
    spark.command("retro-match")(spark_retro_match)
    spark.command("sweep")(spark_sweep)
    spark.command("evasion")(spark_evasion)
    app.add_typer(spark, name="spark")


def _kv(options: list[str]) -> dict[str, str]:
    out = {}
    for o in options or []:
        if "=" not in o:
            raise UserError(f"--consumer-option {o!r} is not KEY=VALUE; write e.g. session.timeout.ms=6000.")
        k, v = o.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _check_brokers(brokers: str, conf: dict) -> None:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    try:
        AdminClient({"bootstrap.servers": brokers, "log_level": 0, **{k: v for k, v in conf.items() if k.startswith(("security",
                     "sasl", "ssl"))}}).list_topics(timeout=15)
    except KafkaException as e:
        raise UserError(f"Cannot reach Kafka at {brokers} ({e.args[0].str() if e.args else e}); "
                        "check --kafka and that the brokers are running.") from None


def worker(
    kafka: str = KAFKA_OPT,
    topic: str = TOPIC_OPT,
    group: str = typer.Option("netwarden", "--group", help="Consumer group: workers in one group share the partitions."),
    db: str = DB_OPT,
    fmt: str = typer.Option("native", "--format", "-f", help=formats_help()),
    terms: str = typer.Option(None, "--terms", help="Term list to scan text with (default: $NETWARDEN_TERMS)."),
    media_root: Path = typer.Option(None, "--media-root", help="Folder that relative media uris resolve against."),
    no_signals: bool = typer.Option(False, "--no-signals", help="Store events only; skip media hashing and text scanning."),
    media: str = typer.Option("hash", "--media", help="hash: read and hash media files | lookup: match the MD5/SHA-256/PDQ sent with each event, read no file (firehose) | off."),
    batch_size: int = typer.Option(5000, "--batch-size", min=1, help="Messages per transaction (at most)."),
    batch_ms: int = typer.Option(500, "--batch-ms", min=1, help="Longest wait before a partial batch is written."),
    start: str = typer.Option("earliest", "--start", help="Where a partition with no stored offset starts: earliest | latest."),
    max_idle: float = typer.Option(None, "--max-idle", help="Stop after this many seconds without a message (default: run until stopped)."),
    max_messages: int = typer.Option(None, "--max-messages", help="Stop after applying this many messages."),
    consumer_option: list[str] = typer.Option(None, "--consumer-option", help="Extra librdkafka setting KEY=VALUE (repeatable)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Consume platform events from Kafka into the store: exactly-once, in a consumer group.

    Offsets are stored with the rows in one transaction and committed to Kafka only after it; a
    worker killed at any point loses and repeats nothing. SIGTERM finishes the batch and leaves the
    group. Start any number of workers with the same --group to share the topic's partitions.
    """
    require_extra("stream", "`netwarden worker`")
    from ..scale.hash_lookup import stream_hooks
    from ..scale.kafka_worker import run_worker

    if media not in ("hash", "lookup", "off"):
        raise UserError(f"--media {media!r} is not valid; use hash, lookup or off.")
    conf = _kv(consumer_option)
    _check_brokers(kafka, conf)
    store = open_db(db)
    cfg = settings()
    hooks = [] if no_signals else stream_hooks(store, terms or cfg.terms, media, cfg)
    stats = run_worker(store, kafka, topic, group, hooks=hooks, fmt=fmt, batch_size=batch_size, batch_ms=batch_ms,
                       media_root=str(media_root.resolve()) if media_root else None, start=start,
                       consumer_conf=conf, max_idle=max_idle, max_messages=max_messages, settings=cfg)
    store.close()
    d = stats.as_dict()
    emit(d, as_json, f"applied {d['messages']} messages ({d['events']} events, {d['dead']} dead letters) "
                     f"in {d['batches']} batches from {topic}")


def produce(
    path: Path = typer.Argument(..., help="A JSON Lines file of events, one message per line."),
    kafka: str = KAFKA_OPT,
    topic: str = TOPIC_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Load a JSON Lines file into a Kafka topic (keyed by the event's account), e.g. to replay a world."""
    require_extra("stream", "`netwarden produce`")
    from ..scale.kafka_worker import produce_file

    if not path.is_file():
        raise UserError(f"Input {path} is not a file; pass a JSON Lines file of events.")
    _check_brokers(kafka, {})
    n = produce_file(kafka, topic, path)
    emit({"messages": n, "topic": topic}, as_json, f"produced {n} messages to {topic}")


MASTER_OPT = typer.Option("local[*]", "--master", help="Spark master URL (local[*], spark://..., yarn, k8s://...).")


def spark_retro_match(
    db: str = DB_OPT,
    master: str = MASTER_OPT,
    bank: list[str] = typer.Option(None, "--bank", help="Only these banks (default: every enabled bank)."),
    after_entry: int = typer.Option(0, "--after-entry", help="Only bank entries with a larger id (the ones just added)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count the matches; write no signals."),
    as_json: bool = JSON_OPT,
) -> None:
    """Match bank entries against every stored media hash on Spark; write media_match signals."""
    require_extra("spark", "`netwarden spark retro-match`")
    from ..scale.spark_retro import run_retro_match

    store = open_db(db)
    summary = run_retro_match(store, master=master, banks=bank or None, after_entry=after_entry, write=not dry_run,
                              spark=_session(master, "netwarden-retro-match"))
    store.close()
    emit(summary, as_json, f"{summary['matches']} media matched {summary['entries']} bank entries; "
                           f"{summary['signals_written']} new signals")


def _session(master: str, app: str):
    """The Spark face's session, configured once by this command's settings (spark_* settings)."""
    from ..scale.spark_common import spark_session

    return spark_session(master, app, settings=settings())


def _spark_job(run, db: str, master: str, as_json: bool, app: str) -> None:
    store = open_db(db)
    summary = run(store, master=master, spark=_session(master, app))
    store.close()
    emit(summary, as_json)


def spark_sweep(db: str = DB_OPT, master: str = MASTER_OPT, as_json: bool = JSON_OPT) -> None:
    """The whole-platform sweep on Spark (dense groups, distrust propagation, multi-seed PageRank)."""
    require_extra("spark", "`netwarden spark sweep`")
    from ..scale.spark_sweep import run_sweep

    _spark_job(run_sweep, db, master, as_json, "netwarden-sweep")


def spark_evasion(db: str = DB_OPT, master: str = MASTER_OPT, as_json: bool = JSON_OPT) -> None:
    """Ban-evasion linking at scale on Spark (MinHash LSH)."""
    require_extra("spark", "`netwarden spark evasion`")
    from ..scale.spark_evasion import run_evasion

    _spark_job(run_evasion, db, master, as_json, "netwarden-evasion")
