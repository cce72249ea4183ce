"""HMA-compatible API in process: auth modes, bank semantics, validation and audit (issue 14 item 7),
lookup shapes, hashing parity. The contract suite over HTTP against `netwarden serve` is
tests/media/test_hma_contract.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from netwarden import audit
from netwarden.store import open_store
from netwarden.store.tables_media import bank_entries, banks
from netwarden.web.hma import create_app
from netwarden.web.hma_auth import AuthConfig, parse_keys, parse_networks

TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "testdata"
ORIG = TESTDATA / "pdq" / "bridge-mods" / "aaa-orig.jpg"
PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
OTHER = "0" * 64


@pytest.fixture
def store(tmp_path):
    s = open_store(f"sqlite:///{tmp_path / 'hma.db'}")
    yield s
    s.close()


@pytest.fixture
def client(store):
    c = TestClient(create_app(store, api_keys={"k1": "coop"}))
    c.headers["X-API-Key"] = "k1"
    return c


def _audit(store, action):
    with store.engine.connect() as conn:
        return [e for e in audit.entries(conn, limit=1000) if e["action"] == action]


def _entries(store):
    with store.engine.connect() as conn:
        return conn.execute(select(bank_entries)).all()


# ------------------------------------------------------------------------------------------- auth


def test_keys_bearer_and_status_open(client):
    bare = TestClient(client.app)
    assert bare.get("/c/banks").status_code == 401
    assert bare.get("/c/banks").json() == {"message": "A valid API key is required (X-API-Key or Authorization: Bearer)."}
    assert bare.get("/c/banks", headers={"Authorization": "Bearer k1"}).status_code == 200
    assert bare.get("/c/banks", headers={"X-API-Key": "wrong"}).status_code == 401
    assert bare.get("/status").text == "I-AM-ALIVE" and bare.get("/status/live").status_code == 200


def test_key_names_parse():
    keys = parse_keys("coop=s3cret, ops=x2,plainkey")
    assert keys["s3cret"] == "coop" and keys["x2"] == "ops" and keys["plainkey"].startswith("key-")


def test_trusted_network_mode_lets_loopback_in_and_warns(store):
    cfg = AuthConfig(trust_networks=parse_networks("loopback", "X"))
    app = create_app(store, auth=cfg)
    assert any("without an API key" in w for w in cfg.warnings())
    inside = TestClient(app, client=("127.0.0.1", 5555))
    outside = TestClient(app, client=("203.0.113.9", 5555))
    assert inside.post("/c/banks", json={"name": "COOP_1_A"}).status_code == 201
    assert outside.get("/c/banks").status_code == 401
    assert _audit(store, "bank.create")[0]["actor"] == "network:127.0.0.1"
    # a forwarded-for header from outside changes nothing
    assert outside.get("/c/banks", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 401


def test_private_networks_and_bad_network_value():
    nets = parse_networks("private", "X")
    cfg = AuthConfig(trust_networks=nets)
    assert cfg.trust_networks and any(str(n) == "10.0.0.0/8" for n in nets)
    from netwarden.errors import UserError

    with pytest.raises(UserError, match="not a network"):
        parse_networks("10.0.0.0/33", "NETWARDEN_HMA_TRUST_NETWORKS")


def test_trusted_proxy_header_only_from_the_proxy(store):
    cfg = AuthConfig(proxy_header="X-Forwarded-User", trusted_proxies=parse_networks("10.1.2.3/32", "X"))
    app = create_app(store, auth=cfg)
    assert any("X-Forwarded-User" in w for w in cfg.warnings())
    proxy = TestClient(app, client=("10.1.2.3", 1))
    other = TestClient(app, client=("10.1.2.4", 1))
    assert proxy.post("/c/banks", json={"name": "B"}, headers={"X-Forwarded-User": "alice"}).status_code == 201
    assert proxy.get("/c/banks").status_code == 401  # the proxy without the header is nobody
    assert other.get("/c/banks", headers={"X-Forwarded-User": "alice"}).status_code == 401
    assert _audit(store, "bank.create")[0]["actor"] == "proxy:alice"
    assert AuthConfig(proxy_header="X-User").warnings()[0].endswith("so the header is ignored.")


# ------------------------------------------------------------------------------------------ banks


def test_bank_create_names_ratio_and_audit(client, store):
    assert client.post("/c/banks", json={"name": "01_BANK"}).status_code == 400
    r = client.post("/c/banks", json={"name": "lower"})
    assert r.status_code == 400 and "name" in r.json()["message"]
    r = client.post("/c/banks", json={"name": "COOP_ORG_A", "enabled_ratio": "0"})  # Coop sends a string
    assert r.status_code == 201 and r.json() == {"name": "COOP_ORG_A", "matching_enabled_ratio": 0.0}
    assert client.post("/c/banks", json={"name": "COOP_ORG_A"}).status_code == 403
    assert client.get("/c/banks").json() == [{"name": "COOP_ORG_A", "matching_enabled_ratio": 0.0}]
    e = _audit(store, "bank.create")
    assert len(e) == 1 and e[0]["actor"] == "api:coop" and e[0]["subject_id"] == "COOP_ORG_A"


@pytest.mark.parametrize("body, field", [
    ({"threshold": "abc"}, "threshold"), ({"threshold": 100000}, "threshold"), ({"threshold": -5}, "threshold"),
    ({"negative": "yes"}, "negative"), ({"enabled_ratio": 1.5}, "enabled_ratio"),
    ({"enabled_ratio": "half"}, "enabled_ratio"), ({"thresold": 3}, "thresold"), ({"name": "a b"}, "name"),
])
def test_bank_update_rejects_bad_values_and_stores_nothing(client, store, body, field):
    client.post("/c/banks", json={"name": "KNOWN", "threshold": 20})
    r = client.put("/c/bank/KNOWN", json=body)
    assert r.status_code == 400 and field in r.json()["message"]
    with store.engine.connect() as conn:
        b = conn.execute(select(banks)).one()
    assert (b.threshold, b.negative, b.enabled_ratio, b.name) == (20, False, 1.0, "KNOWN")
    assert _audit(store, "bank.update") == []


def test_bank_update_non_json_body_is_400(client):
    client.post("/c/banks", json={"name": "KNOWN"})
    r = client.put("/c/bank/KNOWN", content=b"not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "message" in r.json()


def test_rename_ratio_and_enabled(client, store):
    client.post("/c/banks", json={"name": "OLD"})
    client.post("/c/banks", json={"name": "TAKEN"})
    assert client.put("/c/bank/OLD", json={"name": "TAKEN"}).status_code == 403
    r = client.put("/c/bank/OLD", json={"name": "NEW"})
    assert r.status_code == 200 and r.json()["name"] == "NEW"
    assert client.get("/c/bank/OLD").status_code == 404
    assert client.get("/c/bank/OLD").json() == {"message": "bank 'OLD' not found"}
    assert client.put("/c/bank/NEW", json={"enabled": False}).json()["matching_enabled_ratio"] == 0
    assert client.put("/c/bank/NEW", json={"enabled_ratio": 0.5}).json()["matching_enabled_ratio"] == 0.5
    assert [a["action"] for a in _audit(store, "bank.rename")] == ["bank.rename"]
    assert len(_audit(store, "bank.update")) == 2
    assert client.delete("/c/bank/NEW").json() == {"message": "Done"}
    assert client.delete("/c/bank/NEW").status_code == 200  # HMA: deleting a missing bank succeeds
    assert len(_audit(store, "bank.delete")) == 1


def test_netwarden_settings_on_own_route(client):
    client.post("/c/banks", json={"name": "NEG", "negative": True, "threshold": 10})
    nw = client.get("/nw/banks").json()[0]
    assert nw["negative"] is True and nw["threshold"] == 10 and nw["entries"] == 0


# ---------------------------------------------------------------------------------------- content


def test_signal_content_get_put_delete_and_audit(client, store):
    client.post("/c/banks", json={"name": "KNOWN"})
    r = client.post("/c/bank/KNOWN/signal", json={"pdq": PDQ, "note": "from case 7"})
    assert r.status_code == 200 and r.json() == {"id": 1, "signals": {"pdq": PDQ}}
    r = client.get("/c/bank/KNOWN/content/1")
    assert r.json() == {"id": 1, "disable_until_ts": 0, "original_media_uri": None,
                        "bank": {"name": "KNOWN", "matching_enabled_ratio": 1.0}, "note": "from case 7"}
    assert client.get("/c/bank/KNOWN/content/1", params={"include_signals": "true"}).json()["signals"] == {"pdq": PDQ}
    assert client.post("/c/bank/KNOWN/signal", json={"pdq": "xyz"}).status_code == 400
    assert client.post("/c/bank/KNOWN/signal", json={"nope": PDQ}).json() == {"message": "No such signal type nope"}
    assert client.post("/c/bank/KNOWN/signal", json={"pdq": PDQ, "note": "x" * 256}).status_code == 400
    assert len(_entries(store)) == 1
    assert client.put("/c/bank/KNOWN/content/1", json={"note": ""}).status_code == 200
    assert "note" not in client.get("/c/bank/KNOWN/content/1").json()
    assert client.put("/c/bank/KNOWN/content/1", json={"disable_until_ts": 9999999999}).status_code == 400
    assert client.get("/c/bank/KNOWN/content/2").status_code == 404
    assert client.get("/c/bank/NOPE/content/1").status_code == 404
    assert client.delete("/c/bank/KNOWN/content/1").json() == {"deleted": 1}
    assert [a["action"] for a in audit_actions(store)] == [
        "bank.create", "bank.content.add", "bank.content.update", "bank.content.remove"]


def audit_actions(store):
    with store.engine.connect() as conn:
        return sorted(audit.entries(conn, limit=1000), key=lambda e: e["seq"])


def test_upload_content_with_metadata(client, store):
    client.post("/c/banks", json={"name": "KNOWN"})
    r = client.post("/c/bank/KNOWN/content", files={"photo": ("a.jpg", ORIG.read_bytes(), "image/jpeg")},
                    data={"note": "n1", "metadata": '{"content_id": "ext-1", "json": {"k": 1}}'})
    assert r.status_code == 200 and r.json() == {"id": 1, "signals": {"pdq": PDQ}}
    got = client.get("/c/bank/KNOWN/content/1").json()
    assert got["metadata"] == {"content_id": "ext-1", "json": {"k": 1}} and got["note"] == "n1"
    r = client.post("/c/bank/KNOWN/content", files={"photo": ("a.jpg", ORIG.read_bytes(), "image/jpeg")},
                    data={"metadata": '{"invalid_metadata": 5}'})
    assert r.status_code == 400 and "invalid_metadata" in r.json()["message"]
    r = client.post("/c/bank/KNOWN/content", files={"video": ("v.mp4", b"not really a video", "video/mp4")})
    assert r.status_code == 200 and list(r.json()["signals"]) == ["video_md5"]


# --------------------------------------------------------------------------------------- matching


def test_lookup_shapes_ratio_coinflip_and_banks_filter(client):
    for name in ("A", "B"):
        client.post("/c/banks", json={"name": name})
        client.post(f"/c/bank/{name}/signal", json={"pdq": PDQ})
    r = client.get("/m/lookup", params={"signal_type": "pdq", "signal": PDQ})
    assert r.json() == {"A": [{"bank_content_id": 1, "distance": "0"}], "B": [{"bank_content_id": 2, "distance": "0"}]}
    assert list(client.get("/m/lookup", params={"signal_type": "pdq", "signal": PDQ, "banks": "B"}).json()) == ["B"]
    client.put("/c/bank/A", json={"enabled_ratio": 0})
    assert list(client.get("/m/lookup", params={"signal_type": "pdq", "signal": PDQ}).json()) == ["B"]
    assert list(client.get("/m/lookup", params={"signal_type": "pdq", "signal": PDQ,
                                                "bypass_coinflip": "true"}).json()) == ["A", "B"]
    client.put("/c/bank/A", json={"enabled_ratio": 0.5})
    seen = {tuple(client.get("/m/lookup", params={"signal_type": "pdq", "signal": PDQ, "seed": str(i)}).json())
            for i in range(40)}
    assert seen == {("A", "B"), ("B",)}
    same = {tuple(client.get("/m/lookup", params={"signal_type": "pdq", "signal": PDQ, "seed": "7"}).json())
            for _ in range(5)}
    assert len(same) == 1
    up = client.post("/m/lookup", files={"photo": ("b.jpg", ORIG.read_bytes(), "image/jpeg")},
                     params={"bypass_coinflip": "true"})
    assert up.json() == {"pdq": {"A": [{"bank_content_id": 1, "distance": "0"}],
                                 "B": [{"bank_content_id": 2, "distance": "0"}]}}
    raw = client.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": PDQ, "include_distance": "true"})
    assert raw.json() == {"matches": [{"bank_content_id": 1, "distance": "0"}, {"bank_content_id": 2, "distance": "0"}]}
    assert client.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": PDQ, "banks": "A"}).json() == {"matches": [1]}
    assert client.get("/m/lookup", params={"signal_type": "pdq", "signal": OTHER}).json() == {}
    # a submitted hash with a quality below 50 is not matched
    assert client.get("/m/lookup", params={"signal_type": "pdq", "signal": PDQ, "quality": "10"}).json() == {}


def test_negative_bank_and_disabled_content(client):
    client.post("/c/banks", json={"name": "POS"})
    client.post("/c/bank/POS/signal", json={"pdq": PDQ})
    import time

    client.put("/c/bank/POS/content/1", json={"disable_until_ts": int(time.time()) + 3600})
    assert client.get("/m/lookup", params={"signal_type": "pdq", "signal": PDQ}).json() == {}
    client.put("/c/bank/POS/content/1", json={"disable_until_ts": 0})
    assert "POS" in client.get("/m/lookup", params={"signal_type": "pdq", "signal": PDQ}).json()
    client.post("/c/banks", json={"name": "FP", "negative": True})
    client.post("/c/bank/FP/signal", json={"pdq": PDQ})
    assert client.get("/m/lookup", params={"signal_type": "pdq", "signal": PDQ}).json() == {}


def test_index_status_compare_types(client):
    client.post("/c/banks", json={"name": "K"})
    client.post("/c/bank/K/signal", json={"pdq": PDQ})
    st = client.get("/m/index/status", params={"signal_type": "pdq"}).json()
    assert st["pdq"]["present"] is True and st["pdq"]["size"] == 1 and st["pdq"]["built_to"] > 0
    assert client.get("/m/index/status", params={"signal_type": "nope"}).status_code == 400
    a = "facd8bcb2a49bcebdec1985298d5fe84bcd006c187c598c720c3c087b3fdb318"
    b = "facd8bcb2a49bcebdec1985228d5ae84bcd006c187c598c720c2b087b3fdb318"
    assert client.post("/m/compare", json={"pdq": [a, b]}).json() == {"pdq": [True, {"distance": 9}]}
    for bad in (["banana"], {"pdq": "banana"}, {"pdq": []}, {"pdq": ["banana", "banana"]}, {"pdq": [a, b, a]}):
        assert client.post("/m/compare", json=bad).status_code == 400
    assert {t["name"] for t in client.get("/c/signal_type").json()} == {"pdq", "video_md5", "vpdq"}
    assert client.get("/c/content_type").json() == [{"name": "photo", "enabled": True}, {"name": "video", "enabled": True}]
    assert client.get("/openapi/openapi.json").json()["info"]["title"] == "Open Media Match API"
    assert "/c/banks" in client.get("/site-map").json()
    assert client.get("http://testserver//c/banks").status_code == 200  # a base URL ending in "/" (Coop)


# ---------------------------------------------------------------------------------------- hashing


def test_hash_parity(client, testdata):
    r = client.post("/h/hash", files={"photo": ("a.jpg", ORIG.read_bytes(), "image/jpeg")})
    assert r.json() == {"pdq": PDQ}
    low = client.post("/h/hash", files={"photo": ("s.jpg", (testdata / "pdq/misc-images/small.jpg").read_bytes(),
                                                  "image/jpeg")})
    assert low.json() == {"pdq": ""}
    v = client.post("/h/hash", files={"video": ("a.jpg", ORIG.read_bytes(), "video/mp4")})
    assert list(v.json()) == ["video_md5"]
    assert client.post("/h/hash", files={"file": ("a.jpg", ORIG.read_bytes(), "image/jpeg")}).status_code == 400
    assert client.post("/h/hash", params={"types": "video_md5"},
                       files={"photo": ("a.jpg", ORIG.read_bytes(), "image/jpeg")}).status_code == 400
    bad = client.post("/h/hash", files={"photo": ("t.jpg", b"plain text", "image/jpeg")})
    assert bad.status_code == 400 and "t.jpg" in bad.json()["message"]


def test_hash_url_allow_list(client, monkeypatch):
    monkeypatch.delenv("NETWARDEN_FETCH_ALLOW_HOSTS", raising=False)
    r = client.get("/h/hash", params={"url": "https://example.invalid/a.jpg"})
    assert r.status_code == 400 and "NETWARDEN_FETCH_ALLOW_HOSTS" in r.json()["message"]


# Files where threatexchange's own decode differs on purpose: it takes a 1-bit image's raw mode
# (quality 0 -> ""), a CMYK JPEG's raw channels (the inverted image) and a palette's indices;
# Netwarden converts them properly (docs/media.md, "Safe decoding").
DECODED_DIFFERENTLY = {"misc-images/modes/1.png", "misc-images/modes/CMYK.jpg", "misc-images/modes/P.png"}


def test_photo_hash_is_the_one_hma_computes(testdata):
    """HMA hashes uploads with threatexchange's PdqSignal.hash_from_bytes: the same value here,
    for every reference image and for a large JPEG (no fast path on the API)."""
    import io

    import numpy as np
    from PIL import Image
    from threatexchange.signal_type.pdq.signal import PdqSignal

    from netwarden.web.hma import hash_media

    root = testdata / "pdq"
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".gif", ".webp"))
    assert len(files) > 20
    for p in files:
        rel = str(p.relative_to(root))
        if rel in DECODED_DIFFERENTLY:
            continue
        assert hash_media(p.read_bytes(), "photo", None, p.name)["pdq"] == PdqSignal.hash_from_bytes(p.read_bytes()), rel
    small = (np.random.default_rng(5).random((24, 32, 3)) * 255).astype("uint8")
    buf = io.BytesIO()
    Image.fromarray(small).resize((4032, 3024), Image.BICUBIC).save(buf, "JPEG", quality=90)
    assert hash_media(buf.getvalue(), "photo", None, "big.jpg")["pdq"] == PdqSignal.hash_from_bytes(buf.getvalue())


def test_a_bank_switched_off_by_ratio_stops_matching_in_ingestion_too(client, store):
    from netwarden.media.hashing import MediaHashes
    from netwarden.media.service import BankMatcher

    client.post("/c/banks", json={"name": "COOP_OFF", "enabled_ratio": "1"})
    client.post("/c/bank/COOP_OFF/signal", json={"pdq": PDQ})
    q = MediaHashes(name="q", pdq=PDQ, quality=100)
    bm = BankMatcher()
    with store.engine.connect() as conn:
        assert [m.bank for m in bm.refresh(conn).match(q).matches] == ["COOP_OFF"]
    client.put("/c/bank/COOP_OFF", json={"enabled_ratio": "0"})
    with store.engine.connect() as conn:
        assert bm.refresh(conn).match(q).matches == []
    client.put("/c/bank/COOP_OFF", json={"enabled_ratio": 0.3})  # any ratio above 0: ingestion matches it
    with store.engine.connect() as conn:
        assert [m.bank for m in bm.refresh(conn).match(q).matches] == ["COOP_OFF"]


def test_raw_lookup_is_raw(client):
    """HMA's raw_lookup checks no enabled state: disabled content, ratio 0 and negative banks show."""
    import time

    client.post("/c/banks", json={"name": "OFF", "enabled_ratio": 0})
    client.post("/c/bank/OFF/signal", json={"pdq": PDQ})
    client.put("/c/bank/OFF/content/1", json={"disable_until_ts": int(time.time()) + 600})
    client.post("/c/banks", json={"name": "FP", "negative": True})
    client.post("/c/bank/FP/signal", json={"pdq": PDQ})
    assert client.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": PDQ}).json() == {"matches": [1, 2]}
    assert client.get("/m/lookup", params={"signal_type": "pdq", "signal": PDQ, "bypass_coinflip": "true"}).json() == {}


def test_slashes_collapse_only_on_hma_paths(client):
    import asyncio

    from netwarden.web.hma import CollapseSlashes

    assert client.get("http://testserver//m//index/status").status_code == 200
    seen = []

    async def inner(scope, receive, send):
        seen.append(scope["path"])

    for path in ("//c//banks", "/cases/1/members//decide"):
        asyncio.run(CollapseSlashes(inner)({"type": "http", "path": path}, None, None))
    assert seen == ["/c/banks", "/cases/1/members//decide"]
