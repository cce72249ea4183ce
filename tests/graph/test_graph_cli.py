"""CLI commands and evaluation on a small generated world; evaluation numbers come from truth.json."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from clirun import generated_world
from netwarden.cli import app
from netwarden.graph.evaluate import evaluate_world, prepare_world, read_truth


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = generated_world(tmp_path_factory.mktemp("gw") / "w", 2000, 5, "30:50", "0.3,0.5", "--reregistered", "0.2")
    prepare_world(out)
    return out


def _cli(*args):
    res = CliRunner().invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_expand_sweep_evasion_cli(world):
    db = str(world / "eval.db")
    truth = read_truth(world)
    seed = truth["networks"][0]["members"][0]
    exp = _cli("expand", "--seed", seed, "--top", "20", "--db", db, "--json")
    assert exp["seeds"] == [seed] and len(exp["members"]) == 20
    m = exp["members"][0]
    assert m["rank"] == 1 and m["path"][0] == seed and m["layers"] and isinstance(m["core"], bool)
    run = _cli("sweep", "--db", db, "--json")
    assert run["id"] >= 1 and run["groups"] and all(g["reasons"] for g in run["groups"])
    links = _cli("evasion", "--db", db, "--json")
    pairs = {(r["new"], r["old"]) for r in truth["reregistrations"]}
    assert links and sum((lk["new_account"], lk["suspended_account"]) in pairs for lk in links) >= len(links) * 0.8


def test_unknown_seed_is_one_sentence(world):
    res = CliRunner().invoke(app, ["expand", "--seed", "nobody", "--db", str(world / "eval.db")])
    assert res.exit_code != 0
    assert "nobody" in str(res.exception) or "nobody" in res.output


def test_evaluate_cli(world):
    out = _cli("evaluate", "--world", str(world), "--seeds", "2", "--no-networkx", "--json")
    methods = {r["method"] for r in out["summary"]}
    assert {"netwarden", "netwarden-interaction", "1-hop", "2-hop"} <= methods
    assert out["evasion"][0]["reregistrations"] == len(read_truth(world)["reregistrations"])


def test_evaluation_numbers_come_from_truth(world, tmp_path):
    from netwarden.store import open_store

    store = open_store(f"sqlite:///{world / 'eval.db'}")
    truth = read_truth(world)
    rows = evaluate_world(store, truth, 2, baselines=False)
    # a truth whose "members" are random non-members: the same detector output now scores ~0
    fake = json.loads(json.dumps(truth))
    real = {m for n in truth["networks"] for m in n["members"]}
    others = sorted(a for a in (f"a{i}" for i in range(2000)) if a not in real)
    for n in fake["networks"]:
        n["members"] = others[: n["size"]]
        others = others[n["size"]:]
    fake_rows = evaluate_world(store, fake, 2, baselines=False)
    assert max(r["recall@|R|"] for r in rows) > 0.5
    assert max(r["recall@|R|"] for r in fake_rows) < 0.3
    # the detector does not read the truth file: expansion is the same without it
    from netwarden.graph.expand import expand_network

    seed = truth["networks"][0]["members"][1]
    before = [c.account_id for c in expand_network(store, [seed], 30).members]
    copy = tmp_path / "w"
    shutil.copytree(world, copy)
    (copy / "truth.json").unlink()
    store2 = open_store(f"sqlite:///{copy / 'eval.db'}")
    assert [c.account_id for c in expand_network(store2, [seed], 30).members] == before
