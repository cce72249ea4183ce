"""A group layer rewritten group by group (graph/members.py) equals the layer built from the groups."""

from __future__ import annotations

import random

import numpy as np
import pytest

from netwarden.graph import build, members


def _layer(name, groups, n):
    return build._group_layer(name, groups, n)


def _random_groups(rng, n, count, big):
    groups = {}
    for g in range(count):
        k = rng.choice([1, 2, 3, 5, 8, 31, 33, 34, 47, 60, 61, 70]) if not big else rng.choice([40, 45, 50, 55])
        groups[f"k{g}"] = rng.sample(range(n), min(k, n))
    return groups


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("name", ["hashtag", "handle", "avatar"])
def test_a_layer_rewritten_for_changed_accounts_equals_the_layer_built_again(seed, name):
    rng = random.Random(seed)
    n0 = 400
    groups = _random_groups(rng, n0, 40, big=False)
    layer, keys = _layer(name, groups, n0)
    m0 = members.of_groups(groups, n0)
    # some accounts join and leave groups, some take new keys, new accounts arrive (inside one group_scale step)
    n = n0 + 3
    assert build.group_scale(n) == build.group_scale(n0)
    after = {k: list(v) for k, v in groups.items()}
    changed_accounts = rng.sample(range(n), 25) + [n0, n0 + 2]
    now: dict[int, set[str]] = {}
    for a in changed_accounts:
        have = {k for k, v in after.items() if a in v}
        for k in rng.sample(sorted(after), 3):
            if k in have:
                have.discard(k)
            else:
                have.add(k)
        if rng.random() < 0.3:
            have.add(f"new{a % 4}")
        now[a] = have
    for a, have in now.items():
        for k in list(after):
            if a in after[k] and k not in have:
                after[k].remove(a)
        for k in have:
            after.setdefault(k, [])
            if a not in after[k]:
                after[k].append(a)
    ch = members.changed(m0, now, n)
    got = members.layer_rows(name, layer, ch, n0, n)
    assert got is not None
    R, rows = got
    want, want_keys = _layer(name, after, n)
    # every row the change did not return is as it was; the returned rows are the rebuilt ones
    full = build._resize(layer.tocsr(), n).tolil()
    for i, r in enumerate(R):
        full[int(r)] = rows[i]
    full = full.tocsr()
    assert np.allclose(full.toarray(), want.toarray(), rtol=1e-12, atol=0)
    assert (full.toarray() != 0).sum() == (want.toarray() != 0).sum()
    # the members: every group's member list as rebuilt
    m = ch.members
    for k, v in after.items():
        gid = int(m.find([k])[0])
        assert gid >= 0 and sorted(m.members_of(gid).tolist()) == sorted(set(v)), k
    # the group keys behind the pairs
    pk = dict(keys)
    codes = np.array(sorted((u << 32) | v for u, v in pk), dtype=np.int64)
    gids = m.find([pk[(int(c) >> 32, int(c) & 0xFFFFFFFF)] for c in codes]) if len(codes) else np.zeros(0, np.int64)
    k2, g2 = members.pair_keys(name, codes, gids, ch, n, build.KEYED_GROUP)
    got_keys = {(int(c) >> 32, int(c) & 0xFFFFFFFF): m.keys[int(g)].decode() for c, g in zip(k2, g2, strict=True)}
    assert got_keys == want_keys


def test_a_large_group_whose_weight_changes_gives_way_to_a_whole_refresh(monkeypatch):
    n = 300
    groups = {"big": list(range(100)), "small": [200, 201]}
    layer, _ = _layer("handle", groups, n)
    m0 = members.of_groups(groups, n)
    now = {150: {"big"}}  # joins: 100 -> 101 members, the same step of group_size: no reweight
    assert build.group_size(100) == build.group_size(101)
    assert members.layer_rows("handle", layer, members.changed(m0, now, n), n, n) is not None
    monkeypatch.setattr(members, "BIG_REWEIGHT", 50)
    now = {150: {"big"}, 151: {"big"}, 152: {"big"}, 153: {"big"}, 154: {"big"}}  # 105: the next step
    assert build.group_size(100) != build.group_size(105)
    assert members.layer_rows("handle", layer, members.changed(m0, now, n), n, n) is None
