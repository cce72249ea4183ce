"""The network view's layout, computed on the server from the case's structure.

A case of 200-2,000 members drawn with one force layout is a hairball: a few disconnected members
squash the main cluster and 10,000 ties hide everything. So the layout follows the structure the
expansion already found:

- members are grouped into communities (Leiden, as `graph.core.communities` does for the core);
  members with no tie to another member form one group of their own, drawn apart;
- each community is laid out on its own (Fruchterman-Reingold in igraph, deterministic start) and
  its points spread to an even disc (each point keeps its angle; radii by rank of distance), so a
  few far members do not squash the rest;
- the discs are packed on a spiral, largest core first, so the network's heart sits in the middle;
- ties inside a community are drawn one by one (the strongest MAX_TIES of them); ties between two
  communities are drawn as one bundle whose width tells how many, with every tie on demand.

Everything here is deterministic for a member set, so the same case looks the same to every
reviewer and after a reload; the route caches the result per member set (decisions only change
node state, which the page updates in place).
"""

from __future__ import annotations

import math
import random
import threading
from collections import OrderedDict, defaultdict

import numpy as np
import scipy.sparse as sp
from sqlalchemy import text

from ..graph import build, core

MAX_TIES = 40_000  # ties sent to the browser (the strongest first); bundles always cover all
TOP_LABELS = 12  # labelled without selection: the top-ranked members
SCALE = 7.0  # layout units per sqrt(member) of a community disc
GAP = 1.15  # space between discs, as a factor of their radii
TIE_KINDS = tuple(build.INTERACTION_WEIGHTS)
_RNG_LOCK = threading.Lock()


_TIES_CACHE: OrderedDict[tuple, list[tuple[str, str, str]]] = OrderedDict()
_TIES_CACHE_SIZE = 32


def ties(conn, account_ids: list[str]) -> list[tuple[str, str, str]]:
    """Directed interaction ties among the members (the graph build's own definition of a tie),
    kept per process for this member set until the next event is ingested (one cheap MAX(seq))."""
    ids = tuple(account_ids)
    seq = conn.execute(text("SELECT COALESCE(MAX(seq), 0) FROM events")).scalar()
    key = (id(conn.engine), str(conn.engine.url), hash(ids), len(ids), seq)
    hit = _TIES_CACHE.get(key)
    if hit is None:
        hit = _TIES_CACHE[key] = build.ties_among(conn, ids)
        while len(_TIES_CACHE) > _TIES_CACHE_SIZE:
            _TIES_CACHE.popitem(last=False)
    return hit


def layout(members: list[dict], directed: list[tuple[str, str, str]], seeds: list[str] = ()) -> dict:
    """Nodes with positions, ties (aggregated per pair of members), bundles between communities."""
    ids = [m["account_id"] for m in members]
    pos = {a: i for i, a in enumerate(ids)}
    n = len(ids)
    pair_kinds: dict[tuple[int, int], set[str]] = defaultdict(set)
    pair_weight: dict[tuple[int, int], float] = defaultdict(float)
    for a, b, kind in directed:
        i, j = pos.get(a), pos.get(b)
        if i is None or j is None or i == j:
            continue
        key = (i, j) if i < j else (j, i)
        pair_kinds[key].add(kind)
        pair_weight[key] += build.INTERACTION_WEIGHTS.get(kind, 1.0)
    group, loose = _groups(n, pair_weight)
    xy = np.zeros((n, 2))
    discs = _place_discs(members, group, loose, pair_weight, xy)
    seeds = set(seeds)
    top = {m["account_id"] for m in sorted(members, key=lambda m: m["rank"])[:TOP_LABELS]}
    nodes = []
    for i, m in enumerate(members):
        role = "seed" if m["account_id"] in seeds else ("core" if m.get("core") else "periphery")
        nodes.append({"id": m["account_id"], "handle": m.get("handle") or m["account_id"], "rank": m["rank"],
                      "role": role, "state": m["state"], "risk": round(float(m.get("risk") or 0.0), 1),
                      "signals": sorted({r["kind"] for r in m.get("reasons") or [] if r.get("kind")}),
                      "group": int(group[i]), "x": round(float(xy[i, 0]), 2), "y": round(float(xy[i, 1]), 2),
                      "label": m["account_id"] in top})
    edges, bundles = _edges(pair_kinds, pair_weight, group, discs)
    return {"nodes": nodes, "edges": edges, "bundles": bundles,
            "groups": [{"id": g, "n": d["n"], "x": round(d["x"], 2), "y": round(d["y"], 2), "r": round(d["r"], 2),
                        "unconnected": d["unconnected"]} for g, d in sorted(discs.items())],
            "ties": {"pairs": len(pair_kinds), "sent": len(edges), "capped": len(pair_kinds) > len(edges)}}


def _groups(n: int, pair_weight: dict) -> tuple[np.ndarray, int | None]:
    """Leiden community per member; members without a tie share one last group (its id returned)."""
    group = np.full(n, -1, dtype=np.int64)
    if not n:
        return group, None
    deg = np.zeros(n)
    for (i, j) in pair_weight:
        deg[i] += 1
        deg[j] += 1
    tied = np.flatnonzero(deg > 0)
    if len(tied):
        sub_pos = {int(v): k for k, v in enumerate(tied)}
        r = [sub_pos[i] for i, _ in pair_weight]
        c = [sub_pos[j] for _, j in pair_weight]
        w = list(pair_weight.values())
        m = sp.coo_matrix((w, (r, c)), shape=(len(tied), len(tied))).tocsr()
        comm = core.communities((m + m.T).tocsr())
        group[tied] = comm
    if len(tied) == n:
        return group, None
    loose = int(group.max()) + 1 if len(tied) else 0
    group[deg == 0] = loose
    return group, loose


def _place_discs(members, group, loose, pair_weight, xy) -> dict[int, dict]:
    """Lay out each group in a disc (xy filled in place); discs packed on a spiral. Returns the discs."""
    by_group: dict[int, list[int]] = defaultdict(list)
    for i, g in enumerate(group):
        by_group[int(g)].append(i)
    inner: dict[int, list[tuple[int, int, float]]] = defaultdict(list)
    for (i, j), w in pair_weight.items():
        if group[i] == group[j]:
            inner[int(group[i])].append((i, j, w))
    discs: dict[int, dict] = {}
    for g, idx in by_group.items():
        local = _disc_layout(idx, inner.get(g, []))
        r = SCALE * math.sqrt(len(idx)) + 2.0
        discs[g] = {"n": len(idx), "r": r, "idx": idx, "local": local * r, "unconnected": g == loose,
                    "core": sum(1 for i in idx if members[i].get("core")), "best": min(members[i]["rank"] for i in idx)}
    order = sorted(discs, key=lambda g: (discs[g]["unconnected"], -discs[g]["core"], -discs[g]["n"], discs[g]["best"]))
    placed: list[tuple[float, float, float]] = []
    for g in order:
        d = discs[g]
        d["x"], d["y"] = _spiral_spot(placed, d["r"])
        placed.append((d["x"], d["y"], d["r"]))
        xy[d["idx"]] = d["local"] + (d["x"], d["y"])
    return discs


def _disc_layout(idx: list[int], inner: list[tuple[int, int, float]]) -> np.ndarray:
    """Unit-disc positions for one group: FR layout spread evenly, or a sunflower for unconnected."""
    k = len(idx)
    if k == 1:
        return np.zeros((1, 2))
    golden = math.pi * (3 - math.sqrt(5))
    t = np.arange(k)
    sunflower = np.column_stack([np.sqrt((t + 0.5) / k) * np.cos(t * golden), np.sqrt((t + 0.5) / k) * np.sin(t * golden)])
    if not inner:  # the unconnected group
        return sunflower
    import igraph as ig

    loc = {v: n for n, v in enumerate(idx)}
    g = ig.Graph(n=k, edges=[(loc[i], loc[j]) for i, j, _ in inner])
    w = [w for _, _, w in inner]
    with _RNG_LOCK:  # igraph draws its start from a process-wide generator: a seeded one, for this call only
        ig.set_random_number_generator(random.Random(k))
        try:
            lay = np.array(g.layout_fruchterman_reingold(weights=w, niter=300, grid=k > 300).coords, dtype=float)
        finally:
            ig.set_random_number_generator(random)
    lay -= lay.mean(axis=0)
    dist = np.hypot(lay[:, 0], lay[:, 1])
    ang = np.arctan2(lay[:, 1], lay[:, 0])
    rank = np.empty(k)
    rank[np.argsort(dist, kind="stable")] = np.arange(k)
    radius = np.sqrt((rank + 0.5) / k)  # even density over the disc, order of distance kept
    return np.column_stack([radius * np.cos(ang), radius * np.sin(ang)])


def _spiral_spot(placed: list[tuple[float, float, float]], r: float) -> tuple[float, float]:
    """The first point along an outward spiral where a disc of radius r overlaps none placed."""
    if not placed:
        return 0.0, 0.0
    step = max(r * 0.25, 1.0)
    a = 0.0
    while True:
        rad = step * a / (2 * math.pi) * 4
        x, y = rad * math.cos(a), rad * math.sin(a)
        if all(math.hypot(x - px, y - py) >= (r + pr) * GAP for px, py, pr in placed):
            return x, y
        a += step / max(rad, step)


def _edges(pair_kinds, pair_weight, group, discs) -> tuple[list[dict], list[dict]]:
    strongest = sorted(pair_weight, key=lambda p: (-pair_weight[p], p))[:MAX_TIES]
    edges = [{"s": i, "t": j, "kinds": sorted(pair_kinds[(i, j)]), "w": round(pair_weight[(i, j)], 2),
              "cross": bool(group[i] != group[j])} for i, j in strongest]
    across: dict[tuple[int, int], list] = defaultdict(lambda: [0, 0.0, set()])
    for (i, j), w in pair_weight.items():
        a, b = int(group[i]), int(group[j])
        if a != b:
            key = (a, b) if a < b else (b, a)
            across[key][0] += 1
            across[key][1] += w
            across[key][2] |= pair_kinds[(i, j)]
    bundles = [{"a": a, "b": b, "n": n, "w": round(w, 2), "kinds": sorted(kinds),
                "x1": round(discs[a]["x"], 2), "y1": round(discs[a]["y"], 2),
                "x2": round(discs[b]["x"], 2), "y2": round(discs[b]["y"], 2)}
               for (a, b), (n, w, kinds) in sorted(across.items())]
    return edges, bundles
