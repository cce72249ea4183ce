"""User reports and triage queues: `report-intake`, `reports process`, `queue list|add|queues|stats|show|assign|
claim|release|escalate|resolve`, `account note`. See docs/reports.md."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ..errors import UserError
from .common import DB_OPT, JSON_OPT, emit, open_db, progress, settings

reports_app = typer.Typer(help="User reports: from a report to the network behind it.", no_args_is_help=True)
queue_app = typer.Typer(help="Triage queues of user reports.", no_args_is_help=True)
account_app = typer.Typer(help="Internal notes on accounts.", no_args_is_help=True)
AS_OPT = typer.Option("system:cli", "--as", help="Reviewer name recorded in the audit log.")


def register(app: typer.Typer) -> None:
    app.command("report-intake")(report_intake)
    app.add_typer(reports_app, name="reports")
    app.add_typer(queue_app, name="queue")
    app.add_typer(account_app, name="account")



def _process_text(s: dict) -> str:
    queues = ", ".join(f"{q} {n}" for q, n in sorted(s["by_queue"].items())) or "none"
    return (f"processed {s['processed']} report(s): {len(s['opened'])} case(s) proposed"
            f"{' (' + ', '.join(map(str, s['opened'])) + ')' if s['opened'] else ''}, {s['joined']} joined a case, "
            f"{s['no_case']} without a case, {s['waiting']} waiting for their account; queues: {queues}")


def report_intake(
    paths: list[Path] = typer.Argument(..., help="Report files: JSON Lines of Coop report bodies, native events "
                                                 "or saved Mastodon admin/reports pages."),
    fmt: str = typer.Option("coop", "--format", "-f", help="coop | native | mastodon"),
    dead_letter: Path = typer.Option(Path("netwarden-deadletter.jsonl"), "--dead-letter",
                                     help="Where bad records go, each with its reason."),
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Ingest report files, then process the reports (network, case, queue), as the HTTP intake does."""
    from .. import triage
    from ..ingest.pipeline import ingest_files

    if fmt not in ("coop", "native", "mastodon"):
        raise UserError(f"--format {fmt!r} is not coop, native or mastodon.")
    store = open_db(db)
    with progress(not as_json) as bar:
        task = bar.add_task("ingesting reports", total=None)
        summary = ingest_files(store, paths, fmt=fmt, dead_letter=dead_letter, signals=False,
                               on_progress=lambda done: bar.update(task, completed=done), settings=settings())
    s = triage.process_reports(store)
    store.close()
    d = {"ingest": summary.as_dict(), "process": s}
    text = f"ingested {summary.events} report event(s); " + _process_text(s)
    if summary.dead:
        text += f"; {summary.dead} bad record(s) written to {summary.dead_letter_file}"
    emit(d, as_json, text)


@reports_app.command("process")
def reports_process(db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """Weigh, connect and route every report new or changed since the last run (after `netwarden ingest`)."""
    from .. import triage

    store = open_db(db)
    s = triage.process_reports(store)
    store.close()
    emit(s, as_json, _process_text(s))


@reports_app.command("evaluate")
def reports_evaluate(
    world: Path = typer.Option(..., "--world", help="A folder made by `netwarden world generate --reports`."),
    db: str = typer.Option(None, "--db", help="Store to use (default: WORLD/eval.db, made and ingested if needed)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Measure reports -> cases against the world's truth: recall and precision at |R| per network, case precision."""
    from ..triage_eval import evaluate_world_reports

    r = evaluate_world_reports(world, db)
    lines = [f"{n['network']} ({n['size']} members, camouflage {n['camouflage']}): {n['reports']} reports -> "
             f"{n['cases']} case(s); recall@|R| {n['recall@|R|']}" for n in r["networks"]]
    lines.append(f"proposed cases {r['proposed_cases']}, case precision {r['case_precision']}; "
                 f"{r['false_reports_with_case']} of {r['false_reports']} false/malicious reports made or joined a case")
    emit(r, as_json, "\n".join(lines))


def _item_line(i: dict) -> str:
    flag = "OVERDUE " if i["overdue"] else ""
    due = f"due {i['due_at']}" if i["open"] else f"{i['outcome']} by {i['resolved_by']}"
    case = f" case {i['case_id']}" if i.get("case_id") else ""
    who = f" -> {i['assignee']}" if i.get("assignee") else ""
    return f"{flag}{i['id']}  {i['queue']}: {i['category']} on {i['account_id']}{case}{who}  {due}"


@queue_app.command("list")
def queue_list(
    queue: str = typer.Option(None, "--queue", help="Only this queue."),
    assignee: str = typer.Option(None, "--assignee", help="Only reports assigned to this reviewer."),
    mine: bool = typer.Option(False, "--mine", help="Only reports assigned to the --as reviewer."),
    state: str = typer.Option("open", "--state", help="open | resolved | all"),
    limit: int = typer.Option(200, "--limit", min=1),
    actor: str = AS_OPT,
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Reports in the queues, overdue first, then by SLA due time."""
    from .. import triage

    if state not in ("open", "resolved", "all"):
        raise UserError(f"--state {state!r} is not open, resolved or all.")
    store = open_db(db)
    with store.engine.connect() as conn:
        rows = triage.items(conn, queue=queue, assignee=actor if mine else assignee, state=state, limit=limit)
    store.close()
    emit(rows, as_json, "\n".join(_item_line(i) for i in rows) or "no reports")


@queue_app.command("show")
def queue_show(report_id: str = typer.Argument(...), db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """One report with its reporter's weight, routing, SLA, escalation and case."""
    from .. import triage

    store = open_db(db)
    with store.engine.connect() as conn:
        d = triage.get_item(conn, report_id)
    store.close()
    text = "\n".join(f"{k}: {v}" for k, v in d.items() if v not in (None, "", []))
    emit(d, as_json, text)


@queue_app.command("queues")
def queue_queues(db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """The named queues in routing order, with their rules and SLAs."""
    from .. import triage

    store = open_db(db)
    with store.engine.begin() as conn:
        triage.ensure_default_queues(conn)
        qs = triage.list_queues(conn)
    store.close()
    emit(qs, as_json, "\n".join(f"{q['position']:>5} {q['name']}: {json.dumps(q['rule'])} SLA {q['sla_hours']:g} h"
                                f"{' (escalation)' if q['escalation'] else ''}" for q in qs))


@queue_app.command("add")
def queue_add(
    name: str = typer.Argument(...),
    category: list[str] = typer.Option([], "--category", help="Report categories it takes (repeatable)."),
    signal_kind: list[str] = typer.Option([], "--signal-kind", help="Signal kinds of the reported account (repeatable)."),
    lang: list[str] = typer.Option([], "--lang", help="Report languages (repeatable)."),
    min_risk: float = typer.Option(None, "--min-risk"),
    max_risk: float = typer.Option(None, "--max-risk"),
    min_age_hours: float = typer.Option(None, "--min-age-hours", help="Reports at least this old when routed."),
    max_age_hours: float = typer.Option(None, "--max-age-hours"),
    sla_hours: float = typer.Option(48.0, "--sla-hours", help="Hours from the report to its due time."),
    position: int = typer.Option(50, "--position", help="Routing order: lower is tried first."),
    description: str = typer.Option("", "--description"),
    escalation: bool = typer.Option(False, "--escalation", help="The queue escalated reports go to."),
    actor: str = AS_OPT,
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Add or change a named queue and its routing rule (audited)."""
    from .. import triage

    rule = {"categories": category, "signal_kinds": signal_kind, "langs": lang, "min_risk": min_risk,
            "max_risk": max_risk, "min_age_hours": min_age_hours, "max_age_hours": max_age_hours}
    store = open_db(db)
    with store.engine.begin() as conn:
        triage.ensure_default_queues(conn)
        q = triage.save_queue(conn, name, rule, sla_hours, actor, position=position, description=description,
                              escalation=escalation)
    store.close()
    emit(q, as_json, f"queue {q['name']} saved: {json.dumps(q['rule'])}, SLA {q['sla_hours']:g} h")


@queue_app.command("stats")
def queue_stats(db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """Per queue: open, overdue, assigned, resolved, median hours from report to decision."""
    from .. import triage

    store = open_db(db)
    with store.engine.connect() as conn:
        st = triage.stats(conn)
    store.close()
    emit(st, as_json, "\n".join(
        f"{s['queue']}: {s['open']} open, {s['overdue']} overdue, {s['assigned']} assigned, {s['resolved']} resolved, "
        f"median {s['median_hours_to_decision'] if s['median_hours_to_decision'] is not None else '-'} h to decision"
        for s in st))


def _act(db, fn, text: str, as_json: bool, **out) -> None:
    store = open_db(db)
    with store.engine.begin() as conn:
        res = fn(conn)
    store.close()
    emit({**out, "result": res}, as_json, text)


@queue_app.command("assign")
def queue_assign(report_id: str = typer.Argument(...), to: str = typer.Option(..., "--to", help="A reviewer "
                 "(triage, moderator or admin); '-' unassigns."), actor: str = AS_OPT, db: str = DB_OPT,
                 as_json: bool = JSON_OPT) -> None:
    """Assign a report to a reviewer (validated against the review app's users)."""
    from .. import triage

    who = None if to == "-" else to
    _act(db, lambda c: triage.assign(c, report_id, who, actor), f"report {report_id} assigned to {who or 'nobody'}",
         as_json, report=report_id, assignee=who)


@queue_app.command("claim")
def queue_claim(report_id: str = typer.Argument(...), actor: str = AS_OPT, db: str = DB_OPT,
                as_json: bool = JSON_OPT) -> None:
    """Take an unassigned report (the --as reviewer)."""
    from .. import triage

    _act(db, lambda c: triage.claim(c, report_id, actor), f"report {report_id} claimed by {actor}", as_json,
         report=report_id, assignee=actor)


@queue_app.command("release")
def queue_release(report_id: str = typer.Argument(...), actor: str = AS_OPT, db: str = DB_OPT,
                  as_json: bool = JSON_OPT) -> None:
    """Give a claimed report back to its queue."""
    from .. import triage

    _act(db, lambda c: triage.release(c, report_id, actor), f"report {report_id} released", as_json,
         report=report_id)


@queue_app.command("escalate")
def queue_escalate(report_id: str = typer.Argument(...), to: str = typer.Option(..., "--to"),
                   reason: str = typer.Option(..., "--reason"), actor: str = AS_OPT, db: str = DB_OPT,
                   as_json: bool = JSON_OPT) -> None:
    """Move a report to the escalation queue, assigned to --to, with a --reason."""
    from .. import triage

    _act(db, lambda c: triage.escalate(c, report_id, to, reason, actor), f"report {report_id} escalated to {to}",
         as_json, report=report_id, to=to)


@queue_app.command("resolve")
def queue_resolve(report_id: str = typer.Argument(...),
                  outcome: str = typer.Option(..., "--outcome", help="actioned | no_violation | duplicate | resolved | "
                                                                     "reopened"),
                  note: str = typer.Option("", "--note"), actor: str = AS_OPT, db: str = DB_OPT,
                  as_json: bool = JSON_OPT) -> None:
    """Record a report's outcome; the reporter's credibility follows it."""
    from .. import triage

    _act(db, lambda c: triage.resolve(c, report_id, outcome, actor, note), f"report {report_id} resolved: {outcome}",
         as_json, report=report_id, outcome=outcome)


@account_app.command("note")
def account_note(account_id: str = typer.Argument(...), text: str = typer.Argument(...), actor: str = AS_OPT,
                 db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """Add an internal note to an account (audited)."""
    from .. import triage

    _act(db, lambda c: triage.add_account_note(c, account_id, actor, text), f"note added to {account_id}", as_json,
         account=account_id)


@account_app.command("notes")
def account_notes(account_id: str = typer.Argument(...), db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """The internal notes on an account."""
    from .. import triage

    store = open_db(db)
    with store.engine.connect() as conn:
        rows = triage.account_notes_of(conn, account_id)
    store.close()
    emit(rows, as_json, "\n".join(f"{r['created_at']} {r['author']}: {r['text']}" for r in rows) or "no notes")
