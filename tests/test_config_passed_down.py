"""Settings from the config file reach the readers converted from os.environ (config.PASSED_DOWN),
passed down by their face, without going through the environment."""

import os

import pytest
from typer.testing import CliRunner

from netwarden.cli import app
from netwarden.cli.demo_cmd import DEMO_TERMS


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("NETWARDEN_CONFIG", "NETWARDEN_TERMS", "NETWARDEN_DB"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


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
