"""The `netwarden` command. Each command group lives in its own module and registers here."""

from __future__ import annotations

from importlib import import_module

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

# Command modules, in the order of the data flow; each defines `register(app)`.
COMMAND_MODULES = ("ingest_cmd", "world_cmd", "media_cmd", "text_cmd", "graph_cmd", "review_cmd", "reports_cmd",
                   "enforce_cmd", "scale_cmd", "audit_cmd", "demo_cmd")

for _name in COMMAND_MODULES:
    import_module(f"{__name__}.{_name}").register(app)


def main() -> None:
    common.run(app)
