"""The text commands as a user runs them: scan, terms validate, terms evaluate."""

from __future__ import annotations

import json
import subprocess

from clirun import CLI


def run(*args, cwd=None):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


LIST = 'terms:\n  - {term: "zorbix", category: codeword, weight: 1.5, lang: en}\n  - {term: "#quaffle", category: signal_hashtag, weight: 2, lang: en, mode: hashtag}\n'


def test_scan_reports_term_contact_and_span(tmp_path):
    (tmp_path / "t.yaml").write_text(LIST)
    text = "new ｚｏｒｂｉｘ today, kik: quiet_fox22 #quaffle"
    r = run("scan", text, "--terms", str(tmp_path / "t.yaml"), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    terms = {h["term"]: h for h in out["hits"]}
    assert set(terms) == {"zorbix", "quaffle"}
    s, e = terms["zorbix"]["span"] if "span" in terms["zorbix"] else (terms["zorbix"]["start"], terms["zorbix"]["end"])
    assert text[s:e] == "ｚｏｒｂｉｘ"  # the span is in the original (fullwidth) text
    assert {"platform": "kik", "handle": "quiet_fox22"}.items() <= out["contacts"][0].items()


def test_terms_validate_names_the_bad_line(tmp_path):
    (tmp_path / "ok.yaml").write_text(LIST)
    assert run("terms", "validate", str(tmp_path / "ok.yaml")).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(LIST + '  - {term: "(a+)+b", category: codeword, weight: 1, lang: en, mode: regex}\n')
    r = run("terms", "validate", str(bad))
    assert r.returncode == 2 and "bad.yaml" in r.stderr and "line 4" in r.stderr and "Traceback" not in r.stderr


def test_terms_evaluate_prints_recall_and_false_positives(tmp_path):
    (tmp_path / "t.yaml").write_text(LIST)
    r = run("terms", "evaluate", "--terms", str(tmp_path / "t.yaml"), "--seeds", "2", "--benign", "500", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["recall"] >= 0.99 and out["fp_rate"] <= 0.001 and out["obfuscated"] > 0


def test_terms_evaluate_on_a_synthetic_list_measures_leet_with_spacing():
    r = run("terms", "evaluate", "--synthetic", "300", "--seeds", "2", "--benign", "500", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["terms"] == 300 and out["by_transform"]["leet+spacing"] >= 0.99 and out["recall"] >= 0.99
    r = run("terms", "evaluate", "--synthetic", "300", "--terms", "x.yaml")
    assert r.returncode == 2 and "not both" in r.stderr
