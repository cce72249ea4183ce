"""Fixtures for the review app: one small world per session, a store copy per test module, users."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from web_helpers import CHROMIUM, CHROMIUM_ARGS, HOSTILE_BIO, PASSWORD, ROLES, copy_world_store

from netwarden import cases
from netwarden.ingest.pipeline import ingest_files
from netwarden.media.signals import read_csv
from netwarden.store import media_banks as mb
from netwarden.store import open_store
from netwarden.store import schema as t

TERMS = Path(__file__).resolve().parents[2] / "src" / "netwarden" / "text" / "demo_terms.yaml"


@pytest.fixture(scope="session")
def web_world(tmp_path_factory) -> dict:
    """A 1000-account world with one planted network, ingested once with its bank and the demo terms."""
    from netwarden.world import generate

    root = tmp_path_factory.mktemp("webworld")
    world = root / "world"
    generate(str(world), accounts=1000, seed=11, network_size=(40, 60))
    db = root / "base.db"
    store = open_store(f"sqlite:///{db}")
    rows, _ = read_csv((world / "bank.csv").read_text(encoding="utf-8"), "bank.csv")
    with store.engine.begin() as conn:
        bank = mb.create_bank(conn, "demo-known", exist_ok=True)
        mb.add_entries(conn, bank["id"], [(r.signal_type, r.signal, r.label) for r in rows])
    ingest_files(store, [world / "events.jsonl"], signals=True, terms=str(TERMS))
    truth = json.loads((world / "truth.json").read_text())
    net = truth["networks"][0]
    seed = next(a for a in net["members"] if net["roles"][a] == "poster" and a not in net["suspended"])
    hostile = next(a for a in sorted(set(truth_ids(store)) - set(net["members"])))
    with store.engine.begin() as conn:
        conn.execute(t.accounts.update().where(t.accounts.c.id == hostile).values(bio=HOSTILE_BIO))
        # as the text hook would have found it, had the bio arrived by ingest
        conn.execute(t.contacts.insert().values(account_id=hostile, platform="kik", handle="zz_hostile", field="bio",
                                                ref=""))
    store.close()
    return {"world": world, "db": db, "truth": truth, "seed": seed, "hostile": hostile}


def truth_ids(store) -> list[str]:
    with store.engine.connect() as conn:
        return list(conn.scalars(t.accounts.select().with_only_columns(t.accounts.c.id).limit(50)))


@pytest.fixture(scope="module")
def web_store(web_world, tmp_path_factory):
    """A private copy of the world's store for one test module, with a case and one user per role."""
    store = copy_world_store(web_world, tmp_path_factory, "webstore", {"moderator2": "moderator"})
    cid = cases.open_case(store, [web_world["seed"]], "test")
    yield {"store": store, "case": cid, **web_world}
    store.close()


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory):
    """The hostile world (tests/web/hostile_world.py) ingested with a bank matching its known image,
    one user per role plus a second moderator, and a case opened from its seed."""
    from hostile_world import write_hostile_world

    from netwarden.web.auth import add_user

    d = tmp_path_factory.mktemp("hostile")
    w = write_hostile_world(d / "world")
    store = open_store(f"sqlite:///{d / 'netwarden.db'}")
    with store.engine.begin() as conn:
        bank = mb.create_bank(conn, "demo-known", exist_ok=True)
        mb.add_entries(conn, bank["id"], [("pdq", w["pdq"], "hostile known image")])
        for role in ROLES:
            add_user(conn, role, role, PASSWORD, actor="test")
        add_user(conn, "moderator2", "moderator", PASSWORD, actor="test")
    summary = ingest_files(store, [w["events"]], signals=True, terms=str(TERMS), dead_letter=d / "dead.jsonl")
    cid = cases.open_case(store, [w["seed"]], "test")
    yield {"store": store, "case": cid, "world": w["root"], "summary": summary, "dead": d / "dead.jsonl", **w}
    store.close()


WAIT_MS = 180_000


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium under Playwright; a missing browser fails the test (run `make sysdeps`)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make sysdeps`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        new_context = b.new_context

        def patient_context(**kwargs):
            # Playwright's default 30 s wait is a wall-clock limit in disguise: on this shared 2-core
            # machine under load a renderer can stall past it (a filter click in test_web_network timed
            # out once). Every wait still ends in a failure, only later.
            ctx = new_context(**kwargs)
            ctx.set_default_timeout(WAIT_MS)
            ctx.set_default_navigation_timeout(WAIT_MS)
            return ctx

        b.new_context = patient_context
        yield b
        b.close()
