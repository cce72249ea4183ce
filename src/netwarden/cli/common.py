"""Shared CLI plumbing: one-sentence errors, --json output, progress bars."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..config import apply_config_file
from ..errors import UserError

err_console = Console(stderr=True)
out_console = Console()

JSON_OPT = typer.Option(False, "--json", help="Print machine-readable JSON instead of text.")
DB_OPT = typer.Option(None, "--db", help="Database URL or SQLite path (default: $NETWARDEN_DB or ./netwarden.db).")


def run(app: typer.Typer) -> None:
    """Run the app; a UserError becomes one line on stderr and exit code 2."""
    try:
        apply_config_file()
        app(standalone_mode=False)
    except UserError as e:
        err_console.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as e:  # click usage errors and the like
        import click

        if isinstance(e, click.ClickException):
            e.show()
            sys.exit(e.exit_code)
        raise


def emit(data: Any, as_json: bool, text: str | None = None) -> None:
    """Print `data` as JSON, or `text` (default: a readable dump of data)."""
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")
    elif text is not None:
        out_console.print(text, highlight=False, soft_wrap=True)
    else:
        out_console.print_json(json.dumps(data, default=str, ensure_ascii=False))


@contextmanager
def progress(enabled: bool = True):
    """A rich progress bar on stderr; disabled (a no-op) for --json or when not a terminal."""
    p = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=not enabled or not err_console.is_terminal,
        transient=True,
    )
    with p:
        yield p
