"""The cold path: a fresh `netwarden expand` on a current graph snapshot prints what the app prints, and
loads neither SQLAlchemy (the store is read with the stdlib sqlite3 driver), scipy (graph/csr.py), typer (cli/quick.py parses the
plain form of the line) nor numba; every other line, and every error, is the typer command's."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from netwarden.cli import app, quick
from netwarden.config import load
from netwarden.graph import expand as graph_expand
from netwarden.graph import snapshot
from netwarden.graph.push import build_kernel
from netwarden.ingest.pipeline import ingest_files
from netwarden.store import open_store
from sample_events import make_events, write_jsonl

# run as `python -m netwarden ARGS...`, then say which of these the process imported
PROBE = ("import runpy, sys\n"
         "sys.argv = ['netwarden', *sys.argv[1:]]\n"
         "try:\n"
         "    runpy.run_module('netwarden', run_name='__main__')\n"
         "finally:\n"
         "    sys.stderr.write('\\nMODULES ' + ' '.join(m for m in ('sqlalchemy', 'numba', 'alembic', 'typer', 'pydantic', 'rich', 'scipy') if m in sys.modules))\n")


# the same line through typer, as main() ran every command before cli/quick.py
TYPER = ("import sys\n"
         "from netwarden.cli import build_app, common, modules_for\n"
         "common.run(build_app(modules_for(sys.argv[1:])))\n")


def _typer(*args: str) -> tuple[int, str, str]:
    out = subprocess.run([sys.executable, "-c", TYPER, *args], capture_output=True, text=True)
    return out.returncode, out.stdout, out.stderr


def _run(*args: str) -> tuple[int, str, list[str], str]:
    out = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True)
    err, _, mods = out.stderr.rpartition("\nMODULES ")
    return out.returncode, out.stdout, mods.split(), err


def test_a_cold_expand_prints_what_the_app_prints_without_sqlalchemy(tmp_path):
    assert build_kernel(load().kernel_dir) is not None  # where the cold process looks (conftest's NETWARDEN_KERNEL_DIR)
    url = f"sqlite:///{tmp_path / 'nw.db'}"
    store = open_store(url)
    write_jsonl(tmp_path / "a.jsonl", make_events(accounts=40, posts=160, seed=8))
    ingest_files(store, [tmp_path / "a.jsonl"])
    snapshot.ensure(store, snapshot.root_for(store))
    store.close()
    for seeds in (["a0"], ["a3", "a7"]):
        args = ["expand", *[x for s in seeds for x in ("--seed", s)], "--top", "12", "--json", "--db", url]
        want = CliRunner().invoke(app, args)
        assert want.exit_code == 0, want.output
        code, out, mods, _ = _run(*args)
        assert code == 0 and out == want.output
        assert len(json.loads(out)["members"]) == 12
        assert mods == []  # no SQLAlchemy, Alembic, numba, typer, pydantic, rich or scipy in the process
    # errors: the same line and exit code as the typer command's (only the failing line loads typer, to say it)
    for args in (["expand", "--seed", "nobody", "--json", "--db", url],
                 ["expand", "--seed", "a0", "--layer", "colour", "--json", "--db", url]):
        code, out, mods, err = _run(*args)
        assert (code, out, err) == _typer(*args) and code == 2 and ("is not in the store" in err or "Unknown layer" in err)
        assert "sqlalchemy" not in mods
    # a line that is not the plain form goes to typer, which answers as it always did
    code, out, mods, err = _run("expand", "--seed", "a0", "--top", "0", "--json", "--db", url)
    assert code == 2 and "typer" in mods and "--top" in err
    # a stale snapshot is refreshed through the engine, as before, and the output still matches
    store = open_store(url)
    write_jsonl(tmp_path / "b.jsonl", [{"v": 1, "id": "late1", "kind": "follow", "time": "2026-03-01T00:00:00Z",
                                         "data": {"src": "a1", "dst": "a0"}}])
    ingest_files(store, [tmp_path / "b.jsonl"])  # the library leaves the snapshot stale
    store.close()
    args = ["expand", "--seed", "a0", "--json", "--db", url]
    code, out, mods, _ = _run(*args)
    assert code == 0 and "sqlalchemy" in mods
    want = CliRunner().invoke(app, args)
    assert want.exit_code == 0 and out == want.output


PLAIN = [
    ["--seed", "a1", "--json"],
    ["--json", "--seed", "a1", "--seed", "a2", "--top", "7", "--layer", "interaction", "--layer", "handle"],
    ["--db", "x.db", "--seed", "a1", "--json", "--json", "--top", "1"],
]
NOT_PLAIN = [
    [], ["--seed", "a1"], ["--json"], ["--seed=a1", "--json"], ["--seed", "a1", "--json", "--help"],
    ["--seed", "-a1", "--json"], ["--seed", "", "--json"], ["--seed", "a1", "--top", "0", "--json"],
    ["--seed", "a1", "--top", "07", "--json"], ["--seed", "a1", "--top", "1.5", "--json"],
    ["--seed", "a1", "--top", "3", "--top", "4", "--json"], ["--seed", "a1", "--db", "a", "--db", "b", "--json"],
    ["--seed", "a1", "--json", "--seed"], ["--seed", "a1", "--jsn"], ["a1", "--json"], ["--seed", "a1", "--json", "--"],
]


@pytest.mark.parametrize("args", PLAIN)
def test_the_quick_parse_gives_the_command_what_typer_gives_it(args, tmp_path, monkeypatch):
    calls = []

    def record(store, seeds, top_k=200, layers=None):
        calls.append((store.url, seeds, top_k, layers))
        return graph_expand.Expansion(seeds=seeds, members=[], layers=[])

    monkeypatch.setattr(graph_expand, "expand_network", record)
    monkeypatch.chdir(tmp_path)
    args = [*args, "--db", str(tmp_path / "s.db")] if "--db" not in args else args
    res = CliRunner().invoke(app, ["expand", *args])
    assert res.exit_code == 0, res.output
    assert quick.expand(args) is True
    assert len(calls) == 2 and calls[0] == calls[1]


@pytest.mark.parametrize("args", NOT_PLAIN)
def test_any_other_line_is_left_to_typer(args):
    assert quick.parse_expand(args) is None
    assert quick.expand(args) is False
