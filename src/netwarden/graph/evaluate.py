"""Evaluation on generated worlds: every number here comes from the world's truth.json.

The detector (expand, evasion) never sees the truth; this module only picks seeds from it and
scores the detector's output against it. Methods compared at the same review budget k:

- ``netwarden`` (all layers) and ``netwarden-interaction`` (interaction layer only);
- ``1-hop``: the seed's direct contacts, strongest ties first;
- ``2-hop``: breadth-first search to distance 2 (following contacts by hand): hop 1, then hop 2,
  each in a neutral fixed-seed shuffled order (a person has no ranking inside a hop); the review
  budget k cuts the list. This is the baseline of the "2x the recall of 2-hop BFS" target;
- ``2-hop-ranked``: a stronger variant, hop 1 by tie strength and hop 2 by how many hop-1 contacts
  lead to each account (reported beside it so the choice of baseline is visible);
- ``ppr-networkx``: global personalized PageRank (networkx) on the interaction graph, ranked by
  raw PPR mass (first seed of each network only: it is slow by design).
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import UserError
from .expand import Prepared, expand_prepared, load_graph


def read_truth(world: Path) -> dict:
    path = Path(world) / "truth.json"
    if not path.is_file():
        raise UserError(f"{path} does not exist; pass a folder made by `netwarden world generate`.")
    try:
        truth = json.loads(path.read_text())
    except ValueError:
        raise UserError(f"{path} is not valid JSON; regenerate the world.") from None
    if not str(truth.get("format", "")).startswith("netwarden-world-truth/"):
        raise UserError(f"{path} is not a world truth file; pass a folder made by `netwarden world generate`.")
    return truth


def world_terms(world: Path) -> Path:
    """The operator term list for a generated world: its invented placeholder hashtags (vocab.py)."""
    from ..world.vocab import SIGNAL_HASHTAGS

    path = Path(world) / "terms.yaml"
    lines = ["name: world-placeholders", "description: invented placeholder hashtags of the world generator", "terms:"]
    lines += [f'  - {{term: "#{h}", category: signal_hashtag, weight: 2.0, lang: en, mode: hashtag}}' for h in SIGNAL_HASHTAGS]
    path.write_text("\n".join(lines) + "\n")
    return path


def prepare_world(world: Path, db_url: str | None = None, on_progress: Callable[[int], None] | None = None,
                  settings=None):
    """A store holding the world: its bank imported, then its events ingested with signals (idempotent)."""
    from ..ingest.pipeline import ingest_files
    from ..media.signals import read_csv
    from ..store import media_banks as mb
    from ..store import open_store

    world = Path(world)
    events = world / "events.jsonl"
    if not events.is_file():
        raise UserError(f"{events} does not exist; pass a folder made by `netwarden world generate`.")
    store = open_store(db_url or f"sqlite:///{world / 'eval.db'}", graph_dir=settings.graph_dir if settings else None,
                       kernel_dir=settings.kernel_dir if settings else None)
    bank = world / "bank.csv"
    if bank.is_file():
        rows, _ = read_csv(bank.read_text(encoding="utf-8-sig"), str(bank))
        if rows:
            with store.engine.begin() as conn:
                b = mb.create_bank(conn, "world", source="bank.csv", exist_ok=True)
                mb.add_entries(conn, b["id"], [(r.signal_type, r.signal, r.label) for r in rows])
    ingest_files(store, [events], dead_letter=world / "eval-deadletter.jsonl", signals=True,
                 terms=str(world_terms(world)), on_progress=on_progress, settings=settings)
    return store


# -- baselines -------------------------------------------------------------------------------------
def one_hop(prep: Prepared, seed: int, k: int) -> list[int]:
    a, b = prep.indptr[seed], prep.indptr[seed + 1]
    nb, w = prep.indices[a:b], prep.data[a:b]
    return [int(x) for x in nb[np.argsort(-w, kind="stable")][:k]]


def two_hop(prep: Prepared, seed: int, k: int) -> list[int]:
    """Breadth-first search to distance 2 as a person following contacts by hand does it: all of the
    seed's contacts first, then their contacts; no ranking inside a hop (a fixed-seed shuffle, so the
    order is neutral and repeatable)."""
    rng = np.random.default_rng(seed)
    first = [int(x) for x in rng.permutation(prep.indices[prep.indptr[seed]:prep.indptr[seed + 1]])]
    if len(first) >= k:
        return first[:k]
    seen = set(first) | {seed}
    second: dict[int, None] = {}
    for u in first:
        for v in prep.indices[prep.indptr[u]:prep.indptr[u + 1]]:
            if int(v) not in seen:
                second[int(v)] = None
    return (first + [int(x) for x in rng.permutation(np.array(sorted(second), dtype=np.int64))])[:k]


def two_hop_ranked(prep: Prepared, seed: int, k: int) -> list[int]:
    """A stronger 2-hop baseline: the seed's contacts strongest tie first, then 2-hop accounts by how
    many of the seed's contacts lead to them (ties by index)."""
    first = one_hop(prep, seed, 10**9)
    if len(first) >= k:
        return first[:k]
    seen = set(first) | {seed}
    count: dict[int, int] = defaultdict(int)
    for u in first:
        for v in prep.indices[prep.indptr[u]:prep.indptr[u + 1]]:
            v = int(v)
            if v not in seen:
                count[v] += 1
    second = sorted(count, key=lambda v: (-count[v], v))
    return (first + second)[:k]


def ppr_networkx(nxg, seed: int, k: int) -> list[int]:
    import networkx as nx

    pr = nx.pagerank(nxg, alpha=0.85, personalization={seed: 1.0}, tol=1e-8)
    pr.pop(seed, None)
    return [v for v, _ in sorted(pr.items(), key=lambda x: -x[1])[:k]]


# -- metrics ---------------------------------------------------------------------------------------
def at_k(ranked: list[str], relevant: set[str], k: int) -> tuple[float, float]:
    hits = len(set(ranked[:k]) & relevant)
    return hits / k if k else 0.0, hits / len(relevant) if relevant else 0.0


def evaluate_world(store, truth: dict, seeds_per_network: int = 3, rng_seed: int = 0, baselines: bool = True,
                   networkx_ppr: bool = True, on_step: Callable[[], None] | None = None) -> list[dict]:
    """One row per (network, seed, method) with precision/recall at |R| and 3|R|, and recall by role."""
    graph, pri = load_graph(store)
    kdir = getattr(store, "kernel_dir", None)
    full = Prepared(graph, None, pri, kernel_dir=kdir)
    inter = Prepared(graph, {"interaction"}, pri, kernel_dir=kdir)
    nxg = None
    if networkx_ppr and baselines:
        import networkx as nx

        nxg = nx.from_scipy_sparse_array(inter.matrix)
    rng = np.random.default_rng(rng_seed)
    shared = {n["id"]: (sum(len(s["members"]) for s in n.get("shared_handles", [])) / max(1, n["size"])) for n in truth["networks"]}
    rows: list[dict] = []
    for net in truth["networks"]:
        members = [m for m in net["members"] if m in graph.index]
        roles = net.get("roles", {})
        choices = rng.choice(sorted(members), size=min(seeds_per_network, len(members)), replace=False)
        for si, seed in enumerate(choices):
            rel = set(members) - {seed}
            k1, k3 = len(rel), 3 * len(rel)
            s = graph.index[seed]
            ranked: dict[str, list[str]] = {
                "netwarden": [c.account_id for c in expand_prepared(full, [seed], k3, explain=False).members],
                "netwarden-interaction": [c.account_id for c in expand_prepared(inter, [seed], k3, explain=False).members],
            }
            if baselines:
                ranked["1-hop"] = [graph.ids[i] for i in one_hop(inter, s, k3)]
                ranked["2-hop"] = [graph.ids[i] for i in two_hop(inter, s, k3)]
                ranked["2-hop-ranked"] = [graph.ids[i] for i in two_hop_ranked(inter, s, k3)]
                if nxg is not None and si == 0:
                    ranked["ppr-networkx"] = [graph.ids[i] for i in ppr_networkx(nxg, s, k3)]
            for method, lst in ranked.items():
                p1, r1 = at_k(lst, rel, k1)
                p3, r3 = at_k(lst, rel, k3)
                row = {"network": net["id"], "camouflage": net["camouflage"], "style": net.get("camouflage_style", "mixed"),
                       "size": net["size"],
                       "shared_handle": round(shared[net["id"]], 3), "seed": seed, "method": method,
                       "k": k1, "precision@|R|": p1, "recall@|R|": r1, "precision@3|R|": p3, "recall@3|R|": r3}
                top = set(lst[:k1])
                for role in ("silent", "poster", "commenter"):
                    group = {m for m in rel if roles.get(m) == role}
                    row[f"recall@|R| {role}"] = len(top & group) / len(group) if group else None
                rows.append(row)
            if on_step:
                on_step()
    return rows


def evaluate_evasion(store, truth: dict) -> dict:
    """MRR, recall and precision of reported links over re-registrations, by number of traits carried
    ("1", ">=2", "all") and, for those carrying one, by which one."""
    from .evasion import LINK_THRESHOLD, candidate_links

    cands = candidate_links(store)
    rereg = truth.get("reregistrations", [])
    pairs = {(r["new"], r["old"]) for r in rereg}
    reported = {n: c[0] for n, c in cands.items() if c and c[0].score >= LINK_THRESHOLD}
    buckets: dict[str, list[dict]] = defaultdict(list)
    for r in rereg:
        k = len(r["carried"])
        buckets[">=2" if k >= 2 else str(k)].append(r)
        buckets["all"].append(r)
        if k == 1:
            buckets[f"only {r['carried'][0]}"].append(r)

    def stats(rs: list[dict]) -> dict:
        mrr, found, wrong = 0.0, 0, 0
        for r in rs:
            links = cands.get(r["new"], [])
            rank = next((lk.rank for lk in links if lk.suspended_account == r["old"]), None)
            mrr += 1.0 / rank if rank else 0.0
            lk = reported.get(r["new"])
            if lk is not None:
                found += lk.suspended_account == r["old"]
                wrong += lk.suspended_account != r["old"]
        return {"n": len(rs), "mrr": mrr / len(rs), "recall": found / len(rs),
                "precision": found / (found + wrong) if found + wrong else None}

    tp = sum((n, lk.suspended_account) in pairs for n, lk in reported.items())
    by = {k: stats(v) for k, v in sorted(buckets.items())}
    return {"reregistrations": len(pairs), "reported": len(reported), "true_links": tp,
            "precision": tp / len(reported) if reported else None, "recall": tp / len(pairs) if pairs else None,
            "mrr": {k: {"n": v["n"], "mrr": v["mrr"]} for k, v in by.items()}, "by_carried": by}


def summarize(rows: list[dict]) -> list[dict]:
    """Medians over seeds (and networks and worlds) per camouflage level and method."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["camouflage"], r.get("style") or "mixed", r["method"])].append(r)
    out = []
    keys = ["precision@|R|", "recall@|R|", "precision@3|R|", "recall@3|R|",
            "recall@|R| silent", "recall@|R| poster", "recall@|R| commenter"]
    for (cam, style, method), rs in sorted(groups.items()):
        d = {"camouflage": cam, "style": style, "method": method, "seeds": len(rs), "networks": len({(r.get('world'), r['network']) for r in rs})}
        for k in keys:
            vals = [r[k] for r in rs if r.get(k) is not None]
            d[k] = round(statistics.median(vals), 3) if vals else None
        worst = [r["recall@|R|"] for r in rs if r.get("recall@|R|") is not None]
        d["worst recall@|R|"] = round(min(worst), 3) if worst else None
        out.append(d)
    return out


def bfs_ratios(summary: list[dict], key: str = "recall@|R|") -> list[dict]:
    """Per camouflage level: netwarden's median recall over the 2-hop baselines' at the same k."""
    by = {(d["camouflage"], d.get("style", "mixed"), d["method"]): d.get(key) for d in summary}
    out = []
    for cam, style in sorted({(d["camouflage"], d.get("style", "mixed")) for d in summary}):
        ours = by.get((cam, style, "netwarden"))
        row = {"camouflage": cam, "netwarden": ours}
        if style != "mixed":
            row["style"] = style
        for base in ("2-hop", "2-hop-ranked"):
            b = by.get((cam, style, base))
            row[f"x {base}"] = round(ours / b, 2) if ours is not None and b else None
        out.append(row)
    return out


def table_markdown(summary: list[dict]) -> str:
    cols = ["camouflage", "style", "method", "seeds", "precision@|R|", "recall@|R|", "worst recall@|R|",
            "precision@3|R|", "recall@3|R|", "recall@|R| silent", "recall@|R| poster", "recall@|R| commenter"]
    lines = ["| " + " | ".join(c.replace("|", "\\|") for c in cols) + " |", "|" + "---|" * len(cols)]
    for d in summary:
        lines.append("| " + " | ".join("" if d.get(c) is None else str(d.get(c)) for c in cols) + " |")
    return "\n".join(lines)
