"""Evidence vault: encryption round trip, key rotation, tamper detection, expiry with legal hold, package."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
from sqlalchemy import select

from netwarden import audit
from netwarden.report import evidence
from netwarden.store import open_store
from netwarden.store.tables_enforce import evidence_items
from support.enforce_fixtures import env_keys, seed


@pytest.fixture
def world(tmp_path, monkeypatch):
    store = open_store(f"sqlite:///{tmp_path / 'nw.db'}")
    seed(store.engine, tmp_path / "media")
    for k, v in env_keys(tmp_path).items():
        monkeypatch.setenv(k, v)
    yield store, tmp_path
    store.close()


def test_round_trip_encrypted_at_rest_and_audited(world):
    store, tmp = world
    vault = evidence.Vault.from_settings()
    res = evidence.preserve(store.engine, vault, "100", case_id="c1", actor="rev1", network=["101"])
    assert res["items"] == 6 and res["added"] == 6  # profile, posts, sessions, network, 2 media
    again = evidence.preserve(store.engine, vault, "100", case_id="c1", actor="rev1", network=["101"])
    assert again["added"] == 0
    media = (tmp / "media" / "m00.bin").read_bytes()
    sha = hashlib.sha256(media).hexdigest()
    raw = vault.path(sha).read_bytes()
    assert media not in raw and raw.startswith(b"NWV1")
    assert evidence.read(store.engine, vault, sha, "rev1", "check") == media
    with store.engine.connect() as conn:
        assert audit.entries(conn, action="evidence.read", subject_id=sha)
        assert audit.entries(conn, action="evidence.preserve", subject_id="100")


def test_rotation_keeps_everything_readable(world, monkeypatch):
    store, tmp = world
    vault = evidence.Vault.from_settings()
    evidence.preserve(store.engine, vault, "100", actor="rev1")
    old_id = vault.keyring.current_id
    keyfile = tmp / "vault.keys"
    keyfile.write_text(keyfile.read_text() + base64.b64encode(os.urandom(32)).decode() + "\n")
    vault2 = evidence.Vault.from_settings()
    assert vault2.keyring.current_id != old_id
    assert evidence.verify(store.engine, vault2)["ok"]  # old blobs read with the old key
    res = evidence.rotate(store.engine, vault2, "admin")
    assert res["reencrypted"] == res["blobs"] > 0
    only_new = evidence.Vault(vault2.root, evidence.Keyring.from_keys([vault2.keyring.current]))
    assert evidence.verify(store.engine, only_new)["ok"]  # the old key can now be retired
    assert evidence.rotate(store.engine, vault2, "admin")["reencrypted"] == 0


def test_verify_detects_tampering_and_loss(world):
    store, _ = world
    vault = evidence.Vault.from_settings()
    evidence.preserve(store.engine, vault, "100", actor="rev1")
    with store.engine.connect() as conn:
        shas = sorted(set(conn.scalars(select(evidence_items.c.sha256))))
    p = vault.path(shas[0])
    data = bytearray(p.read_bytes())
    data[-5] ^= 0x01
    p.write_bytes(bytes(data))
    vault.path(shas[1]).unlink()
    res = evidence.verify(store.engine, vault)
    assert not res["ok"]
    assert {x["sha256"] for x in res["problems"]} == {shas[0], shas[1]}
    assert any("altered" in x["problem"] for x in res["problems"])
    assert any("missing" in x["problem"] for x in res["problems"])


def test_expiry_one_year_after_receipt_respects_legal_hold(world):
    store, _ = world
    vault = evidence.Vault.from_settings()
    evidence.preserve(store.engine, vault, "100", case_id="c1", actor="rev1")
    evidence.preserve(store.engine, vault, "101", case_id="c2", actor="rev1")
    with store.engine.begin() as conn:
        evidence.start_retention(conn, "100", "2026-02-01T00:00:00Z")
        evidence.start_retention(conn, "101", "2026-02-01T00:00:00Z")
    hid = evidence.hold(store.engine, case_id="c2", reason="preservation letter", actor="legal1")
    early = evidence.expire(store.engine, vault, as_of="2027-01-31T00:00:00Z")
    assert early["expired_items"] == 0
    res = evidence.expire(store.engine, vault, as_of="2027-02-02T00:00:00Z")
    assert res["expired_items"] == 5 and res["kept_by_hold"] == 5 and res["deleted_blobs"] > 0
    assert evidence.verify(store.engine, vault)["ok"]  # held blobs still intact
    evidence.release(store.engine, hid, "legal1")
    assert evidence.expire(store.engine, vault, as_of="2027-02-02T00:00:00Z")["expired_items"] == 5
    assert not any(vault.root.rglob("*")) or all(p.is_dir() for p in vault.root.rglob("*"))


def test_package_signed_manifest(world):
    store, tmp = world
    vault = evidence.Vault.from_settings()
    evidence.preserve(store.engine, vault, "100", case_id="c1", actor="rev1")
    out = tmp / "pkg.tar.gz"
    res = evidence.package(store.engine, vault, "c1", out, "legal1", evidence.load_signing_key(), "subpoena 123")
    assert res["signature"] == "ed25519"
    assert evidence.check_package(out)["ok"]
    with store.engine.connect() as conn:
        assert audit.entries(conn, action="evidence.package", subject_id="c1")
