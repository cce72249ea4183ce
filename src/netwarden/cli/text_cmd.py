"""`netwarden scan` and `netwarden terms ...`: one-off text checks and term list tools."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import UserError
from .common import DB_OPT, JSON_OPT, emit, open_db, progress, settings

terms_app = typer.Typer(help="Operator term lists: validate, inspect, evaluate, propose hashtags.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)
    app.command("contacts")(contacts_cmd)
    app.command("rescan")(rescan)
    terms_app.command("validate")(validate)
    terms_app.command("evaluate")(evaluate)
    terms_app.command("propose-hashtags")(propose_hashtags)
    app.add_typer(terms_app, name="terms")


def _load(terms: str | None):
    from ..text.terms import demo_terms, load_terms

    path = terms or settings().terms
    return load_terms(path) if path else demo_terms()


def _read_text(text: str | None, file: Path | None) -> str:
    if file is not None:
        try:
            return file.read_bytes().decode("utf-8", "replace")
        except OSError as e:
            raise UserError(f"Cannot read {file} ({e.strerror}); check the path.") from None
    if text is None:
        raise UserError("Nothing to scan; give TEXT or --file FILE.")
    return text


def scan(
    text: str = typer.Argument(None, help="Text to scan."),
    file: Path = typer.Option(None, "--file", "-f", help="Scan this file's text instead."),
    terms: str = typer.Option(None, "--terms", help="Term list (YAML/CSV; default $NETWARDEN_TERMS, else the demo list)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Scan one text for term hits, hashtags, off-platform contacts and links."""
    from ..text.contacts import extract_contacts
    from ..text.hashtags import extract_hashtags
    from ..text.scanner import scanner_for
    from ..text.urls import extract_links

    body = _read_text(text, file)
    tl = _load(terms)
    hits = scanner_for(tl).scan(body)
    out = {
        "list": {"name": tl.name, "version": tl.version, "terms": len(tl)},
        "hits": [h.as_dict() for h in hits],
        "hashtags": [t.tag for t in extract_hashtags(body)],
        "contacts": [{"platform": c.platform, "handle": c.handle, "span": [c.start, c.end]} for c in extract_contacts(body)],
        "links": [{"url": lk.url, "kind": lk.kind, "span": [lk.start, lk.end]} for lk in extract_links(body)],
    }
    lines = [f"list {tl.name} version {tl.version}: {len(hits)} hit(s)"]
    for h in hits:
        lines.append(f"  {h.category:<15} {h.term!r} at {h.start}-{h.end} {h.matched!r} (normalized {h.normalized!r}, weight {h.weight})")
    for c in out["contacts"]:
        lines.append(f"  contact {c['platform']}: {c['handle']}")
    for lk in out["links"]:
        lines.append(f"  link ({lk['kind']}): {lk['url']}")
    if out["hashtags"]:
        lines.append("  hashtags: " + " ".join("#" + t for t in out["hashtags"]))
    emit(out, as_json, "\n".join(lines))


def contacts_cmd(
    text: str = typer.Argument(None, help="Text to read contacts from."),
    file: Path = typer.Option(None, "--file", "-f", help="Read this file instead."),
    region: str = typer.Option(None, "--region", help="Country for phone numbers without +code (e.g. US)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Extract off-platform contacts (Kik, Snapchat, WhatsApp, Telegram, ...) from text."""
    from ..text.contacts import extract_contacts

    cs = extract_contacts(_read_text(text, file), region=region)
    data = [{"platform": c.platform, "handle": c.handle, "span": [c.start, c.end]} for c in cs]
    emit(data, as_json, "\n".join(f"{c['platform']}: {c['handle']}" for c in data) or "no contacts")


def rescan(
    terms: str = typer.Option(None, "--terms", help="Term list (default $NETWARDEN_TERMS; none: links and contacts only)."),
    since: str = typer.Option(None, "--since", help="Only content updated at or after this time (ISO 8601)."),
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Re-scan stored profiles, posts and alt texts with today's term list and URL/domain banks.

    The text side of retro-matching: after a bank gains links or the term list changes, content
    ingested earlier is checked again. Idempotent: only new signals are stored."""
    from datetime import datetime

    from ..ingest.rescan import rescan_text

    if since:
        try:
            datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError:
            raise UserError(f"--since {since!r} is not an ISO 8601 time; use e.g. 2026-11-01T00:00:00Z.") from None
    store = open_db(db)
    try:
        with progress(not as_json) as p:
            task = p.add_task("rescanning", total=None)
            out = rescan_text(store, terms=terms or settings().terms, since=since, on_progress=lambda n: p.advance(task, n))
    finally:
        store.close()
    added = ", ".join(f"{v} {k}" for k, v in out["added"].items())
    scanned = ", ".join(f"{v} {k}" for k, v in out["scanned"].items()) or "nothing"
    emit(out, as_json, f"scanned {scanned}; added {added}")


def validate(path: Path = typer.Argument(..., help="Term list file (.yaml/.yml or .csv)."), as_json: bool = JSON_OPT) -> None:
    """Check a term list: every error names its line; prints the version and counts when valid."""
    from ..text.scanner import Scanner
    from ..text.terms import load_terms

    tl = load_terms(path)
    Scanner(tl)  # compiles, as ingestion would
    d = {"file": str(path), "name": tl.name, "version": tl.version, "terms": len(tl), "categories": tl.categories(),
         "modes": {m: sum(t.mode == m for t in tl.terms) for m in ("word", "substring", "hashtag", "regex")}}
    emit(d, as_json, f"{path}: valid, {len(tl)} terms, version {tl.version}, categories {tl.categories()}")


def evaluate(
    terms: str = typer.Option(None, "--terms", help="Term list (default $NETWARDEN_TERMS, else the demo list)."),
    seeds: int = typer.Option(5, "--seeds", min=1, help="Generator seeds."),
    benign: int = typer.Option(20000, "--benign", min=100, help="Benign posts to generate."),
    synthetic: int = typer.Option(0, "--synthetic", min=0,
                                  help="Evaluate a generated list of N invented terms instead (e.g. 10000)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Recall on generated obfuscations of the list and false positives on a generated benign corpus."""
    from ..text.evaluate import evaluate as run_eval
    from ..text.evaluate import synthetic_list

    if synthetic and terms:
        raise UserError("Give either --terms LIST or --synthetic N, not both.")
    tl = synthetic_list(synthetic) if synthetic else _load(terms)
    r = run_eval(tl, seeds=seeds, benign_posts=benign)
    by = ", ".join(f"{k} {v:.4f}" for k, v in r["by_transform"].items())
    emit(r, as_json, (f"recall {r['recall']:.4f} over {r['obfuscated']} obfuscated variants ({r['seeds']} seeds); "
                      f"false positives {r['fp_rate'] * 100:.3f}% of {r['benign_posts']} benign posts\n"
                      f"by transform: {by}"))


def propose_hashtags(
    db: str = DB_OPT,
    min_accounts: int = typer.Option(5, "--min-accounts", min=1),
    min_share: float = typer.Option(0.6, "--min-share", help="Lower bound (Wilson 95%) of the flagged share."),
    terms: str = typer.Option(None, "--terms", help="Known list: its hashtags are not proposed again."),
    as_json: bool = JSON_OPT,
) -> None:
    """Propose hashtags used mostly by flagged accounts (accounts with term hits); an operator confirms."""
    from sqlalchemy import select

    from ..store.schema import post_hashtags, posts, signals
    from ..text.hashtags import propose_signal_hashtags

    store = open_db(db)
    with store.engine.connect() as conn:
        flagged = {r[0] for r in conn.execute(select(signals.c.account_id).where(signals.c.kind == "term_hit").distinct())}
        rows = [(a, [t], a in flagged) for a, t in conn.execute(
            select(posts.c.author_id, post_hashtags.c.tag).join(posts, posts.c.id == post_hashtags.c.post_id))]
    store.close()
    known = [t.term for t in _load(terms).terms if t.mode == "hashtag"]
    props = propose_signal_hashtags(rows, known=known, min_accounts=min_accounts, min_lower_bound=min_share)
    data = [p.as_dict() for p in props]
    emit(data, as_json, "\n".join(
        f"#{p['tag']}: {p['flagged_accounts']}/{p['accounts']} flagged accounts (lower bound {p['lower_bound']})"
        for p in data) or "no proposals")
