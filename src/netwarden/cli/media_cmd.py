"""`netwarden hash`, `netwarden match` and `netwarden bank ...`: known-media hashing and matching."""

from __future__ import annotations

from pathlib import Path

import typer

from .. import signal_types
from ..errors import UserError
from .common import DB_OPT, JSON_OPT, emit, open_db, progress, settings

# Help and messages list the registered signal types (netwarden.signal_types), never a copy of them.
TYPES = " | ".join(signal_types.names())
TYPES_OR = ", ".join(signal_types.names()[:-1]) + " or " + signal_types.names()[-1]

bank_app = typer.Typer(help="Hash banks: create, list, import, export, add, remove, set.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("hash")(hash_cmd)
    app.command("match")(match_cmd)
    bank_app.command("create")(bank_create)
    bank_app.command("list")(bank_list)
    bank_app.command("import")(bank_import)
    bank_app.command("export")(bank_export)
    bank_app.command("add")(bank_add)
    bank_app.command("remove")(bank_remove)
    bank_app.command("set")(bank_set)
    bank_app.command("fetch")(bank_fetch)
    bank_app.command("sync")(bank_sync)
    app.add_typer(bank_app, name="bank")


BY_OPT = typer.Option(None, "--as", help="Actor name for the audit log (default: the OS user).")


def _actor(by: str | None) -> str:
    import getpass

    if by:
        return f"cli:{by}"
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in this environment
        return "cli"


def _audit(conn, by: str | None, action: str, bank: str, detail: dict) -> None:
    from .. import audit

    audit.append(conn, _actor(by), action, "bank", bank, detail)



def _hash_files(files: list[Path], fps: float, full: bool, as_json: bool):
    from ..media.decode import Limits
    from ..media.hashing import hash_file

    limits = Limits.of(settings())
    out = []
    with progress(not as_json) as p:
        task = p.add_task("hashing", total=len(files))
        for f in files:
            out.append(hash_file(f, fast=not full, video_fps=fps, limits=limits))
            p.advance(task)
    return out


FPS_OPT = typer.Option(1.0, "--fps", help="Video frames hashed per second (0: every frame).")
FULL_OPT = typer.Option(False, "--full", help="Always decode at full size (no reduced-size JPEG decode).")


def hash_cmd(
    files: list[Path] = typer.Argument(..., help="Image or video files."),
    fps: float = FPS_OPT,
    full: bool = FULL_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Print each file's MD5, SHA-256, PDQ with quality (images) or vPDQ frames (videos), or its error."""
    results = _hash_files(files, fps, full, as_json)
    lines = []
    for h in results:
        lines.append(f"{h.name}")
        lines.append(f"  md5 {h.md5}  sha256 {h.sha256}" if h.md5 else "  (no bytes)")
        if h.error:
            lines.append(f"  error: {h.error}")
        elif h.kind == "video":
            usable = sum(1 for f in h.vpdq or [] if f["quality"] >= 50)
            lines.append(f"  vpdq {len(h.vpdq or [])} frames ({usable} usable)")
        else:
            note = "" if h.usable else "  (quality < 50: unusable, never matched)"
            lines.append(f"  pdq {h.pdq} quality {h.quality}{note}")
    emit([h.to_dict() for h in results], as_json, "\n".join(lines))
    if any(h.error for h in results) and len(results) == 1:
        raise typer.Exit(1)


def match_cmd(
    files: list[Path] = typer.Argument(..., help="Image or video files."),
    db: str = DB_OPT,
    fps: float = FPS_OPT,
    full: bool = FULL_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Match files against every enabled bank: bank, entry, distance and the variant that matched."""
    from ..media.service import BankMatcher

    store = open_db(db)
    with store.engine.connect() as conn:
        matcher = BankMatcher().refresh(conn)
    results = _hash_files(files, fps, full, as_json)
    matched = matcher.match_many(results)
    out, lines = [], []
    for h, r in zip(results, matched, strict=True):
        out.append({"file": h.name, "md5": h.md5, "pdq": h.pdq, "quality": h.quality, "error": h.error, **r.to_dict()})
        lines.append(h.name + (f"  error: {h.error}" if h.error else ""))
        if r.unusable:
            lines.append("  PDQ quality below 50: not matched perceptually")
        for m in r.matches:
            lines.append(f"  MATCH bank {m.bank} entry {m.entry_id} {m.signal_type} distance {m.distance} variant {m.variant}"
                         + (f" label {m.label}" if m.label else ""))
        for m in r.suppressed:
            lines.append(f"  suppressed: bank {m.bank} entry {m.entry_id} (negative bank {r.negatives[0].bank} matched)")
        if not r.matches and not r.suppressed:
            lines.append("  no match")
    emit(out, as_json, "\n".join(lines))


# ------------------------------------------------------------------------------------------- banks


def bank_create(
    name: str = typer.Argument(..., help="Bank name."),
    label: str = typer.Option("", "--label", help="Label given to matches (e.g. a category)."),
    threshold: int = typer.Option(31, "--threshold", help="PDQ distance threshold in bits."),
    negative: bool = typer.Option(False, "--negative", help="A bank of known false positives that suppresses matches."),
    disabled: bool = typer.Option(False, "--disabled", help="Create it disabled."),
    by: str = BY_OPT,
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Create a bank."""
    from ..store import media_banks as mb

    store = open_db(db)
    with store.engine.begin() as conn:
        b = mb.create_bank(conn, name, label=label, threshold=threshold, negative=negative, enabled=not disabled)
        _audit(conn, by, "bank.create", b["name"], {"label": label, "threshold": threshold, "negative": negative,
                                                     "enabled": not disabled, "source": "cli"})
    emit(b, as_json, f"created bank {b['name']} (threshold {b['threshold']}{', negative' if negative else ''})")


def bank_set(
    name: str = typer.Argument(..., help="Bank name."),
    label: str = typer.Option(None, "--label"),
    threshold: int = typer.Option(None, "--threshold"),
    enabled: bool = typer.Option(None, "--enable/--disable"),
    negative: bool = typer.Option(None, "--negative/--positive"),
    by: str = BY_OPT,
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Change a bank's label, threshold, enabled or negative flag."""
    from ..store import media_banks as mb

    store = open_db(db)
    with store.engine.begin() as conn:
        before = mb.bank_row(conn, name)
        b = mb.update_bank(conn, name, label=label, threshold=threshold, enabled=enabled, negative=negative)
        changed = {k: v for k, v in (("label", label), ("threshold", threshold), ("enabled", enabled),
                                     ("negative", negative)) if v is not None}
        if changed:
            _audit(conn, by, "bank.update", name, {"before": {k: before[k] for k in changed}, "after": changed})
    emit(b, as_json, f"bank {b['name']}: threshold {b['threshold']}, enabled {bool(b['enabled'])}, negative {bool(b['negative'])}")


def bank_list(db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """List banks with their settings and entry counts."""
    from ..store import media_banks as mb

    store = open_db(db)
    with store.engine.connect() as conn:
        rows = mb.list_banks(conn)
    lines = [f"{'name':<24}{'entries':>9}{'threshold':>11}  flags  label"]
    for b in rows:
        flags = ("on " if b["enabled"] else "off") + (" neg" if b["negative"] else "")
        lines.append(f"{b['name']:<24}{b['entries']:>9}{b['threshold']:>11}  {flags:<6} {b['label']}")
    emit(rows, as_json, "\n".join(lines) if rows else "no banks; create one with `netwarden bank create NAME`")


def bank_import(
    name: str = typer.Argument(..., help="Bank to import into."),
    file: Path = typer.Argument(..., help="CSV (signal_type,signal,label), a world's bank.csv, or a world folder."),
    create: bool = typer.Option(True, "--create/--no-create", help="Create the bank if it does not exist."),
    by: str = BY_OPT,
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Import signals from CSV (python-threatexchange / HMA signal-type names accepted)."""
    from sqlalchemy import select

    from ..media.signals import read_csv
    from ..store import media_banks as mb
    from ..store.tables_media import banks

    if file.is_dir():
        file = file / "bank.csv"
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"Cannot read bank file {file} ({e}); give a UTF-8 CSV of signal_type,signal,label.") from None
    rows, problems = read_csv(text, str(file))
    if not rows:
        first = problems[0] if problems else f"{file} has no signals"
        raise UserError(f"{first}; give a CSV of signal_type,signal,label with {TYPES_OR} rows.")
    store = open_db(db)
    with store.engine.begin() as conn:
        existed = conn.execute(select(banks.c.id).where(banks.c.name == name)).first() is not None
        if create:
            b = mb.create_bank(conn, name, source=str(file.name), exist_ok=True)
            if not existed:
                _audit(conn, by, "bank.create", name, {"source": str(file.name)})
        else:
            b = mb.bank_row(conn, name)
        added = mb.add_entries(conn, b["id"], [(r.signal_type, r.signal, r.label) for r in rows])
        _audit(conn, by, "bank.import", name, {"file": str(file), "read": len(rows), "added": added})
    out = {"bank": name, "read": len(rows), "added": added, "skipped_duplicates": len(rows) - added, "problems": problems}
    text_out = f"bank {name}: read {len(rows)}, added {added}, already present {len(rows) - added}"
    if problems:
        text_out += f", {len(problems)} bad line(s), first: {problems[0]}"
    emit(out, as_json, text_out)


def bank_export(
    name: str = typer.Argument(..., help="Bank to export."),
    out: Path = typer.Option(None, "--out", "-o", help="Write here instead of standard output."),
    tx_names: bool = typer.Option(False, "--tx-names", help="Use python-threatexchange signal-type names (video_md5, ...)."),
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Export a bank as CSV (signal_type,signal,label)."""
    import sys

    from ..media.signals import Row, write_csv
    from ..store import media_banks as mb

    store = open_db(db)
    with store.engine.connect() as conn:
        b = mb.bank_row(conn, name)
        rows = [Row(e["signal_type"], e["signal"], e["label"]) for e in mb.entries(conn, b["id"])]
    if as_json and out is None:
        emit([r.__dict__ for r in rows], True)
        return
    if out is not None:
        with open(out, "w", encoding="utf-8", newline="") as f:
            f.writelines(write_csv(rows, tx_names))
        emit({"bank": name, "rows": len(rows), "file": str(out)}, as_json, f"wrote {len(rows)} rows to {out}")
    else:
        sys.stdout.writelines(write_csv(rows, tx_names))


def bank_add(
    name: str = typer.Argument(..., help="Bank name."),
    signal_type: str = typer.Argument(None, help=f"{TYPES} (threatexchange names accepted)."),
    signal: str = typer.Argument(None, help="The hash in hex, or the link (url) or host name (domain)."),
    file: Path = typer.Option(None, "--file", "-f", help="Hash this media file and add its PDQ (and MD5)."),
    label: str = typer.Option("", "--label"),
    by: str = BY_OPT,
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Add one signal (a hash, url or domain; or a file's hashes) to a bank; matchable immediately."""
    from ..media.signals import normalize
    from ..store import media_banks as mb

    rows: list[tuple[str, str, str]] = []
    if file is not None:
        from ..media.decode import Limits
        from ..media.hashing import hash_file

        h = hash_file(file, fast=False, video_fps=1.0, limits=Limits.of(settings()))
        if h.error:
            raise UserError(h.error)
        rows.append(("md5", h.md5, label))
        if h.pdq and h.usable:
            rows.append(("pdq", h.pdq, label))
        if h.vpdq:
            import json

            rows.append(("vpdq", json.dumps(h.vpdq), label))
    elif signal_type and signal:
        try:
            rows.append((*normalize(signal_type, signal), label))
        except ValueError as e:
            raise UserError(f"Signal {signal!r}: {e}; give SIGNAL_TYPE and a hex hash, a link (url) or a host name (domain).") from None
    else:
        raise UserError("Nothing to add; give SIGNAL_TYPE SIGNAL or --file FILE.")
    store = open_db(db)
    with store.engine.begin() as conn:
        b = mb.bank_row(conn, name)
        added = mb.add_entries(conn, b["id"], rows)
        _audit(conn, by, "bank.entry.add", name, {"added": added, "signals": {r[0]: r[1][:200] for r in rows}})
    emit({"bank": name, "added": added, "signals": [{"signal_type": r[0], "signal": r[1][:80]} for r in rows]},
         as_json, f"bank {name}: added {added} of {len(rows)} signal(s)")


def bank_remove(
    name: str = typer.Argument(..., help="Bank name."),
    signal_type: str = typer.Argument(None, help=TYPES),
    signal: str = typer.Argument(None, help="The hash in hex, or the link (url) or host name (domain)."),
    entry: int = typer.Option(None, "--entry", help="Remove by entry id instead."),
    by: str = BY_OPT,
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Remove a signal from a bank."""
    from ..media.signals import normalize
    from ..store import media_banks as mb

    st = s = None
    if entry is None:
        if not (signal_type and signal):
            raise UserError("Nothing to remove; give SIGNAL_TYPE SIGNAL or --entry ID.")
        try:
            st, s = normalize(signal_type, signal)
        except ValueError as e:
            raise UserError(f"Signal {signal!r}: {e}; give SIGNAL_TYPE and a hex hash, a link (url) or a host name (domain).") from None
    store = open_db(db)
    with store.engine.begin() as conn:
        b = mb.bank_row(conn, name)
        n = mb.remove_entries(conn, b["id"], st, s, entry)
        if n:
            _audit(conn, by, "bank.entry.remove", name, {"removed": n, "entry": entry, "signal_type": st,
                                                         "signal": (s or "")[:200]})
    emit({"bank": name, "removed": n}, as_json, f"bank {name}: removed {n}")


def bank_fetch(
    name: str = typer.Argument(..., help="Bank to fill (created if missing)."),
    exchange: str = typer.Option(..., "--exchange", "-x", help="ncmec | stop_ncii | fb_threatexchange | file | sample"),
    settings: list[str] = typer.Option([], "--set", help="Collaboration setting key=value (repeatable), e.g. filename=...; see docs/media.md."),
    by: str = BY_OPT,
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Fetch signals from a hash-sharing exchange (python-threatexchange) into a bank."""
    from ..media.exchange import fetch
    from ..store import media_banks as mb

    opts = {}
    for kv in settings:
        k, sep, v = kv.partition("=")
        if not sep or not k:
            raise UserError(f"Setting {kv!r} is not key=value; write it as --set key=value.")
        opts[k.strip()] = v
    rows = list(fetch(exchange, name, opts))
    store = open_db(db)
    with store.engine.begin() as conn:
        b = mb.create_bank(conn, name, source=f"exchange:{exchange}", exist_ok=True)
        added = mb.add_entries(conn, b["id"], rows)
        _audit(conn, by, "bank.fetch", name, {"exchange": exchange, "settings": sorted(opts), "fetched": len(rows),
                                               "added": added})
    emit({"bank": name, "exchange": exchange, "fetched": len(rows), "added": added}, as_json,
         f"bank {name}: fetched {len(rows)} signal(s) from {exchange}, added {added}")


def bank_sync(
    names: list[str] = typer.Argument(None, help="Exchanges to fetch (default: every enabled one)."),
    by: str = BY_OPT,
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Fetch the exchanges set up through the HMA API (POST /c/exchanges) into their banks, each from
    its stored checkpoint, recording the fetch status HMA clients read (run it from cron)."""
    from sqlalchemy import select

    from ..store.tables_hma import hma_exchanges
    from ..web import hma
    from ..web import hma_exchanges as hx

    store = open_db(db)
    with store.engine.connect() as conn:
        known = {r.name: bool(r.enabled) for r in conn.execute(select(hma_exchanges.c.name, hma_exchanges.c.enabled))}
    todo = list(names or [n for n, on in sorted(known.items()) if on])
    for n in todo:
        if n not in known:
            raise UserError(f"There is no exchange named {n!r}; list them with GET /c/exchanges.")
    out = []
    for n in todo:
        try:
            out.append({"exchange": n, **hx.fetch(store.engine, n, _actor(by))})
        except hma.HmaError as e:
            raise UserError(e.message.rstrip(".") + ".") from None
    lines = [f"{r['exchange']}: added {r['added']}" + ("" if r["succeeded"] else f", failed ({r['error']})")
             for r in out] or ["no enabled exchanges"]
    emit(out, as_json, "\n".join(lines))
    if any(not r["succeeded"] for r in out):
        raise typer.Exit(1)
