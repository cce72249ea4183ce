"""Stream worker state: Kafka offsets stored in the same transaction as the rows they produced."""

from sqlalchemy import BigInteger, Column, Integer, PrimaryKeyConstraint, String, Table

from .meta import metadata

# The next offset to read, per consumer group, topic and partition. The worker writes it in the
# batch transaction (a compare-and-set on the previous value fences off a zombie worker), seeks to
# it when a partition is assigned, and only then commits the same offsets to Kafka (for lag
# monitoring): the store, not Kafka, is the source of truth for what has been applied.
stream_offsets = Table(
    "stream_offsets",
    metadata,
    Column("group_id", String(255), nullable=False),
    Column("topic", String(255), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("next_offset", BigInteger, nullable=False),
    Column("updated_at", String(40), nullable=False),
    PrimaryKeyConstraint("group_id", "topic", "partition"),
)
