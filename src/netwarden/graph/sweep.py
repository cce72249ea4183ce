"""Whole-platform sweep: suspicious dense groups without a seed.

Distrust is propagated from every *confirmed* account (suspended accounts and accounts with a
hash-bank match: SybilRank run in reverse, as one personalized PageRank with all of them as
seeds); the best-scored accounts are split into Leiden communities over the fused graph, each
community is peeled to its camouflage-resistant dense core, and communities that are dense and
hold confirmed or flagged accounts become candidate groups, each with its reasons.

`record_sweep` stores a run and its groups (tables `sweep_runs`, `sweep_groups`) with an audit
entry, so a reviewer can come back to them (`sweep_run`, `sweep_runs_list`) and cases opened from a
group point back to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from ..errors import UserError
from ..store import graph_queries as gq
from ..store import sweep_queries as sq
from .core import camouflage_weighted, communities, peel
from .expand import HUB_DAMPING, Prepared, load_graph, signal_priors

MIN_GROUP = 5
# How many of the best-scored accounts the sweep splits into groups. A fixed number, not a multiple of
# the confirmed accounts: with a few suspended accounts confirmed, "3x confirmed" looked at 60
# accounts and cut networks of 120 into pieces without saying so. 2,000 holds every planted network of
# a 100k world several times over; Leiden and peeling on 2,000 accounts take well under a second.
DEFAULT_BUDGET = 2_000
MAX_CANDIDATES = 20_000
# An account just past the budget is "left out" of a group when at least this many of the group's
# members (and this share of the group) are its neighbours, and they are this share of its own ties
# (so a popular account every member follows is not one).
LEFT_OUT_MIN = 3
LEFT_OUT_GROUP_SHARE = 0.1
LEFT_OUT_OWN_SHARE = 0.1


@dataclass
class Group:
    accounts: list[str]
    score: float  # cohesion x evidence, 0-1 (see `groups_from`)
    core: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    cohesion: float = 0.0  # share of the members' ties that stay inside the group
    evidence: float = 0.0  # share of the members confirmed or with their own signals
    left_out: int = 0  # accounts past the candidate budget tied to the group like members

    def as_dict(self) -> dict:
        return {"accounts": self.accounts, "size": len(self.accounts), "score": round(self.score, 6),
                "cohesion": round(self.cohesion, 4), "evidence": round(self.evidence, 4), "left_out": self.left_out,
                "core": self.core, "reasons": self.reasons}


def confirmed_accounts(store) -> list[str]:
    with store.engine.connect() as conn:
        return gq.confirmed_accounts(conn)


def _check_budget(budget: int) -> int:
    if not 1 <= int(budget) <= MAX_CANDIDATES:
        raise UserError(f"--budget {budget} is out of range; use 1 to {MAX_CANDIDATES} candidate accounts "
                        f"(default {DEFAULT_BUDGET}).")
    return int(budget)


def _fused_rows(graph, layer_names: list[str], rows: np.ndarray):
    """The fused layers' rows of these accounts (all columns), binary: who each one is tied to."""
    import scipy.sparse as sp

    out = sp.csr_matrix((len(rows), graph.n))
    for name in layer_names:
        if name in graph.layers and graph.layer_nnz(name):
            out = out + graph.layer_rows(name, rows)
    out = out.tocsr()
    out.data[:] = 1.0
    return out


def sweep(store, seeds: list[str] | None = None, min_size: int = MIN_GROUP, ppr=None,
          budget: int = DEFAULT_BUDGET) -> list[Group]:
    """Candidate groups, best first. `seeds` defaults to every confirmed account.

    `budget`: how many of the best-scored accounts are split into groups (`DEFAULT_BUDGET`); a
    group that accounts ranked just past it are tied to like members says so in its reasons.
    `ppr(prepared, seed indices) -> (nodes, scores)` replaces the local push personalized PageRank
    (tests pass the Spark job's iterations run in numpy, to compare with it); everything after it is shared.
    """
    budget = _check_budget(budget)
    graph, pri = load_graph(store)
    confirmed = [a for a in (seeds if seeds is not None else confirmed_accounts(store)) if a in graph.index]
    if not confirmed:
        return []
    prep = Prepared(graph, None, pri, kernel_dir=getattr(store, "kernel_dir", None))
    seed_idx = [graph.index[a] for a in confirmed]
    if ppr is None:
        nodes, p = prep.ppr(seed_idx, eps=1e-6 / max(1, len(seed_idx)))
    else:
        nodes, p = ppr(prep, seed_idx)
    score = p / np.maximum(prep.deg[nodes], 1e-12) ** HUB_DAMPING * pri[nodes]
    ranked = np.argsort(-score, kind="stable")
    order = ranked[:budget]
    cand, cscore = nodes[order], score[order]
    # Leiden's result depends on vertex order: give it the candidates in index order, so that two
    # PageRank implementations that pick the same candidates find the same groups.
    by_index = np.argsort(cand, kind="stable")
    cand, cscore = cand[by_index], cscore[by_index]
    sub = camouflage_weighted(graph, prep.layer_names, cand)
    gdeg = np.diff(_fused_rows(graph, prep.layer_names, cand).indptr)
    beyond = np.sort(nodes[ranked[budget:2 * budget]])
    brows = _fused_rows(graph, prep.layer_names, beyond)
    outside = brows[:, cand].tocsr()
    _, strength = signal_priors(store, graph)
    conf = set(seed_idx)
    names = [graph.ids[int(i)] for i in cand]
    return groups_from(names, cscore, sub, np.array([int(i) in conf for i in cand], dtype=bool),
                       np.array([strength.get(m, 0) > 0 for m in names], dtype=bool), min_size,
                       gdeg=gdeg, outside=outside, outside_deg=np.diff(brows.indptr), budget=budget)


def groups_from(names: list[str], cscore: np.ndarray, sub, confirmed: np.ndarray, flagged: np.ndarray,
                min_size: int = MIN_GROUP, gdeg: np.ndarray | None = None, outside=None,
                outside_deg: np.ndarray | None = None, budget: int | None = None) -> list[Group]:
    """Groups from the sweep's candidates (in index order): their camouflage-weighted subgraph is split
    into Leiden communities, each peeled to its dense core; `confirmed` / `flagged` mark candidates that
    are seeds / have their own signals. Shared with the Spark sweep, which builds `sub` on Spark.

    A group's score is cohesion x evidence, both shares from 0 to 1 a reader can check: cohesion is
    the share of the members' ties (neighbours, over the whole graph when `gdeg` gives each
    candidate's neighbour count, else among the candidates) that are other members; evidence is the
    share of members confirmed or flagged. `outside` (accounts ranked just past the budget x the
    candidates, binary, with their neighbour counts `outside_deg`) finds the accounts the budget cut
    off a group."""
    comm = np.array(communities(sub)) if sub.nnz else np.zeros(len(names), dtype=int)
    tie = sub.copy().tocsr()
    tie.data[:] = 1.0
    own = np.asarray(tie.sum(axis=1)).ravel() if gdeg is None else np.asarray(gdeg, dtype=float)
    groups: list[Group] = []
    for c in np.unique(comm):
        idx = np.flatnonzero(comm == c)
        if len(idx) < min_size:
            continue
        gsub = sub[idx][:, idx]
        mask, dens = peel(gsub)
        members = [names[i] for i in idx]
        n_conf = int(confirmed[idx].sum())
        n_flag = int(flagged[idx].sum())
        if dens <= 0 or (n_conf == 0 and n_flag == 0):
            continue
        inner = float(tie[idx][:, idx].sum())
        cohesion = inner / max(float(own[idx].sum()), 1.0)
        evidence = len(np.flatnonzero(confirmed[idx] | flagged[idx])) / len(idx)
        left = 0
        if outside is not None and outside.shape[0]:
            cnt = np.asarray(outside[:, idx].sum(axis=1)).ravel()
            need = max(LEFT_OUT_MIN, LEFT_OUT_GROUP_SHARE * len(idx))
            left = int(((cnt >= need) & (cnt >= LEFT_OUT_OWN_SHARE * np.maximum(outside_deg, 1))).sum())
        reasons = [f"{n_conf} confirmed account(s) (suspended or bank match)",
                   f"{n_flag} account(s) with their own signals",
                   f"score {cohesion * evidence:.2f} = cohesion {cohesion:.2f} (share of the members' ties that stay "
                   f"inside the group) x evidence {evidence:.2f} (share of members confirmed or flagged)",
                   f"dense core of {int(mask.sum())} at camouflage-weighted density {dens:.3f}"]
        if left:
            reasons.append(f"cut by the candidate budget ({budget}): {left} account(s) ranked just past it are tied "
                           f"to this group like its members; sweep again with a larger --budget to see them")
        groups.append(Group(accounts=members, score=cohesion * evidence, core=[members[i] for i in np.flatnonzero(mask)],
                            reasons=reasons, cohesion=cohesion, evidence=evidence, left_out=left))
    groups.sort(key=lambda g: (-g.score, g.accounts[0]))
    return groups


def record_sweep(store, groups: list[Group], actor: str, method: str = "local", seeds: int | None = None,
                 graph_info: dict | None = None, budget: int = DEFAULT_BUDGET) -> int:
    """Store a sweep run and its groups, audited (`sweep.run`) in the same transaction; returns the run id.

    graph_info: what to record of the graph swept (default: the single-machine graph's size); the
    candidate budget and how many groups it cut are recorded with it."""
    from .. import audit

    if graph_info is None:
        graph, _ = load_graph(store)
        graph_info = {"accounts": graph.n, "edges": graph.edges(), "last_event_seq": graph.last_event_seq}
    graph_info = {**graph_info, "budget": budget, "groups_cut": sum(1 for g in groups if g.left_out)}
    n_seeds = len(confirmed_accounts(store)) if seeds is None else seeds
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with store.engine.begin() as conn:
        rows = [{"rank": i, "score": float(g.score), "size": len(g.accounts), "accounts": json.dumps(g.accounts),
                 "core": json.dumps(g.core), "reasons": json.dumps(g.reasons), "case_id": None}
                for i, g in enumerate(groups, 1)]
        rid = sq.insert_run(conn, rows, actor=actor, method=method, seeds=n_seeds, group_count=len(groups),
                            created_at=now, graph=json.dumps(graph_info))
        audit.append(conn, actor, "sweep.run", "sweep", str(rid),
                     {"method": method, "seeds": n_seeds, "groups": len(groups),
                      "accounts": sum(len(g.accounts) for g in groups)})
    return rid


def sweep_runs_list(store, limit: int = 50) -> list[dict]:
    """Stored sweep runs, newest first, with how many of their groups became cases."""
    with store.engine.connect() as conn:
        out = []
        for d in sq.run_rows(conn, limit):
            d["graph"] = json.loads(d["graph"])
            d["cases"] = int(d["cases"] or 0)
            out.append(d)
    return out


def sweep_run(store, run_id: int) -> dict:
    """One stored run with its groups (best first), each with its reasons and the case opened from it."""
    with store.engine.connect() as conn:
        run = sq.run_row(conn, run_id)
        if run is None:
            raise UserError(f"Sweep run {run_id} does not exist; see `netwarden sweep --list`.")
        groups = sq.group_rows(conn, run_id)
    run["graph"] = json.loads(run["graph"])
    for g in groups:
        for k in ("accounts", "core", "reasons"):
            g[k] = json.loads(g[k])
    run["groups"] = groups
    return run


def link_case(conn, run_id: int, rank: int, case_id: int) -> None:
    """Record that a case was opened from a stored group (in the caller's transaction)."""
    sq.link_case(conn, run_id, rank, case_id)
