"""Graph commands: expand from seeds, sweep the platform, link ban evasion, evaluate on worlds."""

from __future__ import annotations

from pathlib import Path

import typer

from ..deps import require_extra
from ..errors import UserError
from .common import DB_OPT, JSON_OPT, emit, open_db, progress, settings


def expand(
    seed: list[str] = typer.Option(..., "--seed", help="A confirmed account id; repeat for more seeds."),
    top: int = typer.Option(200, "--top", min=1, help="How many candidates to return."),
    layer: list[str] = typer.Option(None, "--layer", help="Restrict to these layers (interaction, handle, media, hashtag, avatar)."),
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """The ranked network around confirmed accounts: score, layers, evidence path, signals, core."""
    from ..graph.expand import expand_network

    store = open_db(db)
    with progress(not as_json) as p:
        p.add_task("building graph and expanding", total=None)
        exp = expand_network(store, list(seed), top, set(layer) if layer else None)
    lines = [f"{len(exp.members)} candidates from {', '.join(exp.seeds)} (core density {exp.core_density:.3f})"]
    for c in exp.members:
        lay = ", ".join(f"{k} {v:.0%}" for k, v in sorted(c.layers.items(), key=lambda x: -x[1]))
        path = " -> ".join(c.path)
        lines.append(f"{c.rank:4d} {c.account_id:12s} {c.score:.3g} {'core' if c.core else '    '} "
                     f"[{lay}] path {path} ({'; '.join(c.path_edges)}) signals {len(c.signals)}")
    from rich.markup import escape

    emit(exp.as_dict(), as_json, escape("\n".join(lines)))


def sweep_cmd(
    show: int = typer.Option(None, "--run", help="Show a stored sweep run instead of sweeping again."),
    list_runs: bool = typer.Option(False, "--list", help="List stored sweep runs, newest first."),
    actor: str = typer.Option("system:cli", "--as", help="Who runs it (for the audit log)."),
    budget: int = typer.Option(2000, "--budget", help="How many of the best-scored accounts are split into groups; "
                               "a group it cut says so."),
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Suspicious dense groups over the whole platform, from every confirmed account, no seed needed.

    Each run and its groups (with reasons) are stored and audited; `--run ID` shows one again and
    `netwarden case sweep --run ID` opens cases from it."""
    from ..graph.sweep import record_sweep, sweep, sweep_run, sweep_runs_list

    store = open_db(db)
    if list_runs:
        runs = sweep_runs_list(store)
        emit(runs, as_json, "\n".join(
            f"run {r['id']:<4} {r['created_at']} by {r['actor']}: {r['group_count']} groups from {r['seeds']} "
            f"confirmed accounts, {r['cases']} opened as cases" for r in runs) or "no sweep runs")
        return
    if show is None:
        with progress(not as_json) as p:
            p.add_task("sweeping", total=None)
            show = record_sweep(store, sweep(store, budget=budget), actor, budget=budget)
    run = sweep_run(store, show)
    cut = run["graph"].get("groups_cut")
    lines = [f"sweep run {run['id']} ({run['created_at']}, {run['method']}): {len(run['groups'])} candidate groups"
             + (f" from the {run['graph']['budget']} best-scored accounts" if "budget" in run["graph"] else "")
             + (f"; {cut} cut by that budget (see their reasons)" if cut else "")]
    for g in run["groups"]:
        case = f" case {g['case_id']}" if g["case_id"] is not None else ""
        lines.append(f"{g['rank']:3d} size {g['size']:4d} core {len(g['core']):4d} score {g['score']:.2f}{case}: "
                     f"{'; '.join(g['reasons'])}")
    emit(run, as_json, "\n".join(lines))


def evasion(
    threshold: float = typer.Option(None, "--threshold", help="Smallest evidence score to report (default 1.25)."),
    propose: bool = typer.Option(False, "--propose", help="Record each link as a ban_evasion signal and add the new "
                                 "account to the open cases holding the suspended one (audited)."),
    actor: str = typer.Option("system:cli", "--as", help="Who proposes (for the audit log)."),
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Link accounts created after a suspension to the suspended account (watch list: name, bio, handle
    family, contacts, avatar, device, follows, followers, hashtags), each link with its reasons."""
    from ..graph.evasion import LINK_THRESHOLD, find_evasion

    store = open_db(db)
    with progress(not as_json) as p:
        p.add_task("linking", total=None)
        links = find_evasion(store, LINK_THRESHOLD if threshold is None else threshold)
    added: list[dict] = []
    if propose and links:
        from ..scale.evasion_watch import record_links

        with store.engine.begin() as conn:
            added = record_links(conn, links, actor)
    lines = [f"{len(links)} links" + (f"; {len(added)} case member(s) proposed" if propose else "")]
    for lk in links:
        lines.append(f"{lk.new_account} -> {lk.suspended_account} score {lk.score:.2f}: {'; '.join(lk.reasons())}")
    out = [{**lk.as_dict(), "reasons": lk.reasons()} for lk in links]
    emit({"links": out, "proposed": added} if propose else out, as_json, "\n".join(lines))


def evaluate(
    world: list[Path] = typer.Option(..., "--world", help="A folder made by `netwarden world generate`; repeat for several."),
    seeds: int = typer.Option(3, "--seeds", min=1, help="Random member seeds per network."),
    no_networkx: bool = typer.Option(False, "--no-networkx", help="Skip the (slow) networkx PageRank baseline."),
    db: str = typer.Option(None, "--db", help="Store to use (default: WORLD/eval.db, ingested on first use)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Precision and recall at |R| and 3|R| per camouflage level, baselines beside, and evasion MRR."""
    if not no_networkx:
        require_extra("eval", "`netwarden evaluate` (without --no-networkx)")
    from ..graph.evaluate import (
        bfs_ratios,
        evaluate_evasion,
        evaluate_world,
        prepare_world,
        read_truth,
        summarize,
        table_markdown,
    )

    if db and len(world) > 1:
        raise UserError("--db names one store but several --world were given; drop --db to use WORLD/eval.db each.")
    rows: list[dict] = []
    evasion_out = []
    with progress(not as_json) as p:
        for w in world:
            truth = read_truth(w)
            ev_file = Path(w) / "events.jsonl"
            task = p.add_task(f"ingesting {w}", total=ev_file.stat().st_size if ev_file.is_file() else None)
            store = prepare_world(w, db, on_progress=lambda n, t=task: p.update(t, completed=n), settings=settings())
            nets = len(truth["networks"])
            task = p.add_task(f"evaluating {w}", total=nets * seeds)
            for r in evaluate_world(store, truth, seeds, baselines=True, networkx_ppr=not no_networkx,
                                    on_step=lambda t=task: p.advance(t)):
                r["world"] = str(w)
                rows.append(r)
            ev = evaluate_evasion(store, truth)
            ev["world"] = str(w)
            evasion_out.append(ev)
    summary = summarize(rows)
    ratios = bfs_ratios(summary)
    out = {"summary": summary, "vs_bfs": ratios, "evasion": evasion_out, "rows": rows}
    text = table_markdown(summary) + "\n\nrecall@|R| over 2-hop BFS at the same k: " + "; ".join(
        f"{r['camouflage']}: {r['x 2-hop']}x (ranked 2-hop {r['x 2-hop-ranked']}x)" for r in ratios)
    text += "\n\nevasion: " + "; ".join(
        f"{e['world']}: precision {e['precision']}, recall {e['recall']}, MRR {e['mrr']}" for e in evasion_out)
    emit(out, as_json, text)


graph_app = typer.Typer(help="The graph snapshot: built once beside the store, memory-mapped by every process.",
                        no_args_is_help=True)


def _snapshot_root(store):
    from ..graph import snapshot

    root = snapshot.root_for(store)
    if root is None:
        raise UserError("This store has no graph snapshot folder (an in-memory store, or a database server without "
                        "NETWARDEN_GRAPH_DIR, or NETWARDEN_GRAPH_DIR=off); set NETWARDEN_GRAPH_DIR to a folder for it.")
    return root


@graph_app.command("build")
def graph_build(
    full: bool = typer.Option(False, "--full", help="Rebuild from the store even when the snapshot could be refreshed."),
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Bring the graph snapshot up to the store's events and signals (refresh, or rebuild with --full)."""
    import time

    from ..graph import push, snapshot

    store = open_db(db)
    root = _snapshot_root(store)
    t0 = time.perf_counter()
    with progress(not as_json) as p:
        p.add_task("building the graph snapshot", total=None)
        _, _, mark, how = snapshot.ensure(store, root, full=full)
        # the push kernel compiled ahead of time (once per kernel version), so later processes skip numba
        try:
            kernel = push.build_kernel(store.kernel_dir)
        except Exception as e:  # no C compiler, say: expand still works, by numba's JIT
            kernel = f"not compiled ({type(e).__name__}: {e}); expand uses numba's JIT"
    out = {**snapshot.status(store, root), "how": how, "seconds": round(time.perf_counter() - t0, 2),
           "kernel": str(kernel) if kernel else None}
    emit(out, as_json, f"graph snapshot {out.get('version')} ({how}, {out['seconds']} s): {_status_line(out)}")


@graph_app.command("status")
def graph_status(db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """What the graph snapshot holds against the store: current, stale (events or signals since) or missing."""
    from ..graph import snapshot

    store = open_db(db)
    out = snapshot.status(store, snapshot.root_for(store))
    where = f" {out['version']} at {out['path']}" if out.get("version") else (f" at {out['path']}" if out["path"] else "")
    emit(out, as_json, f"graph snapshot{where}: {_status_line(out)}")


def _status_line(out: dict) -> str:
    state = out["state"]
    if state == "disabled":
        return f"disabled ({out['reason']})"
    if state == "missing":
        return "missing; `netwarden graph build` makes it (or the first expand does)"
    m = out["snapshot"]
    line = (f"{state}; {m['accounts']:,} accounts, {m['edges']:,} edges, events to seq {m['last_event_seq']:,}, "
            f"{out['bytes'] / 2**20:.1f} MiB ({out['mib_per_million_edges']} MiB per million edges), made by {m['how']} "
            f"in {m['seconds']} s at {m['built_at']}")
    if state == "old format":
        line += (f"; written as format {m.get('format')}, this version reads format {out['format']}: "
                 "`netwarden graph build` rebuilds it (or the next expand does)")
    if state == "stale":
        line += (f"; the store is {out['events_behind']:,} events ahead"
                 + (" and its signals changed" if out["signals_changed"] else ""))
    return line


def register(app: typer.Typer) -> None:
    app.add_typer(graph_app, name="graph")
    app.command("expand")(expand)
    app.command("sweep")(sweep_cmd)
    app.command("evasion")(evasion)
    app.command("evaluate")(evaluate)
