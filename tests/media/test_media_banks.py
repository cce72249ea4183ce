"""Banks in the store, the `netwarden hash|match|bank` commands, and the ingest hook."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from netwarden.cli import app
from netwarden.ingest.batch import Batch
from netwarden.ingest.media_signals import MediaSignals
from netwarden.media.hashing import hash_file
from netwarden.media.signals import normalize, read_csv
from netwarden.store.schema import signals
from netwarden.store.tables import metadata
from netwarden.store.tables_media import media_hashes

TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "testdata"
BRIDGE = TESTDATA / "pdq" / "bridge-mods"
runner = CliRunner()


def cli(*args: str) -> dict | list:
    r = runner.invoke(app, [*args, "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def abstract_image(seed: int, size: int = 256) -> Image.Image:
    """A generated stand-in image: random blocks, smoothed; different seeds differ a lot."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    return Image.fromarray(small, "RGB").resize((size, size), Image.Resampling.BICUBIC)


def test_csv_parsing_and_threatexchange_names():
    text = ("signal_type,signal,label\n"
            "pdq,F8F8F0CEE0F4A84F06370A22038F63F0B36E2ED596621E1D33E6B39C4E9C9B22,a\n"
            "video_md5,d41d8cd98f00b204e9800998ecf8427e,b\n"
            "photo_md5 d41d8cd98f00b204e9800998ecf8427f\n"
            "pdq,nothex,c\n"
            "url,https://example.invalid/,d\n"
            "sha1,da39a3ee5e6b4b0d3255bfef95601890afd80709,e\n")
    rows, problems = read_csv(text, "x.csv")
    assert [(r.signal_type, r.label) for r in rows] == [("pdq", "a"), ("md5", "b"), ("md5", ""), ("url", "d")]
    assert rows[0].signal == rows[0].signal.lower()
    assert len(problems) == 2 and "line 5" in problems[0] and "line 7" in problems[1]
    assert normalize("video_sha256", "a" * 64) == ("sha256", "a" * 64)


def test_bank_commands_and_match(tmp_path):
    db = str(tmp_path / "nw.db")
    orig = BRIDGE / "aaa-orig.jpg"
    h = hash_file(orig, fast=False)
    csv_path = tmp_path / "bank.csv"
    csv_path.write_text(f"signal_type,signal,label\npdq,{h.pdq},demo-known\nmd5,{h.md5},demo-known\n")

    assert cli("bank", "create", "known", "--label", "demo", "--db", db)["threshold"] == 31
    imp = cli("bank", "import", "known", str(csv_path), "--db", db)
    assert imp["added"] == 2
    assert cli("bank", "import", "known", str(csv_path), "--db", db)["added"] == 0  # idempotent
    banks = cli("bank", "list", "--db", db)
    assert banks[0]["name"] == "known" and banks[0]["entries"] == 2

    res = cli("match", str(orig), str(BRIDGE / "blur-a-lot.jpg"), str(TESTDATA / "pdq" / "misc-images" / "small.jpg"),
              "--db", db)
    exact = {(m["signal_type"], m["distance"], m["variant"]) for m in res[0]["matches"]}
    assert ("md5", 0, "bytes") in exact and ("pdq", 0, "orig") in exact
    assert res[1]["matches"][0]["signal_type"] == "pdq" and 0 < res[1]["matches"][0]["distance"] <= 31
    assert res[2]["unusable"] and res[2]["matches"] == []

    # a rotated copy matches through a dihedral variant
    rot = tmp_path / "rot.png"
    Image.open(orig).transpose(Image.Transpose.ROTATE_90).save(rot)
    m = cli("match", str(rot), "--db", db)[0]["matches"]
    assert m and m[0]["variant"] != "orig"

    # negative bank suppresses
    cli("bank", "create", "fp", "--negative", "--db", db)
    cli("bank", "add", "fp", "--file", str(BRIDGE / "blur-a-lot.jpg"), "--db", db)
    r = cli("match", str(BRIDGE / "blur-a-lot.jpg"), "--db", db)[0]
    assert r["matches"] == [] and r["suppressed"] and r["negatives"][0]["bank"] == "fp"

    # disable, threshold, remove, export
    cli("bank", "set", "fp", "--disable", "--db", db)
    assert cli("match", str(BRIDGE / "blur-a-lot.jpg"), "--db", db)[0]["matches"]
    cli("bank", "set", "known", "--threshold", "0", "--db", db)
    assert not [x for x in cli("match", str(BRIDGE / "blur-a-lot.jpg"), "--db", db)[0]["matches"] if x["signal_type"] == "pdq"]
    assert cli("bank", "remove", "known", "md5", h.md5, "--db", db)["removed"] == 1
    out = tmp_path / "out.csv"
    cli("bank", "export", "known", "--out", str(out), "--db", db)
    assert out.read_text().splitlines() == ["signal_type,signal,label", f"pdq,{h.pdq},demo-known"]


def test_cli_errors_are_one_sentence(tmp_path):
    db = str(tmp_path / "nw.db")
    from netwarden.errors import UserError

    for args in (["bank", "import", "nope", str(tmp_path / "missing.csv")], ["bank", "add", "nope", "pdq", "zz"],
                 ["bank", "export", "nope"]):
        try:
            runner.invoke(app, [*args, "--db", db], catch_exceptions=False)
        except UserError as e:
            assert str(e).endswith(".") and "\n" not in str(e)
        else:
            raise AssertionError(f"{args} did not fail")


def test_hash_command_json(tmp_path):
    bad = tmp_path / "notes.jpg"
    bad.write_text("plain text")
    r = runner.invoke(app, ["hash", str(BRIDGE / "aaa-orig.jpg"), str(bad), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out[0]["pdq"] == "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22" and out[0]["quality"] == 100
    assert out[1]["error_reason"] == "not_image" and out[1]["md5"]


class _Store:
    def __init__(self, engine):
        self.engine = engine


def test_ingest_hook_hashes_matches_and_is_idempotent(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'nw.db'}")
    metadata.create_all(engine)
    media_dir = tmp_path / "media"
    media_dir.mkdir()
    known, other = abstract_image(1), abstract_image(2)
    known.save(media_dir / "k.png")
    buf = io.BytesIO()
    known.resize((200, 200)).save(buf, "JPEG", quality=70)  # a re-encoded, resized copy
    (media_dir / "k2.jpg").write_bytes(buf.getvalue())
    other.save(media_dir / "o.png")
    (media_dir / "broken.jpg").write_bytes(b"not an image")

    from netwarden.store import media_banks as mb

    with engine.begin() as conn:
        b = mb.create_bank(conn, "known")
        h = hash_file(media_dir / "k.png")
        mb.add_entries(conn, b["id"], [("pdq", h.pdq, "demo"), ("md5", h.md5, "demo")])

    batch = Batch(media=[
        {"id": "m1", "uri": "media/k.png", "post_id": "p1", "account_id": "a1", "role": "post"},
        {"id": "m2", "uri": "media/k2.jpg", "post_id": "p2", "account_id": "a2", "role": "post"},
        {"id": "m3", "uri": "media/o.png", "post_id": "p3", "account_id": "a3", "role": "post"},
        {"id": "m4", "uri": "media/broken.jpg", "post_id": None, "account_id": "a4", "role": "avatar"},
        {"id": "m5", "uri": "https://example.invalid/x.jpg", "post_id": None, "account_id": "a5", "role": "header"},
    ], base_dir=str(tmp_path))
    hook = MediaSignals(_Store(engine))
    for _ in range(2):  # applying the same batch twice changes nothing
        with engine.begin() as conn:
            hook.on_batch(conn, batch)
    with engine.connect() as conn:
        sig = [dict(r) for r in conn.execute(select(signals)).mappings()]
        mh = {r.media_id: r for r in conn.execute(select(media_hashes))}
    assert set(mh) == {"m1", "m2", "m3", "m4", "m5"}
    assert mh["m4"].error_reason == "not_image" and mh["m5"].error_reason == "missing"
    subjects = {(s["subject_type"], s["subject_id"]) for s in sig}
    assert {("media", "m1"), ("post", "p1"), ("account", "a1"), ("media", "m2"), ("post", "p2"), ("account", "a2")} <= subjects
    assert not any(s["account_id"] in ("a3", "a4", "a5") for s in sig)
    d = json.loads(next(s for s in sig if s["subject_id"] == "m2")["detail"])
    assert d["bank"] == "known" and d["signal_type"] == "pdq" and d["variant"] and d["distance"] <= 31
    assert len(sig) == len({s["key"] for s in sig}) == 9  # m1: md5 + pdq on 3 subjects; m2: pdq on 3

    # an entry added later is matched for media seen in the next batch (incremental refresh)
    with engine.begin() as conn:
        mb.add_entries(conn, b["id"], [("pdq", hash_file(media_dir / "o.png").pdq, "later")])
        hook.on_batch(conn, Batch(media=[{"id": "m3", "uri": "media/o.png", "post_id": "p9", "account_id": "a3"}],
                                  base_dir=str(tmp_path)))
    with engine.connect() as conn:
        assert conn.execute(select(signals).where(signals.c.subject_id == "p9")).first() is not None


def test_classifier_hook_with_the_test_double(tmp_path):
    from netwarden.media.classifier import PixelPropertyDouble, load_classifier

    engine = create_engine(f"sqlite:///{tmp_path / 'nw.db'}")
    metadata.create_all(engine)
    red = Image.new("RGB", (128, 128), (230, 20, 20))
    red.paste((20, 20, 230), (0, 0, 30, 30))
    red.save(tmp_path / "red.png")
    abstract_image(3).save(tmp_path / "plain.png")
    hook = MediaSignals(_Store(engine), classifier=PixelPropertyDouble())
    batch = Batch(media=[{"id": "r", "uri": "red.png", "post_id": "p", "account_id": "a"},
                         {"id": "n", "uri": "plain.png", "post_id": "q", "account_id": "b"}], base_dir=str(tmp_path))
    with engine.begin() as conn:
        hook.on_batch(conn, batch)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(signals)).mappings()]
    assert {(r["kind"], r["subject_type"], r["subject_id"]) for r in rows} == {
        ("media_classifier", "media", "r"), ("media_classifier", "post", "p"), ("media_classifier", "account", "a")}
    assert json.loads(rows[0]["detail"])["classifier"] == "pixel-property-double"
    assert load_classifier("") is None
    assert isinstance(load_classifier("netwarden.media.classifier:PixelPropertyDouble"), PixelPropertyDouble)


def test_bank_fetch_through_threatexchange_exchanges(tmp_path):
    db = str(tmp_path / "nw.db")
    sample = cli("bank", "fetch", "tx-sample", "--exchange", "sample", "--db", db)
    assert sample["fetched"] > 0 and sample["added"] == sample["fetched"]
    f = tmp_path / "signals.txt"
    pdq = hash_file(BRIDGE / "aaa-orig.jpg").pdq
    f.write_text(f"pdq {pdq}\nvideo_md5 d41d8cd98f00b204e9800998ecf8427e\n")
    r = cli("bank", "fetch", "from-file", "--exchange", "file", "--set", f"filename={f}", "--db", db)
    assert r["added"] == 2
    m = cli("match", str(BRIDGE / "blur-a-lot.jpg"), "--db", db)[0]["matches"]
    assert any(x["bank"] == "from-file" for x in m)


@pytest.mark.slow
def test_world_bank_csv_import_and_match(tmp_path):
    world = tmp_path / "world"
    r = runner.invoke(app, ["world", "generate", "--out", str(world), "--accounts", "400", "--network-size", "20:40"])
    assert r.exit_code == 0, r.output
    db = str(tmp_path / "nw.db")
    imp = cli("bank", "import", "demo", str(world), "--db", db)  # a world folder: its bank.csv
    assert imp["added"] == imp["read"] > 0 and not imp["problems"]
    known = sorted((world / "media" / "known").iterdir())
    benign = sorted((world / "media" / "benign").iterdir())[:40]
    res = cli("match", *map(str, known + benign), "--db", db)
    assert all(x["matches"] for x in res[: len(known)])
    assert not any(x["matches"] for x in res[len(known):])


def test_bank_matcher_refresh_is_incremental_for_adds_and_reloads_on_removal(tmp_path):
    from netwarden.media.hashing import MediaHashes
    from netwarden.media.service import BankMatcher
    from netwarden.store import media_banks as mb

    engine = create_engine(f"sqlite:///{tmp_path / 'nw.db'}")
    metadata.create_all(engine)
    a, b = "a" * 32, "b" * 32
    bm = BankMatcher()
    with engine.begin() as conn:
        bank = mb.create_bank(conn, "k")
        mb.add_entries(conn, bank["id"], [("md5", a, "")])
    with engine.connect() as conn:
        m1 = bm.refresh(conn)
        assert bm.refresh(conn) is m1  # nothing changed: same matcher
    with engine.begin() as conn:
        mb.add_entries(conn, bank["id"], [("md5", b, "")])
        m2 = bm.refresh(conn)
    assert m2 is m1 and m2.match(MediaHashes(name="x", md5=b)).matches  # added in place
    with engine.begin() as conn:
        mb.remove_entries(conn, bank["id"], "md5", a)
        m3 = bm.refresh(conn)
    assert m3 is not m1 and not m3.match(MediaHashes(name="x", md5=a)).matches
    with engine.begin() as conn:
        mb.update_bank(conn, "k", enabled=False)
        assert not bm.refresh(conn).match(MediaHashes(name="x", md5=b)).matches


def test_bank_set_threshold_is_bounded(tmp_path):
    """`bank set --threshold` goes through the same bound as create and the HMA API (issue 14 item 7)."""
    from netwarden.errors import UserError

    db = str(tmp_path / "nw.db")
    runner.invoke(app, ["bank", "create", "b", "--db", db], catch_exceptions=False)
    for bad in ("100000", "-5"):
        with pytest.raises(UserError, match="out of range"):
            runner.invoke(app, ["bank", "set", "b", "--threshold", bad, "--db", db], catch_exceptions=False)
    r = runner.invoke(app, ["bank", "set", "b", "--threshold", "20", "--db", db], catch_exceptions=False)
    assert "threshold 20" in r.output


def test_every_cli_bank_change_is_audited(tmp_path):
    """Bank changes from the CLI are audited like the HMA API's, with the --as name (issue 14 item 7)."""
    from netwarden import audit
    from netwarden.store import open_store

    db = f"sqlite:///{tmp_path / 'nw.db'}"
    csv = tmp_path / "b.csv"
    csv.write_text(f"pdq,{'a' * 64},x\nmd5,{'b' * 32},y\n")
    for args in (["create", "k"], ["set", "k", "--threshold", "20"], ["import", "k", str(csv)],
                 ["add", "k", "md5", "c" * 32], ["remove", "k", "md5", "c" * 32]):
        r = runner.invoke(app, ["bank", *args, "--as", "alice", "--db", db], catch_exceptions=False)
        assert r.exit_code == 0, r.output
    s = open_store(db)
    with s.engine.connect() as conn:
        got = [(e["action"], e["actor"], e["subject_id"]) for e in sorted(audit.entries(conn), key=lambda e: e["seq"])]
        assert audit.verify(conn).ok
    s.close()
    assert got == [("bank.create", "cli:alice", "k"), ("bank.update", "cli:alice", "k"),
                   ("bank.import", "cli:alice", "k"), ("bank.entry.add", "cli:alice", "k"),
                   ("bank.entry.remove", "cli:alice", "k")]
