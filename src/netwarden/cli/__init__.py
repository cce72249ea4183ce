"""The `netwarden` command. Each command group lives in its own module and registers here."""

from __future__ import annotations

import typer

from . import common

app = typer.Typer(
    name="netwarden",
    help="Find and dismantle networks of accounts trading CSAM: ingest, match, expand, review, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Command modules: each defines `register(app)`. Order is the order of `netwarden --help`.
from . import demo_cmd, ingest_cmd, media_cmd, text_cmd, world_cmd  # noqa: E402

for _mod in (ingest_cmd, world_cmd, media_cmd, text_cmd, demo_cmd):
    _mod.register(app)


def main() -> None:
    common.run(app)
