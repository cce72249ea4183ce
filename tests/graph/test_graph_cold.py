"""The cold path: a fresh `netwarden expand` on a current graph snapshot prints what the app prints, and
loads neither SQLAlchemy (the store is read with the stdlib sqlite3 driver) nor numba."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from netwarden.cli import app
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
         "    sys.stderr.write('\\nMODULES ' + ' '.join(m for m in ('sqlalchemy', 'numba', 'alembic') if m in sys.modules))\n")


def _run(*args: str) -> tuple[int, str, str]:
    out = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True)
    err, _, mods = out.stderr.rpartition("\nMODULES ")
    return out.returncode, out.stdout, mods.split() if mods else []


def test_a_cold_expand_prints_what_the_app_prints_without_sqlalchemy(tmp_path):
    assert build_kernel() is not None
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
        code, out, mods = _run(*args)
        assert code == 0 and out == want.output
        assert len(json.loads(out)["members"]) == 12
        assert mods == []  # no SQLAlchemy, Alembic or numba in the process
    # a stale snapshot is refreshed through the engine, as before, and the output still matches
    store = open_store(url)
    write_jsonl(tmp_path / "b.jsonl", [{"v": 1, "id": "late1", "kind": "follow", "time": "2026-03-01T00:00:00Z",
                                         "data": {"src": "a1", "dst": "a0"}}])
    ingest_files(store, [tmp_path / "b.jsonl"])  # the library leaves the snapshot stale
    store.close()
    args = ["expand", "--seed", "a0", "--json", "--db", url]
    code, out, mods = _run(*args)
    assert code == 0 and "sqlalchemy" in mods
    want = CliRunner().invoke(app, args)
    assert want.exit_code == 0 and out == want.output
