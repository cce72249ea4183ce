"""CyberTipline XML (order, escaping, fileViewedByEsp), the API flow against the local server, and
SIGKILL at every step of `report ncmec send` with exactly one finished report afterwards."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest
from lxml import etree

from clirun import CLI
from netwarden import audit
from netwarden.report import evidence, ncmec_flow
from netwarden.report.ncmec_client import NcmecClient
from netwarden.report.ncmec_xml import (
    Reporter,
    build_file_details,
    build_report,
    bundled_schema,
    gather,
    schema_of,
    validate,
)
from netwarden.store import open_store
from support.enforce_fixtures import env_keys, seed
from support.ncmec_server import NcmecState, make_app
from support.serve import ThreadServer

REPORTER = Reporter("Test", "Reporter", "tns@example.invalid")


@pytest.fixture(scope="module")
def ncmec():
    state = NcmecState()
    srv = ThreadServer(make_app(state)).start()
    yield srv, state
    srv.stop()


@pytest.fixture
def world(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'nw.db'}"
    store = open_store(url)
    info = seed(store.engine, tmp_path / "media")
    env = env_keys(tmp_path)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    yield store, info, env, url
    store.close()


def _client(srv) -> NcmecClient:
    return NcmecClient(srv.url + "/ispws", "esp", "secret", "test")


def test_report_xml_order_and_escaping(world):
    store, info, _, _ = world
    with store.engine.begin() as conn:
        audit.append(conn, "reviewer1", "reveal", "media", "m00", {})
        data = gather(conn, "100", case_id="7", network=["101", "102"])
    xml = build_report(data, REPORTER)
    root = etree.fromstring(xml)
    assert [c.tag for c in root] == ["incidentSummary", "reporter", "personOrUserReported"]
    assert [c.tag for c in root.find("incidentSummary")] == ["incidentType", "incidentDateTime"]
    pur = [c.tag for c in root.find("personOrUserReported")]
    order = ["personOrUserReportedPerson", "espIdentifier", "screenName", "displayName", "profileUrl", "profileBio",
             "ipCaptureEvent", "groupIdentifier", "associatedAccount"]
    assert [t for i, t in enumerate(pur) if i == 0 or t != pur[i - 1]] == order
    # user text round-trips exactly: escaped on the wire, intact when parsed
    assert root.findtext("personOrUserReported/profileBio") == "bio 0 <b>x</b> & 'y' ]]> kik: placeholder0"
    assert b"<b>x</b>" not in xml and b"&lt;b&gt;x&lt;/b&gt; &amp;" in xml
    assert root.findtext("personOrUserReported/displayName") == 'Name <0> & "co"'
    files = {f.media_id: f for f in data.files}
    assert files["m00"].viewed_by_esp is True and files["m01"].viewed_by_esp is False
    fd = etree.fromstring(build_file_details("r1", "f1", files["m00"]))
    assert [c.tag for c in fd] == ["reportId", "fileId", "originalFileName", "fileViewedByEsp", "exifViewedByEsp",
                                   "publiclyAvailable", "originalFileHash", "originalFileHash"]
    assert fd.findtext("fileViewedByEsp") == "true"
    assert etree.fromstring(build_file_details("r1", "f2", files["m01"])).findtext("fileViewedByEsp") == "false"


def test_reports_validate_against_schema(world):
    """Against NCMEC's schema when NETWARDEN_NCMEC_XSD names a copy, else the bundled subset schema."""
    schema = schema_of() or bundled_schema()
    store, *_ = world
    with store.engine.connect() as conn:
        data = gather(conn, "100", case_id="7", network=["101"])
    assert validate(build_report(data, REPORTER), schema) == []
    # the schema is not a rubber stamp: an element out of order is refused
    bad = build_report(data, REPORTER).replace(b"<reporter>", b"<reporterX>").replace(b"</reporter>", b"</reporterX>")
    assert validate(bad, schema) != []
    for f in data.files:
        assert validate(build_file_details("1", "f1", f), schema) == []


def test_flow_end_to_end_and_error_codes(world, ncmec):
    srv, state = ncmec
    store, info, _, _ = world
    vault = evidence.Vault.from_settings()
    evidence.preserve(store.engine, vault, "100", case_id="7", actor="tester")
    row = ncmec_flow.build(store.engine, "100", actor="tester", case_id="7", network=["101"], reporter=REPORTER)
    res = ncmec_flow.send(store.engine, _client(srv), row["id"], actor="tester", vault=vault)
    assert res["state"] == "finished"
    rep = state.reports[res["ncmec_report_id"]]
    assert rep["state"] == "finished" and len(rep["files"]) == 2
    assert all(f["details_count"] == 1 for f in rep["files"].values())
    assert rep["xml"].decode() == row["xml"]  # the exact XML stored is the XML sent
    st = ncmec_flow.status(store.engine, row["id"])[0]
    assert [s["step"] for s in st["responses"]] == ["status", "submit", "upload", "fileinfo", "upload", "fileinfo",
                                                     "finish"]
    assert all(s["request_id"] for s in st["responses"])
    # preservation clock: one year from the /finish receipt
    with store.engine.connect() as conn:
        from sqlalchemy import select

        from netwarden.store.tables_enforce import evidence_items
        until = set(conn.scalars(select(evidence_items.c.retain_until).where(evidence_items.c.account_id == "100")))
    assert len(until) == 1 and next(iter(until)) > st["finished_at"]
    # sending again changes nothing; a finished report cannot be retracted
    assert ncmec_flow.send(store.engine, _client(srv), row["id"], actor="tester")["state"] == "finished"
    with pytest.raises(Exception, match="cannot be retracted"):
        ncmec_flow.retract(store.engine, _client(srv), row["id"], actor="tester")
    # the server's documented codes
    c = _client(srv)
    assert c.submit(b"<report><unclosed>").code == 4110
    assert c.submit(b"<report/>").code == 4100
    assert c.finish(res["ncmec_report_id"]).code == 5102


def test_library_send_preserves_first_and_sends_the_preserved_bytes(world, ncmec):
    """ncmec_flow.send called without the CLI and without a vault preserves the account before filing; the
    files sent are the vault's bytes, so a media file gone from storage after preservation is still sent
    as preserved, and one never preserved stops the send before /submit with the media named."""
    import hashlib
    from pathlib import Path

    from sqlalchemy import select

    from netwarden.errors import UserError
    from netwarden.store import schema as t
    from netwarden.store.tables_enforce import evidence_items

    srv, state = ncmec
    store, info, _, _ = world
    row = ncmec_flow.build(store.engine, "101", actor="tester", case_id="5", reporter=REPORTER)
    with store.engine.connect() as conn:
        uris = dict(conn.execute(select(t.media.c.id, t.media.c.uri).where(t.media.c.id.in_(info["media"]["101"]))).all())
    original = {hashlib.sha256(Path(u).read_bytes()).hexdigest() for u in uris.values()}
    res = ncmec_flow.send(store.engine, _client(srv), row["id"], actor="tester")
    assert res["state"] == "finished"
    with store.engine.connect() as conn:
        kept = set(conn.scalars(select(evidence_items.c.ref).where(evidence_items.c.account_id == "101",
                                                                   evidence_items.c.case_id == "5",
                                                                   evidence_items.c.kind == "media")))
    assert kept == set(info["media"]["101"])
    assert {f["sha256"] for f in state.reports[res["ncmec_report_id"]]["files"].values()} == original
    # a media whose file is gone before it was ever preserved: no report is opened
    row2 = ncmec_flow.build(store.engine, "102", actor="tester", case_id="6", reporter=REPORTER)
    gone = info["media"]["102"][0]
    with store.engine.connect() as conn:
        Path(conn.scalar(select(t.media.c.uri).where(t.media.c.id == gone))).unlink()
    before = set(state.reports)
    with pytest.raises(UserError, match=f"media {gone} are not in the evidence vault"):
        ncmec_flow.send(store.engine, _client(srv), row2["id"], actor="tester")
    assert set(state.reports) == before


def test_retract_unfinished(world, ncmec):
    srv, state = ncmec
    store, *_ = world
    row = ncmec_flow.build(store.engine, "101", actor="tester", reporter=REPORTER)
    client = _client(srv)
    r = client.submit(row["xml"].encode())  # opened by hand: simulate a report left open
    from sqlalchemy import update

    from netwarden.store.tables_enforce import ncmec_reports
    with store.engine.begin() as conn:
        conn.execute(update(ncmec_reports).where(ncmec_reports.c.id == row["id"])
                     .values(state="open", ncmec_report_id=r.fields["reportId"]))
    assert ncmec_flow.retract(store.engine, client, row["id"], actor="tester")["state"] == "retracted"
    assert state.reports[r.fields["reportId"]]["state"] == "retracted"


POINTS = ["ncmec.submit.before", "ncmec.submit.after", "ncmec.submit.committed", "ncmec.upload.before",
          "ncmec.upload.after", "ncmec.upload.after#2", "ncmec.fileinfo.before", "ncmec.fileinfo.after",
          "ncmec.finish.before", "ncmec.finish.after", "ncmec.finish.committed"]


@pytest.mark.parametrize("point", POINTS)
def test_sigkill_at_every_step_files_once(world, ncmec, point):
    srv, state = ncmec
    store, info, env, url = world
    base = {**os.environ, **env, "NETWARDEN_DB": url, "NETWARDEN_NCMEC_URL": srv.url + "/ispws",
            "NETWARDEN_NCMEC_USER": "esp", "NETWARDEN_NCMEC_PASSWORD": "secret", "NETWARDEN_NCMEC_ENV": "test"}
    base.pop("NETWARDEN_TEST_CRASH_AT", None)
    row = ncmec_flow.build(store.engine, "102", actor="tester", case_id="9", network=["100"], reporter=REPORTER)
    before = set(state.reports)
    send = [*CLI, "report", "ncmec", "send", "--account", "102", "--case", "9", "--by", "tester", "--json"]
    r = subprocess.run(send, env={**base, "NETWARDEN_TEST_CRASH_AT": point}, capture_output=True, text=True)
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stderr)
    r = subprocess.run(send, env=base, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    new = {k: v for k, v in state.reports.items() if k not in before}
    finished = [v for v in new.values() if v["state"] == "finished"]
    assert len(finished) == 1, {k: v["state"] for k, v in new.items()}
    files = finished[0]["files"]
    assert len(files) == 2 and all(f["details_count"] >= 1 for f in files.values())
    # any other report opened along the way is never finished (retracted, or orphaned by a crash mid-/submit)
    assert all(v["state"] in ("retracted", "open") for v in new.values() if v is not finished[0])
    if point != "ncmec.submit.after":
        assert all(v["state"] != "open" for v in new.values())
    assert ncmec_flow.send(store.engine, _client(srv), row["id"], actor="tester")["state"] == "finished"
    assert len([k for k in state.reports if k not in before]) == len(new)  # sending again files nothing
