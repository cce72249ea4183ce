"""How well reports become cases, measured on a generated world with user reports (`world generate --reports`).

The truth file says which reports are true (on planted members, by ordinary accounts or trusted
flaggers) and which are false or malicious (on ordinary accounts); the processing never sees it.
Per network: how many proposed cases its reports made (one is the goal: several reports join one
case) and the recall and precision at |R| of that case (|R| = the network's members that are not the
case's seeds; the first |R| members by rank after the seeds). Over cases: precision (the share of
proposed cases seeded on a planted member), the share of a case's members that are planted (a case holds
the expansion's first 200, so a network smaller than that cannot fill it), and how many false or
malicious reports made or joined a case.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import select

from . import cases, triage
from .store.tables_reports import report_triage


def evaluate_reports(store, truth: dict) -> dict:
    t0 = time.perf_counter()
    process = triage.process_reports(store)
    process["seconds"] = round(time.perf_counter() - t0, 1)
    with store.engine.connect() as conn:
        tri = {r.report_id: r for r in conn.execute(select(report_triage))}
        report_cases = {c["id"]: {**c, "seeds": cases.get_case(conn, c["id"])["seeds"]}
                        for c in cases.list_cases(conn, state=None, limit=100_000) if c["origin"] == "report"}
        ranked = {cid: cases.members(conn, cid) for cid in report_cases}
    planted = {m: n["id"] for n in truth["networks"] for m in n["members"]}
    nets = []
    for net in truth["networks"]:
        reps = [r for r in truth.get("reports", []) if r["network"] == net["id"] and r["kind"] in ("true", "trusted")]
        cids = sorted({tri[r["id"]].case_id for r in reps if r["id"] in tri and tri[r["id"]].case_id is not None})
        row = {"network": net["id"], "size": net["size"], "camouflage": net["camouflage"], "reports": len(reps),
               "cases": len(cids), "case": None, "recall@|R|": 0.0, "precision@|R|": 0.0}
        if cids:
            cid = max(cids, key=lambda c: sum(m["account_id"] in set(net["members"]) for m in ranked[c]))
            seeds = set(report_cases[cid]["seeds"])
            rel = set(net["members"]) - seeds
            order = [m["account_id"] for m in ranked[cid] if m["account_id"] not in seeds]
            top = set(order[:len(rel)])
            inside = sum(m["account_id"] in set(net["members"]) for m in ranked[cid])
            row.update({"case": cid, "seeds": len(seeds), "members": len(ranked[cid]),
                        "planted_share": round(inside / len(ranked[cid]), 3),
                        "recall@|R|": round(len(top & rel) / len(rel), 3) if rel else 1.0,
                        "precision@|R|": round(len(top & rel) / len(rel), 3) if rel else 1.0})
        nets.append(row)
    false = [r for r in truth.get("reports", []) if r["kind"] in ("false", "malicious")]
    false_cases = [r["id"] for r in false if r["id"] in tri and tri[r["id"]].case_id is not None]
    true_cases = [cid for cid, c in report_cases.items() if any(s in planted for s in c["seeds"])]
    n_cases = len(report_cases)
    return {
        "process": process,
        "networks": nets,
        "proposed_cases": n_cases,
        "case_precision": round(len(true_cases) / n_cases, 3) if n_cases else None,
        "false_reports": len(false),
        "false_reports_with_case": len(false_cases),
        "networks_with_one_case": sum(1 for n in nets if n["cases"] == 1),
        "min_recall@|R|": min((n["recall@|R|"] for n in nets), default=None),
    }


def evaluate_world_reports(world: Path, db_url: str | None = None) -> dict:
    from .graph.evaluate import prepare_world, read_truth

    truth = read_truth(world)
    if "reports" not in truth or not truth["reports"]:
        from .errors import UserError

        raise UserError(f"{world}/truth.json holds no user reports; generate the world with `--reports`.")
    store = prepare_world(world, db_url)
    try:
        return evaluate_reports(store, truth)
    finally:
        store.close()
