"""Sweep runs are stored with their groups and reasons, audited, shown again, and open each case once."""

from __future__ import annotations

import json
import subprocess

import pytest
from sqlalchemy import func, select

from clirun import CLI, generated_world
from netwarden import audit, cases
from netwarden.graph.evaluate import prepare_world
from netwarden.graph.sweep import record_sweep, sweep, sweep_run, sweep_runs_list
from netwarden.store.tables_cases import cases as cases_t


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return generated_world(tmp_path_factory.mktemp("sw") / "w", 1500, 9, "30:40", "0.3")


def test_sweep_run_is_stored_audited_and_opens_each_case_once(world, db_url):
    store = prepare_world(world, db_url)
    groups = sweep(store)
    assert groups, "the planted networks hold suspended accounts, so the sweep finds groups"
    rid = record_sweep(store, groups, "analyst:ana")

    run = sweep_run(store, rid)
    assert run["actor"] == "analyst:ana" and run["method"] == "local" and run["seeds"] > 0
    assert run["graph"]["accounts"] >= 1500 and run["graph"]["edges"] > 0
    assert [g["rank"] for g in run["groups"]] == list(range(1, len(groups) + 1))
    for g, row in zip(groups, run["groups"], strict=True):
        assert row["accounts"] == g.accounts and row["core"] == g.core and row["reasons"] == g.reasons
        assert row["size"] == len(g.accounts) and row["case_id"] is None
    listed = sweep_runs_list(store)
    assert listed[0]["id"] == rid and listed[0]["group_count"] == len(groups) and listed[0]["cases"] == 0

    with store.engine.connect() as conn:
        (entry,) = audit.entries(conn, subject_type="sweep", subject_id=str(rid))
    assert entry["action"] == "sweep.run" and entry["actor"] == "analyst:ana"
    assert entry["detail"]["groups"] == len(groups)

    opened = cases.open_sweep_cases(store, "analyst:ana", min_size=1, run_id=rid)
    assert len(opened) == len(groups)
    run = sweep_run(store, rid)
    assert [g["case_id"] for g in run["groups"]] == opened
    with store.engine.connect() as conn:
        c = cases.get_case(conn, opened[0])
        assert c["origin"] == "sweep" and f"Sweep {rid} group 1" in c["title"]
        assert sorted(m["account_id"] for m in cases.members(conn, opened[0])) == sorted(groups[0].accounts)
        (opening,) = audit.entries(conn, subject_type="case", subject_id=str(opened[0]), action="case.open")
        assert opening["detail"]["sweep_run"] == rid and opening["detail"]["reasons"] == groups[0].reasons
        n_cases = conn.execute(select(func.count()).select_from(cases_t)).scalar()
        assert audit.verify(conn).ok
    # opening the same run again opens nothing: every group already has its case
    assert cases.open_sweep_cases(store, "analyst:ana", min_size=1, run_id=rid) == []
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases_t)).scalar() == n_cases
    assert sweep_runs_list(store)[0]["cases"] == len(groups)
    store.close()


def test_sweep_cli_stores_lists_and_shows_runs(world, tmp_path):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    prepare_world(world, db).close()

    def run(*args):
        res = subprocess.run([*CLI, *args, "--db", db, "--json"], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        return json.loads(res.stdout)

    first = run("sweep", "--as", "analyst:bo")
    assert first["groups"] and all(g["reasons"] for g in first["groups"])
    again = run("sweep", "--run", str(first["id"]))
    assert again["groups"] == first["groups"]
    assert [r["id"] for r in run("sweep", "--list")] == [first["id"]]
    opened = run("case", "sweep", "--run", str(first["id"]))
    assert len(opened["cases"]) == sum(g["size"] >= 3 for g in first["groups"])
    assert run("case", "sweep", "--run", str(first["id"]))["cases"] == []
    res = subprocess.run([*CLI, "sweep", "--run", "999", "--db", db], capture_output=True, text=True)
    assert res.returncode != 0 and "Sweep run 999 does not exist" in res.stderr + res.stdout
    assert "Traceback" not in res.stderr


def test_sweep_budget_is_fixed_says_when_it_cuts_a_group_and_scores_are_shares(world, sqlite_url):
    """Issue 16 item 3: the candidate budget does not shrink with the number of confirmed accounts, a
    group the budget cut says so, and a group's score is cohesion x evidence, both shares of 0-1."""
    from netwarden.errors import UserError
    from netwarden.graph.evaluate import read_truth
    from netwarden.graph.sweep import DEFAULT_BUDGET

    store = prepare_world(world, sqlite_url)
    truth = read_truth(world)
    net = max(truth["networks"], key=lambda n: n["size"])
    members = set(net["members"])
    seed = (net["suspended"] or net["members"])[:1]
    # one confirmed account: the old budget (3 x confirmed, at least 50) looked at 50 accounts
    groups = sweep(store, seeds=seed)
    best = max(groups, key=lambda g: len(members & set(g.accounts)))
    assert len(members & set(best.accounts)) >= 0.8 * len(members)
    for g in groups:
        assert 0.0 <= g.cohesion <= 1.0 and 0.0 < g.evidence <= 1.0
        assert g.score == pytest.approx(g.cohesion * g.evidence)
        assert any(r.startswith(f"score {g.score:.2f} = cohesion") for r in g.reasons)
    assert best.left_out == 0 and not any("cut by the candidate budget" in r for r in best.reasons)
    # a budget smaller than a network: the group it cut says so, and the stored run records it
    small = sweep(store, seeds=seed, min_size=3, budget=15)
    cut = [g for g in small if g.left_out]
    assert cut and all(any("cut by the candidate budget (15)" in r for r in g.reasons) for g in cut)
    rid = record_sweep(store, small, "analyst:ana", budget=15)
    info = sweep_run(store, rid)["graph"]
    assert info["budget"] == 15 and info["groups_cut"] == len(cut)
    rid = record_sweep(store, groups, "analyst:ana")
    assert sweep_run(store, rid)["graph"]["budget"] == DEFAULT_BUDGET
    with pytest.raises(UserError, match="--budget 0"):
        sweep(store, budget=0)
