"""HMA-compatible endpoints: API-key auth, hash, lookup, banks and signals, URL allow-list."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from netwarden.store.tables import metadata
from netwarden.web.hma import create_app

TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "testdata"
ORIG = TESTDATA / "pdq" / "bridge-mods" / "aaa-orig.jpg"
PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


class _Store:
    def __init__(self, engine):
        self.engine = engine


@pytest.fixture
def client(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'hma.db'}")
    metadata.create_all(engine)
    c = TestClient(create_app(_Store(engine), api_keys=["k1"]))
    c.headers["X-API-Key"] = "k1"
    return c


def test_api_key_required(client):
    assert TestClient(client.app).get("/c/banks").status_code == 401
    assert TestClient(client.app).get("/c/banks", headers={"Authorization": "Bearer k1"}).status_code == 200
    assert TestClient(client.app).get("/c/banks", headers={"X-API-Key": "wrong"}).status_code == 401


def test_hash_bank_and_lookup_flow(client):
    r = client.post("/h/hash", files={"photo": ("a.jpg", ORIG.read_bytes(), "image/jpeg")})
    assert r.status_code == 200 and r.json()["pdq"] == PDQ
    assert client.post("/c/banks", json={"name": "known"}).status_code == 200
    assert client.post("/c/banks", json={"name": "known"}).status_code == 409
    added = client.post("/c/bank/known/signal", json={"pdq": PDQ})
    assert added.status_code == 200 and added.json()["id"]
    # matchable right away
    r = client.get("/m/lookup", params={"signal_type": "pdq", "signal": PDQ})
    assert r.json()["known"][0]["distance"] == "0"
    r = client.post("/m/lookup", files={"photo": ("b.jpg", (TESTDATA / "pdq/bridge-mods/blur-a-lot.jpg").read_bytes(), "image/jpeg")})
    assert "known" in r.json()
    assert client.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": PDQ}).json()["matches"] == [added.json()["id"]]
    banks = client.get("/c/banks").json()
    assert banks[0]["name"] == "known" and banks[0]["entries"] == 1
    cid = added.json()["id"]
    assert client.get(f"/c/bank/known/content/{cid}").json()["signals"] == {"pdq": PDQ}
    assert client.put("/c/bank/known", json={"matching_enabled_ratio": 0}).json()["is_active"] is False
    assert client.get("/m/lookup", params={"signal_type": "pdq", "signal": PDQ}).json() == {}
    assert client.delete(f"/c/bank/known/content/{cid}").status_code == 200
    assert client.delete("/c/bank/known").status_code == 200
    assert client.get("/c/bank/known").status_code == 404


def test_bad_input_and_url_allow_list(client, monkeypatch):
    assert client.get("/m/lookup", params={"signal_type": "pdq", "signal": "xyz"}).status_code == 400
    r = client.get("/m/lookup", params={"signal_type": "url", "signal": "https://files.example/d/AbC"})
    assert r.status_code == 400 and "during ingestion" in r.json()["detail"]
    r = client.post("/h/hash", files={"photo": ("t.jpg", b"plain text", "image/jpeg")})
    assert r.status_code == 422 and "t.jpg" in r.json()["detail"]
    monkeypatch.delenv("NETWARDEN_FETCH_ALLOW_HOSTS", raising=False)
    r = client.get("/h/hash", params={"url": "https://example.invalid/a.jpg"})
    assert r.status_code == 403 and "NETWARDEN_FETCH_ALLOW_HOSTS" in r.json()["detail"]
