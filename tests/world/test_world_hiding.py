"""Harder worlds (issue 16 item 5): networks that hide the way real ones do, each way in the truth."""

from __future__ import annotations

import calendar
import time
from collections import Counter

import pytest

from conftest import World
from netwarden.errors import UserError
from netwarden.text.normalize import fold
from netwarden.world import generate
from netwarden.world.params import HARD, REREG_TRAITS


def _t(s: str) -> int:
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


@pytest.fixture(scope="module")
def hard(tmp_path_factory) -> World:
    out = tmp_path_factory.mktemp("hard") / "w"
    generate(out, accounts=4000, seed=5, networks=3, network_size=(40, 60), camouflage=(0.7,), media=False,
             reregistered_fraction=0.3, **HARD)
    return World(out)


def _edit(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def test_camouflage_goes_where_its_style_says(hard):
    nets = {n["camouflage_style"]: n for n in hard.truth["networks"]}
    assert set(nets) == {"random", "popular", "community"}
    planted = {m for n in hard.truth["networks"] for m in n["members"]}
    hubs = set(hard.truth["hubs"])
    comm = nets["community"]
    # the community network's camouflage follows stay in few ordinary accounts' neighbourhoods: its
    # outside follows reach fewer distinct accounts per follow than the random network's
    def outside(n):
        return [d for m in n["members"] for d in hard.follows.get(m, ()) if d not in planted]

    rnd, com = outside(nets["random"]), outside(comm)
    assert rnd and com
    assert len(set(com)) / len(com) < len(set(rnd)) / len(rnd)
    assert comm["camouflage_community"] is not None and nets["random"]["camouflage_community"] is None
    # the popular network's camouflage reaches the hubs more than the random one's does
    assert sum(d in hubs for d in outside(nets["popular"])) / len(outside(nets["popular"])) > \
        sum(d in hubs for d in rnd) / len(rnd)


def test_unwitting_followers_low_tie_members_and_signups(hard):
    start = _t(hard.truth["time_range"]["start"])
    for n in hard.truth["networks"]:
        members = set(n["members"])
        assert len(n["unwitting"]) == HARD["unwitting_followers"]
        for u in n["unwitting"]:
            assert u not in members and len(hard.follows.get(u, set()) & members) >= 2
        assert n["low_tie"], "a fifth of the members have few ties inside"
        news = {r["new"] for r in hard.truth["reregistrations"]}
        for m in n["low_tie"]:  # 2-3 follows inside (and the re-registrations of those it followed)
            assert len(hard.follows.get(m, set()) & (members - news)) <= 3
    planted = {m for n in hard.truth["networks"] for m in n["members"]}
    signups = [a for a, d in hard.accounts.items() if a not in planted and _t(d["created_at"]) >= start]
    assert len(signups) >= 0.05 * len(hard.accounts)  # ordinary people sign up during the window too


def test_reregistrations_carry_their_traits_and_only_those(hard):
    rr = hard.truth["reregistrations"]
    assert rr and all(1 <= len(r["carried"]) <= 3 and set(r["carried"]) <= set(REREG_TRAITS) for r in rr)
    assert Counter(len(r["carried"]) for r in rr)[1] > 0
    contacts = {}
    for n in hard.truth["networks"]:
        contacts.update({a: {(c["platform"], c["handle"]) for c in cs} for a, cs in n["contacts"].items()})
    checked = Counter()
    for r in rr:
        old, new = hard.accounts[r["old"]], hard.accounts[r["new"]]
        fam = _edit(old["handle"], new["handle"]) <= 2
        assert fam == ("handle_family" in r["carried"]), (old["handle"], new["handle"], r["carried"])
        assert (old["display_name"] == new["display_name"]) == ("name" in r["carried"])
        same_contacts = bool(contacts.get(r["old"])) and contacts.get(r["old"]) == contacts.get(r["new"])
        assert same_contacts == ("contact" in r["carried"])
        if "bio" in r["carried"]:  # the personal line comes back, retyped: equal once normalized
            line = old["bio"].split(" | ")[0]
            assert fold(line).replace(",", " -").split()[:3] == fold(new["bio"]).replace(",", " -").split()[:3]
        assert _t(r["created_at"]) > _t(r["suspended_at"])
        checked.update(r["carried"])
    assert len(checked) >= 4  # the traits are spread over the re-registrations


def test_default_world_is_unchanged_by_the_options(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate(a, accounts=600, seed=3, networks=1, network_size=(20, 30), media=False)
    generate(b, accounts=600, seed=3, networks=1, network_size=(20, 30), media=False, camouflage_style=("mixed",),
             background_contact_fraction=0.03, rereg_carry="classic")
    assert (a / "events.jsonl").read_bytes() == (b / "events.jsonl").read_bytes()
    with pytest.raises(UserError, match="camouflage-style"):
        generate(tmp_path / "c", accounts=600, seed=3, networks=1, network_size=(20, 30), media=False,
                 camouflage_style=("sideways",))
