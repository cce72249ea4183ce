"""Shared CLI plumbing: one-sentence errors, --json output, progress bars."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from .. import deps
from ..config import Settings, load
from ..errors import UserError

err_console = Console(stderr=True)
out_console = Console()

JSON_OPT = typer.Option(False, "--json", help="Print machine-readable JSON instead of text.")
DB_OPT = typer.Option(None, "--db", help="Database URL or SQLite path (default: $NETWARDEN_DB or ./netwarden.db).")


def load_settings(ctx: typer.Context) -> None:
    """The app's callback: the settings, loaded once per command (config file + environment) and
    kept on the root context for `settings()`. A bad value stops here with one sentence."""
    ctx.obj = load()


def settings() -> Settings:
    """The settings this command's callback loaded (loaded now when a command runs outside the app)."""
    import click

    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    if root is None or not isinstance(root.obj, Settings):
        return load()
    return root.obj


def open_db(db: str | None):
    """The store for a command's --db (default: the settings' database), migrated and ready."""
    from ..config import resolve_db
    from ..store import open_store

    s = settings()
    return open_store(resolve_db(db, s), graph_dir=s.graph_dir, kernel_dir=s.kernel_dir)


def _click_exception_types() -> tuple[type[BaseException], ...]:
    """The ClickException classes usage errors can come as, whichever typer is installed.

    typer up to 0.2x raises the exceptions of the `click` package; newer typer vendors its own
    click (`typer._click`) whose exceptions are not `click`'s. `typer.BadParameter` is exported by
    both, and its class hierarchy names the ClickException of the click in use."""
    found = [c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"]
    try:
        import click

        found.append(click.ClickException)
    except ImportError:  # newer typer does not need the click package at all
        pass
    return tuple(dict.fromkeys(found))


CLICK_EXCEPTIONS = _click_exception_types()


def usage_line(e: BaseException, prog: str = "netwarden") -> str:
    """A click usage error as one line: the message, and which --help to read (the command's when
    the error knows its command, else the program's)."""
    msg = " ".join(str(e.format_message()).split())  # type: ignore[attr-defined]
    ctx = getattr(e, "ctx", None)
    path = getattr(ctx, "command_path", None) or prog
    return f"{msg} (see '{path} --help')"


def run(app: typer.Typer) -> None:
    """Run the app; a UserError, a usage error or a missing package becomes one line on stderr and
    exit code 2."""
    from .quick import one_line_errors

    try:
        with one_line_errors():
            deps.check_base()
            rv = app(standalone_mode=False)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        sys.exit(1)
    except CLICK_EXCEPTIONS as e:
        if type(e).__name__ == "NoArgsIsHelpError":  # a group given no command: its help, as click shows it
            if str(e.format_message()).strip():  # type: ignore[attr-defined]  (rich help is already printed)
                e.show()  # type: ignore[attr-defined]
        else:
            err_console.print("[bold red]error:[/] ", Text(usage_line(e, app.info.name or "netwarden")), sep="", highlight=False, soft_wrap=True)
        sys.exit(getattr(e, "exit_code", 2))
    # without standalone mode click returns the code of a `typer.Exit(n)` instead of exiting with it
    if isinstance(rv, int) and not isinstance(rv, bool) and rv:
        sys.exit(rv)


def _fail(e: UserError) -> NoReturn:
    err_console.print("[bold red]error:[/] ", Text(str(e)), sep="", highlight=False, soft_wrap=True)
    sys.exit(e.exit_code)


def emit(data: Any, as_json: bool, text: str | None = None) -> None:
    """Print `data` as JSON, or `text` (default: a readable dump of data)."""
    if as_json:
        from .quick import write_json

        write_json(data)
    elif text is not None:
        out_console.print(text, highlight=False, soft_wrap=True, markup=False)  # platform text is never markup
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
