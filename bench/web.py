"""Review app latency: queue, case, network, account and search pages under concurrent reviewers,
and the case page's time to interactive in Chromium (run by hand).

    .venv/bin/python bench/web.py [--accounts 100000] [--reviewers 20] [--rounds 15] [--think 1.0] [--workers 2]

Builds (or reuses) a world of --accounts accounts, ingests it with its bank into SQLite, opens a
200-member case, creates one user per reviewer, starts `netwarden serve` in its own process on
loopback and has every reviewer sign in and load the queue, the case page, its network JSON, a
member's account page and a search --rounds times, all at once, each pausing --think seconds on
average between pages (0: back-to-back, a stress test). Prints p50/p95/max per page; target: p95 <
300 ms. Then, with the server idle, Chromium (/usr/bin/chromium, Playwright) opens the case page
--tti times and reports the time from navigation until the network view has drawn itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

PASSWORD = "bench password 1"


def build(d: Path, accounts: int, seed: int) -> tuple[Path, int]:
    from netwarden import cases
    from netwarden.ingest.pipeline import ingest_files
    from netwarden.media.signals import read_csv
    from netwarden.store import media_banks as mb
    from netwarden.store import open_store
    from netwarden.world import generate

    world, db = d / "world", d / "netwarden.db"
    if not (world / "truth.json").is_file():
        t = time.perf_counter()
        generate(str(world), accounts=accounts, seed=seed, network_size=(150, 200))
        print(f"world: {accounts} accounts in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    store = open_store(f"sqlite:///{db}")
    with store.engine.connect() as conn:
        done = conn.exec_driver_sql("select count(*) from ingest_checkpoints where done").scalar()
    if not done:
        rows, _ = read_csv((world / "bank.csv").read_text(encoding="utf-8"), "bank.csv")
        with store.engine.begin() as conn:
            b = mb.create_bank(conn, "demo-known", exist_ok=True)
            mb.add_entries(conn, b["id"], [(r.signal_type, r.signal, r.label) for r in rows])
        t = time.perf_counter()
        terms = Path(__file__).resolve().parents[1] / "src/netwarden/text/demo_terms.yaml"
        s = ingest_files(store, [world / "events.jsonl"], signals=True, terms=str(terms))
        print(f"ingest: {s.events} events in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    with store.engine.connect() as conn:
        existing = cases.list_cases(conn)
    big = [c for c in existing if (c["n"] or 0) >= 200]
    if big:
        return db, big[0]["id"]
    truth = json.loads((world / "truth.json").read_text())
    ids: list[str] = []
    for net in sorted(truth["networks"], key=lambda n: -n["size"]):
        ids += [a for a in net["members"] if a not in ids]
    ids = ids[:200]
    members = [cases.Member(a, round(1 - i / 200, 3), i + 1, i < 60, {"bench": 1.0}, [ids[0], "follows", a])
               for i, a in enumerate(ids)]
    cid = cases.create_case(store, members, "bench", origin="seeds", seeds=[ids[0]], title="Bench network")
    return db, cid


def ensure_users(db: Path, n: int) -> None:
    from netwarden.store import open_store
    from netwarden.web.auth import add_user, list_users

    store = open_store(f"sqlite:///{db}")
    with store.engine.begin() as conn:
        have = {u["name"] for u in list_users(conn)}
        for i in range(n):
            if f"bench{i}" not in have:
                add_user(conn, f"bench{i}", "moderator", PASSWORD, actor="bench")


PAGES = ("queue", "case", "graph", "account", "search")


def paths(cid: int, accounts: list[str], handles: list[str], i: int, k: int) -> list[tuple[str, str]]:
    """The pages one reviewer loads in round k: ids from the case, so every page has real content."""
    from urllib.parse import quote

    a = accounts[(i * 7 + k) % len(accounts)]
    h = handles[(i * 3 + k) % len(handles)] or a
    return [("queue", "/queue"), ("case", f"/cases/{cid}"), ("graph", f"/cases/{cid}/graph.json"),
            ("account", f"/accounts/{quote(a, safe='')}"), ("search", f"/queue?q={quote(h[:6], safe='')}")]


async def reviewer(base: str, i: int, rounds: int, cid: int, times: dict[str, list[float]], think: float,
                   accounts: list[str], handles: list[str]) -> None:
    rng = random.Random(i)
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        r = await c.get("/login")
        tok = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
        r = await c.post("/login", data={"username": f"bench{i}", "password": PASSWORD, "csrf": tok})
        assert r.status_code in (200, 303), r.status_code
        for k in range(rounds):
            for name, path in paths(cid, accounts, handles, i, k):
                t = time.perf_counter()
                r = await c.get(path)
                times[name].append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, (path, r.status_code)
                if think:
                    await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))


async def load(base: str, reviewers: int, rounds: int, cid: int, accounts: list[str], handles: list[str],
               think: float = 0.0) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {p: [] for p in PAGES}
    await asyncio.gather(*(reviewer(base, i, rounds, cid, times, think, accounts, handles) for i in range(reviewers)))
    return times


def time_to_interactive(base: str, cid: int, runs: int) -> list[float]:
    """ms from navigation to the network view's data-ready, in Debian's Chromium (one context each run)."""
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"]
    out = []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=args, headless=True)
        for _ in range(runs):
            page = b.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.goto(base + "/login")
            page.fill("input[name=username]", "bench0")
            page.fill("input[name=password]", PASSWORD)
            page.click("#login-submit")
            page.wait_for_url("**/queue")
            t = time.perf_counter()
            page.goto(f"{base}/cases/{cid}")
            page.wait_for_selector(".graph-box[data-ready='1']", timeout=120_000)
            out.append((time.perf_counter() - t) * 1000)
            page.context.close()
        b.close()
    return out


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--reviewers", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--dir", type=Path, default=Path("bench-data/web"))
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default: 2)")
    ap.add_argument("--tti", type=int, default=5, help="Chromium loads of the case page to time (0: none)")
    ap.add_argument("--think", type=float, default=1.0,
                    help="mean seconds a reviewer looks at a page before the next (0: back-to-back stress)")
    a = ap.parse_args()
    d = a.dir / f"w{a.accounts}-s{a.seed}"
    d.mkdir(parents=True, exist_ok=True)
    db, cid = build(d, a.accounts, a.seed)
    ensure_users(db, a.reviewers)
    from netwarden import cases
    from netwarden.store import open_store

    with open_store(f"sqlite:///{db}").engine.connect() as conn:
        members = cases.members(conn, cid)
    accounts, handles = [m["account_id"] for m in members], [m["handle"] or "" for m in members]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("netwarden")
    server = subprocess.Popen([str(exe), "serve", "--db", str(db), "--port", str(port), "--insecure-cookies",
                               "--workers", str(a.workers)],
                              env={**os.environ, "NETWARDEN_DB": str(db)})
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(base + "/login", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        asyncio.run(load(base, 2, 1, cid, accounts, handles))  # warm-up
        t = time.perf_counter()
        times = asyncio.run(load(base, a.reviewers, a.rounds, cid, accounts, handles, a.think))
        wall = time.perf_counter() - t
        tti = time_to_interactive(base, cid, a.tti) if a.tti else []
    finally:
        server.terminate()
        server.wait()
    n = len(members)
    print(f"review app, {a.accounts} accounts, case #{cid} with {n} members, {a.reviewers} concurrent reviewers "
          f"x {a.rounds} rounds on loopback, think time {a.think} s, {a.workers} uvicorn worker(s), SQLite; "
          f"{wall:.1f} s wall, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"{'page':<8}{'requests':>10}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}   target p95 < 300 ms")
    for name, xs in times.items():
        print(f"{name:<8}{len(xs):>10}{statistics.median(xs):>10.1f}{pct(xs, 95):>10.1f}{max(xs):>10.1f}   "
              f"{'ok' if pct(xs, 95) < 300 else 'MISSED'}")
    if tti:
        print(f"case page time to interactive in Chromium (network view drawn), {len(tti)} loads, server idle: "
              f"median {statistics.median(tti):.0f} ms, max {max(tti):.0f} ms")


if __name__ == "__main__":
    main()
