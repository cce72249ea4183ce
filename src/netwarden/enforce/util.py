"""Small shared helpers: UTC time text and crash-injection points for the SIGKILL tests."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime, timedelta

from ..clock import stamp_us as now  # noqa: F401  (enforce and report modules import it from here)

CRASH_ENV = "NETWARDEN_TEST_CRASH_AT"


def parse_time(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def fmt_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def later(seconds: float, start: str | None = None) -> str:
    base = parse_time(start) if start else datetime.now(UTC)
    return fmt_time(base + timedelta(seconds=seconds))


def crashpoint(name: str) -> None:
    """Kill this process with SIGKILL when $NETWARDEN_TEST_CRASH_AT names this point (tests only).

    A value "point" kills at the first pass; "point#N" at the N-th pass. A test hook, not a setting:
    the crash tests set it in the environment of the subprocess they kill, and the pass count is kept
    in that process's environment, so both are read (and written) here at process level.
    """
    want = os.environ.get(CRASH_ENV)
    if not want:
        return
    point, _, nth = want.partition("#")
    if point != name:
        return
    key = f"_NW_CRASH_COUNT_{name}"
    count = int(os.environ.get(key, "0")) + 1
    os.environ[key] = str(count)
    if count == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
