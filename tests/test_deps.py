"""A missing or broken package is one clear error at start, never a silent degraded run (issue 12).

Each case runs the installed `netwarden` entry point in a subprocess with the package taken away
by a sitecustomize on PYTHONPATH: set to None in sys.modules (not installed), or replaced by a
package whose import fails the way a native library that does not load fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from netwarden import deps

ROOT = Path(__file__).resolve().parents[1]
ENTRY = Path(sys.executable).with_name("netwarden")
EVENT = ('{"v":1,"id":"e0","kind":"account","time":"2026-01-01T00:00:00Z","data":{"id":"a","handle":"user_a"}}\n'
         '{"v":1,"id":"e1","kind":"follow","time":"2026-01-01T00:00:00Z","data":{"src":"a","dst":"b"}}\n')


def netwarden(tmp_path: Path, *args: str, absent: tuple[str, ...] = (), broken: tuple[str, ...] = (),
              env_extra: dict[str, str] | None = None):
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(
        "import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in absent))
    for m in broken:
        (site / m).mkdir(exist_ok=True)
        (site / m / "__init__.py").write_text(
            f"raise ImportError('lib{m}.so.5: cannot open shared object file: No such file or directory')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    env.pop("NETWARDEN_CONFIG", None)
    env.update(env_extra or {})
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    (work / "ev.jsonl").write_text(EVENT)
    r = subprocess.run([str(ENTRY), *args], capture_output=True, text=True, cwd=work, env=env, timeout=300)
    return r, work


def assert_one_line(r, *needles: str) -> None:
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.mark.parametrize("package,why", [
    ("hyperscan", "text scanning"),
    ("numba", "graph expansion"),
])
def test_a_missing_base_package_stops_the_command_before_it_starts(tmp_path, package, why):
    r, work = netwarden(tmp_path, "ingest", "ev.jsonl", "--db", "nw.db", absent=(package,))
    assert_one_line(r, f"package {package} is not installed", why, "make venv", "constraints.txt")
    assert not (work / "nw.db").exists()  # nothing was ingested without it


def test_the_sitecustomize_takes_nothing_away_by_itself(tmp_path):
    """The control: the same subprocess without a package taken away ingests the file."""
    r, work = netwarden(tmp_path, "ingest", "ev.jsonl", "--db", "nw.db", "--json")
    assert r.returncode == 0, r.stderr
    assert (work / "nw.db").exists()


def test_a_package_that_does_not_load_is_named(tmp_path):
    """Installed but failing at import (its native library missing): found by the start check,
    so the error comes from the import, attributed to the package whose code raised it."""
    r, work = netwarden(tmp_path, "ingest", "ev.jsonl", "--db", "nw.db", broken=("hyperscan",))
    assert_one_line(r, "package hyperscan does not load", "libhyperscan.so.5: cannot open", "make venv")


def test_case_open_without_numba_is_refused_not_a_placeholder(tmp_path):
    """The old fallback opened a 'follow (placeholder)' case of neighbours when expansion was missing."""
    r, work = netwarden(tmp_path, "ingest", "ev.jsonl", "--db", "nw.db", "--json")
    assert r.returncode == 0, r.stderr
    # no push kernel compiled ahead of time: expansion needs numba's JIT, which does not load
    r, work = netwarden(tmp_path, "case", "open", "--seed", "a", "--db", "nw.db", "--json", broken=("numba",),
                        env_extra={"NETWARDEN_KERNEL_DIR": str(tmp_path / "no-kernels")})
    assert_one_line(r, "package numba does not load", "libnumba.so.5")
    r, work = netwarden(tmp_path, "case", "list", "--db", "nw.db", "--json")  # numba works again
    assert r.returncode == 0 and json.loads(r.stdout) == [], r.stdout + r.stderr


def test_case_open_with_the_compiled_kernel_runs_the_real_expansion_without_numba(tmp_path):
    """`graph build` compiles the push kernel ahead of time; a later process expands without importing
    numba (docs/graph.md), and what it opens is the expansion's case, the same as with numba loaded."""
    kernels = {"NETWARDEN_KERNEL_DIR": str(tmp_path / "kernels")}
    r, work = netwarden(tmp_path, "ingest", "ev.jsonl", "--db", "nw.db", "--json")
    assert r.returncode == 0, r.stderr
    r, work = netwarden(tmp_path, "graph", "build", "--db", "nw.db", env_extra=kernels)
    assert r.returncode == 0, r.stderr
    assert list((tmp_path / "kernels").glob("nw_push_*"))
    r, work = netwarden(tmp_path, "expand", "--seed", "a", "--db", "nw.db", "--json", env_extra=kernels)
    assert r.returncode == 0, r.stderr
    with_numba = json.loads(r.stdout)
    r, work = netwarden(tmp_path, "expand", "--seed", "a", "--db", "nw.db", "--json", broken=("numba",),
                        env_extra=kernels)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == with_numba


@pytest.mark.parametrize("args,extra,package", [
    (("serve", "--db", "nw.db"), "web", "fastapi"),
    (("user", "list", "--db", "nw.db"), "web", "argon2-cffi"),
    (("worker", "--kafka", "127.0.0.1:1", "--db", "nw.db"), "stream", "confluent-kafka"),
    (("spark", "sweep", "--db", "nw.db"), "spark", "pyspark"),
    (("evaluate", "--world", "w", "--db", "nw.db"), "eval", "networkx"),
])
def test_a_command_needing_a_missing_extra_names_it(tmp_path, args, extra, package):
    module = next(m for m in deps.EXTRAS[extra] if deps.DIST.get(m, m) == package)
    r, work = netwarden(tmp_path, *args, absent=(module,))
    assert_one_line(r, f"needs the [{extra}] extra", f"package {package} is not installed", f"netwarden[{extra}]")
    assert not (work / "nw.db").exists()


def test_extras_in_pyproject_match_the_import_table():
    """deps.EXTRAS (what a command checks) and pyproject.toml's extras (what pip installs) agree,
    and `dev` installs every extra, so `make test` has everything."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]

    def names(reqs):
        return {r.split(">")[0].split("=")[0].split("[")[0].split("<")[0].strip().lower() for r in reqs}

    for extra, modules in deps.EXTRAS.items():
        assert names(extras[extra]) == {deps.DIST.get(m, m).split("[")[0] for m in modules}, extra
    assert extras["dev"] == [f"netwarden[{','.join(deps.EXTRAS)}]"]
    base = names(project["dependencies"])
    assert {deps.DIST.get(m, m).split("[")[0] for m in deps.BASE} <= base
    assert not base & names(sum((extras[x] for x in deps.EXTRAS), []))  # a package is in one place


def test_an_unrelated_import_error_is_not_mistaken_for_a_missing_package():
    """A bug (an ImportError from Netwarden's own code) keeps its traceback."""
    try:
        import netwarden.no_such_module  # noqa: F401
    except ImportError as e:
        assert deps.from_import_error(e) is None
    else:
        raise AssertionError("the import should fail")
