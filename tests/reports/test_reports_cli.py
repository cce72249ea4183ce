"""`netwarden report-intake`, `reports process|evaluate` and the queue commands on a generated world with reports."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from netwarden.cli import app
from netwarden.errors import UserError

pytestmark = pytest.mark.slow


def _run(*args, ok=True):
    res = CliRunner().invoke(app, [str(a) for a in args])
    if ok:
        assert res.exit_code == 0, res.output
    return res


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("rworld")
    _run("world", "generate", "--accounts", 2000, "--seed", 5, "--networks", 1, "--network-size", "40:60",
         "--no-media", "--reports", "--out", d / "w", "--json")
    return d


def test_world_reports_become_one_case_and_the_queue_works(world):
    from netwarden.graph.evaluate import world_terms

    w, db = world / "w", world / "nw.db"
    truth = json.loads((w / "truth.json").read_text())
    kinds = {r["kind"] for r in truth["reports"]}
    assert kinds == {"true", "trusted", "false", "malicious", "history"}
    _run("ingest", w / "events.jsonl", "--terms", world_terms(w), "--db", db, "--json")
    s = json.loads(_run("reports", "process", "--db", db, "--json").output)
    assert len(s["opened"]) == 1 and s["processed"] == sum(1 for r in truth["reports"])
    items = json.loads(_run("queue", "list", "--db", db, "--json").output)
    overdue = [i["overdue"] for i in items]
    assert overdue == sorted(overdue, reverse=True)
    by_id = {i["id"]: i for i in items}
    net = truth["networks"][0]
    true_ids = [r["id"] for r in truth["reports"] if r["kind"] in ("true", "trusted")]
    assert {by_id[r]["case_id"] for r in true_ids} == set(s["opened"])  # every report on the network: one case
    for r in truth["reports"]:
        if r["kind"] in ("false", "malicious"):
            assert by_id[r["id"]]["case_id"] is None, r
    malicious = next(r for r in truth["reports"] if r["kind"] == "malicious")
    shown = json.loads(_run("queue", "show", malicious["id"], "--db", db, "--json").output)
    assert shown["weight_now"] < 1.0 and "cleared" in shown["credibility"]
    _run("user", "add", "tri1", "--role", "triage", "--password", "long enough pw", "--db", db)
    bad = _run("queue", "assign", true_ids[0], "--to", "ghost", "--db", db, ok=False)
    assert isinstance(bad.exception, UserError) and "does not exist" in str(bad.exception)  # one sentence (cli.common)
    _run("queue", "assign", true_ids[0], "--to", "tri1", "--as", "tri1", "--db", db)
    mine = json.loads(_run("queue", "list", "--mine", "--as", "tri1", "--db", db, "--json").output)
    assert [i["id"] for i in mine] == [true_ids[0]]
    st0 = {q["queue"]: q for q in json.loads(_run("queue", "stats", "--db", db, "--json").output)}
    _run("queue", "resolve", true_ids[0], "--outcome", "actioned", "--as", "tri1", "--db", db)
    st = {q["queue"]: q for q in json.loads(_run("queue", "stats", "--db", db, "--json").output)}
    assert st["child-safety"]["resolved"] == st0["child-safety"]["resolved"] + 1
    assert st["child-safety"]["open"] == st0["child-safety"]["open"] - 1
    assert st["child-safety"]["median_hours_to_decision"] > 0
    assert st["child-safety"]["open"] >= 1 and st["child-safety"]["overdue"] == st["child-safety"]["open"]
    # a Coop body on another member, by file: it joins the same case
    other = next(m for m in net["members"] if m not in net["suspended"] and by_id.get(m) is None
                 and m not in {r["account"] for r in truth["reports"]})
    body = {"reporter": {"kind": "user", "typeId": "u", "id": "reader-9"}, "reportedAt": "2026-02-20T10:00:00Z",
            "reportedForReason": {"csam": True, "reason": "saw it"},
            "reportedItem": {"id": other, "typeId": "user", "data": {}}}
    (world / "coop.jsonl").write_text(json.dumps(body) + "\n" + json.dumps({"reporter": {"kind": "user"}}) + "\n")
    out = json.loads(_run("report-intake", world / "coop.jsonl", "--db", db, "--dead-letter", world / "dead.jsonl",
                          "--json").output)
    assert out["ingest"]["events"] == 1 and out["ingest"]["dead_letters"] == 1
    assert out["process"]["joined"] == 1 and not out["process"]["opened"]
    dead = json.loads((world / "dead.jsonl").read_text().splitlines()[0])
    assert dead["reason"].startswith("field reporter.id")
    ev = json.loads(_run("reports", "evaluate", "--world", w, "--db", f"sqlite:///{db}", "--json").output)
    assert ev["networks"][0]["cases"] == 1 and ev["networks"][0]["recall@|R|"] >= 0.9
    assert ev["case_precision"] == 1.0 and ev["false_reports_with_case"] == 0
