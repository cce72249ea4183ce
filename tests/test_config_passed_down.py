"""Settings from the config file reach their readers, passed down by their face, without going
through the environment."""

import json
import os
from dataclasses import fields
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from netwarden.cli import app
from netwarden.cli.demo_cmd import DEMO_TERMS
from netwarden.config import CONFIG_ENV, Settings, env_name

TESTS = Path(__file__).parent


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in [CONFIG_ENV, *(env_name(f.name) for f in fields(Settings))]:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _config(config_dir: Path, **values) -> Path:
    """A netwarden.toml in config_dir with `values` and a store beside it; the store's URL."""
    lines = [f"{k} = {json.dumps(v)}" for k, v in {"db": str(config_dir / "nw.db"), **values}.items()]
    (config_dir / "netwarden.toml").write_text("\n".join(lines) + "\n")
    return config_dir / "nw.db"


def _invoke(*args: str) -> None:
    res = CliRunner().invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output


def _reports(db: Path) -> dict[str, tuple[str, str]]:
    from netwarden.store import open_store
    from netwarden.store.tables_reports import reports

    store = open_store(f"sqlite:///{db}")
    with store.engine.connect() as c:
        rows = {r.id: (r.account_id, r.category) for r in c.execute(select(reports))}
    store.close()
    return rows


def _spy_text_hook(monkeypatch) -> list:
    from netwarden.ingest import rescan, text_signals

    seen: list = []
    real = text_signals.TextSignals

    class Spy(real):
        def __init__(self, store, terms_path=None):
            super().__init__(store, terms_path)
            seen.append((terms_path, self.source is not None))

    monkeypatch.setattr(text_signals, "TextSignals", Spy)
    monkeypatch.setattr(rescan, "TextSignals", Spy)
    return seen


@pytest.mark.parametrize("command", ["ingest", "rescan"])
def test_config_file_terms_reach_the_text_hook(config_dir, monkeypatch, command):
    (config_dir / "netwarden.toml").write_text(f'terms = "{DEMO_TERMS}"\ndb = "{config_dir / "nw.db"}"\n')
    seen = _spy_text_hook(monkeypatch)
    (config_dir / "events.jsonl").write_text(
        '{"v": 1, "id": "e1", "kind": "account", "time": "2026-01-01T00:00:00Z", "data": {"id": "a", "handle": "h"}}\n')
    args = ["ingest", str(config_dir / "events.jsonl"), "--no-graph"] if command == "ingest" else ["rescan"]
    res = CliRunner().invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    assert seen == [(str(DEMO_TERMS), True)]
    assert "NETWARDEN_TERMS" not in os.environ


def test_the_option_beats_the_config_file(config_dir, monkeypatch):
    (config_dir / "netwarden.toml").write_text(f'terms = "{config_dir / "absent.yaml"}"\ndb = "{config_dir / "nw.db"}"\n')
    seen = _spy_text_hook(monkeypatch)
    res = CliRunner().invoke(app, ["rescan", "--terms", str(DEMO_TERMS), "--json"])
    assert res.exit_code == 0, res.output
    assert seen == [(str(DEMO_TERMS), True)]


# a Coop report body (roostorg/coop docs/api/report.md): the reported item is a post by author-1
BODY = {"reporter": {"kind": "user", "typeId": "reporter-type", "id": "reporter-1"},
        "reportedAt": "2024-01-15T10:30:00.000Z", "reportedForReason": {"policyId": "p", "csam": True},
        "reportedItem": {"id": "reported-item-id", "typeId": "item-type-id",
                         "data": {"creatorId": {"id": "author-1", "typeId": "user-type"}}}}


def _coop_file(config_dir: Path) -> Path:
    path = config_dir / "coop.jsonl"
    path.write_text(json.dumps(BODY) + "\n")
    return path


@pytest.mark.parametrize("command", ["ingest", "report-intake"])
def test_config_file_coop_user_types_reach_the_coop_format(config_dir, command):
    path = _coop_file(config_dir)
    db = _config(config_dir)
    _invoke(command, str(path), "--format", "coop", *(["--no-graph"] if command == "ingest" else []))
    assert [a for a, _ in _reports(db).values()] == ["author-1"]  # the post's author
    db = _config(config_dir, coop_user_types=["item-type-id"])
    db.unlink()
    _invoke(command, str(path), "--format", "coop", *(["--no-graph"] if command == "ingest" else []))
    assert [a for a, _ in _reports(db).values()] == ["reported-item-id"]  # a listed type: the account itself
    assert "NETWARDEN_COOP_USER_TYPES" not in os.environ


def test_config_file_coop_user_types_reach_the_http_intake(config_dir):
    from fastapi.testclient import TestClient

    from netwarden.config import load
    from netwarden.web.app import create_app

    db = _config(config_dir, coop_user_types=["item-type-id"], api_keys="intake=k-1")
    app_ = create_app(db_url=f"sqlite:///{db}", settings=load())
    app_.state.api_keys = ["k-1"]
    r = TestClient(app_).post("/api/v1/report", json=BODY, headers={"X-API-KEY": "k-1"})
    assert r.status_code < 300, r.text
    app_.state.store.close()
    assert [a for a, _ in _reports(db).values()] == ["reported-item-id"]


def test_config_file_mastodon_rules_reach_the_mastodon_format(config_dir):
    fixture = TESTS / "ingest" / "fixtures" / "mastodon" / "admin_reports.json"
    db = _config(config_dir, mastodon_child_safety_rules=["7"])
    _invoke("ingest", str(fixture), "--format", "mastodon", "--no-graph")
    assert _reports(db)["mastodon:4"][1] == "child_sexual_exploitation"
    (config_dir / "netwarden.toml").unlink()
    db.unlink()
    _invoke("ingest", str(fixture), "--format", "mastodon", "--no-graph", "--db", str(db))
    assert _reports(db)["mastodon:4"][1] == "violation"
    assert "NETWARDEN_MASTODON_CHILD_SAFETY_RULES" not in os.environ


def _image_world(config_dir: Path) -> Path:
    """Events with one account and a post carrying one red image (the classifier double scores it high)."""
    from PIL import Image

    Image.new("RGB", (128, 128), (230, 20, 20)).save(config_dir / "red.png")
    ev = [{"v": 1, "id": "e1", "kind": "account", "time": "2026-01-01T00:00:00Z", "data": {"id": "a1", "handle": "h", "created_at": "2025-06-01T00:00:00Z"}},
          {"v": 1, "id": "e2", "kind": "post", "time": "2026-01-01T00:00:01Z",
           "data": {"id": "p1", "author_id": "a1", "text": "x", "created_at": "2026-01-01T00:00:01Z", "media": [{"id": "m1", "kind": "photo", "uri": "red.png"}]}}]
    path = config_dir / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in ev))
    return path


def _media_rows(db: Path) -> tuple[dict, list[str]]:
    from netwarden.store import open_store
    from netwarden.store.schema import signals
    from netwarden.store.tables_media import media_hashes

    store = open_store(f"sqlite:///{db}")
    with store.engine.connect() as c:
        hashes = {r.media_id: r.error_reason for r in c.execute(select(media_hashes))}
        kinds = sorted({r.kind for r in c.execute(select(signals))})
    store.close()
    return hashes, kinds


def test_config_file_media_limits_and_classifier_reach_the_ingest_hook(config_dir, monkeypatch):
    from netwarden.ingest import media_signals

    seen = []
    real = media_signals.MediaSignals.__init__

    def spy(self, *a, **kw):
        real(self, *a, **kw)
        seen.append((self.threads, self.cache_size, self.limits, self.threshold))

    monkeypatch.setattr(media_signals.MediaSignals, "__init__", spy)
    events = _image_world(config_dir)
    db = _config(config_dir, media_threads=1, media_cache=5, media_max_pixels=1000, media_time_limit=3.5)
    _invoke("ingest", str(events), "--no-graph")
    from netwarden.media.decode import MAX_BYTES, Limits

    assert seen == [(1, 5, Limits(MAX_BYTES, 1000, 3.5), 0.8)]
    assert _media_rows(db)[0] == {"m1": "too_many_pixels"}  # 128x128 > 1000 pixels
    db.unlink()
    _config(config_dir, media_max_bytes=10)
    _invoke("ingest", str(events), "--no-graph")
    assert _media_rows(db)[0] == {"m1": "too_big"}
    db.unlink()
    _config(config_dir, classifier="netwarden.media.classifier:PixelPropertyDouble")
    _invoke("ingest", str(events), "--no-graph")
    assert _media_rows(db) == ({"m1": None}, ["media_classifier"])
    db.unlink()
    _config(config_dir, classifier="netwarden.media.classifier:PixelPropertyDouble", classifier_threshold=1.5)
    _invoke("ingest", str(events), "--no-graph")
    assert _media_rows(db) == ({"m1": None}, [])
    assert not [k for k in os.environ if k.startswith("NETWARDEN_MEDIA") or k.startswith("NETWARDEN_CLASSIFIER")]


def test_config_file_media_limits_reach_media_hash(config_dir):
    _image_world(config_dir)
    _config(config_dir, media_max_pixels=1000)
    res = CliRunner().invoke(app, ["hash", str(config_dir / "red.png"), "--json"])
    assert res.exit_code == 1 and json.loads(res.output)[0]["error_reason"] == "too_many_pixels", res.output
    _config(config_dir)
    res = CliRunner().invoke(app, ["hash", str(config_dir / "red.png"), "--json"])
    assert res.exit_code == 0 and json.loads(res.output)[0]["error_reason"] is None, res.output


def test_config_file_hma_settings_reach_the_hma_api(config_dir, monkeypatch):
    from fastapi.testclient import TestClient

    from netwarden import fetch
    from netwarden.web.app import app_from_env

    _image_world(config_dir)
    _config(config_dir, api_keys="ops=k-9", media_max_bytes=100, fetch_allow_hosts="files.example",
            fetch_allow_private="10.0.0.0/8", fetch_deadline=2.5)
    app_ = app_from_env()
    c = TestClient(app_)
    assert c.get("/c/banks").status_code == 401
    c.headers["X-API-Key"] = "k-9"
    assert c.get("/c/banks").status_code == 200
    up = c.post("/h/hash", files={"photo": ("red.png", (config_dir / "red.png").read_bytes(), "image/png")})
    assert up.status_code == 413  # larger than media_max_bytes
    calls = []

    def fake(url, max_bytes, *, allow, nets, deadline):
        calls.append((max_bytes, allow, [str(n) for n in nets], deadline))
        raise fetch.Refused("test")

    monkeypatch.setattr(fetch, "fetch", fake)
    assert c.get("/h/hash", params={"url": "https://files.example/a.png"}).status_code == 400
    assert calls == [(100, {fetch.Origin("https", "files.example", 443)}, ["10.0.0.0/8"], 2.5)]
    app_.state.store.close()


def test_config_file_password_reaches_user_add(config_dir):
    from netwarden.store import open_store
    from netwarden.web.auth import authenticate

    db = _config(config_dir, password="a config-file password")
    res = CliRunner().invoke(app, ["user", "add", "rev1", "--role", "moderator", "--json"])
    assert res.exit_code == 0, res.output
    assert "password" not in json.loads(res.output)  # none generated: the setting's was used
    store = open_store(f"sqlite:///{db}")
    with store.engine.connect() as conn:
        assert authenticate(conn, "rev1", "a config-file password") is not None
    store.close()


@pytest.mark.parametrize("values, want", [
    ({"dryrun_log": "actions.log"}, ("dryrun", "log_file", Path("actions.log"))),
    ({"enforce_adapter": "webhook", "webhook_url": "http://127.0.0.1:9/hook", "webhook_secret": "s"},
     ("webhook", "url", "http://127.0.0.1:9/hook")),
    ({"enforce_adapter": "mastodon", "mastodon_url": "http://127.0.0.1:9", "mastodon_token": "t"},
     ("mastodon", "client", None)),
])
def test_config_file_adapter_settings_reach_enforce_run(config_dir, monkeypatch, values, want):
    from netwarden.enforce import worker

    made = []

    class Done:
        done = retried = failed = 0

        def as_dict(self):
            return {}

    def fake_run(engine, adapter, **kw):
        made.append(adapter)
        return Done()

    monkeypatch.setattr(worker, "run", fake_run)
    _config(config_dir, **values)
    _invoke("enforce", "run")
    name, attr, value = want
    got = getattr(made[0], attr)
    if name == "mastodon":  # the server and the token, as the client carries them
        got, value = (str(got.base_url), got.headers["authorization"]), ("http://127.0.0.1:9", "Bearer t")
    assert made[0].name == name and got == value


def test_config_file_adapter_missing_setting_is_one_sentence(config_dir):
    _config(config_dir, enforce_adapter="webhook")
    res = CliRunner().invoke(app, ["enforce", "run", "--json"])
    assert res.exit_code != 0 and "webhook adapter is not configured" in str(res.exception or res.output)


def _keys(config_dir: Path) -> dict:
    """Vault and signing keys in files, as config-file values (the vault under config_dir/vault)."""
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    (config_dir / "vault.keys").write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
    (config_dir / "signing.pem").write_bytes(
        Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return {"vault_dir": str(config_dir / "vault"), "vault_key_file": str(config_dir / "vault.keys"),
            "signing_key_file": str(config_dir / "signing.pem")}


def test_config_file_vault_settings_reach_the_evidence_commands(config_dir):
    events = _image_world(config_dir)
    _config(config_dir)
    _invoke("ingest", str(events), "--no-signals", "--no-graph")
    res = CliRunner().invoke(app, ["evidence", "preserve", "--account", "a1", "--by", "legal1", "--json"])
    assert res.exit_code != 0 and "No vault key" in str(res.exception or res.output)  # no key configured
    _config(config_dir, **_keys(config_dir))
    _invoke("evidence", "preserve", "--account", "a1", "--case", "c1", "--by", "legal1")
    assert any((config_dir / "vault").rglob("*"))  # the configured vault, not ./netwarden-vault
    assert not (config_dir / "netwarden-vault").exists()
    _invoke("evidence", "package", "--case", "c1", "--out", str(config_dir / "c1.tar.gz"), "--purpose", "test",
            "--by", "legal1")
    assert (config_dir / "c1.tar.gz").is_file()  # signed with the configured signing key
    assert not [k for k in os.environ if k.startswith(("NETWARDEN_VAULT", "NETWARDEN_SIGNING"))]


def test_config_file_ncmec_settings_reach_build_and_send(config_dir, monkeypatch):
    from netwarden.report import ncmec_flow

    events = _image_world(config_dir)
    _config(config_dir)
    _invoke("ingest", str(events), "--no-signals", "--no-graph")
    values = {"ncmec_reporter_email": "tns@example.invalid", "ncmec_reporter_first_name": "Ada",
              "ncmec_url": "http://127.0.0.1:9/ispws", "ncmec_user": "esp", "ncmec_password": "pw", **_keys(config_dir)}
    _config(config_dir, **values, ncmec_xsd=str(config_dir / "absent.xsd"))
    res = CliRunner().invoke(app, ["report", "ncmec", "build", "--account", "a1", "--by", "t", "--json"])
    assert res.exit_code != 0 and "absent.xsd" in str(res.exception or res.output)  # the configured schema is used
    _config(config_dir, **values)
    _invoke("report", "ncmec", "build", "--account", "a1", "--by", "t", "--out", str(config_dir / "r.xml"))
    xml = (config_dir / "r.xml").read_text()
    assert "tns@example.invalid" in xml and "Ada" in xml
    sent = []
    monkeypatch.setattr(ncmec_flow, "send", lambda engine, client, rid, **kw: sent.append((client, kw)) or
                        {"state": "finished", "ncmec_report_id": 1})
    _invoke("report", "ncmec", "send", "--account", "a1", "--by", "t")
    client, kw = sent[0]
    assert (client.base_url, client.environment) == ("http://127.0.0.1:9/ispws", "test")
    assert kw["settings"].vault_dir == str(config_dir / "vault")
    assert not [k for k in os.environ if k.startswith("NETWARDEN_NCMEC")]


@pytest.mark.parametrize("quick", [False, True])
def test_config_file_graph_dir_reaches_the_snapshot(config_dir, monkeypatch, capsys, quick):
    events = _image_world(config_dir)
    _config(config_dir, graph_dir=str(config_dir / "snapshots"))
    _invoke("ingest", str(events), "--no-signals", "--no-graph")
    _invoke("graph", "build")
    assert any((config_dir / "snapshots").iterdir()) and not (config_dir / "nw.db.graph").exists()
    res = CliRunner().invoke(app, ["graph", "status", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["state"] == "current", res.output
    if quick:  # the typer-free expand (cli/quick.py) opens the store with the same setting
        from netwarden.cli import quick as q
        from netwarden.graph import snapshot

        roots = []
        real = snapshot.root_for
        monkeypatch.setattr(snapshot, "root_for", lambda store: roots.append(real(store)) or roots[-1])
        assert q.expand(["--seed", "a1", "--json"])
        assert roots == [config_dir / "snapshots"] and json.loads(capsys.readouterr().out)["seeds"] == ["a1"]
    _config(config_dir, graph_dir="off")
    res = CliRunner().invoke(app, ["graph", "status", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["state"] == "disabled", res.output
    assert "NETWARDEN_GRAPH_DIR" not in os.environ


@pytest.mark.parametrize("quick", [False, True])
def test_config_file_kernel_dir_reaches_graph_build_and_the_push(config_dir, monkeypatch, capsys, quick):
    """kernel_dir from the config file: `graph build` compiles the push kernel there, and an expansion
    (the typer app's and the typer-free one) loads it from there, with nothing written to os.environ."""
    from netwarden.graph import push

    kernels = TESTS.parent / ".pytest_cache" / "netwarden-kernels"  # shared with the other tests: compiled once
    events = _image_world(config_dir)
    _config(config_dir, kernel_dir=str(kernels))
    _invoke("ingest", str(events), "--no-signals", "--no-graph")
    res = CliRunner().invoke(app, ["graph", "build", "--json"])
    assert res.exit_code == 0, res.output
    assert Path(json.loads(res.stdout)["kernel"]).parent == kernels
    monkeypatch.setattr(push, "_loaded", {})
    if quick:
        from netwarden.cli import quick as q

        assert q.expand(["--seed", "a1", "--json"])
        assert json.loads(capsys.readouterr().out)["seeds"] == ["a1"]
    else:
        _invoke("expand", "--seed", "a1")
    assert push._loaded.get(("aot", kernels)) is not None and "jit" not in push._loaded
    assert "NETWARDEN_KERNEL_DIR" not in os.environ


@pytest.mark.parametrize("job, app_name", [("sweep", "netwarden-sweep"), ("evasion", "netwarden-evasion"),
                                           ("retro-match", "netwarden-retro-match")])
def test_config_file_spark_settings_reach_the_spark_session(config_dir, monkeypatch, job, app_name):
    pytest.importorskip("pyspark")
    from netwarden.errors import UserError
    from netwarden.scale import spark_common

    jar = config_dir / "pg.jar"
    jar.write_bytes(b"")
    _config(config_dir, spark_driver_memory="3g", spark_jdbc_jar=str(jar), spark_jdbc_partitions=3)
    seen = []

    def fake(master, app, settings=None, **kw):  # records the conf the real session would start with
        seen.append((app, spark_common.session_conf(settings)))
        raise UserError("no Spark in this test")

    monkeypatch.setattr(spark_common, "spark_session", fake)
    res = CliRunner().invoke(app, ["spark", job, "--json"])
    assert res.exit_code != 0 and "no Spark in this test" in str(res.exception)
    assert seen == [(app_name, {"spark.driver.memory": "3g", spark_common.PARTITIONS_CONF: "3", "spark.jars": str(jar),
                                spark_common.JAR_CONF: str(jar)})]
    assert not [k for k in os.environ if k.startswith("NETWARDEN_SPARK")]


def test_the_readers_take_the_jdbc_settings_from_the_session():
    from netwarden.scale import spark_common

    class Conf(dict):
        def get(self, key, default=None):
            return super().get(key, default)

    class Session:
        def __init__(self, conf, jars):
            self.conf = Conf(conf)
            self.sparkContext = type("Ctx", (), {"getConf": lambda _s: Conf({"spark.jars": jars})})()

    started = Session(spark_common.session_conf(Settings(spark_jdbc_jar=__file__, spark_jdbc_partitions=5)), __file__)
    assert spark_common.jdbc_partitions(started) == 5 and spark_common._jdbc_loaded(started)
    assert spark_common.jdbc_partitions(Session({}, "")) == spark_common.JDBC_PARTITIONS
    assert not spark_common._jdbc_loaded(Session({}, __file__))  # no jar in its settings: rows go through the driver
