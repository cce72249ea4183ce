"""CyberTipline report XML and fileDetails documents (NCMEC's ISPWS reporting API).

Elements are emitted in the order of NCMEC's schema (report: incidentSummary, reporter,
personOrUserReported; personOrUserReported: espIdentifier, screenName, displayName, profileUrl,
profileBio, ipCaptureEvent*, groupIdentifier, associatedAccount*, priorCTReports). lxml escapes
all text; control characters XML cannot carry are removed first. When $NETWARDEN_NCMEC_XSD names
NCMEC's schema, `validate` checks documents against it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from sqlalchemy import select
from sqlalchemy.engine import Connection

from .. import audit
from ..config import Settings, load
from ..errors import UserError
from ..store import schema as t
from ..store import tables_media as tm

INCIDENT_TYPE = "Child Pornography (possession, manufacture, and distribution)"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(s: object) -> str:
    return _BAD_CHARS.sub("", "" if s is None else str(s))


def _sub(parent: etree._Element, tag: str, text: object | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, {k: clean(v) for k, v in attrs.items()})
    if text is not None:
        el.text = clean(text)
    return el


@dataclass
class Reporter:
    first_name: str
    last_name: str
    email: str

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Reporter:
        """The reporting person of the ncmec_reporter_* settings (None: the settings loaded now)."""
        settings = settings if settings is not None else load()
        email = settings.ncmec_reporter_email
        if not email:
            raise UserError("No reporter: set NETWARDEN_NCMEC_REPORTER_EMAIL (and _FIRST_NAME, _LAST_NAME) "
                            "to the person NCMEC may contact (docs/ncmec.md).")
        return cls(settings.ncmec_reporter_first_name, settings.ncmec_reporter_last_name, email)


@dataclass
class ReportFile:
    media_id: str
    file_name: str
    viewed_by_esp: bool
    publicly_available: bool
    md5: str | None
    sha256: str | None
    uri: str | None
    posted_at: str | None = None


@dataclass
class ReportData:
    account: dict
    incident_time: str
    sessions: list[dict]
    network: list[str]
    associated: list[dict]
    prior_reports: list[str]
    files: list[ReportFile] = field(default_factory=list)
    case_id: str = ""
    esp_service: str = ""


def gather(conn: Connection, account_id: str, *, case_id: str = "", network: list[str] | None = None,
           media_ids: list[str] | None = None, prior_reports: list[str] | None = None) -> ReportData:
    """Read what the report says about one account from the store."""
    acct = conn.execute(select(t.accounts).where(t.accounts.c.id == account_id)).first()
    if acct is None:
        raise UserError(f"Account {account_id} is not in the store; check --account.")
    if media_ids is None:
        q = (select(t.signals.c.subject_id).where(t.signals.c.account_id == account_id,
                                                   t.signals.c.subject_type == "media",
                                                   t.signals.c.kind == "media_match").distinct())
        media_ids = sorted(conn.scalars(q))
    files: list[ReportFile] = []
    for mid in media_ids:
        m = conn.execute(select(t.media).where(t.media.c.id == mid)).first()
        if m is None:
            raise UserError(f"Media {mid} is not in the store; check --media.")
        h = conn.execute(select(tm.media_hashes).where(tm.media_hashes.c.media_id == mid)).first()
        post = conn.execute(select(t.posts.c.visibility, t.posts.c.created_at).select_from(
            t.post_media.join(t.posts, t.posts.c.id == t.post_media.c.post_id))
            .where(t.post_media.c.media_id == mid).order_by(t.posts.c.created_at).limit(1)).first()
        revealed = bool(audit.entries(conn, subject_type="media", subject_id=mid, action="reveal", limit=1))
        name = os.path.basename(m.uri or "") or f"{mid}"
        files.append(ReportFile(media_id=mid, file_name=name, viewed_by_esp=revealed,
                                publicly_available=bool(post and post.visibility == "public"),
                                md5=(h.md5 if h is not None and h.md5 else m.md5),
                                sha256=(h.sha256 if h is not None and h.sha256 else m.sha256),
                                uri=m.uri, posted_at=post.created_at if post else None))
    sessions = [dict(r._mapping) for r in conn.execute(
        select(t.account_sessions).where(t.account_sessions.c.account_id == account_id)
        .order_by(t.account_sessions.c.time))]
    first_signal = conn.scalar(select(t.signals.c.created_at).where(t.signals.c.account_id == account_id)
                               .order_by(t.signals.c.created_at).limit(1))
    times = [f.posted_at for f in files if f.posted_at]
    incident = min(times) if times else (first_signal or acct.created_at or "")
    if not incident:
        raise UserError(f"Account {account_id} has no dated post, signal or creation time; an incident time is required.")
    network = sorted(set(network or []) - {account_id})
    associated = []
    if network:
        for r in conn.execute(select(t.accounts.c.id, t.accounts.c.handle, t.accounts.c.url)
                              .where(t.accounts.c.id.in_(network)).order_by(t.accounts.c.id)):
            associated.append(dict(r._mapping))
    return ReportData(account=dict(acct._mapping), incident_time=incident, sessions=sessions, network=network,
                      associated=associated, prior_reports=list(prior_reports or []), files=files, case_id=case_id)


def build_report(data: ReportData, reporter: Reporter) -> bytes:
    a = data.account
    root = etree.Element("report", nsmap={"xsi": XSI})
    root.set(f"{{{XSI}}}noNamespaceSchemaLocation", "https://report.cybertip.org/ispws/xsd")
    summary = _sub(root, "incidentSummary")
    _sub(summary, "incidentType", INCIDENT_TYPE)
    _sub(summary, "incidentDateTime", data.incident_time)
    rep = _sub(root, "reporter")
    person = _sub(rep, "reportingPerson")
    _sub(person, "firstName", reporter.first_name)
    _sub(person, "lastName", reporter.last_name)
    _sub(person, "email", reporter.email)
    pur = _sub(root, "personOrUserReported")
    if a.get("email"):
        p = _sub(pur, "personOrUserReportedPerson")
        _sub(p, "email", a["email"])
    _sub(pur, "espIdentifier", a["id"])
    if data.esp_service:
        _sub(pur, "espService", data.esp_service)
    _sub(pur, "screenName", a.get("handle") or "")
    if a.get("display_name"):
        _sub(pur, "displayName", a["display_name"])
    if a.get("url"):
        _sub(pur, "profileUrl", a["url"])
    if a.get("bio"):
        _sub(pur, "profileBio", a["bio"])
    for s in data.sessions:
        ev = _sub(pur, "ipCaptureEvent")
        _sub(ev, "ipAddress", s["ip"])
        _sub(ev, "eventName", "Login" if s.get("event", "login") == "login" else "Other")
        _sub(ev, "dateTime", s["time"])
    if data.network:
        _sub(pur, "groupIdentifier", f"netwarden-case-{data.case_id}" if data.case_id else
             "netwarden-network-" + data.account["id"])
    for other in data.associated:
        assoc = _sub(pur, "associatedAccount")
        _sub(assoc, "espIdentifier", other["id"])
        _sub(assoc, "screenName", other.get("handle") or "")
        if other.get("url"):
            _sub(assoc, "profileUrl", other["url"])
    for prior in data.prior_reports:
        _sub(pur, "priorCTReports", prior)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def build_file_details(report_id: str, file_id: str, f: ReportFile) -> bytes:
    root = etree.Element("fileDetails")
    _sub(root, "reportId", report_id)
    _sub(root, "fileId", file_id)
    _sub(root, "originalFileName", f.file_name)
    _sub(root, "fileViewedByEsp", "true" if f.viewed_by_esp else "false")
    _sub(root, "exifViewedByEsp", "false")  # the review app never shows EXIF data
    _sub(root, "publiclyAvailable", "true" if f.publicly_available else "false")
    if f.md5:
        _sub(root, "originalFileHash", f.md5, hashType="MD5")
    if f.sha256:
        _sub(root, "originalFileHash", f.sha256, hashType="SHA256")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def schema_of(settings: Settings | None = None) -> etree.XMLSchema | None:
    """NCMEC's schema as the ncmec_xsd setting names it, or None (None settings: loaded now)."""
    path = (settings if settings is not None else load()).ncmec_xsd
    if not path:
        return None
    if not os.path.isfile(path):
        raise UserError(f"NETWARDEN_NCMEC_XSD names {path}, which is not a file; point it at NCMEC's schema or unset it.")
    return etree.XMLSchema(etree.parse(path))


def bundled_schema() -> etree.XMLSchema:
    """The schema of the subset Netwarden emits (ncmec_subset.xsd), written from NCMEC's API docs."""
    return etree.XMLSchema(etree.parse(str(Path(__file__).with_name("ncmec_subset.xsd"))))


def validate(doc: bytes, schema: etree.XMLSchema | None = None, settings: Settings | None = None) -> list[str]:
    """Schema errors of `doc` (empty when valid, or when no schema is configured: `schema`, else the
    one the settings' ncmec_xsd names)."""
    schema = schema or schema_of(settings)
    if schema is None:
        return []
    ok = schema.validate(etree.fromstring(doc))
    return [] if ok else [str(e) for e in schema.error_log]
