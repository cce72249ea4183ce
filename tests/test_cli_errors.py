"""User errors end in one sentence naming the input and the fix: exit code 2, never a traceback."""

from __future__ import annotations

import os
import subprocess

import pytest

from clirun import CLI


def run(*args: str, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=120)


@pytest.mark.parametrize("args,needle", [
    (("ingest", "nope.jsonl"), "nope.jsonl does not exist"),
    (("ingest", "ev.jsonl", "--format", "myspace"), "Unknown --format 'myspace'"),
    (("ingest", "ev.jsonl", "--db", "oracle://x/y"), "not one Netwarden understands"),
    (("ingest", "ev.jsonl", "--db", "/no/such/folder/x.db"), "does not exist"),
    (("ingest", "ev.jsonl", "--format", "mastodon"), "is not mastodon data"),
    (("ingest", "ev.jsonl", "--db", "postgresql://nobody@127.0.0.1:1/x"), "Cannot open the database"),
])
def test_one_sentence_errors(tmp_path, args, needle):
    (tmp_path / "ev.jsonl").write_text(
        '{"v":1,"id":"e1","kind":"follow","time":"2026-01-01T00:00:00Z","data":{"src":"a","dst":"b"}}\n')
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert needle in r.stderr
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) <= 3  # one sentence (rich may wrap it)


@pytest.mark.parametrize("args", [
    ("ingest", "ev.jsonl", "--db", "notes.txt"),
    ("case", "list", "--db", "notes.txt", "--json"),
    ("expand", "--seed", "a", "--db", "notes.txt", "--json"),  # the typer-free cold path too
])
def test_a_file_that_is_not_a_database_is_named_and_left_alone(tmp_path, args):
    (tmp_path / "ev.jsonl").write_text(
        '{"v":1,"id":"e1","kind":"follow","time":"2026-01-01T00:00:00Z","data":{"src":"a","dst":"b"}}\n')
    text = "an analyst's notes, not a database\n" * 200
    (tmp_path / "notes.txt").write_text(text)
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and "notes.txt" in r.stderr and "file is not a database" in r.stderr
    assert len(r.stderr.strip().splitlines()) <= 3
    assert (tmp_path / "notes.txt").read_text() == text


def test_bad_config_file_is_named(tmp_path):
    cfg = tmp_path / "nw.toml"
    cfg.write_text("db = [unclosed\n")
    r = run("db", "upgrade", cwd=tmp_path, env={"NETWARDEN_CONFIG": str(cfg)})
    assert r.returncode == 2 and "nw.toml" in r.stderr and "Traceback" not in r.stderr


def test_config_file_and_env_choose_the_database(tmp_path):
    (tmp_path / "netwarden.toml").write_text('db = "from_file.db"\n')
    assert run("db", "upgrade", cwd=tmp_path).returncode == 0
    assert (tmp_path / "from_file.db").exists()
    assert run("db", "upgrade", cwd=tmp_path, env={"NETWARDEN_DB": str(tmp_path / "from_env.db")}).returncode == 0
    assert (tmp_path / "from_env.db").exists()


def test_config_file_keys_act_as_environment_defaults(tmp_path):
    (tmp_path / "terms.yaml").write_text('terms:\n  - {term: "zorbix", category: codeword, weight: 1, lang: en}\n')
    (tmp_path / "netwarden.toml").write_text('terms = "terms.yaml"\n')
    r = run("scan", "hello zorbix", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "zorbix" in r.stdout


def test_config_tables_group_keys(tmp_path):
    """`[review] four_eyes = false` (docs/review.md) is NETWARDEN_FOUR_EYES=false; the environment wins."""
    from netwarden.config import load

    (tmp_path / "netwarden.toml").write_text("[review]\nfour_eyes = false\n")
    assert load(env={}, cwd=tmp_path).four_eyes is False
    assert load(env={"NETWARDEN_FOUR_EYES": "1"}, cwd=tmp_path).four_eyes is True


def test_bad_setting_is_one_sentence_naming_it(tmp_path):
    r = run("db", "upgrade", cwd=tmp_path, env={"NETWARDEN_MEDIA_THREADS": "many"})
    assert r.returncode == 2 and "NETWARDEN_MEDIA_THREADS" in r.stderr and "whole number" in r.stderr
    assert "Traceback" not in r.stderr
    (tmp_path / "netwarden.toml").write_text("four_eye = false\n")
    r = run("db", "upgrade", cwd=tmp_path)
    assert r.returncode == 2 and "'four_eye' is not a setting" in r.stderr and "four_eyes" in r.stderr


def test_config_file_is_read_not_written_into_the_environment(tmp_path, monkeypatch):
    from netwarden.config import load

    (tmp_path / "netwarden.toml").write_text('terms = "t.yaml"\nmedia_threads = 3\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NETWARDEN_CONFIG", raising=False)
    monkeypatch.delenv("NETWARDEN_TERMS", raising=False)
    s = load()
    assert (s.terms, s.media_threads) == ("t.yaml", 3) and "NETWARDEN_TERMS" not in os.environ


def test_platform_text_in_errors_and_output_is_not_markup(tmp_path):
    """Ids from the platform reach the terminal as they are: '[/]' is neither a rich tag nor a crash."""
    db = tmp_path / "nw.db"
    r = run("queue", "show", "[/]", "--db", str(db))
    assert r.returncode == 2 and "Report [/] does not exist" in r.stderr and "Traceback" not in r.stderr
    r = run("account", "note", "[/]", "[bold]seen[/bold]", "--as", "t1", "--db", str(db))
    assert r.returncode == 0, r.stderr
    r = run("account", "notes", "[/]", "--db", str(db))
    assert r.returncode == 0 and "t1: [bold]seen[/bold]" in r.stdout, r.stdout + r.stderr
