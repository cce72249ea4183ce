"""Review commands: `serve`, `user add|list|disable`, `case open|list|show|refresh|sweep`, `risk show|refresh`."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from ..deps import require_extra
from ..errors import UserError
from .common import DB_OPT, JSON_OPT, emit, open_db, settings

user_app = typer.Typer(help="Reviewer accounts of the review app.", no_args_is_help=True)
case_app = typer.Typer(help="Cases: networks under review.", no_args_is_help=True)
risk_app = typer.Typer(help="Account risk scores with their reasons.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(user_app, name="user")
    app.add_typer(case_app, name="case")
    app.add_typer(risk_app, name="risk")



def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    media_root: list[Path] = typer.Option([], "--media-root", help="Folder media uris are relative to (repeatable; "
                                          "the folders of ingested files are always included)."),
    insecure_cookies: bool = typer.Option(False, "--insecure-cookies",
                                          help="Send session cookies without the Secure flag (plain HTTP off loopback)."),
    workers: int = typer.Option(1, "--workers", help="Worker processes (each with its own database connections)."),
    base_url: str = typer.Option(None, "--base-url", help="The app's public URL (e.g. https://review.example); "
                                 "redirects use it and other Host headers are refused. Default: $NETWARDEN_BASE_URL."),
    db: str = DB_OPT,
) -> None:
    """Serve the review app (FastAPI + HTMX)."""
    require_extra("web", "`netwarden serve`")
    import secrets

    import uvicorn

    from ..config import resolve_db

    for r in media_root:
        if not r.is_dir():
            raise UserError(f"Media root {r} is not a folder; pass an existing folder to --media-root.")
    if workers < 1:
        raise UserError(f"--workers {workers} is not a positive number; use 1 or more.")
    open_db(db).close()  # migrate once, and fail early with one sentence if the database is unusable
    from ..web.hma_auth import AuthConfig

    for w in AuthConfig.from_settings(settings()).warnings():  # opt-in HMA auth modes (and a bad network value)
        typer.echo(f"warning: {w}", err=True)
    # Process-level on purpose: uvicorn's workers are other processes, each of which loads its settings
    # once (web.app.app_from_env: the config file and this environment). These variables hand them the
    # command's options and one shared secret; nothing in this process reads them back.
    os.environ["NETWARDEN_DB"] = resolve_db(db, settings())
    os.environ["NETWARDEN_MEDIA_ROOTS"] = os.pathsep.join(str(r.resolve()) for r in media_root)
    os.environ["NETWARDEN_SECURE_COOKIES"] = "0" if insecure_cookies else "1"
    if base_url:
        from ..web.app import parse_base_url

        os.environ["NETWARDEN_BASE_URL"] = parse_base_url(base_url)
    os.environ.setdefault("NETWARDEN_SECRET", secrets.token_urlsafe(32))  # shared by the workers
    uvicorn.run("netwarden.web.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level="warning", proxy_headers=False)


@user_app.command("add")
def user_add(
    name: str = typer.Argument(..., help="User name."),
    role: str = typer.Option(..., "--role", help="admin, moderator, triage or viewer."),
    password: str = typer.Option(None, "--password", help="Password (default: $NETWARDEN_PASSWORD, else a prompt)."),
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Add a reviewer (argon2id-hashed password; a generated one is printed once when none is given
    and there is no terminal to ask on)."""
    require_extra("web", "`netwarden user add`")
    import secrets
    import sys

    from ..web.auth import add_user

    generated = None
    password = password or settings().password
    if not password:
        if sys.stdin.isatty():
            password = typer.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)
        else:
            password = generated = secrets.token_urlsafe(12)
    store = open_db(db)
    with store.engine.begin() as conn:
        add_user(conn, name, role, password)
    out = {"user": name, "role": role}
    text = f"added {name} ({role})"
    if generated:
        out["password"] = generated
        text += f"; password {generated} (shown once)"
    emit(out, as_json, text)


@user_app.command("list")
def user_list(db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """List reviewers."""
    require_extra("web", "`netwarden user list`")
    from ..web.auth import list_users

    with open_db(db).engine.connect() as conn:
        rows = list_users(conn)
    emit(rows, as_json, "\n".join(f"{u['name']:<24} {u['role']:<10} {'disabled' if u['disabled'] else 'active'}"
                                  for u in rows) or "no users")


@user_app.command("disable")
def user_disable(name: str = typer.Argument(...), db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """Disable a reviewer and end their sessions."""
    require_extra("web", "`netwarden user disable`")
    from ..web.auth import disable_user

    with open_db(db).engine.begin() as conn:
        disable_user(conn, name)
    emit({"user": name, "disabled": True}, as_json, f"disabled {name}")


@case_app.command("open")
def case_open(
    seed: list[str] = typer.Option(..., "--seed", help="Seed account id (repeatable)."),
    top_k: int = typer.Option(200, "--top-k", help="Most members to keep."),
    actor: str = typer.Option("system:cli", "--as", help="Who opens it (for the audit log)."),
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Open a case from seed accounts (network expansion, issue 5)."""
    from .. import cases

    store = open_db(db)
    cid = cases.open_case(store, seed, actor, top_k=top_k)
    with store.engine.connect() as conn:
        c = cases.get_case(conn, cid)
        n = len(cases.members(conn, cid))
    emit({"case": cid, "members": n, "risk": c["risk"]}, as_json, f"opened case {cid} with {n} members")


@case_app.command("refresh")
def case_refresh(
    case_id: int = typer.Argument(...),
    top_k: int = typer.Option(200, "--top-k", help="Most members the expansion returns."),
    actor: str = typer.Option("system:cli", "--as", help="Who refreshes it (for the audit log)."),
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Re-expand a case with its confirmed members as extra seeds; decided members stay as they are."""
    from .. import cases

    out = cases.refresh_case(open_db(db), case_id, actor, top_k=top_k)
    emit(out, as_json, f"case {case_id}: expanded from {len(out['seeds'])} seeds ({len(out['confirmed_seeds'])} "
                       f"confirmed members); {out['added']} added, {out['updated']} re-ranked, {out['removed']} removed")


@case_app.command("sweep")
def case_sweep(
    run: int = typer.Option(None, "--run", help="Open cases from this stored sweep run (default: sweep now)."),
    actor: str = typer.Option("system:cli", "--as"),
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Open one case per group of a sweep run (groups that already have a case are skipped)."""
    from .. import cases

    ids = cases.open_sweep_cases(open_db(db), actor, run_id=run)
    emit({"cases": ids}, as_json, f"opened {len(ids)} cases")


@case_app.command("list")
def case_list(state: str = typer.Option("open", "--state", help="open, closed or all."), db: str = DB_OPT,
              as_json: bool = JSON_OPT) -> None:
    """List cases by risk."""
    from .. import cases

    with open_db(db).engine.connect() as conn:
        rows = cases.list_cases(conn, state=None if state == "all" else state)
    emit(rows, as_json, "\n".join(f"#{c['id']:<5} risk {c['risk']:5.1f}  {c['n'] or 0:4d} members  {c['title']}"
                                  for c in rows) or "no cases")


@case_app.command("show")
def case_show(case_id: int = typer.Argument(...), db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """Show a case's members with their state, risk and reasons."""
    from .. import cases

    with open_db(db).engine.connect() as conn:
        c = cases.get_case(conn, case_id)
        ms = cases.members(conn, case_id)
    lines = [f"case {c['id']}: {c['title']} ({c['state']}, {len(ms)} members)"]
    for m in ms:
        why = "; ".join(r["text"] for r in m["reasons"][:2])
        lines.append(f"{m['rank']:4d} {m['account_id']:<12} {'core' if m['core'] else '    '} {m['state']:<10} "
                     f"{m['risk']:5.1f}  {why}")
    emit({"case": c, "members": ms}, as_json, "\n".join(lines))


@risk_app.command("refresh")
def risk_refresh(db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """Recompute the risk of accounts whose signals arrived since the last refresh."""
    from .. import risk

    with open_db(db).engine.begin() as conn:
        n = risk.refresh(conn)
    emit({"recomputed": n}, as_json, f"recomputed {n} accounts")


@risk_app.command("show")
def risk_show(account: str = typer.Argument(...), db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """An account's score and its reasons."""
    from .. import risk

    with open_db(db).engine.begin() as conn:
        risk.refresh(conn)
        r = risk.get(conn, account)
    emit({"account": account, "score": r.score, "reasons": r.reasons}, as_json,
         "\n".join([f"{account}: {r.score}"] + [f"  +{x['points']:<5} {x['text']}" for x in r.reasons]))
