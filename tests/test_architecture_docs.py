"""docs/architecture.md stays true: every recipe's names exist and are registered (as datasette's test_docs)."""

from __future__ import annotations

import re
from pathlib import Path

from netwarden import findings

DOC = (Path(__file__).resolve().parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    m = re.search(rf"^#+ {re.escape(title)}\n(.*?)(?=^#+ |\Z)", DOC, re.S | re.M)
    assert m, f"docs/architecture.md has no section {title!r}"
    return m.group(1)


def test_signal_kind_registry_is_documented_as_registered():
    reg = _section("Registry: signal kinds (`netwarden.findings`)")
    documented = re.findall(r"`(\w+)`", reg.split("Built in,")[1].split("A `Signal`")[0])
    assert [n for n in documented if n in {k.name for k in findings.kinds()}] == [k.name for k in findings.kinds()]
    fields = set(re.findall(r"^\| `(\w+)", reg, re.M))
    assert fields == {"key", "risk", "prior", "label", "describe", "per_media", "stored"}
    assert fields <= set(findings.SignalKind.__dataclass_fields__)
    for name in ("hashed_key", "per_media_key", "on_media", "register", "rows", "BUILTIN"):
        assert name in reg and hasattr(findings, name)


def test_new_signal_kind_recipe_names_what_exists():
    recipe = _section("Recipe: a new signal kind")
    assert "findings.BUILTIN" in recipe and hasattr(findings, "BUILTIN")
    assert "SAMPLES" in recipe and "SAMPLES" in (Path(__file__).parent / "test_findings.py").read_text()
    assert "Signal(...).row(now)" in recipe and callable(findings.Signal.row)
