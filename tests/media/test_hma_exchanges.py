"""HMA's exchanges API over python-threatexchange's clients: types, credentials, schema, create,
status, fetch into the bank (from the static sample, and from a fake StopNCII server on loopback
answering in the FetchHashes shape python-threatexchange's client reads), disable, delete, audit."""

from __future__ import annotations

import http.server
import json
import threading
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from netwarden import audit
from netwarden.store import open_store
from netwarden.store.tables_hma import hma_exchange_credentials
from netwarden.web.hma import create_app

# Invented hashes (not from any real exchange): a PDQ and an MD5 the fake StopNCII serves.
FAKE_PDQ = "d8f871cce0f4e84d8a370a32028f63f4b36e27d597621e1d33e6b39c4a9c9b22"
FAKE_MD5 = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def store(tmp_path):
    s = open_store(f"sqlite:///{tmp_path / 'ex.db'}")
    yield s
    s.close()


@pytest.fixture
def client(store):
    c = TestClient(create_app(store, api_keys={"k": "ops"}))
    c.headers["X-API-Key"] = "k"
    return c


def _actions(store):
    with store.engine.connect() as conn:
        return [(e["action"], e["actor"]) for e in sorted(audit.entries(conn, limit=1000), key=lambda e: e["seq"])]


class FakeStopNCII(http.server.BaseHTTPRequestHandler):
    calls: list = []
    status = 200

    def do_GET(self):  # noqa: N802
        u = urlparse(self.path)
        q = parse_qs(u.query)
        FakeStopNCII.calls.append((u.path, q, dict(self.headers)))
        start = int(q["startTimestamp"][0])
        records = [] if start >= 1700000100 else [
            {"lastModtimestamp": 1700000050, "signalType": "ImagePDQ", "hashValue": FAKE_PDQ,
             "hashStatus": "Active", "caseNumbers": {"case-1": "Active"}, "CSPFeedbacks": []},
            {"lastModtimestamp": 1700000060, "signalType": "VideoMD5", "hashValue": FAKE_MD5,
             "hashStatus": "Active", "caseNumbers": {}, "CSPFeedbacks": []},
        ]
        body = {"count": len(records), "nextPageToken": None, "nextSetTimestamp": 1700000100,
                "hasMoreRecords": False, "hashRecords": records}
        data = json.dumps(body).encode()
        self.send_response(FakeStopNCII.status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


@pytest.fixture
def stopncii():
    FakeStopNCII.calls, FakeStopNCII.status = [], 200
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeStopNCII)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()


def test_types_credentials_and_schema(client, store):
    assert set(client.get("/c/exchanges/apis").json()) == {"ncmec", "stop_ncii", "fb_threatexchange", "file", "sample"}
    assert client.get("/c/exchanges/api/sample").json() == {"supports_authentification": False,
                                                            "has_set_authentification": False}
    assert client.get("/c/exchanges/api/nope").status_code == 400
    tx = "/c/exchanges/api/fb_threatexchange"
    assert client.get(tx).json() == {"supports_authentification": True, "has_set_authentification": False}
    assert client.post(tx, json={"credential_json": {"api_token": ""}}).status_code == 400
    r = client.post(tx, json={"credential_json": {"api_token": "12345789|000000000000"}})
    assert r.json() == {"supports_authentification": True, "has_set_authentification": True}
    assert "000000000000" not in json.dumps(client.get(tx).json())
    assert client.post(tx, json={"credential_json": {}}).json()["has_set_authentification"] is False
    with store.engine.connect() as conn:
        assert conn.execute(select(hma_exchange_credentials)).all() == []
    assert _actions(store) == [("exchange.credentials.set", "api:ops"), ("exchange.credentials.clear", "api:ops")]
    s = client.get(tx + "/schema").json()
    pg = {f["name"]: f for f in s["config_schema"]["fields"]}["privacy_group"]
    assert pg["type"] == "number" and pg["required"] is True
    assert {f["name"]: f["type"] for f in s["credentials_schema"]["fields"]}["api_token"] == "string"
    assert client.get("/c/exchanges/api/sample/schema").json()["credentials_schema"] is None
    env = {f["name"]: f for f in client.get("/c/exchanges/api/ncmec/schema").json()["config_schema"]["fields"]}
    assert env["environment"]["type"] == "enum" and env["environment"]["choices"]
    assert client.get("/c/exchanges/api/nope/schema").status_code == 404


def test_sample_exchange_create_fetch_match_disable_delete(client, store):
    assert client.post("/c/exchanges", json={"bank": "lower", "api": "sample"}).status_code == 400
    assert client.post("/c/exchanges", json={"bank": "X", "api": "nope"}).status_code == 400
    assert client.post("/c/exchanges", json={"bank": "TX", "api": "fb_threatexchange", "api_json": {}}).status_code == 400
    assert client.get("/c/bank/TX").status_code == 404  # nothing stored by a refused create
    r = client.post("/c/exchanges", json={"bank": "SAMPLE_EX", "api": "sample", "api_json": {}})
    assert r.status_code == 201 and r.json() == {"message": "Created successfully"}
    assert client.post("/c/exchanges", json={"bank": "SAMPLE_EX", "api": "sample"}).status_code == 403
    assert client.get("/c/bank/SAMPLE_EX").json() == {"name": "SAMPLE_EX", "matching_enabled_ratio": 1.0}
    assert client.get("/c/exchanges").json() == ["SAMPLE_EX"]
    assert client.get("/c/exchange/SAMPLE_EX").json() == {"name": "SAMPLE_EX", "api": "sample", "enabled": True}
    st = client.get("/c/exchange/SAMPLE_EX/status").json()
    assert st == {"checkpoint_ts": None, "running_fetch_start_ts": None, "last_fetch_complete_ts": None,
                  "last_fetch_succeeded": None, "up_to_date": False, "fetched_items": 0}
    f = client.post("/nw/exchange/SAMPLE_EX/fetch").json()
    assert f["succeeded"] is True and f["added"] > 0
    assert f["status"]["last_fetch_succeeded"] is True and f["status"]["fetched_items"] == f["added"]
    from threatexchange.signal_type.pdq.signal import PdqSignal

    ex = PdqSignal.get_examples()[0]
    assert "SAMPLE_EX" in client.get("/m/lookup", params={"signal_type": "pdq", "signal": ex}).json()
    assert client.post("/nw/exchange/SAMPLE_EX/fetch").json()["added"] == 0  # nothing new the second time
    assert client.put("/c/exchange/SAMPLE_EX", json={"enabled": False}).json()["enabled"] is False
    assert client.post("/nw/exchange/SAMPLE_EX/fetch").status_code == 400
    assert client.delete("/c/exchange/SAMPLE_EX").json() == {"message": "Exchange deleted"}
    assert client.get("/c/bank/SAMPLE_EX").status_code == 404
    assert client.delete("/c/exchange/SAMPLE_EX").status_code == 200
    assert client.get("/c/exchange/SAMPLE_EX/status").status_code == 404
    acts = [a for a, _ in _actions(store)]
    assert acts == ["bank.create", "exchange.create", "exchange.fetch", "exchange.fetch", "exchange.update",
                    "exchange.delete"]


def test_stopncii_fetch_from_a_fake_server_resumes_from_its_checkpoint(client, stopncii):
    creds = {"fetch_function_key": "fk-test", "subscription_key": "sk-test", "base_url_override": stopncii}
    assert client.post("/c/exchanges/api/stop_ncii", json={"credential_json": creds}).status_code == 200
    assert client.post("/c/exchanges", json={"bank": "NCII", "api": "stop_ncii", "api_json": {}}).status_code == 201
    f = client.post("/nw/exchange/NCII/fetch").json()
    assert f["succeeded"] is True and f["added"] == 2, f
    path, q, headers = FakeStopNCII.calls[0]
    assert path == "/v1/FetchHashes" and headers["x-functions-key"] == "fk-test"
    assert headers["Ocp-Apim-Subscription-Key"] == "sk-test"
    assert client.get("/m/lookup", params={"signal_type": "pdq", "signal": FAKE_PDQ}).json()["NCII"]
    assert client.get("/m/lookup", params={"signal_type": "video_md5", "signal": FAKE_MD5}).json()["NCII"]
    st = client.get("/c/exchange/NCII/status").json()
    assert st["checkpoint_ts"] == 1700000100 and st["fetched_items"] == 2
    f2 = client.post("/nw/exchange/NCII/fetch").json()
    assert f2["added"] == 0 and FakeStopNCII.calls[-1][1]["startTimestamp"] == ["1700000100"]


def test_a_failing_exchange_is_recorded_not_raised(client, stopncii):
    FakeStopNCII.status = 401
    creds = {"fetch_function_key": "fk", "subscription_key": "sk", "base_url_override": stopncii}
    client.post("/c/exchanges/api/stop_ncii", json={"credential_json": creds})
    client.post("/c/exchanges", json={"bank": "NCII", "api": "stop_ncii", "api_json": {}})
    f = client.post("/nw/exchange/NCII/fetch").json()
    assert f["succeeded"] is False and "401" in f["error"] and f["added"] == 0
    st = client.get("/c/exchange/NCII/status").json()
    assert st["last_fetch_succeeded"] is False and st["running_fetch_start_ts"] is None


def test_bank_sync_command_fetches_every_enabled_exchange(client, store, tmp_path):
    from typer.testing import CliRunner

    from netwarden.cli import app
    from netwarden.errors import UserError

    client.post("/c/exchanges", json={"bank": "SAMPLE_A", "api": "sample", "api_json": {}})
    client.post("/c/exchanges", json={"bank": "SAMPLE_B", "api": "sample", "api_json": {}})
    client.put("/c/exchange/SAMPLE_B", json={"enabled": False})
    db = str(store.engine.url)
    r = CliRunner().invoke(app, ["bank", "sync", "--as", "ops", "--db", db, "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert [x["exchange"] for x in res] == ["SAMPLE_A"] and res[0]["added"] > 0
    assert client.get("/c/exchange/SAMPLE_A/status").json()["fetched_items"] == res[0]["added"]
    assert ("exchange.fetch", "cli:ops") in _actions(store)
    with pytest.raises(UserError, match="no exchange named"):
        CliRunner().invoke(app, ["bank", "sync", "NOPE", "--db", db], catch_exceptions=False)
    with pytest.raises(UserError, match="disabled"):
        CliRunner().invoke(app, ["bank", "sync", "SAMPLE_B", "--db", db], catch_exceptions=False)
