"""`netwarden world generate` from the command line."""

from __future__ import annotations

import json
import subprocess

from typer.testing import CliRunner

from clirun import CLI
from netwarden.cli import app


def test_generate_json(tmp_path):
    out = tmp_path / "w"
    res = CliRunner().invoke(app, ["world", "generate", "--accounts", "800", "--seed", "3", "--out", str(out),
                                   "--networks", "1", "--network-size", "20:30", "--camouflage", "0.4", "--no-media", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["accounts"] == 800 and summary["events"] > 0
    truth = json.loads((out / "truth.json").read_text())
    assert truth["params"]["camouflage"] == [0.4] and truth["seed"] == 3
    assert not (out / "media").exists()
    assert (out / "bank.csv").read_text() == "signal_type,signal,label\n"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args],
                          capture_output=True, text=True)


def test_bad_options_are_one_sentence(tmp_path):
    for args, word in [
        (["--network-size", "a:b"], "--network-size"),
        (["--camouflage", "1.5"], "--camouflage"),
        (["--accounts", "50"], "--accounts"),
        (["--networks", "40"], "--networks"),
    ]:
        r = _run("world", "generate", "--out", str(tmp_path / "x"), "--no-media", *args)
        assert r.returncode == 2, (args, r.stderr)
        assert word in r.stderr and "Traceback" not in r.stderr
