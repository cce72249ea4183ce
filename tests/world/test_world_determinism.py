"""Same seed and params give a byte-identical world; another seed gives another world."""

from __future__ import annotations

import hashlib

from netwarden.world import WorldParams, generate, generate_world


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_bytes(small_world, tmp_path):
    # the params recorded in truth.json are enough to make the same world again
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in small_world.truth["params"].items()}
    again = tmp_path / "again"
    generate_world(again, WorldParams(**params))
    for name in ("events.jsonl", "truth.json", "bank.csv"):
        assert _digest(small_world.path / name) == _digest(again / name), name
    media_a = sorted(p.relative_to(small_world.path) for p in (small_world.path / "media").rglob("*") if p.is_file())
    media_b = sorted(p.relative_to(again) for p in (again / "media").rglob("*") if p.is_file())
    assert media_a == media_b
    for rel in media_a[::25]:
        assert _digest(small_world.path / rel) == _digest(again / rel)
    assert not (again / ".buckets").exists()


def test_other_seed_other_world(tmp_path):
    a = generate(tmp_path / "a", accounts=600, seed=1, networks=1, network_size=(20, 30), media=False)
    b = generate(tmp_path / "b", accounts=600, seed=2, networks=1, network_size=(20, 30), media=False)
    assert a["events"] > 0 and b["events"] > 0
    assert _digest(tmp_path / "a" / "events.jsonl") != _digest(tmp_path / "b" / "events.jsonl")
