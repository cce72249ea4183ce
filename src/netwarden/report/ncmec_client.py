"""HTTP client for NCMEC's CyberTipline reporting API (ISPWS): Basic auth, test environment by default.

Production is used only when both $NETWARDEN_NCMEC_ENV=production and the caller passes
allow_production=True (the CLI's --production flag); anything else talks to the test environment
or to $NETWARDEN_NCMEC_URL (a test server; refused in production).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from lxml import etree

from ..config import Settings, load
from ..errors import UserError

TEST_URL = "https://exttest.cybertip.org/ispws"
PRODUCTION_URL = "https://report.cybertip.org/ispws"


@dataclass
class Response:
    step: str
    http_status: int
    code: int | None
    request_id: str | None
    body: str
    fields: dict

    @property
    def ok(self) -> bool:
        return self.http_status == 200 and self.code == 0


def parse(step: str, r: httpx.Response) -> Response:
    fields: dict = {}
    code = None
    try:
        root = etree.fromstring(r.content)
        for el in root.iter():
            if el is not root and el.text and el.text.strip() and len(el) == 0:
                fields.setdefault(etree.QName(el).localname, el.text.strip())
        code = int(fields["responseCode"]) if "responseCode" in fields else None
    except (etree.XMLSyntaxError, ValueError):
        pass
    return Response(step, r.status_code, code, r.headers.get("Request-ID"), r.text, fields)


class NcmecClient:
    def __init__(self, base_url: str, user: str, password: str, environment: str, timeout: float = 60.0):
        self.environment = environment
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, auth=(user, password), timeout=timeout)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, allow_production: bool = False) -> NcmecClient:
        """The client the ncmec_env/_url/_user/_password settings configure (None: loaded now)."""
        settings = settings if settings is not None else load()
        env = settings.ncmec_env
        user, password = settings.ncmec_user, settings.ncmec_password
        if not user or not password:
            raise UserError("No NCMEC credentials: set NETWARDEN_NCMEC_USER and NETWARDEN_NCMEC_PASSWORD (docs/ncmec.md).")
        if env == "production":
            if not allow_production:
                raise UserError("NETWARDEN_NCMEC_ENV is production; pass --production to file real reports with NCMEC.")
            if settings.ncmec_url:
                raise UserError("NETWARDEN_NCMEC_URL is set while NETWARDEN_NCMEC_ENV is production; unset one of them.")
            return cls(PRODUCTION_URL, user, password, "production")
        if env != "test":
            raise UserError(f"NETWARDEN_NCMEC_ENV is {env!r}; use test or production.")
        if allow_production:
            raise UserError("--production was given but NETWARDEN_NCMEC_ENV is not production; set both to file real reports.")
        return cls(settings.ncmec_url or TEST_URL, user, password, "test")

    def _call(self, step: str, method: str, path: str, **kw) -> Response:
        try:
            r = self.http.request(method, path, **kw)
        except httpx.HTTPError as e:
            raise UserError(f"Cannot reach NCMEC at {self.base_url} ({e}); check the network and retry "
                            "(`report ncmec send` resumes where it stopped).") from None
        if r.status_code == 401:
            raise UserError(f"NCMEC at {self.base_url} refused the credentials; check NETWARDEN_NCMEC_USER and _PASSWORD.")
        return parse(step, r)

    def status(self) -> Response:
        return self._call("status", "GET", "/status")

    def submit(self, xml: bytes) -> Response:
        return self._call("submit", "POST", "/submit", content=xml, headers={"Content-Type": "text/xml; charset=utf-8"})

    def upload(self, report_id: str, name: str, data: bytes) -> Response:
        return self._call("upload", "POST", "/upload", data={"id": report_id}, files={"file": (name, data)})

    def fileinfo(self, xml: bytes) -> Response:
        return self._call("fileinfo", "POST", "/fileinfo", content=xml,
                          headers={"Content-Type": "text/xml; charset=utf-8"})

    def finish(self, report_id: str) -> Response:
        return self._call("finish", "POST", "/finish", data={"id": report_id})

    def retract(self, report_id: str) -> Response:
        return self._call("retract", "POST", "/retract", data={"id": report_id})
