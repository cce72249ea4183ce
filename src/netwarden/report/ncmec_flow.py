"""The persisted CyberTipline state machine: build -> /submit -> /upload + /fileinfo per file -> /finish.

Report states: built -> submitting -> open -> finishing -> finished, or -> retracted. Each state
change commits before the request it announces, and each response is stored (with its Request-ID)
in the transaction that records its effect. Resuming after a crash:

- submitting (no NCMEC id saved): NCMEC may have opened a report we never heard of. It stays
  unfinished (NCMEC acts only on finished reports); we submit again.
- a file left "uploading": NCMEC may hold a copy we have no id for, so the open report is retracted
  and the whole report is filed again from /submit: one finished report, each file once.
- finishing: /finish is sent again; 5102 (already finished) means the first one went through.

Before anything is sent, `send` preserves the reported account's evidence (whoever calls it), and
the files sent are the preserved bytes from the vault, never read again from the media's storage.
The /finish receipt time starts the 1-year evidence preservation clock.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from .. import audit
from ..config import Settings, load
from ..enforce.util import crashpoint, now
from ..errors import UserError
from ..store import schema as t
from ..store.tables_enforce import evidence_items as ei
from ..store.tables_enforce import ncmec_files as nf
from ..store.tables_enforce import ncmec_reports as nr
from ..store.tables_enforce import ncmec_responses as nresp
from . import evidence
from .ncmec_client import NcmecClient, Response
from .ncmec_xml import Reporter, ReportFile, build_file_details, build_report, gather, validate

ALREADY_FINISHED = 5102


def _record(conn: Connection, report_id: int, r: Response, ref: str = "") -> None:
    conn.execute(nresp.insert().values(report_id=report_id, step=r.step, ref=ref, http_status=r.http_status,
                                       response_code=r.code, request_id=r.request_id, body=r.body, time=now()))


def build(engine: Engine, account_id: str, *, actor: str, case_id: str = "", network: list[str] | None = None,
          media_ids: list[str] | None = None, prior_reports: list[str] | None = None,
          reporter: Reporter | None = None, environment: str = "test", settings: Settings | None = None) -> dict:
    """Build (or rebuild, while unsent) the report for an account; returns its row as a dict. `settings`
    (the face's; None: loaded now) give the reporter, unless `reporter` is given, and the schema."""
    settings = settings if settings is not None else load()
    reporter = reporter or Reporter.from_settings(settings)
    key = f"{case_id}:{account_id}"
    with engine.begin() as conn:
        existing = conn.execute(select(nr).where(nr.c.key == key)).first()
        if existing is not None and existing.state != "built":
            return {**dict(existing._mapping), "rebuilt": False}
        data = gather(conn, account_id, case_id=case_id, network=network, media_ids=media_ids,
                      prior_reports=prior_reports)
        xml = build_report(data, reporter)
        errors = validate(xml, settings=settings)
        if errors:
            raise UserError(f"The report for {account_id} does not validate against NETWARDEN_NCMEC_XSD: {errors[0]}")
        stamp = now()
        if existing is None:
            rid = conn.execute(nr.insert().values(key=key, case_id=case_id, account_id=account_id,
                                                  environment=environment, state="built", xml=xml.decode(),
                                                  created_at=stamp, created_by=actor)).inserted_primary_key[0]
        else:
            rid = existing.id
            conn.execute(update(nr).where(nr.c.id == rid).values(xml=xml.decode(), created_at=stamp, created_by=actor))
            conn.execute(nf.delete().where(nf.c.report_id == rid))
        for i, f in enumerate(data.files):
            conn.execute(nf.insert().values(report_id=rid, media_id=f.media_id, position=i, sha256=f.sha256,
                                            state="pending"))
        audit.append(conn, actor, "report.build", "account", account_id,
                     {"report": rid, "case_id": case_id, "files": len(data.files),
                      "xml_sha256": hashlib.sha256(xml).hexdigest()})
        row = conn.execute(select(nr).where(nr.c.id == rid)).one()
    return {**dict(row._mapping), "rebuilt": existing is not None}


def _report(conn: Connection, report_id: int):
    row = conn.execute(select(nr).where(nr.c.id == report_id)).first()
    if row is None:
        raise UserError(f"Report {report_id} does not exist; list reports with `netwarden report ncmec status`.")
    return row


def _reload(engine: Engine, report_id: int):
    with engine.connect() as conn:
        return _report(conn, report_id)


def _set(engine: Engine, report_id: int, **values) -> None:
    with engine.begin() as conn:
        conn.execute(update(nr).where(nr.c.id == report_id).values(**values))


def _fail(engine: Engine, report_id: int, r: Response, what: str) -> None:
    with engine.begin() as conn:
        _record(conn, report_id, r)
        conn.execute(update(nr).where(nr.c.id == report_id).values(last_error=f"{what}: {r.code} {r.body[:300]}"))
    desc = r.fields.get("responseDescription", r.body[:200])
    raise UserError(f"NCMEC refused {what} for report {report_id} (code {r.code}: {desc}); "
                    "fix the report and run `report ncmec send` again.")


def _file_bytes(conn: Connection, media_id: str, sha: str | None, vault: evidence.Vault) -> tuple[str, bytes]:
    """The preserved bytes of a reported media: by the report's SHA-256, else by its evidence item."""
    m = conn.execute(select(t.media.c.uri).where(t.media.c.id == media_id)).first()
    name = Path(m.uri).name if m is not None and m.uri else media_id
    preserved = conn.scalars(select(ei.c.sha256).where(ei.c.kind == "media", ei.c.ref == media_id)).all()
    for h in dict.fromkeys([sha, *preserved]):
        if h:
            try:
                return name, vault.get(h)
            except ValueError:
                continue
    raise UserError(f"The bytes of media {media_id} are not in the evidence vault (its file could not be read when "
                    "the account was preserved); restore the file and run `netwarden evidence preserve` for the account.")


def send(engine: Engine, client: NcmecClient, report_id: int, *, actor: str,
         vault: evidence.Vault | None = None, settings: Settings | None = None) -> dict:
    """Run (or resume) the API flow of one report until it is finished. The account's evidence is
    preserved first, in `vault` (default: the vault `settings` configure; None: the settings loaded
    now, from the config file and the environment), and `settings`' ncmec_xsd validates fileDetails."""
    settings = settings if settings is not None else load()
    with engine.connect() as conn:
        row = _report(conn, report_id)
    if row.state == "finished":
        return {"report": report_id, "state": "finished", "ncmec_report_id": row.ncmec_report_id}
    if row.state == "retracted":
        raise UserError(f"Report {report_id} was retracted; build a new report for the account instead.")
    if row.environment != client.environment:
        raise UserError(f"Report {report_id} was built for the {row.environment} environment but the client is "
                        f"configured for {client.environment}; set NETWARDEN_NCMEC_ENV to match.")
    vault = vault if vault is not None else evidence.Vault.from_settings(settings)
    evidence.preserve(engine, vault, row.account_id, case_id=row.case_id or "", actor=actor)
    with engine.connect() as conn:  # every file still to send is preserved, or nothing is sent
        for f in conn.execute(select(nf.c.media_id, nf.c.sha256).where(nf.c.report_id == report_id,
                                                                        nf.c.state == "pending")):
            _file_bytes(conn, f.media_id, f.sha256, vault)
    with engine.begin() as conn:
        audit.append(conn, actor, "report.send", "account", row.account_id, {"report": report_id, "from": row.state})

    with engine.connect() as conn:
        stuck = conn.scalar(select(nf.c.media_id).where(nf.c.report_id == report_id, nf.c.state == "uploading").limit(1))
    if row.state == "open" and stuck is not None:
        # A file may be at NCMEC without our knowing its id: withdraw this report and file it afresh.
        r = client.retract(row.ncmec_report_id)
        with engine.begin() as conn:
            _record(conn, report_id, r)
            conn.execute(update(nf).where(nf.c.report_id == report_id).values(state="pending", ncmec_file_id=None))
            conn.execute(update(nr).where(nr.c.id == report_id).values(state="built", ncmec_report_id=None))
            audit.append(conn, "system:ncmec", "report.restart", "account", row.account_id,
                         {"report": report_id, "retracted": row.ncmec_report_id, "code": r.code})
        row = _reload(engine, report_id)

    if row.state in ("built", "submitting"):
        st = client.status()
        with engine.begin() as conn:
            _record(conn, report_id, st)
        if not st.ok:
            _fail(engine, report_id, st, "/status")
        _set(engine, report_id, state="submitting")
        crashpoint("ncmec.submit.before")
        r = client.submit(row.xml.encode())
        crashpoint("ncmec.submit.after")
        if not r.ok or not r.fields.get("reportId"):
            _set(engine, report_id, state="built")
            _fail(engine, report_id, r, "/submit")
        with engine.begin() as conn:
            _record(conn, report_id, r)
            conn.execute(update(nr).where(nr.c.id == report_id).values(state="open", ncmec_report_id=r.fields["reportId"],
                                                                       last_error=None))
            audit.append(conn, "system:ncmec", "report.submit", "account", row.account_id,
                         {"report": report_id, "ncmec_report_id": r.fields["reportId"], "request_id": r.request_id})
        crashpoint("ncmec.submit.committed")
        with engine.connect() as conn:
            row = _report(conn, report_id)

    if row.state == "open":
        with engine.connect() as conn:
            files = conn.execute(select(nf).where(nf.c.report_id == report_id).order_by(nf.c.position)).all()
        for f in files:
            if f.state == "described":
                continue
            file_id = f.ncmec_file_id
            if f.state == "pending":
                with engine.begin() as conn:
                    name, data = _file_bytes(conn, f.media_id, f.sha256, vault)
                    conn.execute(update(nf).where(nf.c.report_id == report_id, nf.c.media_id == f.media_id)
                                 .values(state="uploading"))
                crashpoint("ncmec.upload.before")
                r = client.upload(row.ncmec_report_id, name, data)
                crashpoint("ncmec.upload.after")
                if not r.ok or not r.fields.get("fileId"):
                    with engine.begin() as conn:
                        conn.execute(update(nf).where(nf.c.report_id == report_id, nf.c.media_id == f.media_id)
                                     .values(state="pending"))
                    _fail(engine, report_id, r, f"/upload of media {f.media_id}")
                file_id = r.fields["fileId"]
                with engine.begin() as conn:
                    _record(conn, report_id, r, f.media_id)
                    conn.execute(update(nf).where(nf.c.report_id == report_id, nf.c.media_id == f.media_id)
                                 .values(state="uploaded", ncmec_file_id=file_id))
            with engine.connect() as conn:
                rf = _report_file(conn, f.media_id)
            details = build_file_details(row.ncmec_report_id, file_id, rf)
            errors = validate(details, settings=settings)
            if errors:
                raise UserError(f"fileDetails for media {f.media_id} do not validate against NETWARDEN_NCMEC_XSD: {errors[0]}")
            crashpoint("ncmec.fileinfo.before")
            r = client.fileinfo(details)
            crashpoint("ncmec.fileinfo.after")
            if not r.ok:
                _fail(engine, report_id, r, f"/fileinfo of media {f.media_id}")
            with engine.begin() as conn:
                _record(conn, report_id, r, f.media_id)
                conn.execute(update(nf).where(nf.c.report_id == report_id, nf.c.media_id == f.media_id)
                             .values(state="described", details_xml=details.decode()))
        _set(engine, report_id, state="finishing")
        row = _reload(engine, report_id)

    if row.state == "finishing":
        crashpoint("ncmec.finish.before")
        r = client.finish(row.ncmec_report_id)
        crashpoint("ncmec.finish.after")
        if not r.ok and r.code != ALREADY_FINISHED:
            _fail(engine, report_id, r, "/finish")
        receipt = now()
        with engine.begin() as conn:
            _record(conn, report_id, r)
            conn.execute(update(nr).where(nr.c.id == report_id).values(state="finished", finished_at=receipt,
                                                                       last_error=None))
            kept = evidence.start_retention(conn, row.account_id, receipt)
            audit.append(conn, "system:ncmec", "report.finish", "account", row.account_id,
                         {"report": report_id, "ncmec_report_id": row.ncmec_report_id, "code": r.code,
                          "request_id": r.request_id, "receipt": receipt, "evidence_items_retained": kept})
        crashpoint("ncmec.finish.committed")
    with engine.connect() as conn:
        row = _report(conn, report_id)
    return {"report": report_id, "state": row.state, "ncmec_report_id": row.ncmec_report_id,
            "finished_at": row.finished_at}


def _report_file(conn: Connection, media_id: str) -> ReportFile:
    m = conn.execute(select(t.media.c.id, t.posts.c.author_id).select_from(
        t.media.outerjoin(t.post_media, t.post_media.c.media_id == t.media.c.id)
        .outerjoin(t.posts, t.posts.c.id == t.post_media.c.post_id)).where(t.media.c.id == media_id)).first()
    data = gather(conn, m.author_id, media_ids=[media_id]) if m is not None and m.author_id else None
    if data is None or not data.files:
        raise UserError(f"Media {media_id} has no post in the store; it cannot be described to NCMEC.")
    return data.files[0]


def retract(engine: Engine, client: NcmecClient | None, report_id: int, *, actor: str) -> dict:
    """Withdraw an unfinished report (at NCMEC too when it was opened there)."""
    with engine.connect() as conn:
        row = _report(conn, report_id)
    if row.state == "finished":
        raise UserError(f"Report {report_id} is finished and cannot be retracted; contact NCMEC to amend it.")
    if row.state == "retracted":
        return {"report": report_id, "state": "retracted"}
    r = None
    if row.ncmec_report_id:
        if client is None:
            raise UserError("Retracting an opened report needs NCMEC credentials; set NETWARDEN_NCMEC_USER and _PASSWORD.")
        r = client.retract(row.ncmec_report_id)
        if not r.ok:
            _fail(engine, report_id, r, "/retract")
    with engine.begin() as conn:
        if r is not None:
            _record(conn, report_id, r)
        conn.execute(update(nr).where(nr.c.id == report_id).values(state="retracted", retracted_at=now()))
        audit.append(conn, actor, "report.retract", "account", row.account_id,
                     {"report": report_id, "ncmec_report_id": row.ncmec_report_id})
    return {"report": report_id, "state": "retracted", "ncmec_report_id": row.ncmec_report_id}


def status(engine: Engine, report_id: int | None = None) -> list[dict]:
    with engine.connect() as conn:
        q = select(nr).order_by(nr.c.id)
        if report_id is not None:
            q = q.where(nr.c.id == report_id)
        out = []
        for row in conn.execute(q):
            files = [dict(f._mapping) for f in conn.execute(select(nf.c.media_id, nf.c.state, nf.c.ncmec_file_id)
                                                              .where(nf.c.report_id == row.id).order_by(nf.c.position))]
            steps = [dict(s._mapping) for s in conn.execute(
                select(nresp.c.step, nresp.c.ref, nresp.c.http_status, nresp.c.response_code, nresp.c.request_id,
                       nresp.c.time).where(nresp.c.report_id == row.id).order_by(nresp.c.id))]
            d = {k: v for k, v in row._mapping.items() if k != "xml"}
            out.append({**d, "files": files, "responses": steps})
    return out
