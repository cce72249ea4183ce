"""`netwarden ingest` and `netwarden db`: load platform data into the store."""

from __future__ import annotations

from pathlib import Path

import typer

from ..ingest.formats import help_text as formats_help
from .common import DB_OPT, JSON_OPT, emit, open_db, progress, settings


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    db = typer.Typer(help="Database maintenance.", no_args_is_help=True)
    db.command("upgrade")(db_upgrade)
    app.add_typer(db, name="db")


def ingest(
    paths: list[Path] = typer.Argument(..., help="JSON Lines files (or single JSON documents) to ingest."),
    fmt: str = typer.Option("native", "--format", "-f", help=formats_help()),
    db: str = DB_OPT,
    dead_letter: Path = typer.Option(None, "--dead-letter", help="Where bad records go (default: $NETWARDEN_DEAD_LETTER or ./netwarden-deadletter.jsonl)."),
    terms: str = typer.Option(None, "--terms", help="Term list to scan text with (default: $NETWARDEN_TERMS)."),
    no_signals: bool = typer.Option(False, "--no-signals", help="Store events only; skip media hashing and text scanning."),
    batch_size: int = typer.Option(20000, "--batch-size", min=1, help="Lines per transaction."),
    no_graph: bool = typer.Option(False, "--no-graph", help="Leave the graph snapshot behind (by default one that "
                                  "exists is brought up to the new events, so the next expand starts warm)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Ingest platform events: idempotent, order-tolerant and resumable (a checkpoint per file)."""
    from ..ingest.pipeline import ingest_files

    cfg = settings()
    store = open_db(db)
    total = sum(p.stat().st_size for p in paths if p.is_file())
    with progress(not as_json) as bar:
        task = bar.add_task("ingesting", total=total)

        def on_progress(done: int) -> None:
            bar.update(task, completed=done)

        summary = ingest_files(
            store, paths, fmt=fmt, dead_letter=dead_letter or Path(cfg.dead_letter),
            batch_size=batch_size, signals=not no_signals, terms=terms or cfg.terms, on_progress=on_progress,
            settings=cfg,
        )
    graph = None if no_graph else _refresh_snapshot(store, as_json)
    store.close()
    d = summary.as_dict()
    text = f"ingested {d['events']} events from {len(d['files'])} file(s) into {store.dialect}"
    if d["dead_letters"]:
        text += f"; {d['dead_letters']} bad record(s) written to {d['dead_letter_file']}"
    if graph:
        d["graph_snapshot"] = graph
        text += f"; graph snapshot {graph['version']} ({graph['how']})"
    emit(d, as_json, text)


def _refresh_snapshot(store, as_json: bool) -> dict | None:
    """Bring an existing graph snapshot up to the store (none is made here: `netwarden graph build` does)."""
    from ..graph import snapshot

    root = snapshot.root_for(store)
    if root is None or snapshot.current_version(root) is None:
        return None
    with progress(not as_json) as bar:
        bar.add_task("updating the graph snapshot", total=None)
        _, _, mark, how = snapshot.ensure(store, root)
    return {"version": mark.version, "how": how}


def db_upgrade(db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """Create the database or migrate it to the newest schema."""
    store = open_db(db)
    emit({"db": store.dialect, "status": "up to date"}, as_json, f"{store.dialect} database is up to date")
    store.close()
