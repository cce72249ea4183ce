"""The `netwarden` command as tests run it: in a subprocess, with this interpreter."""

import sys

CLI = [sys.executable, "-m", "netwarden"]


def generated_world(out, accounts: int, seed: int, size: str, camouflage: str, *extra: str):
    """A world made by `netwarden world generate` (in-process, no media), 2 planted networks; returns `out`."""
    from typer.testing import CliRunner

    from netwarden.cli import app

    res = CliRunner().invoke(app, ["world", "generate", "--accounts", str(accounts), "--seed", str(seed),
                                   "--out", str(out), "--networks", "2", "--network-size", size,
                                   "--camouflage", camouflage, "--no-media", *extra, "--json"])
    assert res.exit_code == 0, res.output
    return out
