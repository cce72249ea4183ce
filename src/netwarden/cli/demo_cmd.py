"""`netwarden demo`: a small synthetic world, ingested, matched, scored, a case opened, the app served."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

import typer

from ..deps import require_extra
from ..errors import UserError
from .common import JSON_OPT, emit, err_console, progress, settings

DEMO_TERMS = Path(__file__).resolve().parent.parent / "text" / "demo_terms.yaml"


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def _fresh_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(path) + suffix)
        if p.exists():
            p.unlink()


def demo(
    out: Path = typer.Option(Path("demo-data"), "--out", help="Folder for the world and the database."),
    accounts: int = typer.Option(3000, "--accounts", help="Accounts in the demo world."),
    seed: int = typer.Option(7, "--seed", help="World seed."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to serve on."),
    port: int = typer.Option(8000, "--port", help="Port to serve on."),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the review app at the end."),
    as_json: bool = JSON_OPT,
) -> None:
    """Generate a world, import its bank, ingest it, open a case from one seed, print a login, serve the app."""
    require_extra("web", "`netwarden demo`")
    from .. import cases, risk
    from ..ingest.pipeline import ingest_files
    from ..media.signals import read_csv
    from ..store import media_banks as mb
    from ..store import open_store
    from ..web.auth import add_user
    from ..world import generate

    if accounts < 200:
        raise UserError(f"--accounts {accounts} is too small for a demo world; use at least 200.")
    out.mkdir(parents=True, exist_ok=True)
    world = out / "world"
    db_path = out / "netwarden.db"
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    with progress(not as_json) as p:
        task = p.add_task("generating the world", total=None)
        if not (world / "truth.json").is_file() or json.loads((world / "truth.json").read_text())["params"].get(
                "accounts") != accounts or json.loads((world / "truth.json").read_text()).get("seed") != seed:
            generate(str(world), accounts=accounts, seed=seed)
        timings["world_s"] = round(time.perf_counter() - t0, 1)
        p.remove_task(task)
        _fresh_db(db_path)
        store = open_store(f"sqlite:///{db_path}", graph_dir=settings().graph_dir, kernel_dir=settings().kernel_dir)
        rows, problems = read_csv((world / "bank.csv").read_text(encoding="utf-8"), "bank.csv")
        with store.engine.begin() as conn:
            bank = mb.create_bank(conn, "demo-known", source="world bank.csv", exist_ok=True)
            mb.add_entries(conn, bank["id"], [(r.signal_type, r.signal, r.label) for r in rows])
        t1 = time.perf_counter()
        task = p.add_task("ingesting (bytes)", total=(world / "events.jsonl").stat().st_size)
        summary = ingest_files(store, [world / "events.jsonl"], signals=True, terms=str(DEMO_TERMS),
                               on_progress=lambda n: p.update(task, completed=n), settings=settings())
        timings["ingest_s"] = round(time.perf_counter() - t1, 1)
        p.remove_task(task)
    truth = json.loads((world / "truth.json").read_text())
    net = truth["networks"][0]
    seed_account = next((a for a in net["members"] if net["roles"].get(a) == "poster"
                         and a not in net.get("suspended", [])), net["members"][0])
    with store.engine.begin() as conn:
        scored = risk.refresh(conn)
    cid = cases.open_case(store, [seed_account], "system:demo")
    password = secrets.token_urlsafe(12)
    second_password = secrets.token_urlsafe(12)
    with store.engine.begin() as conn:
        add_user(conn, "demo", "admin", password, actor="system:demo")
        add_user(conn, "second", "moderator", second_password, actor="system:demo")
        ms = cases.members(conn, cid)
        signals = dict(conn.exec_driver_sql("select kind, count(*) from signals group by kind").all())
    members = {m["account_id"] for m in ms}
    planted = set(net["members"])
    result = {
        "world": str(world), "db": str(db_path), "accounts": truth["accounts"], "events": summary.events,
        "dead_letters": summary.dead, "bank_entries": len(rows), "bank_problems": len(problems),
        "signals": signals, "accounts_scored": scored, "case": cid, "seed": seed_account,
        "case_members": len(members), "case_members_planted": len(members & planted), "network_size": len(planted),
        "login": {"user": "demo", "password": password, "role": "admin"},
        "second_reviewer": {"user": "second", "password": second_password, "role": "moderator"},
        "url": f"http://{host}:{port}/", "timings": timings,
    }
    text = "\n".join([
        f"world      {world} ({truth['accounts']} accounts, {len(truth['networks'])} planted network(s))",
        f"ingested   {summary.events} events into {db_path} ({summary.dead} dead letters) in {timings['ingest_s']} s",
        f"bank       {len(rows)} known-media signals imported as bank demo-known",
        "signals    " + ", ".join(f"{k} {v}" for k, v in sorted(signals.items())),
        f"risk       {scored} accounts scored",
        f"case       #{cid} opened from seed {seed_account}: {len(members)} members, "
        f"{len(members & planted)} of the planted network's {len(planted)}",
        "",
        f"login      user demo / password {password}   (admin)",
        f"second     user second / password {second_password}   (moderator, for four-eyes approval)",
        f"app        http://{host}:{port}/cases/{cid}" if serve else "app        not served (--no-serve)",
    ])
    emit(result, as_json, text)
    if serve:
        import uvicorn

        from ..web.app import create_app

        err_console.print(f"serving on http://{host}:{port}/ (Ctrl-C to stop)")
        # Browsers keep Secure cookies on http://localhost and 127.0.0.1; elsewhere plain HTTP needs them off.
        loopback = host in ("127.0.0.1", "localhost", "::1")
        if not loopback:
            err_console.print("note: serving plain HTTP off loopback, so session cookies are sent without Secure")
        app = create_app(store=store, media_roots=[str(world)], secure_cookies=loopback)
        uvicorn.run(app, host=host, port=port, log_level="warning")
