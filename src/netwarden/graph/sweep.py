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
from sqlalchemy import func, select, text, update

from ..errors import UserError
from .core import camouflage_weighted, communities, peel
from .expand import HUB_DAMPING, Prepared, load_graph, signal_priors

MIN_GROUP = 5
MAX_CANDIDATES = 20_000


@dataclass
class Group:
    accounts: list[str]
    score: float
    core: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"accounts": self.accounts, "size": len(self.accounts), "score": round(self.score, 6),
                "core": self.core, "reasons": self.reasons}


def confirmed_accounts(store) -> list[str]:
    with store.engine.connect() as conn:
        a = {r[0] for r in conn.execute(text("SELECT id FROM accounts WHERE state = 'suspended'"))}
        a |= {r[0] for r in conn.execute(text(
            "SELECT DISTINCT account_id FROM signals WHERE kind = 'media_match' AND account_id IS NOT NULL"))}
    return sorted(a)


def sweep(store, seeds: list[str] | None = None, min_size: int = MIN_GROUP, ppr=None) -> list[Group]:
    """Candidate groups, best first. `seeds` defaults to every confirmed account.

    `ppr(prepared, seed indices) -> (nodes, scores)` replaces the local push personalized PageRank
    (tests pass the Spark job's iterations run in numpy, to compare with it); everything after it is shared.
    """
    graph, pri = load_graph(store)
    confirmed = [a for a in (seeds if seeds is not None else confirmed_accounts(store)) if a in graph.index]
    if not confirmed:
        return []
    prep = Prepared(graph, None, pri)
    seed_idx = [graph.index[a] for a in confirmed]
    if ppr is None:
        nodes, p = prep.ppr(seed_idx, eps=1e-6 / max(1, len(seed_idx)))
    else:
        nodes, p = ppr(prep, seed_idx)
    score = p / np.maximum(prep.deg[nodes], 1e-12) ** HUB_DAMPING * pri[nodes]
    budget = min(MAX_CANDIDATES, max(50, 3 * len(seed_idx)))
    order = np.argsort(-score, kind="stable")[:budget]
    cand, cscore = nodes[order], score[order]
    # Leiden's result depends on vertex order: give it the candidates in index order, so that two
    # PageRank implementations that pick the same candidates find the same groups.
    by_index = np.argsort(cand, kind="stable")
    cand, cscore = cand[by_index], cscore[by_index]
    sub = camouflage_weighted(graph, prep.layer_names, cand)
    _, strength = signal_priors(store, graph)
    conf = set(seed_idx)
    names = [graph.ids[int(i)] for i in cand]
    return groups_from(names, cscore, sub, np.array([int(i) in conf for i in cand], dtype=bool),
                       np.array([strength.get(m, 0) > 0 for m in names], dtype=bool), min_size)


def groups_from(names: list[str], cscore: np.ndarray, sub, confirmed: np.ndarray, flagged: np.ndarray,
                min_size: int = MIN_GROUP) -> list[Group]:
    """Groups from the sweep's candidates (in index order): their camouflage-weighted subgraph is split
    into Leiden communities, each peeled to its dense core; `confirmed` / `flagged` mark candidates that
    are seeds / have their own signals. Shared with the Spark sweep, which builds `sub` on Spark."""
    comm = np.array(communities(sub)) if sub.nnz else np.zeros(len(names), dtype=int)
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
        s = float(cscore[idx].mean()) * dens * (1 + n_conf + n_flag) / len(idx)
        groups.append(Group(
            accounts=members, score=s, core=[members[i] for i in np.flatnonzero(mask)],
            reasons=[f"{n_conf} confirmed account(s) (suspended or bank match)",
                     f"{n_flag} account(s) with their own signals",
                     f"dense core of {int(mask.sum())} at camouflage-weighted density {dens:.3f}"]))
    groups.sort(key=lambda g: -g.score)
    return groups


def record_sweep(store, groups: list[Group], actor: str, method: str = "local", seeds: int | None = None,
                 graph_info: dict | None = None) -> int:
    """Store a sweep run and its groups, audited (`sweep.run`) in the same transaction; returns the run id.

    graph_info: what to record of the graph swept (default: the single-machine graph's size)."""
    from .. import audit
    from ..store.tables_sweep import sweep_groups, sweep_runs

    if graph_info is None:
        graph, _ = load_graph(store)
        graph_info = {"accounts": graph.n, "edges": graph.edges(), "last_event_seq": graph.last_event_seq}
    n_seeds = len(confirmed_accounts(store)) if seeds is None else seeds
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with store.engine.begin() as conn:
        rid = int(conn.execute(sweep_runs.insert().values(
            actor=actor, method=method, seeds=n_seeds, group_count=len(groups), created_at=now,
            graph=json.dumps(graph_info),
        )).inserted_primary_key[0])
        rows = [{"run_id": rid, "rank": i, "score": float(g.score), "size": len(g.accounts),
                 "accounts": json.dumps(g.accounts), "core": json.dumps(g.core), "reasons": json.dumps(g.reasons),
                 "case_id": None} for i, g in enumerate(groups, 1)]
        for i in range(0, len(rows), 500):
            conn.execute(sweep_groups.insert(), rows[i:i + 500])
        audit.append(conn, actor, "sweep.run", "sweep", str(rid),
                     {"method": method, "seeds": n_seeds, "groups": len(groups),
                      "accounts": sum(len(g.accounts) for g in groups)})
    return rid


def sweep_runs_list(store, limit: int = 50) -> list[dict]:
    """Stored sweep runs, newest first, with how many of their groups became cases."""
    from ..store.tables_sweep import sweep_groups, sweep_runs

    opened = (select(sweep_groups.c.run_id, func.count(sweep_groups.c.case_id).label("cases"))
              .group_by(sweep_groups.c.run_id).subquery())
    q = (select(sweep_runs, opened.c.cases).outerjoin(opened, opened.c.run_id == sweep_runs.c.id)
         .order_by(sweep_runs.c.id.desc()).limit(limit))
    with store.engine.connect() as conn:
        out = []
        for r in conn.execute(q).mappings():
            d = dict(r)
            d["graph"] = json.loads(d["graph"])
            d["cases"] = int(d["cases"] or 0)
            out.append(d)
    return out


def sweep_run(store, run_id: int) -> dict:
    """One stored run with its groups (best first), each with its reasons and the case opened from it."""
    from ..store.tables_sweep import sweep_groups, sweep_runs

    with store.engine.connect() as conn:
        r = conn.execute(select(sweep_runs).where(sweep_runs.c.id == run_id)).mappings().first()
        if r is None:
            raise UserError(f"Sweep run {run_id} does not exist; see `netwarden sweep --list`.")
        groups = [dict(g) for g in conn.execute(select(sweep_groups).where(sweep_groups.c.run_id == run_id)
                                                .order_by(sweep_groups.c.rank)).mappings()]
    run = dict(r)
    run["graph"] = json.loads(run["graph"])
    for g in groups:
        for k in ("accounts", "core", "reasons"):
            g[k] = json.loads(g[k])
    run["groups"] = groups
    return run


def link_case(conn, run_id: int, rank: int, case_id: int) -> None:
    """Record that a case was opened from a stored group (in the caller's transaction)."""
    from ..store.tables_sweep import sweep_groups

    conn.execute(update(sweep_groups).where(sweep_groups.c.run_id == run_id, sweep_groups.c.rank == rank)
                 .values(case_id=case_id))
