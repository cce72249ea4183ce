"""Measure netwarden.confidence's table on generated worlds with known truth.

    .venv/bin/python scripts/calibrate_confidence.py --dir /tmp/calib --seeds 4 5 6

For each world (10,000 accounts, three networks of 60-200, camouflage 0.3/0.5/0.7) and each planted
network, expands from one poster (top 200) and counts, per (core flag, score band relative to the
core's median score), how many members there were and how many were in the network. Prints the
reliability table (markdown, for docs/evaluation.md) and the MEASURED dict for confidence.py.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from netwarden import confidence
from netwarden.graph.expand import expand_network
from netwarden.ingest.pipeline import ingest_files
from netwarden.store import open_store
from netwarden.world import generate


def measure(root: Path, seed: int, accounts: int, table: dict) -> None:
    w = root / f"world{seed}"
    db = root / f"world{seed}.db"
    if not db.exists():
        generate(str(w), accounts=accounts, seed=seed, networks=3, network_size=(60, 200),
                 camouflage=[0.3, 0.5, 0.7], media=False)
        ingest_files(open_store(f"sqlite:///{db}"), [w / "events.jsonl"], signals=True)
    store = open_store(f"sqlite:///{db}")
    truth = json.loads((w / "truth.json").read_text())
    for net in truth["networks"]:
        inside = set(net["members"])
        seed_acc = next(a for a in net["members"] if net["roles"][a] == "poster")
        members = expand_network(store, [seed_acc], top_k=200).members
        med = confidence.core_median([{"score": c.score, "core": c.core} for c in members])
        for c in members:
            cell = table[(bool(c.core), confidence.band(c.score, med))]
            cell[0] += 1
            cell[1] += c.account_id in inside


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--seeds", type=int, nargs="+", default=[4, 5, 6])
    ap.add_argument("--accounts", type=int, default=10_000)
    a = ap.parse_args()
    root = Path(a.dir)
    root.mkdir(parents=True, exist_ok=True)
    table: dict = defaultdict(lambda: [0, 0])
    for s in a.seeds:
        measure(root, s, a.accounts, table)
    print("| core | score band | members | in the network | share |\n|---|---|---|---|---|")
    for (core, b), (n, hit) in sorted(table.items()):
        print(f"| {'yes' if core else 'no'} | {confidence.band_label(b)} | {n} | {hit} | {hit / n:.3f} |")
    print("MEASURED =", {k: tuple(v) for k, v in sorted(table.items())})


if __name__ == "__main__":
    main()
