"""`netwarden enforce|evidence|report|export|stats`: carry decisions out, preserve, report, share, measure."""

from __future__ import annotations

from pathlib import Path

import typer

from ..enforce.adapters import adapters_help, make_adapter
from ..errors import UserError
from .common import DB_OPT, JSON_OPT, emit, open_db, progress, settings

BY_OPT = typer.Option(..., "--by", help="The person taking this step (recorded in the audit log).")


def register(app: typer.Typer) -> None:
    enforce = typer.Typer(help="Deliver decided actions to the platform.", no_args_is_help=True)
    enforce.command("run")(enforce_run)
    enforce.command("status")(enforce_status)
    app.add_typer(enforce, name="enforce")

    ev = typer.Typer(help="The encrypted evidence vault.", no_args_is_help=True)
    for name, fn in (("keygen", evidence_keygen), ("preserve", evidence_preserve), ("verify", evidence_verify),
                     ("expire", evidence_expire), ("hold", evidence_hold), ("release", evidence_release),
                     ("rotate", evidence_rotate), ("package", evidence_package)):
        ev.command(name)(fn)
    app.add_typer(ev, name="evidence")

    report = typer.Typer(help="Reports to authorities.", no_args_is_help=True)
    ncmec = typer.Typer(help="NCMEC CyberTipline reports (docs/ncmec.md).", no_args_is_help=True)
    for name, fn in (("build", ncmec_build), ("send", ncmec_send), ("retract", ncmec_retract),
                     ("status", ncmec_status)):
        ncmec.command(name)(fn)
    report.add_typer(ncmec, name="ncmec")
    app.add_typer(report, name="report")

    export = typer.Typer(help="Share signals with partner platforms.", no_args_is_help=True)
    export.command("signals")(export_signals)
    app.add_typer(export, name="export")
    app.command("stats")(stats)



def _network_from_cases(engine, case_id: str) -> list[str]:
    """Accounts of a case from case_members (issue 6) when that table exists, else from its outbox actions."""
    from sqlalchemy import inspect, select, text

    from ..store.tables_enforce import enforce_actions as ea

    with engine.connect() as conn:
        if "case_members" in inspect(conn).get_table_names():
            try:
                return sorted(set(conn.scalars(text("select account_id from case_members where cast(case_id as text) = :c"),
                                               {"c": case_id})))
            except Exception:  # their table shape may differ; fall back to the outbox
                pass
        return sorted(set(conn.scalars(select(ea.c.account_id).where(ea.c.case_id == case_id))))


def enforce_run(
    adapter: str = typer.Option(None, "--adapter", help=adapters_help()),
    lease: float = typer.Option(300.0, "--lease", help="Seconds before an unfinished delivery may be claimed again."),
    limit: int = typer.Option(None, "--limit", help="Stop after this many deliveries."),
    max_attempts: int = typer.Option(8, "--max-attempts"),
    backoff: float = typer.Option(30.0, "--backoff", help="Seconds before the first retry (doubles each time)."),
    preserve: bool = typer.Option(True, "--preserve/--no-preserve",
                                  help="Preserve evidence before destructive actions (needs the vault key)."),
    db: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Deliver every due outbox action once, with retries and backoff."""
    from ..enforce import worker

    store = open_db(db)
    ad = make_adapter(adapter, settings())
    with progress(not as_json) as p:
        task = p.add_task("delivering", total=None)
        res = worker.run(store.engine, ad, lease=lease, max_attempts=max_attempts, limit=limit,
                         preserve=preserve, base_backoff=backoff, on_progress=lambda: p.advance(task),
                         settings=settings())
    store.close()
    emit(res.as_dict(), as_json, f"done {res.done}, retrying {res.retried}, failed {res.failed}")


def enforce_status(case: str = typer.Option(None, "--case"), state: str = typer.Option(None, "--state"),
                   db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """Delivery state of outbox actions."""
    from ..enforce import outbox

    store = open_db(db)
    with store.engine.connect() as conn:
        rows = outbox.status_for_case(conn, case) if case else outbox.all_status(conn, state)
    store.close()
    lines = [f"{r['id']:>5} {r.get('case_id', case)} {r['action']:<12} {r.get('account') or r.get('account_id')} "
             f"{r['state']} attempts={r['attempts']} {r['last_error'] or ''}" for r in rows]
    emit(rows, as_json, "\n".join(lines) or "no actions")


def evidence_keygen(signing: Path = typer.Option(None, "--signing", help="Write an Ed25519 package signing key (PEM) here."),
                    as_json: bool = JSON_OPT) -> None:
    """Print a new vault key (base64), or write a package signing key with --signing."""
    from ..report import evidence

    if signing is None:
        key = evidence.new_key()
        emit({"key": key, "key_id": evidence.key_id(__import__("base64").b64decode(key))}, as_json, key)
        return
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    if signing.exists():
        raise UserError(f"{signing} exists; choose another path for the new signing key.")
    k = Ed25519PrivateKey.generate()
    signing.write_bytes(k.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    signing.chmod(0o600)
    emit({"signing_key": str(signing)}, as_json, f"wrote {signing}")


def evidence_preserve(account: list[str] = typer.Option(..., "--account"), case: str = typer.Option("", "--case"),
                      network: list[str] = typer.Option(None, "--network", help="Other accounts of the network."),
                      by: str = BY_OPT, db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """Preserve accounts' media, profile, posts, sessions and network context in the vault."""
    from ..report import evidence

    store = open_db(db)
    vault = evidence.Vault.from_settings(settings())
    net = list(network or []) or (_network_from_cases(store.engine, case) if case else [])
    out = [evidence.preserve(store.engine, vault, a, case_id=case, actor=by, network=net + list(account))
           for a in account]
    store.close()
    emit(out, as_json, "\n".join(f"{o['account_id']}: {o['items']} items ({o['added']} new), "
                                 f"{len(o['missing_media'])} media missing" for o in out))


def evidence_verify(db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """Decrypt every preserved blob and re-check its SHA-256; exit 1 on any problem."""
    from ..report import evidence

    store = open_db(db)
    res = evidence.verify(store.engine, evidence.Vault.from_settings(settings()))
    store.close()
    emit(res, as_json, f"{res['blobs']} blobs, {len(res['problems'])} problems" +
         "".join(f"\n  {p['problem']}" for p in res["problems"]))
    if not res["ok"]:
        raise typer.Exit(1)


def evidence_expire(as_of: str = typer.Option(None, "--as-of", help="Expire as of this UTC time (default: now)."),
                    db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """Delete evidence past its retention (1 year from the NCMEC receipt) unless under legal hold."""
    from ..report import evidence

    store = open_db(db)
    res = evidence.expire(store.engine, evidence.Vault.from_settings(settings()), as_of=as_of)
    store.close()
    emit(res, as_json, f"expired {res['expired_items']} items, deleted {res['deleted_blobs']} blobs, "
                       f"{res['kept_by_hold']} kept by legal hold")


def evidence_hold(case: str = typer.Option("", "--case"), account: str = typer.Option("", "--account"),
                  reason: str = typer.Option(..., "--reason"), by: str = BY_OPT, db: str = DB_OPT,
                  as_json: bool = JSON_OPT) -> None:
    """Place a legal hold on a case's or an account's evidence."""
    from ..report import evidence

    store = open_db(db)
    hid = evidence.hold(store.engine, case_id=case, account_id=account, reason=reason, actor=by)
    store.close()
    emit({"hold": hid}, as_json, f"hold {hid} placed")


def evidence_release(hold_id: int = typer.Argument(...), by: str = BY_OPT, db: str = DB_OPT,
                     as_json: bool = JSON_OPT) -> None:
    """Release a legal hold."""
    from ..report import evidence

    store = open_db(db)
    evidence.release(store.engine, hold_id, by)
    store.close()
    emit({"hold": hold_id, "released": True}, as_json, f"hold {hold_id} released")


def evidence_rotate(by: str = BY_OPT, db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """Re-encrypt every blob under the current vault key (the last key in the key file)."""
    from ..report import evidence

    store = open_db(db)
    res = evidence.rotate(store.engine, evidence.Vault.from_settings(settings()), by)
    store.close()
    emit(res, as_json, f"re-encrypted {res['reencrypted']} of {res['blobs']} blobs under key {res['key_id']}")


def evidence_package(case: str = typer.Option(..., "--case"), out: Path = typer.Option(..., "--out"),
                     purpose: str = typer.Option(..., "--purpose", help="The legal process this answers."),
                     by: str = BY_OPT, db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """Write a case's evidence, receipts and audit extract as a .tar.gz with an Ed25519-signed manifest."""
    from ..report import evidence

    store = open_db(db)
    res = evidence.package(store.engine, evidence.Vault.from_settings(settings()), case, out, by, evidence.load_signing_key(settings()), purpose)
    store.close()
    emit(res, as_json, f"wrote {res['out']} ({res['files']} files, sha256 {res['sha256']})")


def ncmec_build(account: str = typer.Option(..., "--account"), case: str = typer.Option("", "--case"),
                network: list[str] = typer.Option(None, "--network", help="Accounts of the network (default: the case's)."),
                media: list[str] = typer.Option(None, "--media", help="Files to report (default: matched media)."),
                prior: list[str] = typer.Option(None, "--prior-report", help="Earlier CyberTipline report ids."),
                out: Path = typer.Option(None, "--out", help="Also write the report XML here."),
                by: str = BY_OPT, db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """Build the CyberTipline report XML for an account (stored; sent by `report ncmec send`)."""

    from ..report import ncmec_flow

    store = open_db(db)
    net = list(network or []) or (_network_from_cases(store.engine, case) if case else [])
    row = ncmec_flow.build(store.engine, account, actor=by, case_id=case, network=net, media_ids=media or None,
                           prior_reports=prior, environment=settings().ncmec_env, settings=settings())
    store.close()
    if out:
        out.write_text(row["xml"], encoding="utf-8")
    data = {k: v for k, v in row.items() if k != "xml"}
    emit(data, as_json, f"report {row['id']} ({row['state']})" + (f" written to {out}" if out else ""))


def _report_id(engine, report: int | None, account: str | None, case: str) -> int:
    from sqlalchemy import select

    from ..store.tables_enforce import ncmec_reports as nr

    if report is not None:
        return report
    if not account:
        raise UserError("Name the report with --report ID or --account ID [--case ID].")
    with engine.connect() as conn:
        rid = conn.scalar(select(nr.c.id).where(nr.c.key == f"{case}:{account}"))
    if rid is None:
        raise UserError(f"No report was built for account {account} (case {case or '-'}); run `report ncmec build` first.")
    return rid


def ncmec_send(report: int = typer.Option(None, "--report"), account: str = typer.Option(None, "--account"),
               case: str = typer.Option("", "--case"),
               production: bool = typer.Option(False, "--production", help="File with NCMEC for real (also needs NETWARDEN_NCMEC_ENV=production)."),
               by: str = BY_OPT, db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """Send (or resume sending) a built report: /status, /submit, /upload, /fileinfo, /finish."""
    from ..report import ncmec_flow
    from ..report.ncmec_client import NcmecClient

    store = open_db(db)
    client = NcmecClient.from_settings(settings(), allow_production=production)
    rid = _report_id(store.engine, report, account, case)
    res = ncmec_flow.send(store.engine, client, rid, actor=by, settings=settings())  # preserves the account's evidence first
    store.close()
    emit(res, as_json, f"report {rid}: {res['state']} (NCMEC id {res['ncmec_report_id']})")


def ncmec_retract(report: int = typer.Option(None, "--report"), account: str = typer.Option(None, "--account"),
                  case: str = typer.Option("", "--case"), production: bool = typer.Option(False, "--production"),
                  by: str = BY_OPT, db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """Retract an unfinished report."""
    from ..report import ncmec_flow
    from ..report.ncmec_client import NcmecClient

    store = open_db(db)
    rid = _report_id(store.engine, report, account, case)
    try:
        client = NcmecClient.from_settings(settings(), allow_production=production)
    except UserError:
        client = None
    res = ncmec_flow.retract(store.engine, client, rid, actor=by)
    store.close()
    emit(res, as_json, f"report {rid}: retracted")


def ncmec_status(report: int = typer.Option(None, "--report"), db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """Reports, their state, files and every NCMEC response (with Request-ID)."""
    from ..report import ncmec_flow

    store = open_db(db)
    rows = ncmec_flow.status(store.engine, report)
    store.close()
    lines = [f"{r['id']:>4} {r['account_id']} case={r['case_id'] or '-'} {r['state']} ncmec={r['ncmec_report_id']} "
             f"files={len(r['files'])} finished={r['finished_at'] or '-'}" for r in rows]
    emit(rows, as_json, "\n".join(lines) or "no reports")


def export_signals(fmt: str = typer.Option(..., "--format", help="stix or csv."),
                   case: list[str] = typer.Option(None, "--case", help="Only these cases (default: all confirmed)."),
                   out: Path = typer.Option(None, "--out", help="Write here instead of stdout."),
                   by: str = BY_OPT, db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """Export handles, hashes and URLs of confirmed networks as STIX 2.1 or CSV (audited)."""
    from ..report import export

    store = open_db(db)
    text, n = export.export(store.engine, fmt, by, list(case or []) or None)
    store.close()
    if out:
        out.write_text(text, encoding="utf-8")
        emit({"out": str(out), "rows": n, "format": fmt}, as_json, f"wrote {n} signals to {out}")
    else:
        import sys

        sys.stdout.write(text)


def stats(case: str = typer.Option(None, "--case"), db: str = DB_OPT, as_json: bool = JSON_OPT) -> None:
    """Outcomes: survivors, time from first signal to action, re-registrations caught."""
    from ..report import stats as st

    store = open_db(db)
    res = st.outcomes(store.engine, case)
    store.close()
    t = res["time_to_action_seconds"]
    emit(res, as_json, f"members {res['members']}, survivors {res['survivors']}, median time to action "
                       f"{t['median']} s over {t['count']} accounts, re-registrations caught {res['re_registrations_caught']}")
