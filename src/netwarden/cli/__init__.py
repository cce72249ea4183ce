"""The `netwarden` command. Each command group lives in its own module and registers here.

`main()` imports only the module that owns the command it was given (`COMMAND_OWNERS`): a cold
`netwarden expand` does not import ingestion, media, reports or enforcement code, and its plain
`--json` form runs without typer at all (`quick.py`). `app` (the whole
command, as tests and docs/cli.md's generator use it) is built on first access; a command that no
module owns, or none at all (`--help`), also gets the whole app, so its errors and help are the same.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

# Command modules, in the order of the data flow; each defines `register(app)`.
COMMAND_MODULES = ("ingest_cmd", "world_cmd", "media_cmd", "text_cmd", "graph_cmd", "review_cmd", "reports_cmd",
                   "enforce_cmd", "scale_cmd", "audit_cmd", "demo_cmd")

# Which module registers each top-level command or group (tests/test_cli_usage_errors.py checks it
# against what the modules register).
COMMAND_OWNERS = {
    "ingest": "ingest_cmd", "db": "ingest_cmd",
    "world": "world_cmd",
    "hash": "media_cmd", "match": "media_cmd", "bank": "media_cmd",
    "scan": "text_cmd", "contacts": "text_cmd", "rescan": "text_cmd", "terms": "text_cmd",
    "expand": "graph_cmd", "sweep": "graph_cmd", "evasion": "graph_cmd", "evaluate": "graph_cmd", "graph": "graph_cmd",
    "serve": "review_cmd", "user": "review_cmd", "case": "review_cmd", "risk": "review_cmd",
    "report-intake": "reports_cmd", "reports": "reports_cmd", "queue": "reports_cmd", "account": "reports_cmd",
    "stats": "enforce_cmd", "enforce": "enforce_cmd", "evidence": "enforce_cmd", "report": "enforce_cmd",
    "export": "enforce_cmd",
    "worker": "scale_cmd", "produce": "scale_cmd", "spark": "scale_cmd",
    "audit": "audit_cmd",
    "demo": "demo_cmd",
}


def build_app(modules: Sequence[str] = COMMAND_MODULES) -> typer.Typer:
    """The `netwarden` command with the commands of `modules` registered."""
    import typer

    from . import common

    app = typer.Typer(
        name="netwarden",
        help="Find and dismantle networks of accounts trading CSAM: ingest, match, expand, review, report.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(common.load_settings)  # every command runs with the settings loaded once (config.py)
    for name in modules:
        import_module(f"{__name__}.{name}").register(app)
    return app


def modules_for(argv: Sequence[str]) -> tuple[str, ...]:
    """The command modules a command line needs: the owner of its command, else all of them. The
    root command takes no options of its own, so the command is the first argument."""
    owner = COMMAND_OWNERS.get(argv[0]) if argv else None
    return (owner,) if owner else COMMAND_MODULES


def __getattr__(name: str):
    if name == "app":  # the whole command, built once on first use
        app = globals()["app"] = build_app()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    argv = sys.argv[1:]
    if argv[:1] == ["expand"]:  # the analyst's cold path, without typer when the line is plain (cli/quick.py)
        from . import quick

        if quick.expand(argv[1:]):
            return
    from . import common

    common.run(build_app(modules_for(argv)))
