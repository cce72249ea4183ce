"""Members a reviewer confirms become extra seeds: refreshing the case re-ranks it from them."""

from __future__ import annotations

import json
import subprocess

import pytest

from clirun import CLI, generated_world
from netwarden import audit, cases
from netwarden.errors import UserError
from netwarden.graph.evaluate import prepare_world, read_truth
from netwarden.graph.expand import expand_network


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return generated_world(tmp_path_factory.mktemp("cr") / "w", 1500, 9, "30:40", "0.7")


def _members(store, cid) -> dict[str, dict]:
    with store.engine.connect() as conn:
        return {m["account_id"]: m for m in cases.members(conn, cid)}


def test_confirmed_members_become_seeds_and_the_ranking_refreshes(world, db_url):
    store = prepare_world(world, db_url)
    net = read_truth(world)["networks"][0]
    real = set(net["members"])
    seed = net["members"][0]
    cid = cases.open_case(store, [seed], "rev:a", top_k=12)
    first = _members(store, cid)
    found = sorted(a for a in first if a in real and a != seed)
    assert len(found) >= 4
    outsider = found[3]  # cleared by the reviewer (whatever the truth): must not become a seed
    with store.engine.begin() as conn:
        cases.decide_members(conn, cid, found[:3], "confirm", "rev:a")
        cases.decide_members(conn, cid, [outsider], "clear", "rev:a")

    out = cases.refresh_case(store, cid, "rev:b", top_k=12)
    assert out["seeds"] == [seed, *found[:3]] and out["confirmed_seeds"] == found[:3]
    after = _members(store, cid)
    # decided members keep their decision; the cleared one is not a seed
    assert all(after[a]["state"] == "confirmed" and after[a]["decided_by"] == "rev:a" for a in found[:3])
    assert after[outsider]["state"] == "cleared" and outsider not in out["seeds"]
    # the undecided members are exactly the expansion from the seed and the confirmed members, in its order
    exp = expand_network(store, out["seeds"], top_k=12).members
    want = [c.account_id for c in exp if c.account_id != outsider]
    got = sorted((m for m in after.values() if m["state"] == "candidate" and m["account_id"] != seed),
                 key=lambda m: m["rank"])
    assert [m["account_id"] for m in got] == want
    assert [m["rank"] for m in got] == [c.rank for c in exp if c.account_id != outsider]
    assert out["added"] + out["updated"] == len(want)
    # more of the network is found from four seeds than from one, at the same budget
    assert len(real & set(after)) > len(real & set(first))
    with store.engine.connect() as conn:
        (entry,) = audit.entries(conn, subject_type="case", subject_id=str(cid), action="case.refresh")
        assert entry["actor"] == "rev:b" and entry["detail"]["confirmed_seeds"] == found[:3]
        assert audit.verify(conn).ok
    store.close()


def test_a_case_without_seeds_or_confirmed_members_cannot_refresh(world, sqlite_url):
    store = prepare_world(world, sqlite_url)
    net = read_truth(world)["networks"][1]
    cid = cases.create_case(store, [cases.Member(a, 1.0, i + 1, False, {"sweep": 1.0}, [])
                                    for i, a in enumerate(net["members"][:5])], "rev:a", origin="sweep")
    with pytest.raises(UserError, match=f"Case {cid} has no seeds and no confirmed members"):
        cases.refresh_case(store, cid, "rev:a")
    with store.engine.begin() as conn:
        cases.decide_members(conn, cid, net["members"][:1], "confirm", "rev:a")
    store.close()
    res = subprocess.run([*CLI, "case", "refresh", str(cid), "--as", "rev:c", "--db", sqlite_url, "--json"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["seeds"] == net["members"][:1]
    res = subprocess.run([*CLI, "case", "refresh", "999", "--db", sqlite_url], capture_output=True, text=True)
    assert res.returncode != 0 and "Case 999 does not exist" in res.stdout + res.stderr
    assert "Traceback" not in res.stderr
