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


# ------------------------------------------------------------------ registries: one list each, read everywhere

SRC = Path(__file__).resolve().parents[1] / "src" / "netwarden"
DOCS = Path(__file__).resolve().parents[1] / "docs"


def _cli(*path: str):
    import typer

    from netwarden.cli import app

    cmd = typer.main.get_command(app)
    for p in path:
        cmd = cmd.commands[p]
    return {p.name: p for p in cmd.params}


def test_the_four_registries_are_named_where_they_are():
    from netwarden import signal_types
    from netwarden.enforce import adapters
    from netwarden.ingest import formats

    table = DOC.split("Four extension points")[1].split("Every command")[0]
    for ref, obj in (("findings.BUILTIN", findings.BUILTIN), ("signal_types.BUILTIN", signal_types.BUILTIN),
                     ("ingest.formats.FORMATS", formats.FORMATS), ("enforce.adapters.ADAPTERS", adapters.ADAPTERS)):
        assert f"`{ref}`" in table and isinstance(obj, list | tuple) and obj


def test_signal_type_registry_and_recipe():
    from netwarden import signal_types
    from netwarden.signal_types import base

    reg = _section("Registry: signal types (`netwarden.signal_types`)")
    order = reg.split("in the order the CLI help lists them:")[1].split("\n\n")[0]
    assert re.findall(r"`(\w+)`", order) == list(signal_types.names())
    declared = {n for cell in re.findall(r"^\| (.+?) \|", reg, re.M)[1:] for n in re.findall(r"`(\w+)", cell)}
    attrs = {a for cls in (base.MediaType, base.ExactMediaType, base.LinkType) for c in cls.__mro__
             for a in (*vars(c), *getattr(c, "__annotations__", {}))}
    assert declared - {"MEDIA", "LINK"} <= attrs, declared - attrs
    recipe = _section("Recipe: a new signal type")
    for cls in re.findall(r"an? `(\w+)` \(", recipe):
        assert hasattr(base, cls)
    assert "signal_types.BUILTIN" in recipe and (Path(__file__).parent / "test_signal_types.py").is_file()
    # the recipe's claim: url_md5 is its module and one line of the registry, no other module names it
    naming = sorted(str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
                    if re.search(r"url_md5|URL_MD5", p.read_text(encoding="utf-8")))
    assert naming == ["signal_types/__init__.py", "signal_types/url_md5.py"]


def test_input_format_registry_and_recipe():
    import importlib

    from netwarden.ingest import formats

    assert "formats.FORMATS" in _section("Recipe: a new input format")
    docs = "".join(p.read_text(encoding="utf-8") for p in DOCS.glob("*.md"))
    for f in formats.FORMATS:
        if f.module is not None:
            mod = importlib.import_module(f"netwarden.ingest.{f.module}")
            assert callable(mod.sniff) and callable(mod.to_events), f.name
            assert f"--format {f.name}" in docs, f"no doc says --format {f.name}"
        for where in (("ingest",), ("worker",)):
            assert f.name in _cli(*where)["fmt"].help, (where, f.name)
    # no command keeps its own list of formats
    for p in (SRC / "cli").glob("*.py"):
        assert not re.search(r"native \| twitter|twitter-v2 \| mastodon", p.read_text(encoding="utf-8")), p


def test_adapter_registry_and_recipe(tmp_path):
    from netwarden.config import load
    from netwarden.enforce import adapters

    assert "adapters.ADAPTERS" in _section("Recipe: a new adapter")
    enforcement = (DOCS / "enforcement.md").read_text(encoding="utf-8")
    help_ = _cli("enforce", "run")["adapter"].help
    for a in adapters.ADAPTERS:
        env = {k: "http://127.0.0.1:9/" if k.endswith("_URL") else "x" for k in a.settings}
        for k in a.settings:
            assert k in enforcement, f"docs/enforcement.md does not name {k}"
        made = adapters.make_adapter(a.name, load(env, cwd=tmp_path))
        assert made.name == a.name and callable(made.deliver)
        assert f"--adapter {a.name}" in enforcement or f"NETWARDEN_ENFORCE_ADAPTER={a.name}" in enforcement
        assert a.name in help_


def test_cli_reference_is_current():
    from netwarden.cli import reference

    assert (DOCS / "cli.md").read_text(encoding="utf-8") == reference.markdown(), \
        "docs/cli.md is out of date: run `make docs` (python -m netwarden.cli.reference > docs/cli.md)"


def test_test_support_is_outside_the_package():
    support = _section("Test support (`tests/support/`)")
    for name in re.findall(r"`(\w+)\.py`", support):
        assert (Path(__file__).parent / "support" / f"{name}.py").is_file(), name
    assert not (SRC / "testing").exists()


def test_event_model_section_and_recipe_name_what_exists():
    from netwarden import model
    from netwarden.ingest import apply, events

    section = _section("The event model (`netwarden.model`)")
    for name in ("KINDS", "fields", "kind", "MediaKind", "Visibility", "ReportCategory", "CHILD_SAFETY",
                 "RESOLVE_OUTCOMES", "ACTIONS", "OUTBOX_ACTIONS", "DESTRUCTIVE"):
        assert re.search(rf"`@?(model\.)?{name}\b", section), name
        assert hasattr(model, name), name
    for cls in re.findall(r"`([A-Z]\w+)`, `([A-Z]\w+)`, `([A-Z]\w+)`", section)[0]:
        assert cls in {c.__name__ for c in model.EVENT_KINDS}, cls
    recipe = _section("Recipe: a new event field or kind")
    for name in ("Id", "Short", "Text", "Str", "Time", "List", "Doc", "kind"):
        assert re.search(rf"`@?{name}\b", recipe) and hasattr(model, name), name
    assert "`KINDS`" in recipe and isinstance(events.KINDS, dict) and "`Rows._name`" in recipe and apply.Rows
    assert (Path(__file__).parent / "ingest" / "test_event_model.py").is_file()
    assert "python -m netwarden.ingest.generated" in (Path(__file__).resolve().parents[1] / "Makefile").read_text()


def test_settings_tables_are_current():
    """docs/configuration.md's tables are generated from the declarations in netwarden/config.py."""
    from netwarden import config

    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert text == config.render_doc(text), \
        "docs/configuration.md is out of date: run `make docs` (python -m netwarden.config)"
    for f in config.fields(config.Settings):
        assert f"`{config.env_name(f.name)}`" in text
