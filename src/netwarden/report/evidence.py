"""The evidence vault: preserved media and account records, encrypted at rest, content-addressed.

Blobs live in <vault>/<sha[:2]>/<sha> where sha is the SHA-256 of the plaintext. A stored file is
b"NWV1" + key id (16 ASCII hex chars) + 12-byte nonce + AES-256-GCM ciphertext, with the address
as associated data, so a file moved to another address fails to decrypt. Keys come from
$NETWARDEN_VAULT_KEY_FILE (one base64 32-byte key per line; the LAST line is the current key,
earlier lines are older keys kept for reading) or $NETWARDEN_VAULT_KEY (one base64 key, optionally
followed by older ones, comma-separated). `rotate` re-encrypts every blob under the current key.

Retention: items get retain_until = NCMEC /finish receipt + 1 year (18 U.S.C. 2258A(h)); `expire`
deletes items past it unless a legal hold covers their case or account. Every access is audited.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Connection, Engine

from .. import audit
from ..config import Settings, load
from ..enforce.util import fmt_time, now, parse_time
from ..errors import UserError
from ..store import schema as t
from ..store.tables_enforce import evidence_blobs as eb
from ..store.tables_enforce import evidence_holds as eh
from ..store.tables_enforce import evidence_items as ei
from ..store.tables_enforce import ncmec_reports
from ..store.upsert import insert_ignore

MAGIC = b"NWV1"
RETENTION = timedelta(days=365)


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"netwarden-vault-key:" + key).hexdigest()[:16]


@dataclass
class Keyring:
    current: bytes
    keys: dict[str, bytes]

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    @classmethod
    def from_keys(cls, keys: list[bytes]) -> Keyring:
        for k in keys:
            if len(k) != 32:
                raise UserError("A vault key is not 32 bytes of base64; generate one with `netwarden evidence keygen`.")
        return cls(current=keys[-1], keys={key_id(k): k for k in keys})

    @classmethod
    def from_settings(cls, settings: Settings) -> Keyring:
        """The keys the settings name: vault_key_file (one key a line, the last current), else vault_key."""
        path = settings.vault_key_file
        try:
            if path:
                p = Path(path)
                if not p.is_file():
                    raise UserError(f"NETWARDEN_VAULT_KEY_FILE names {path}, which is not a file; point it at the key file.")
                lines = [ln.strip() for ln in p.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
                return cls.from_keys([base64.b64decode(ln) for ln in lines])
            env = settings.vault_key
            if env:
                parts = [s.strip() for s in env.split(",") if s.strip()]
                # NETWARDEN_VAULT_KEY lists the current key first, then older ones
                return cls.from_keys([base64.b64decode(s) for s in reversed(parts)])
        except (ValueError, base64.binascii.Error):
            raise UserError("The vault key is not valid base64; generate one with `netwarden evidence keygen`.") from None
        raise UserError("No vault key: set NETWARDEN_VAULT_KEY_FILE or NETWARDEN_VAULT_KEY (docs/evidence.md).")


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


class Vault:
    def __init__(self, root: str | Path, keyring: Keyring):
        self.root = Path(root)
        self.keyring = keyring

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Vault:
        """The vault the settings configure (vault_dir and its keys); None: the settings loaded now
        (config file and environment), so a library caller that names no vault still gets the configured one."""
        settings = settings if settings is not None else load()
        return cls(settings.vault_dir, Keyring.from_settings(settings))

    def path(self, sha: str) -> Path:
        return self.root / sha[:2] / sha

    def _encrypt(self, sha: str, data: bytes) -> bytes:
        nonce = os.urandom(12)
        kid = self.keyring.current_id
        return MAGIC + kid.encode() + nonce + AESGCM(self.keyring.current).encrypt(nonce, data, sha.encode())

    def _write(self, sha: str, blob: bytes) -> None:
        p = self.path(sha)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(".tmp")
        with tmp.open("wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        if not self.path(sha).exists():
            self._write(sha, self._encrypt(sha, data))
        return sha

    def file_key_id(self, sha: str) -> str:
        with self.path(sha).open("rb") as f:
            head = f.read(20)
        return head[4:20].decode("ascii", "replace")

    def get(self, sha: str) -> bytes:
        """Decrypt and check a blob; raises ValueError when it is missing, unreadable or altered."""
        p = self.path(sha)
        if not p.is_file():
            raise ValueError(f"blob {sha} is missing from the vault")
        raw = p.read_bytes()
        if raw[:4] != MAGIC:
            raise ValueError(f"blob {sha} is not a vault file")
        kid, nonce, ct = raw[4:20].decode("ascii", "replace"), raw[20:32], raw[32:]
        key = self.keyring.keys.get(kid)
        if key is None:
            raise ValueError(f"blob {sha} is encrypted with key {kid}, which is not in the keyring")
        try:
            data = AESGCM(key).decrypt(nonce, ct, sha.encode())
        except InvalidTag:
            raise ValueError(f"blob {sha} was altered (authentication failed)") from None
        if hashlib.sha256(data).hexdigest() != sha:
            raise ValueError(f"blob {sha} does not match its digest")
        return data

    def reencrypt(self, sha: str) -> None:
        self._write(sha, self._encrypt(sha, self.get(sha)))

    def delete(self, sha: str) -> None:
        p = self.path(sha)
        if p.exists():
            p.unlink()


def _canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _store_blob(conn: Connection, vault: Vault, data: bytes) -> str:
    sha = vault.put(data)
    stamp = now()
    insert_ignore(conn, eb, [{"sha256": sha, "size": len(data), "key_id": vault.keyring.current_id,
                              "stored_at": stamp, "deleted_at": None}], keys=["sha256"])
    # a blob expired earlier and preserved again is live again
    conn.execute(update(eb).where(eb.c.sha256 == sha, eb.c.deleted_at.is_not(None)).values(deleted_at=None))
    return sha


def account_records(conn: Connection, account_id: str, network: list[str] | None = None) -> dict[str, object]:
    """The JSON documents preserved for an account: profile, posts, sessions, network context."""
    acct = conn.execute(select(t.accounts).where(t.accounts.c.id == account_id)).first()
    if acct is None:
        raise UserError(f"Account {account_id} is not in the store; check the id.")
    posts = [dict(r._mapping) for r in conn.execute(select(t.posts).where(t.posts.c.author_id == account_id)
                                                    .order_by(t.posts.c.created_at, t.posts.c.id))]
    ids = [p["id"] for p in posts]
    urls: dict[str, list[str]] = {}
    tags: dict[str, list[str]] = {}
    if ids:
        for r in conn.execute(select(t.post_urls).where(t.post_urls.c.post_id.in_(ids))):
            urls.setdefault(r.post_id, []).append(r.url)
        for r in conn.execute(select(t.post_hashtags).where(t.post_hashtags.c.post_id.in_(ids))):
            tags.setdefault(r.post_id, []).append(r.tag)
    for p in posts:
        p["urls"] = sorted(urls.get(p["id"], []))
        p["hashtags"] = sorted(tags.get(p["id"], []))
    sessions = [dict(r._mapping) for r in conn.execute(
        select(t.account_sessions).where(t.account_sessions.c.account_id == account_id)
        .order_by(t.account_sessions.c.time))]
    contacts = [dict(r._mapping) for r in conn.execute(select(t.contacts).where(t.contacts.c.account_id == account_id))]
    docs: dict[str, object] = {"profile": {**dict(acct._mapping), "contacts": contacts}, "posts": posts}
    if sessions:
        docs["sessions"] = sessions
    if network:
        members = sorted(set(network) - {account_id})
        edges = [dict(r._mapping) for r in conn.execute(
            select(t.follows).where(or_(and_(t.follows.c.src == account_id, t.follows.c.dst.in_(members)),
                                        and_(t.follows.c.dst == account_id, t.follows.c.src.in_(members)))))]
        docs["network"] = {"account_id": account_id, "members": members, "follows": edges}
    return docs


def account_media(conn: Connection, account_id: str) -> list[dict]:
    q = (select(t.media.c.id, t.media.c.uri, t.media.c.mime).select_from(
        t.post_media.join(t.posts, t.posts.c.id == t.post_media.c.post_id)
        .join(t.media, t.media.c.id == t.post_media.c.media_id))
        .where(t.posts.c.author_id == account_id).order_by(t.media.c.id).distinct())
    return [dict(r._mapping) for r in conn.execute(q)]


def preserve(engine: Engine, vault: Vault, account_id: str, *, case_id: str = "", actor: str,
             network: list[str] | None = None) -> dict:
    """Preserve an account's media and records (idempotent: the same content is stored once)."""
    added, missing = [], []
    with engine.begin() as conn:
        docs = account_records(conn, account_id, network)
        media = account_media(conn, account_id)
        stamp = now()
        rows = []
        for kind, doc in docs.items():
            sha = _store_blob(conn, vault, _canonical(doc))
            rows.append({"kind": kind, "ref": sha[:32], "sha256": sha})
        for m in media:
            path = Path(m["uri"] or "")
            if not m["uri"] or not path.is_file():
                missing.append(m["id"])
                continue
            sha = _store_blob(conn, vault, path.read_bytes())
            rows.append({"kind": "media", "ref": m["id"], "sha256": sha})
        existing = {(r.kind, r.ref) for r in conn.execute(
            select(ei.c.kind, ei.c.ref).where(ei.c.case_id == case_id, ei.c.account_id == account_id))}
        new = [r for r in rows if (r["kind"], r["ref"]) not in existing]
        retain = _retain_for(conn, account_id, case_id)
        insert_ignore(conn, ei, [{"case_id": case_id, "account_id": account_id, "preserved_at": stamp,
                                  "retain_until": retain, "expired_at": None, **r} for r in new],
                      keys=["case_id", "account_id", "kind", "ref"])
        added = [r["kind"] + ":" + r["ref"] for r in new]
        audit.append(conn, actor, "evidence.preserve", "account", account_id,
                     {"case_id": case_id, "added": len(new), "items": len(rows), "missing_media": missing})
    return {"account_id": account_id, "case_id": case_id, "items": len(rows), "added": len(added),
            "missing_media": missing}


def _retain_for(conn: Connection, account_id: str, case_id: str) -> str | None:
    fin = conn.scalar(select(func.max(ncmec_reports.c.finished_at)).where(
        ncmec_reports.c.account_id == account_id, ncmec_reports.c.state == "finished"))
    return fmt_time(parse_time(fin) + RETENTION) if fin else None


def start_retention(conn: Connection, account_id: str, receipt_time: str) -> int:
    """Set retain_until = receipt + 1 year on the account's items (called with the /finish receipt)."""
    until = fmt_time(parse_time(receipt_time) + RETENTION)
    res = conn.execute(update(ei).where(ei.c.account_id == account_id, ei.c.expired_at.is_(None),
                                        or_(ei.c.retain_until.is_(None), ei.c.retain_until < until))
                       .values(retain_until=until))
    return res.rowcount


def hold(engine: Engine, *, case_id: str = "", account_id: str = "", reason: str, actor: str) -> int:
    if not case_id and not account_id:
        raise UserError("A legal hold needs --case or --account; name what the hold covers.")
    with engine.begin() as conn:
        r = conn.execute(eh.insert().values(case_id=case_id, account_id=account_id, reason=reason,
                                            placed_by=actor, placed_at=now()))
        hid = r.inserted_primary_key[0]
        audit.append(conn, actor, "evidence.hold", "hold", str(hid),
                     {"case_id": case_id, "account_id": account_id, "reason": reason})
    return hid


def release(engine: Engine, hold_id: int, actor: str) -> None:
    with engine.begin() as conn:
        res = conn.execute(update(eh).where(eh.c.id == hold_id, eh.c.released_at.is_(None))
                           .values(released_at=now(), released_by=actor))
        if res.rowcount != 1:
            raise UserError(f"Legal hold {hold_id} does not exist or is already released; list holds with `evidence holds`.")
        audit.append(conn, actor, "evidence.release", "hold", str(hold_id), {})


def expire(engine: Engine, vault: Vault, *, as_of: str | None = None, actor: str = "system:evidence") -> dict:
    """Delete items past retain_until that no active legal hold covers; delete unreferenced blobs."""
    as_of = as_of or now()
    with engine.begin() as conn:
        held_cases = set(conn.scalars(select(eh.c.case_id).where(eh.c.released_at.is_(None), eh.c.case_id != "")))
        held_accts = set(conn.scalars(select(eh.c.account_id).where(eh.c.released_at.is_(None), eh.c.account_id != "")))
        due = conn.execute(select(ei).where(ei.c.expired_at.is_(None), ei.c.retain_until.is_not(None),
                                            ei.c.retain_until <= as_of)).all()
        expired, held = [], 0
        for r in due:
            if r.case_id in held_cases or r.account_id in held_accts:
                held += 1
                continue
            expired.append(r.id)
        if expired:
            conn.execute(update(ei).where(ei.c.id.in_(expired)).values(expired_at=now()))
        live = set(conn.scalars(select(ei.c.sha256).where(ei.c.expired_at.is_(None))))
        dead = [s for s in conn.scalars(select(eb.c.sha256).where(eb.c.deleted_at.is_(None))) if s not in live]
        for sha in dead:
            vault.delete(sha)
        if dead:
            conn.execute(update(eb).where(eb.c.sha256.in_(dead)).values(deleted_at=now()))
        audit.append(conn, actor, "evidence.expire", "vault", "", {"as_of": as_of, "items": len(expired),
                                                                    "blobs": len(dead), "held": held})
    return {"as_of": as_of, "expired_items": len(expired), "deleted_blobs": len(dead), "kept_by_hold": held}


def verify(engine: Engine, vault: Vault, actor: str = "system:evidence") -> dict:
    """Decrypt every live blob and re-check its SHA-256; list every problem."""
    problems = []
    with engine.connect() as conn:
        shas = list(conn.scalars(select(eb.c.sha256).where(eb.c.deleted_at.is_(None)).order_by(eb.c.sha256)))
    for sha in shas:
        try:
            vault.get(sha)
        except ValueError as e:
            problems.append({"sha256": sha, "problem": str(e)})
    with engine.begin() as conn:
        audit.append(conn, actor, "evidence.verify", "vault", "", {"blobs": len(shas), "problems": len(problems)})
    return {"ok": not problems, "blobs": len(shas), "problems": problems}


def rotate(engine: Engine, vault: Vault, actor: str) -> dict:
    """Re-encrypt every live blob not under the current key (resumable: each file is replaced atomically)."""
    done = 0
    with engine.connect() as conn:
        shas = list(conn.scalars(select(eb.c.sha256).where(eb.c.deleted_at.is_(None))))
    for sha in shas:
        if vault.file_key_id(sha) != vault.keyring.current_id:
            vault.reencrypt(sha)
            done += 1
        with engine.begin() as conn:
            conn.execute(update(eb).where(eb.c.sha256 == sha).values(key_id=vault.keyring.current_id))
    with engine.begin() as conn:
        audit.append(conn, actor, "evidence.rotate", "vault", "", {"reencrypted": done,
                                                                    "key_id": vault.keyring.current_id})
    return {"reencrypted": done, "blobs": len(shas), "key_id": vault.keyring.current_id}


def read(engine: Engine, vault: Vault, sha: str, actor: str, purpose: str) -> bytes:
    """Read one preserved blob; the access is audited."""
    data = vault.get(sha)
    with engine.begin() as conn:
        audit.append(conn, actor, "evidence.read", "evidence", sha, {"purpose": purpose})
    return data


def load_signing_key(settings: Settings | None = None) -> Ed25519PrivateKey:
    """The key the signing_key_file setting names (None: the settings loaded now)."""
    path = (settings if settings is not None else load()).signing_key_file
    if not path or not Path(path).is_file():
        raise UserError("No package signing key: set NETWARDEN_SIGNING_KEY_FILE to an Ed25519 PEM private key "
                        "(create one with `netwarden evidence keygen --signing FILE`).")
    try:
        key = load_pem_private_key(Path(path).read_bytes(), password=None)
    except ValueError:
        raise UserError(f"{path} is not a PEM private key; create one with `netwarden evidence keygen --signing FILE`.") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UserError(f"{path} is not an Ed25519 key; create one with `netwarden evidence keygen --signing FILE`.")
    return key


def package(engine: Engine, vault: Vault, case_id: str, out: Path, actor: str, signing_key: Ed25519PrivateKey,
            purpose: str) -> dict:
    """Write a case's evidence, report receipts and audit extract as a .tar.gz with a signed manifest.

    manifest.json lists every file with its SHA-256; manifest.sig is the Ed25519 signature of the
    manifest's bytes and signing-key.pub the raw public key (hex), so a recipient can check both.
    """
    from ..store.tables_enforce import ncmec_responses

    with engine.connect() as conn:
        items = [dict(r._mapping) for r in conn.execute(
            select(ei).where(ei.c.case_id == case_id, ei.c.expired_at.is_(None)).order_by(ei.c.id))]
        if not items:
            raise UserError(f"Case {case_id} has no preserved evidence; run `netwarden evidence preserve` first.")
        accounts = sorted({i["account_id"] for i in items})
        reports = [dict(r._mapping) for r in conn.execute(
            select(ncmec_reports).where(or_(ncmec_reports.c.case_id == case_id,
                                            ncmec_reports.c.account_id.in_(accounts))))]
        responses = [dict(r._mapping) for r in conn.execute(
            select(ncmec_responses).where(ncmec_responses.c.report_id.in_([r["id"] for r in reports]))
            .order_by(ncmec_responses.c.id))] if reports else []
        trail = []
        for a in accounts:
            trail += audit.entries(conn, subject_type="account", subject_id=a, limit=100000)
        trail += audit.entries(conn, subject_type="case", subject_id=case_id, limit=100000)
        trail.sort(key=lambda e: e["seq"])
    files: dict[str, bytes] = {}
    for i in items:
        data = vault.get(i["sha256"])
        ext = "json" if i["kind"] != "media" else "bin"
        files[f"evidence/{i['account_id']}/{i['kind']}-{i['ref']}.{ext}"] = data
    files["evidence/items.json"] = _canonical(items)
    files["reports/ncmec_reports.json"] = _canonical(reports)
    files["reports/ncmec_responses.json"] = _canonical(responses)
    files["audit/extract.json"] = _canonical(trail)
    manifest = {"case_id": case_id, "created_at": now(), "created_by": actor, "purpose": purpose,
                "algorithm": "sha256", "signature": "ed25519",
                "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}}
    mbytes = json.dumps(manifest, sort_keys=True, indent=2).encode()
    sig = signing_key.sign(mbytes)
    pub = signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    files["manifest.json"] = mbytes
    files["manifest.sig"] = sig.hex().encode()
    files["signing-key.pub"] = pub.hex().encode()
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    with tarfile.open(tmp, "w:gz") as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(f"case-{case_id}/{name}")
            info.size = len(files[name])
            info.mtime = 0
            tar.addfile(info, io.BytesIO(files[name]))
    os.replace(tmp, out)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    with engine.begin() as conn:
        audit.append(conn, actor, "evidence.package", "case", case_id,
                     {"out": str(out), "sha256": digest, "files": len(files), "purpose": purpose,
                      "manifest_sha256": hashlib.sha256(mbytes).hexdigest()})
    return {"out": str(out), "files": len(files), "sha256": digest, "signature": "ed25519"}


def check_package(path: Path) -> dict:
    """Check a package's signature and every file digest (what a recipient does)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    with tarfile.open(path, "r:gz") as tar:
        members = {m.name.split("/", 1)[1]: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    mbytes = members["manifest.json"]
    pub = Ed25519PublicKey.from_public_bytes(bytes.fromhex(members["signing-key.pub"].decode()))
    pub.verify(bytes.fromhex(members["manifest.sig"].decode()), mbytes)  # raises InvalidSignature
    manifest = json.loads(mbytes)
    bad = [n for n, h in manifest["files"].items() if hashlib.sha256(members.get(n, b"")).hexdigest() != h]
    return {"ok": not bad, "bad": bad, "files": len(manifest["files"])}
