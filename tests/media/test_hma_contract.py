"""Contract suite: the HMA (OpenMediaMatch) HTTP API as its documentation and route docstrings
describe it, driven over HTTP against a real `netwarden serve` on SQLite and on PostgreSQL, the way
ROOST's Coop drives it (no credentials from a trusted loopback caller, a base URL ending in '/', the
ratio sent as a string, rename as create + delete). Media comes from a local HTTP server on
loopback with the reference test images; nothing leaves the machine."""

from __future__ import annotations

import functools
import http.server
import os
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from netwarden import audit
from netwarden.store import open_store

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"  # aaa-orig.jpg, reference
KEY = "contract-key-1"
pytestmark = pytest.mark.slow  # a real server per backend (still run by `make test`)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def images(testdata):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(testdata / "pdq"))
    handler.log_message = lambda *a, **k: None
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request, tmp_path_factory, images):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('hma') / 'store.db'}"
    else:
        url = request.getfixturevalue("pg_server").create_db(f"hma_contract_{os.getpid()}")
    port = _free_port()
    env = dict(os.environ, NETWARDEN_API_KEYS=f"ops={KEY}", NETWARDEN_HMA_TRUST_NETWORKS="loopback",
               NETWARDEN_FETCH_ALLOW_HOSTS=images, NETWARDEN_FETCH_ALLOW_PRIVATE="127.0.0.1/32")
    log = tmp_path_factory.mktemp("log") / "serve.err"
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "netwarden", "serve", "--db", url, "--port", str(port),
                                 "--insecure-cookies"], env=env, stdout=subprocess.DEVNULL, stderr=err)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:  # no wall-clock limit: a server that dies is caught below
            if proc.poll() is not None:
                pytest.fail(f"netwarden serve exited: {log.read_text()}")
            try:
                if httpx.get(base + "/status/live").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield {"base": base, "coop": base + "/", "db": url, "stderr": log, "images": images}
    finally:
        proc.terminate()
        proc.wait()


def _store_audit(db: str, action: str) -> list[dict]:
    s = open_store(db)
    try:
        with s.engine.connect() as conn:
            return [e for e in audit.entries(conn, limit=10000) if e["action"] == action]
    finally:
        s.close()


def test_startup_warns_about_the_trusted_network(server):
    assert "let in without an API key" in server["stderr"].read_text()


def test_status_and_openapi(server):
    b = server["base"]
    assert httpx.get(b + "/status").text == "I-AM-ALIVE"
    assert httpx.get(b + "/status/live").text == "I-AM-ALIVE"
    doc = httpx.get(b + "/openapi/openapi.json").json()
    assert doc["info"]["title"] == "Open Media Match API"
    assert "BankCreate" in doc["components"]["schemas"]  # the validated body is what the document shows
    routes = httpx.get(b + "/site-map").json()
    assert {"/c/banks", "/m/lookup", "/h/hash", "/status"} <= set(routes)


def test_coop_bank_lifecycle(server):
    c = server["coop"]  # ends in '/': Coop's requests go to //c/...
    name = f"COOP_ORG1_{server['db'][:4].upper()}_KNOWN"
    r = httpx.post(f"{c}/c/banks", json={"name": name, "enabled_ratio": "1"})
    assert r.status_code == 201 and r.json() == {"name": name, "matching_enabled_ratio": 1.0}
    assert httpx.get(f"{c}/c/bank/{name}").status_code == 200
    r = httpx.put(f"{c}/c/bank/{name}", json={"enabled_ratio": 0.25})
    assert r.status_code == 200 and r.json()["matching_enabled_ratio"] == 0.25
    # Coop renames by creating the new bank and deleting the old one
    new = name + "_2"
    assert httpx.post(f"{c}/c/banks", json={"name": new, "enabled_ratio": "0.25"}).status_code == 201
    assert httpx.delete(f"{c}/c/bank/{name}").status_code == 200
    assert httpx.get(f"{c}/c/bank/{name}").status_code == 404
    listed = {b["name"]: b["matching_enabled_ratio"] for b in httpx.get(f"{c}/c/banks").json()}
    assert listed[new] == 0.25 and name not in listed
    # HMA's rename
    r = httpx.put(f"{c}/c/bank/{new}", json={"name": name})
    assert r.status_code == 200 and r.json()["name"] == name
    assert httpx.delete(f"{c}/c/bank/{name}").json() == {"message": "Done"}
    creates = [e for e in _store_audit(server["db"], "bank.create") if e["subject_id"] in (name, new)]
    assert {e["actor"] for e in creates} == {"network:127.0.0.1"}


def test_errors_are_messages_and_store_nothing(server):
    b = server["base"]
    assert httpx.post(b + "/c/banks", json={"name": "01_BAD"}).status_code == 400
    r = httpx.post(b + "/c/banks", json={"name": "THRESH", "threshold": "abc"})
    assert r.status_code == 400 and "threshold" in r.json()["message"]
    assert httpx.get(b + "/c/bank/THRESH").status_code == 404
    r = httpx.post(b + "/c/banks", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and set(r.json()) == {"message"}


def test_hash_bank_and_match_by_url(server):
    b, img = server["base"], server["images"]
    url = f"{img}/bridge-mods/aaa-orig.jpg"
    assert httpx.get(b + "/h/hash", params={"url": url}).json() == {"pdq": PDQ}
    assert httpx.get(b + "/h/hash", params={"url": url, "content_type": "video"}).json().keys() == {"video_md5"}
    bank = f"URL_BANK_{server['db'][:4].upper()}"
    httpx.post(b + "/c/banks", json={"name": bank})
    r = httpx.post(f"{b}/c/bank/{bank}/content", params={"url": url, "content_type": "photo"},
                   json={"metadata": {"content_id": "c-1"}, "note": "seen in case 3"})
    assert r.status_code == 200 and r.json()["signals"] == {"pdq": PDQ}
    cid = r.json()["id"]
    got = httpx.get(f"{b}/c/bank/{bank}/content/{cid}").json()
    assert got["id"] == cid and got["metadata"] == {"content_id": "c-1"} and got["note"] == "seen in case 3"
    # by hash: flat {BANK: [...]}; by URL: nested {signal_type: {BANK: [...]}}
    flat = httpx.get(b + "/m/lookup", params={"signal_type": "pdq", "signal": PDQ, "banks": bank}).json()
    assert flat == {bank: [{"bank_content_id": cid, "distance": "0"}]}
    near = httpx.get(b + "/m/lookup", params={"url": f"{img}/bridge-mods/blur-a-lot.jpg", "banks": bank}).json()
    assert bank in near["pdq"] and int(near["pdq"][bank][0]["distance"]) <= 31
    # with the key, the change is audited under the key's name
    r = httpx.put(f"{b}/c/bank/{bank}/content/{cid}", json={"note": "checked"}, headers={"X-API-Key": KEY})
    assert r.status_code == 200 and r.json()["note"] == "checked"
    assert _store_audit(server["db"], "bank.content.update")[0]["actor"] == "api:ops"
    assert httpx.delete(f"{b}/c/bank/{bank}/content/{cid}").json() == {"deleted": 1}
    assert httpx.get(b + "/m/lookup", params={"signal_type": "pdq", "signal": PDQ, "banks": bank}).json() == {}


def test_index_status_fields(server):
    st = httpx.get(server["base"] + "/m/index/status").json()
    assert set(st) == {"pdq", "video_md5", "vpdq"}
    assert all(set(v) == {"present", "built_to", "size"} for v in st.values())


def test_coop_exchange_flow(server):
    c = server["coop"]
    apis = httpx.get(f"{c}/c/exchanges/apis").json()
    assert "sample" in apis and "ncmec" in apis
    info = {a: httpx.get(f"{c}/c/exchanges/api/{a}").json() for a in apis}
    assert info["ncmec"] == {"supports_authentification": True, "has_set_authentification": False}
    schema = httpx.get(f"{c}/c/exchanges/api/ncmec/schema").json()
    assert {f["name"] for f in schema["credentials_schema"]["fields"]} >= {"user", "password"}
    name = f"COOP_ORG1_{server['db'][:4].upper()}_SAMPLE"
    r = httpx.post(f"{c}/c/exchanges", json={"bank": name, "api": "sample", "api_json": {}})
    assert r.status_code == 201
    assert httpx.put(f"{c}/c/bank/{name}", json={"enabled_ratio": 0.5}).json()["matching_enabled_ratio"] == 0.5
    ex = httpx.get(f"{c}/c/exchange/{name}").json()
    assert ex["api"] == "sample" and ex["enabled"] is True
    st = httpx.get(f"{c}/c/exchange/{name}/status").json()
    assert st["last_fetch_succeeded"] is None and st["fetched_items"] == 0 and st["running_fetch_start_ts"] is None
    f = httpx.post(f"{c}/nw/exchange/{name}/fetch").json()
    assert f["succeeded"] is True and f["status"]["fetched_items"] == f["added"] > 0
    assert httpx.delete(f"{c}/c/exchange/{name}").json() == {"message": "Exchange deleted"}
    assert [e["actor"] for e in _store_audit(server["db"], "exchange.fetch")] == ["network:127.0.0.1"]
