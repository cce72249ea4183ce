"""The README's tour runs as written (on a smaller world), so the docs stay true."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from clirun import CLI

ROOT = Path(__file__).resolve().parents[1]


def tour_commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    block = text.split("## A tour", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    cmds = []
    for line in block.splitlines():
        line = line.strip()
        if not line.startswith("netwarden "):
            continue
        argv = shlex.split(line)
        if argv[1] == "serve":  # runs until stopped; the web tests drive it
            continue
        cmds.append(argv)
    return cmds


def test_tour_is_not_empty():
    assert len(tour_commands()) >= 10


@pytest.mark.slow
def test_readme_tour_runs(tmp_path, testdata):
    env = {**os.environ}
    for key in [k for k in env if k.startswith("NETWARDEN_") and k != "NETWARDEN_TESTDATA"]:
        env.pop(key)
    work = tmp_path / "repo"  # the README runs from the repository root, beside ../shared
    work.mkdir()
    (tmp_path / "shared").symlink_to(testdata.parent)
    for argv in tour_commands():
        argv = [a.replace("10000", "1500") for a in argv]  # a smaller world, same commands
        args = []
        for a in argv[1:]:
            if "*" in a:  # expand globs as the shell would
                args.extend(sorted(str(p) for p in work.glob(a)) or [a])
            else:
                args.append(a)
        r = subprocess.run([*CLI, *args], cwd=work, env=env, capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, f"`{' '.join(argv)}` failed:\n{r.stderr[-2000:]}"
        assert "Traceback" not in r.stderr
    assert re.search(r"intact", r.stdout)  # the tour ends with `netwarden audit verify`
