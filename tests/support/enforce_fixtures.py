"""A tiny synthetic store for enforcement/report tests: accounts, posts, abstract media, signals.

Media bytes are generated noise (no imagery of any kind); user text includes XML-special
characters to exercise escaping. Nothing here is real.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

from sqlalchemy.engine import Engine

from netwarden.store import schema as t
from netwarden.store import tables_media as tm

T0 = "2026-01-05T10:00:00Z"


def seed(engine: Engine, media_dir: Path, accounts: int = 3, media_per_account: int = 2) -> dict:
    media_dir.mkdir(parents=True, exist_ok=True)
    out: dict = {"accounts": [], "media": {}, "posts": {}}
    with engine.begin() as conn:
        for i in range(accounts):
            aid = f"10{i}"
            out["accounts"].append(aid)
            conn.execute(t.accounts.insert().values(
                id=aid, handle=f"user{i}", handle_lc=f"user{i}", display_name=f"Name <{i}> & \"co\"",
                bio=f"bio {i} <b>x</b> & 'y' ]]> kik: placeholder{i}", created_at="2025-12-01T00:00:00Z",
                url=f"https://social.example/@user{i}", email=f"user{i}@example.invalid", state="active",
                version="v"))
            conn.execute(t.account_sessions.insert().values(account_id=aid, time="2026-01-04T09:00:00Z",
                                                            ip=f"192.0.2.{10 + i}", event="login"))
            conn.execute(t.contacts.insert().values(account_id=aid, platform="kik", handle=f"placeholder{i}",
                                                    field="bio", ref=""))
            out["media"][aid] = []
            out["posts"][aid] = []
            for j in range(media_per_account):
                pid, mid = f"p{i}{j}", f"m{i}{j}"
                data = b"abstract-noise:" + hashlib.sha256(f"{i}-{j}".encode()).digest() * 8
                path = media_dir / f"{mid}.bin"
                path.write_bytes(data)
                conn.execute(t.posts.insert().values(id=pid, author_id=aid, text=f"post {j} & <tag>",
                                                     created_at=f"2026-01-0{j + 1}T12:00:00Z", visibility="public",
                                                     version="v"))
                conn.execute(t.post_urls.insert().values(post_id=pid, url=f"https://files.example/{mid}"))
                conn.execute(t.media.insert().values(id=mid, kind="photo", uri=str(path), size=len(data),
                                                     md5=hashlib.md5(data).hexdigest(),
                                                     sha256=hashlib.sha256(data).hexdigest(), version="v"))
                conn.execute(t.post_media.insert().values(post_id=pid, media_id=mid, position=0))
                conn.execute(tm.media_hashes.insert().values(media_id=mid, md5=hashlib.md5(data).hexdigest(),
                                                             sha256=hashlib.sha256(data).hexdigest(),
                                                             pdq="ab" * 32, hashed_at=T0))
                conn.execute(t.signals.insert().values(key=f"mm:{mid}", account_id=aid, subject_type="media",
                                                       subject_id=mid, kind="media_match", weight=1.0,
                                                       detail=json.dumps({"bank": "demo"}), created_at=T0))
                out["media"][aid].append(mid)
                out["posts"][aid].append(pid)
    return out


def env_keys(tmp: Path) -> dict:
    """Environment for a vault and a signing key under `tmp`."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    keyfile = tmp / "vault.keys"
    keyfile.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
    sig = tmp / "signing.pem"
    sig.write_bytes(Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return {"NETWARDEN_VAULT_DIR": str(tmp / "vault"), "NETWARDEN_VAULT_KEY_FILE": str(keyfile),
            "NETWARDEN_SIGNING_KEY_FILE": str(sig), "NETWARDEN_NCMEC_REPORTER_EMAIL": "tns@example.invalid"}
