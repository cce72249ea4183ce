"""Every command's usage errors are one line on stderr, exit code 2, never a traceback.

The commands are enumerated from the Typer app, so a new command is covered without editing this
file. Each case runs the installed `netwarden` entry point in a subprocess, as a user would:
typer 0.29 vendors its own click, and usage errors printed tracebacks while in-process tests passed.
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import types
import typing
from pathlib import Path

import pytest
import typer.main

from netwarden.cli import app

ENTRY = Path(sys.executable).with_name("netwarden")


def _tree(cmd, path: tuple[str, ...] = ()):
    """(path, click command, is_group) for the root, every group and every command under it."""
    subs = getattr(cmd, "commands", None)
    yield path, cmd, subs is not None
    for name, sub in sorted((subs or {}).items()):
        if not getattr(sub, "hidden", False):
            yield from _tree(sub, (*path, name))


TREE = list(_tree(typer.main.get_command(app)))
GROUPS = [p for p, _c, g in TREE if g]
COMMANDS = [(p, c) for p, c, g in TREE if not g]


def _annotation(cmd, name: str):
    """The Python type of a command's parameter (`int | None` -> int), from the function typer wraps."""
    hint = typing.get_type_hints(inspect.unwrap(cmd.callback)).get(name)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    return hint


def _bad_value(cmd) -> list[str]:
    """Arguments giving one option a value it cannot take: a word for a number, a value for a flag."""
    opts = [p for p in cmd.params if getattr(p, "opts", None) and p.opts[0].startswith("--")]
    for p in opts:
        if _annotation(cmd, p.name) in (int, float) and not getattr(p, "is_flag", False):
            return [p.opts[0], "abc"]
    for p in opts:
        if getattr(p, "is_flag", False):
            return [f"{p.opts[0]}=abc"]
    raise AssertionError(f"{cmd.name} has no numeric option or flag to give a bad value; extend _bad_value")


def _cases():
    for path, cmd in COMMANDS:
        name = " ".join(path)
        if any(p.required for p in cmd.params):
            yield pytest.param(path, [], "Missing", id=f"{name}:missing-required")
        yield pytest.param(path, _bad_value(cmd), "", id=f"{name}:bad-value")
        yield pytest.param(path, ["--no-such-option"], "No such option", id=f"{name}:unknown-option")
    for path in GROUPS:
        yield pytest.param(path, ["no-such-command"], "No such command", id=f"{' '.join(path) or 'netwarden'}:unknown-subcommand")


def netwarden(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    assert ENTRY.exists(), f"the netwarden entry point is not installed next to {sys.executable}; run make venv"
    env = {**os.environ, "NETWARDEN_DB": str(cwd / "never-created.db")}
    env.pop("NETWARDEN_CONFIG", None)
    return subprocess.run([str(ENTRY), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def assert_usage_error(r: subprocess.CompletedProcess, needle: str) -> None:
    lines = r.stderr.strip().splitlines()
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error: ") and needle in lines[0], lines[0]
    assert "--help" in lines[0], lines[0]


def test_the_tree_is_enumerated():
    """The enumeration sees the app: nested groups and the commands the issue named."""
    names = {" ".join(p) for p, _c in COMMANDS}
    assert {"expand", "ingest", "report ncmec build", "bank add", "case open"} <= names
    assert ("report", "ncmec") in GROUPS and () in GROUPS
    assert len(COMMANDS) > 40


@pytest.mark.parametrize("args,needle", [
    (["expand"], "Missing option '--seed'"),
    (["expand", "--seed", "a", "--top", "abc"], "'--top'"),
    (["no-such-command"], "No such command 'no-such-command'"),
])
def test_the_reported_usage_errors(tmp_path, args, needle):
    """The three usage errors of issue 12, kept out of the slow enumeration so every run sees them."""
    assert_usage_error(netwarden(*args, cwd=tmp_path), needle)


@pytest.mark.slow
@pytest.mark.parametrize("path,args,needle", list(_cases()))
def test_every_command_usage_error(tmp_path, path, args, needle):
    r = netwarden(*path, *args, cwd=tmp_path)
    assert_usage_error(r, needle)
    assert not any(tmp_path.iterdir())  # refused before doing anything: no database, no file


def test_a_command_exit_code_reaches_the_shell(tmp_path):
    """`raise typer.Exit(1)` (here: `netwarden hash` of one file that does not decode) exits 1; without
    standalone mode click returns the code instead of exiting, and the CLI used to exit 0."""
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    r = netwarden("hash", "broken.jpg", "--json", cwd=tmp_path)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    assert '"error"' in r.stdout


def test_command_owners_match_what_the_modules_register():
    """`main()` imports only the owner of the command it runs: every top-level name is owned by the
    module that registers it, and nothing registered is missing (else a command would be unknown)."""
    from importlib import import_module

    from netwarden.cli import COMMAND_MODULES, COMMAND_OWNERS, build_app

    registered = {}
    for module in COMMAND_MODULES:
        for name in typer.main.get_command(build_app((module,))).commands:
            registered[name] = module
    assert registered == COMMAND_OWNERS
    assert set(typer.main.get_command(app).commands) == set(COMMAND_OWNERS)
    assert import_module("netwarden.cli.graph_cmd")  # the owners are importable modules


def test_a_command_imports_only_its_own_module(tmp_path):
    """`netwarden expand` (a cold start an analyst waits for) loads the graph commands only, and the
    whole app still answers `--help` and unknown commands."""
    probe = ("import sys\nfrom netwarden.cli import main\nsys.argv = ['netwarden', *sys.argv[1:]]\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.startswith('netwarden.cli.') or m.startswith('netwarden.ingest')))")
    env = {**os.environ, "NETWARDEN_DB": str(tmp_path / "never-created.db")}
    env.pop("NETWARDEN_CONFIG", None)

    def loaded(*args: str) -> str:
        r = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=tmp_path,
                           env=env, timeout=120)
        assert "Traceback" not in r.stderr, r.stderr
        return r.stdout.strip().splitlines()[-1]

    expand = loaded("expand", "--help")
    assert "netwarden.cli.graph_cmd" in expand
    assert "netwarden.cli.ingest_cmd" not in expand and "netwarden.ingest.formats" not in expand
    assert "netwarden.cli.ingest_cmd" in loaded("--help")
    assert "netwarden.cli.ingest_cmd" in loaded("no-such-command")
