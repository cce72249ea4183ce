"""`netwarden audit`: check and read the hash-chained audit log."""

from __future__ import annotations

import typer

from .. import audit
from ..config import resolve_db
from ..errors import UserError
from ..store import open_store
from .common import DB_OPT, JSON_OPT, emit


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)
    sub.command("verify")(verify)
    sub.command("list")(list_entries)
    app.add_typer(sub, name="audit")


def verify(db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """Recompute the hash chain; exit 1 naming the first entry that was altered or removed."""
    store = open_store(resolve_db(db))
    with store.engine.connect() as conn:
        r = audit.verify(conn)
    store.close()
    data = {"ok": r.ok, "entries": r.entries, "problem": r.problem, "seq": r.seq}
    if r.ok:
        emit(data, as_json, f"audit log intact: {r.entries} entries")
        return
    if as_json:
        emit(data, True)
        raise typer.Exit(1)
    raise UserError(f"The audit log is broken: {r.problem}; restore it from a backup and investigate who changed it.")


def list_entries(
    subject_type: str = typer.Option(None, "--subject-type"),
    subject_id: str = typer.Option(None, "--subject-id"),
    action: str = typer.Option(None, "--action"),
    limit: int = typer.Option(50, "--limit", min=1),
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """The newest audit entries, optionally for one subject or action."""
    store = open_store(resolve_db(db))
    with store.engine.connect() as conn:
        rows = audit.entries(conn, subject_type, subject_id, action, limit)
    store.close()
    lines = [f"{r['seq']:>6} {r['time']} {r['actor']:<16} {r['action']:<14} {r['subject_type']}:{r['subject_id']}"
             for r in rows]
    emit(rows, as_json, "\n".join(lines) or "no entries")
