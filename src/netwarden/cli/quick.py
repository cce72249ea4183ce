"""`netwarden expand ... --json` without the CLI framework: the analyst's cold path.

typer (0.2x) builds a pydantic validator for each option of the command it parses, and imports rich
and pydantic to do it: ~0.3 s of a fresh process, more than the expansion itself takes on a current
graph snapshot. So `main()` offers the command line here first, and only its plain form is taken:
`expand` with `--seed V` (repeatable), `--top N`, `--layer V` (repeatable), `--db V` and `--json`, each
option and its value as two arguments. Anything else (`--help`, another option, `--opt=value`, a value
that starts with `-` or is empty, `--top` that is not a plain positive number, `--top` or `--db` twice,
no `--seed`, no `--json`) is left to typer, which parses it as before with its own help and errors.

What runs is what the typer command runs (`graph_cmd.expand`): the settings (`config.load`), the store
for `--db`, `expand_network`, the JSON written by the same function (`write_json`); a UserError or a
missing package ends in the same one line and exit code (`common._fail`). tests/graph/test_graph_cold.py
checks the output, errors and exit codes against the typer command's on the same lines.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

_TOP = re.compile(r"[1-9][0-9]{0,8}")
_VALUED = {"--seed": "seed", "--top": "top", "--layer": "layer", "--db": "db"}


def parse_expand(args: Sequence[str]) -> dict | None:
    """The arguments `graph_cmd.expand` gets for `netwarden expand ARGS`, or None when ARGS is not the
    plain form above (typer parses it then)."""
    got: dict[str, Any] = {"seed": [], "top": None, "layer": [], "db": None, "as_json": False}
    i = 0
    while i < len(args):
        opt = args[i]
        if opt == "--json":
            got["as_json"] = True
            i += 1
            continue
        name = _VALUED.get(opt)
        if name is None or i + 1 >= len(args):
            return None
        value = args[i + 1]
        if not value or value.startswith("-"):
            return None
        if name in ("seed", "layer"):
            got[name].append(value)
        elif got[name] is not None:
            return None
        elif name == "top":
            if not _TOP.fullmatch(value):
                return None
            got["top"] = int(value)
        else:
            got[name] = value
        i += 2
    if not got["seed"] or not got["as_json"]:
        return None
    got["top"] = 200 if got["top"] is None else got["top"]  # graph_cmd.expand's default
    got["layer"] = got["layer"] or None
    return got


def write_json(data: Any) -> None:
    """What `--json` prints (common.emit's JSON form)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


def expand(args: Sequence[str]) -> bool:
    """Run `netwarden expand ARGS` when ARGS is the plain form; False (nothing done) otherwise."""
    kw = parse_expand(args)
    if kw is None:
        return False
    from .. import deps

    with one_line_errors():
        deps.check_base()
        from ..config import load, resolve_db

        settings = load()  # as the app's callback (common.load_settings) does
        from ..graph.expand import expand_network
        from ..store import open_store

        store = open_store(resolve_db(kw["db"], settings), graph_dir=settings.graph_dir,
                           kernel_dir=settings.kernel_dir)
        exp = expand_network(store, list(kw["seed"]), kw["top"], set(kw["layer"]) if kw["layer"] else None)
        write_json(exp.as_dict())
    return True


@contextmanager
def one_line_errors() -> Iterator[None]:
    """A UserError or a package that does not load ends in one line on stderr and its exit code (2);
    Ctrl-C in "interrupted" and 130. Shared by the typer app (common.run) and the typer-free expand,
    and importing neither typer nor rich until an error is printed."""
    from .. import deps
    from ..errors import UserError

    try:
        yield
    except UserError as e:
        _fail(e)
    except ImportError as e:  # a package installed but not loading (a native library, a numba for another numpy)
        missing = deps.from_import_error(e)
        if missing is None:
            raise
        _fail(missing)
    except KeyboardInterrupt:
        from .common import err_console

        err_console.print("interrupted")
        sys.exit(130)


def _fail(e) -> None:
    from .common import _fail

    _fail(e)
