"""Outbox: idempotent enqueue, Mastodon and webhook adapters against local servers, retries, and
SIGKILL at every step of `enforce run` with each action's effect happening exactly once."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest
from sqlalchemy import func, select

from clirun import CLI
from netwarden.enforce import outbox, worker
from netwarden.enforce.mastodon import MastodonAdapter
from netwarden.enforce.webhook import WebhookAdapter, sign, verify
from netwarden.errors import UserError
from netwarden.report import export, stats
from netwarden.store import open_store
from netwarden.store.tables_enforce import evidence_items
from support.enforce_fixtures import env_keys, seed
from support.mastodon_server import MastodonState, make_app
from support.serve import ThreadServer


@pytest.fixture(scope="module")
def masto():
    state = MastodonState()
    srv = ThreadServer(make_app(state)).start()
    yield srv, state
    srv.stop()


@pytest.fixture
def world(tmp_path, monkeypatch, masto):
    url = f"sqlite:///{tmp_path / 'nw.db'}"
    store = open_store(url)
    info = seed(store.engine, tmp_path / "media")
    env = env_keys(tmp_path)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    masto[1].statuses.update({p: a for a, ps in info["posts"].items() for p in ps})
    yield store, info, env, url
    store.close()


def _decide(store, action="suspend", accounts=("100", "101"), case="c1", **extra):
    with store.engine.begin() as conn:
        return outbox.enqueue(conn, {"case_id": case, "account_ids": list(accounts), "action": action,
                                     "decided_by": "rev1", "approved_by": "lead1", **extra})


def test_enqueue_is_idempotent_and_status_shows(world):
    store, *_ = world
    ids = _decide(store, decision_id=1)
    assert _decide(store, decision_id=1) == ids
    with store.engine.connect() as conn:
        st = outbox.status_for_case(conn, "c1")
    assert [(s["action"], s["account"], s["state"], s["attempts"]) for s in st] == [
        ("suspend", "100", "pending", 0), ("suspend", "101", "pending", 0)]


def test_mastodon_adapter_suspend_remove_reverse_and_retry(world, masto):
    srv, state = masto
    store, info, *_ = world
    _decide(store, "suspend", ["100"], decision_id=10, platform_report_id="r55")
    _decide(store, "remove_posts", ["101"], decision_id=11)
    ad = MastodonAdapter(srv.url, state.token)
    state.fail_next = 1
    res = worker.run(store.engine, ad, base_backoff=0)  # preserves before the destructive actions by itself
    assert res.retried == 1 and res.done == 2  # with zero backoff the retry is due in the same run
    assert worker.run(store.engine, ad).done == 0
    assert state.accounts["100"]["suspended"] and "r55" in state.resolved
    assert set(info["posts"]["101"]) <= set(state.deleted) and state.accounts["101"]["sensitized"]
    with store.engine.connect() as conn:
        assert conn.scalar(__import__("sqlalchemy").text(
            "select count(*) from evidence_items where account_id in ('100','101')")) > 0
    _decide(store, "reverse", ["100"], decision_id=12)
    assert worker.run(store.engine, ad).done == 1
    assert not state.accounts["100"]["suspended"]
    # a bad token is not retried forever
    _decide(store, "restrict", ["102"], decision_id=13)
    res = worker.run(store.engine, MastodonAdapter(srv.url, "wrong"))
    assert res.failed == 1
    # outcomes and export of the confirmed network
    out = stats.outcomes(store.engine)
    assert out["members"] >= 2 and out["time_to_action_seconds"]["count"] >= 1
    text, n = export.export(store.engine, "stix", "rev1")
    import json
    bundle = json.loads(text)
    pats = [o["pattern"] for o in bundle["objects"] if o["type"] == "indicator"]
    assert bundle["type"] == "bundle" and all(o["spec_version"] == "2.1" for o in bundle["objects"])
    assert "[user-account:account_login = 'placeholder101'"[:30] in " ".join(pats) or any("placeholder1" in p for p in pats)
    assert any(p.startswith("[file:hashes.'SHA-256'") for p in pats)
    csv_text, _ = export.export(store.engine, "csv", "rev1")
    assert csv_text.splitlines()[0] == "kind,type,value"


def test_webhook_signature_and_dedup(world, masto):
    srv, state = masto
    store, *_ = world
    assert verify(b"s", "100", b"body", sign(b"s", "100", b"body"), now=100)
    assert not verify(b"s", "100", b"body", sign(b"s", "100", b"bodx"), now=100)
    assert not verify(b"s", "100", b"body", sign(b"s", "100", b"body"), now=1000)
    _decide(store, "restrict", ["100"], case="w1")
    ad = WebhookAdapter(srv.url + "/webhook", "hook-secret")
    assert worker.run(store.engine, ad).done == 1
    assert len([k for k in state.webhook_effects if k.startswith("w1:")]) == 1
    bad = WebhookAdapter(srv.url + "/webhook", "wrong-secret")
    _decide(store, "restrict", ["101"], case="w2")
    assert worker.run(store.engine, bad, base_backoff=0, max_attempts=1).failed == 1


@pytest.mark.parametrize("point", ["outbox.claim.after", "outbox.send.before", "outbox.send.after",
                                   "outbox.done.after", "outbox.send.after#2"])
def test_sigkill_at_every_step_delivers_once(world, masto, point):
    srv, state = masto
    store, info, env, url = world
    case = f"k-{point}"
    _decide(store, "restrict", ["100", "101", "102"], case=case)
    base = {**os.environ, **env, "NETWARDEN_DB": url, "NETWARDEN_WEBHOOK_URL": srv.url + "/webhook",
            "NETWARDEN_WEBHOOK_SECRET": "hook-secret"}
    cmd = [*CLI, "enforce", "run", "--adapter", "webhook", "--lease", "0", "--json"]
    r = subprocess.run(cmd, env={**base, "NETWARDEN_TEST_CRASH_AT": point}, capture_output=True, text=True)
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stderr)
    r = subprocess.run(cmd, env=base, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with store.engine.connect() as conn:
        st = outbox.status_for_case(conn, case)
    assert [s["state"] for s in st] == ["done"] * 3
    effects = [k for k in state.webhook_effects if k.startswith(case + ":")]
    assert len(effects) == 3  # each action took effect once, whatever was re-sent


class _Recording:
    """An adapter that records, at the moment it is asked to act, what the vault already holds."""

    name = "recording"

    def __init__(self, engine):
        self.engine, self.seen = engine, []

    def deliver(self, action: dict) -> dict:
        with self.engine.connect() as conn:
            n = conn.scalar(select(func.count()).select_from(evidence_items)
                            .where(evidence_items.c.account_id == action["account_id"]))
        self.seen.append((action["action"], action["account_id"], n))
        return {"ok": True}


def test_library_worker_preserves_before_destructive_actions_without_the_cli(world, monkeypatch):
    """A second caller of the library (a button, a scheduled job) gets the preservation the CLI had: the
    account's media and records are in the vault before the adapter acts; without a vault key nothing runs."""
    store, info, *_ = world
    _decide(store, "suspend", ["100"], case="lib", decision_id=20)
    _decide(store, "restrict", ["101"], case="lib", decision_id=21)  # not destructive: nothing to preserve first
    ad = _Recording(store.engine)
    assert worker.run(store.engine, ad).done == 2
    assert ("suspend", "100") in [(a, b) for a, b, _ in ad.seen]
    assert all(n > 0 for a, _, n in ad.seen if a == "suspend")
    assert [n for a, _, n in ad.seen if a == "restrict"] == [0]
    with store.engine.connect() as conn:
        media = set(conn.scalars(select(evidence_items.c.ref).where(evidence_items.c.account_id == "100",
                                                                    evidence_items.c.kind == "media")))
    assert media == set(info["media"]["100"])
    _decide(store, "suspend", ["102"], case="lib", decision_id=22)
    monkeypatch.delenv("NETWARDEN_VAULT_KEY", raising=False)
    monkeypatch.delenv("NETWARDEN_VAULT_KEY_FILE", raising=False)
    with pytest.raises(UserError, match="No vault key"):
        worker.run(store.engine, ad)
    with store.engine.connect() as conn:
        assert [s["state"] for s in outbox.status_for_case(conn, "lib") if s["account"] == "102"] == ["pending"]
    assert worker.run(store.engine, ad, preserve=False).done == 1  # only an explicit opt-out skips it
