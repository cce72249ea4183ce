"""HMA exchanges (OpenMediaMatch's /c/exchanges): one exchange per bank, its fetch status, and the
credentials set through the API for each exchange type (docs/media.md, "HMA-compatible API")."""

from sqlalchemy import Boolean, Column, Integer, String, Table, Text

from .meta import metadata

TIME = String(40)

hma_exchanges = Table(
    "hma_exchanges",
    metadata,
    Column("name", String(100), primary_key=True),  # = the bank it fills
    Column("api", String(60), nullable=False),  # python-threatexchange SignalExchangeAPI name
    Column("config", Text, nullable=False),  # JSON of the collaboration's type-specific fields
    Column("enabled", Boolean, nullable=False, default=True),
    Column("checkpoint", Text),  # the API's JSON checkpoint after the last complete fetch
    Column("checkpoint_ts", Integer),
    Column("running_fetch_start_ts", Integer),
    Column("last_fetch_complete_ts", Integer),
    Column("last_fetch_succeeded", Boolean),
    Column("last_error", Text),
    Column("fetched_items", Integer, nullable=False, default=0),
    Column("up_to_date", Boolean, nullable=False, default=False),
    Column("created_at", TIME, nullable=False),
)

# Credentials an operator set with POST /c/exchanges/api/<api> (HMA stores them the same way). Never
# returned by the API; an exchange type without a row uses python-threatexchange's own lookup
# (environment variable or credentials file).
hma_exchange_credentials = Table(
    "hma_exchange_credentials",
    metadata,
    Column("api", String(60), primary_key=True),
    Column("credentials", Text, nullable=False),  # JSON, threatexchange's credential dataclass
    Column("updated_at", TIME, nullable=False),
)
