"""CLI commands (placeholder until filled in)."""

import typer


def register(app: typer.Typer) -> None:
    return None
