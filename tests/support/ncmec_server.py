"""A local stand-in for NCMEC's CyberTipline reporting API (ISPWS), for tests and demos.

Implements GET /status and POST /submit, /upload, /fileinfo, /finish, /retract under /ispws with
HTTP Basic auth, XML responses (<reportResponse>/<reportDoneResponse> with responseCode and
responseDescription) and a Request-ID header on every response. Codes: 0 success, 1000 server
error, 1100 not authorized (HTTP 401), 2000 unknown report or file id, 4100 validation failure
(required element missing), 4110 malformed XML, 5102 report already finished, 5103 report
already retracted. Run it: `PYTHONPATH=tests python -m support.ncmec_server --port 8765`.
Loopback only.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import uuid

from fastapi import FastAPI, Form, Request, UploadFile
from fastapi.responses import Response
from lxml import etree

REQUIRED = ["incidentSummary/incidentType", "incidentSummary/incidentDateTime", "reporter/reportingPerson/email",
            "personOrUserReported"]


class NcmecState:
    def __init__(self, user: str = "esp", password: str = "secret"):
        self.user, self.password = user, password
        self.reports: dict[str, dict] = {}
        self.ids = itertools.count(1000)
        self.file_ids = itertools.count(1)
        self.requests: list[tuple[str, str]] = []


def _resp(code: int, desc: str, root: str = "reportResponse", http: int = 200, **fields: str) -> Response:
    el = etree.Element(root)
    etree.SubElement(el, "responseCode").text = str(code)
    etree.SubElement(el, "responseDescription").text = desc
    for k, v in fields.items():
        if isinstance(v, list):
            box = etree.SubElement(el, k)
            for item in v:
                etree.SubElement(box, "fileId").text = item
        else:
            etree.SubElement(el, k).text = str(v)
    return Response(etree.tostring(el, xml_declaration=True, encoding="UTF-8"), status_code=http,
                    media_type="application/xml", headers={"Request-ID": str(uuid.uuid4())})


def make_app(state: NcmecState | None = None) -> FastAPI:
    state = state or NcmecState()
    app = FastAPI()
    app.state.ncmec = state

    @app.middleware("http")
    async def auth(request: Request, call_next):
        good = "Basic " + base64.b64encode(f"{state.user}:{state.password}".encode()).decode()
        if request.headers.get("authorization") != good:
            return _resp(1100, "Not authorized", http=401)
        state.requests.append((request.method, request.url.path))
        return await call_next(request)

    @app.get("/ispws/status")
    def status():
        return _resp(0, "Remote User : " + state.user)

    @app.post("/ispws/submit")
    async def submit(request: Request):
        body = await request.body()
        try:
            root = etree.fromstring(body)
        except etree.XMLSyntaxError as e:
            return _resp(4110, f"Malformed XML: {e}")
        missing = [p for p in REQUIRED if root.find(p) is None]
        if root.tag != "report" or missing:
            return _resp(4100, f"Validation failure: missing {', '.join(missing) or 'report'}")
        rid = str(next(state.ids))
        state.reports[rid] = {"xml": body, "state": "open", "files": {}, "screenName": root.findtext(
            "personOrUserReported/screenName"), "espIdentifier": root.findtext("personOrUserReported/espIdentifier")}
        return _resp(0, "Success", reportId=rid)

    def _open(rid: str):
        rep = state.reports.get(rid)
        if rep is None:
            return None, _resp(2000, f"Unknown report id {rid}")
        if rep["state"] == "finished":
            return None, _resp(5102, "Report already finished")
        if rep["state"] == "retracted":
            return None, _resp(5103, "Report already retracted")
        return rep, None

    @app.post("/ispws/upload")
    async def upload(id: str = Form(...), file: UploadFile = None):  # noqa: A002
        rep, err = _open(id)
        if err:
            return err
        data = await file.read()
        fid = f"f{next(state.file_ids)}"
        rep["files"][fid] = {"name": file.filename, "md5": hashlib.md5(data).hexdigest(),
                             "sha256": hashlib.sha256(data).hexdigest(), "details": None, "details_count": 0}
        return _resp(0, "Success", reportId=id, fileId=fid, hash=rep["files"][fid]["md5"])

    @app.post("/ispws/fileinfo")
    async def fileinfo(request: Request):
        try:
            root = etree.fromstring(await request.body())
        except etree.XMLSyntaxError as e:
            return _resp(4110, f"Malformed XML: {e}")
        rid, fid = root.findtext("reportId"), root.findtext("fileId")
        if root.tag != "fileDetails" or not rid or not fid:
            return _resp(4100, "Validation failure: fileDetails needs reportId and fileId")
        rep, err = _open(rid)
        if err:
            return err
        if fid not in rep["files"]:
            return _resp(2000, f"Unknown file id {fid}")
        rep["files"][fid]["details"] = etree.tostring(root)
        rep["files"][fid]["details_count"] += 1
        return _resp(0, "Success", reportId=rid)

    @app.post("/ispws/finish")
    def finish(id: str = Form(...)):  # noqa: A002
        rep, err = _open(id)
        if err:
            return err
        rep["state"] = "finished"
        return _resp(0, "Success", root="reportDoneResponse", reportId=id, files=sorted(rep["files"]))

    @app.post("/ispws/retract")
    def retract(id: str = Form(...)):  # noqa: A002
        rep, err = _open(id)
        if err:
            return err
        rep["state"] = "retracted"
        return _resp(0, "Success", reportId=id)

    return app


if __name__ == "__main__":
    import argparse

    import uvicorn

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--user", default="esp")
    ap.add_argument("--password", default="secret")
    a = ap.parse_args()
    uvicorn.run(make_app(NcmecState(a.user, a.password)), host="127.0.0.1", port=a.port)
