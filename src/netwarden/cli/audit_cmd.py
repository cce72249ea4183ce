"""`netwarden audit`: check, read and export the hash-chained audit log."""

from __future__ import annotations

import typer

from .. import audit
from ..errors import UserError
from .common import DB_OPT, JSON_OPT, emit, open_db

FORMATS = ("jsonl", "csv")


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)
    sub.command("verify")(verify)
    sub.command("list")(list_entries)
    sub.command("export")(export)
    app.add_typer(sub, name="audit")


def verify(
    incremental: bool = typer.Option(False, "--incremental",
                                     help="Start at the newest checkpoint instead of the first entry."),
    actor: str = typer.Option("system:cli", "--as", help="Who verifies (recorded with the checkpoint)."),
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Recompute the hash chain; exit 1 naming the first entry that was altered or removed."""
    store = open_db(db)
    with store.engine.begin() as conn:
        r = audit.verify(conn, incremental=incremental)
        audit.checkpoint(conn, r, actor)
    store.close()
    data = {"ok": r.ok, "entries": r.entries, "checked": r.checked, "from": r.start, "full": r.full,
            "problem": r.problem, "seq": r.seq}
    if r.ok:
        emit(data, as_json, f"audit log intact: {r.entries} entries ({r.checked} recomputed from entry {r.start})")
        return
    if as_json:
        emit(data, True)
        raise typer.Exit(1)
    raise UserError(f"The audit log is broken: {r.problem}; restore it from a backup and investigate who changed it.")


SUBJECT_TYPE = typer.Option(None, "--subject-type")
SUBJECT_ID = typer.Option(None, "--subject-id")
ACTION = typer.Option(None, "--action")
ACTOR = typer.Option(None, "--actor", help="Entries by this actor (user name or system:<component>).")
SINCE = typer.Option(None, "--since", help="Entries at or after this ISO time (e.g. 2026-12-01 or 2026-12-01T10:00).")
UNTIL = typer.Option(None, "--until", help="Entries before this ISO time.")


def list_entries(
    subject_type: str = SUBJECT_TYPE,
    subject_id: str = SUBJECT_ID,
    action: str = ACTION,
    actor: str = ACTOR,
    since: str = SINCE,
    until: str = UNTIL,
    limit: int = typer.Option(50, "--limit", min=1),
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """The newest audit entries, optionally for one subject, action, actor or time window."""
    store = open_db(db)
    with store.engine.connect() as conn:
        rows = audit.entries(conn, subject_type, subject_id, action, limit, actor=actor,
                             since=audit.check_time(since, "--since"), until=audit.check_time(until, "--until"))
    store.close()
    lines = [f"{r['seq']:>6} {r['time']} {r['actor']:<16} {r['action']:<14} {r['subject_type']}:{r['subject_id']}"
             for r in rows]
    emit(rows, as_json, "\n".join(lines) or "no entries")


def export(
    out: str = typer.Option(..., "--out", help="File to write (the export itself is audited)."),
    fmt: str = typer.Option("jsonl", "--format", help="jsonl or csv."),
    subject_type: str = SUBJECT_TYPE,
    subject_id: str = SUBJECT_ID,
    action: str = ACTION,
    actor: str = ACTOR,
    since: str = SINCE,
    until: str = UNTIL,
    by: str = typer.Option("system:cli", "--as", help="Who exports (for the audit log)."),
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Write the matching entries, oldest first, to a JSONL or CSV file; the export is audited."""
    if fmt not in FORMATS:
        raise UserError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}.")
    filters = {"subject_type": subject_type, "subject_id": subject_id, "action": action, "actor": actor,
               "since": audit.check_time(since, "--since"), "until": audit.check_time(until, "--until")}
    store = open_db(db)
    try:
        with open(out, "w", encoding="utf-8", newline="") as f, store.engine.begin() as conn:
            n = audit.export(conn, f, fmt, by, **filters)
    except OSError as e:
        raise UserError(f"Cannot write {out}: {e.strerror}; pick a writable --out path.") from e
    finally:
        store.close()
    emit({"out": out, "entries": n, "format": fmt}, as_json, f"wrote {n} entries to {out}")
