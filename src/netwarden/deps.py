"""Which installed packages each part of Netwarden needs, and one clear error when one is missing.

There is no degraded mode: without hyperscan ingestion would find no term hits, contacts or URL
matches, and without numba no expansion, so a missing package stops the command before it starts,
naming the package and the install command. The base packages are checked when the CLI starts;
an extra's packages (pyproject.toml's optional-dependencies) when a command that needs it starts.
"""

from __future__ import annotations

import importlib.util
import traceback
from pathlib import Path

from .errors import UserError

# Base dependencies with compiled parts, and what stops working without them.
BASE = {
    "hyperscan": "text scanning, contacts and URL matching at ingest",
    "numba": "graph expansion (case open, expand) and the PDQ match index",
    "pdqhash": "PDQ media hashing",
    "igraph": "community detection in the graph",
    "leidenalg": "community detection in the graph",
    "av": "video decoding",
    "psycopg": "PostgreSQL",
    "orjson": "reading JSON at ingest",
    "numpy": "every numeric step",
    "scipy": "the graph layers",
}

# Import name -> the extra that installs it (pyproject.toml's [project.optional-dependencies];
# tests/test_deps.py checks that the two agree).
EXTRAS: dict[str, tuple[str, ...]] = {
    "web": ("fastapi", "uvicorn", "jinja2", "python_multipart", "itsdangerous", "argon2"),
    "stream": ("confluent_kafka",),
    "spark": ("pyspark",),
    "eval": ("networkx", "faiss"),
    "bench": ("ahocorasick",),
    "test": ("pytest", "pytest_timeout", "ruff", "playwright"),
}

# Import name -> distribution name, where they differ.
DIST = {"python_multipart": "python-multipart", "ahocorasick": "pyahocorasick", "argon2": "argon2-cffi", "confluent_kafka": "confluent-kafka",
        "faiss": "faiss-cpu", "pytest_timeout": "pytest-timeout",
        "psycopg": "psycopg[binary]", "yaml": "pyyaml", "PIL": "pillow"}

FIX = "run `make venv` in the source tree, or `pip install -c constraints.txt {target}`"


class MissingDependency(UserError):
    """A package Netwarden needs is not installed or does not load."""


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a module set to None
        return False


def _dist(module: str) -> str:
    return DIST.get(module, module)


def check_base() -> None:
    """The base packages with compiled parts are installed (cheap: nothing is imported)."""
    for module, why in BASE.items():
        if not _installed(module):
            raise MissingDependency(
                f"The Python package {_dist(module)} is not installed; Netwarden needs it for {why}. "
                f"To fix it, {FIX.format(target='netwarden')}.")


def require_extra(extra: str, what: str) -> None:
    """The packages of `extra` are installed; else one error naming the first missing one."""
    for module in EXTRAS[extra]:
        if not _installed(module):
            raise MissingDependency(
                f"{what} needs the [{extra}] extra, and its package {_dist(module)} is not installed. "
                f"To fix it, {FIX.format(target=repr(f'netwarden[{extra}]'))}.")


def _failed_package(e: ImportError, known: set[str]) -> str | None:
    """The known package an ImportError comes from: the module it could not find, or the
    installed package whose own code raised it (a native library that does not load, a numba
    built for another numpy)."""
    name = (e.name or "").split(".")[0]
    if name in known:
        return name
    dirs = {n: d for n in known if (d := _package_dir(n)) is not None}
    for frame in reversed(traceback.extract_tb(e.__traceback__)):
        for n, d in dirs.items():
            if Path(frame.filename).is_relative_to(d):
                return n
    return None


def _package_dir(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def from_import_error(e: ImportError) -> MissingDependency | None:
    """The one-line error for an ImportError of a package Netwarden depends on, else None (a bug)."""
    name = _failed_package(e, set(BASE) | {m for ms in EXTRAS.values() for m in ms})
    if name is None:
        return None
    extra = next((x for x, ms in EXTRAS.items() if name in ms), None)
    target = repr(f"netwarden[{extra}]") if extra else "netwarden"
    return MissingDependency(
        f"The Python package {_dist(name)} does not load ({' '.join(str(e).split())}). "
        f"To fix it, {FIX.format(target=target)}.")
