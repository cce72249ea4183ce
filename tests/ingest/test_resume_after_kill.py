"""A run killed with SIGKILL at any point and started again ends with the same store."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from clirun import CLI
from sample_events import make_events, write_jsonl
from storedump import dump


def _run(url: str, path, crash: str | None = None, extra=()) -> subprocess.CompletedProcess:
    env = {**os.environ, "NETWARDEN_DB": url}
    env.pop("NETWARDEN_TEST_CRASH", None)
    if crash:
        env["NETWARDEN_TEST_CRASH"] = crash
    return subprocess.run([*CLI, "ingest", str(path), "--batch-size", "50", "--json", *extra],
                          env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def events_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("ev") / "events.jsonl"
    events = make_events(accounts=60, posts=300, seed=4)
    write_jsonl(path, events)
    # a few bad lines too, so dead letters are part of the compared state
    with path.open("ab") as f:
        f.write(b"{broken\n" + b'{"v":1,"id":"zz","kind":"nope","time":"2026-01-01T00:00:00Z","data":{}}\n')
    return path


@pytest.fixture(scope="module")
def reference(events_file, tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('ref') / 'ref.db'}"
    r = _run(url, events_file)
    assert r.returncode == 0, r.stderr
    return dump(url)


@pytest.mark.parametrize("crash", ["before:1", "after:1", "before:4", "after:7", "before:11", "after:12"])
def test_sigkill_then_resume_matches_uninterrupted(events_file, reference, tmp_path, crash):
    url = f"sqlite:///{tmp_path / 'k.db'}"
    r = _run(url, events_file, crash)
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stderr)
    r = _run(url, events_file)
    assert r.returncode == 0, r.stderr
    assert dump(url) == reference


def test_sigkill_at_random_moments(events_file, reference, tmp_path):
    """Kill a running ingest at arbitrary times, several times over, then let it finish."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    env = {**os.environ, "NETWARDEN_DB": url}
    env.pop("NETWARDEN_TEST_CRASH", None)
    for delay in (0.4, 0.7, 1.0, 1.3):
        p = subprocess.Popen([*CLI, "ingest", str(events_file), "--batch-size", "20"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
    r = _run(url, events_file)
    assert r.returncode == 0, r.stderr
    assert dump(url) == reference


def test_sigkill_then_resume_postgres(events_file, reference, pg_server, tmp_path):
    url = pg_server.create_db("resume_kill")
    r = _run(url, events_file, "before:5")
    assert r.returncode == -signal.SIGKILL
    r = _run(url, events_file, "after:3")  # killed again on the resumed run
    assert r.returncode == -signal.SIGKILL
    assert _run(url, events_file).returncode == 0
    assert dump(url) == reference
