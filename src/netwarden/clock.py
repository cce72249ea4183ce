"""The current time in each form the store keeps, defined once (every module's `now` comes from here).

Three forms are stored and each table keeps its own, so the strings of one column sort in time order:
- `stamp()`: seconds, `Z` (events' ingest and projection times, cases, risk, the stream's offsets);
- `stamp_us()`: microseconds, `Z` (the audit log and the outbox, evidence and NCMEC tables, where
  several changes can fall in one second and their order matters);
- `bank_stamp(timespec)`: `datetime.isoformat` with `+00:00` (banks and bank entries; `microseconds`
  for the change stamps a matcher refresh compares).
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stamp_us() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def bank_stamp(timespec: str = "seconds") -> str:
    return datetime.now(UTC).isoformat(timespec=timespec)
