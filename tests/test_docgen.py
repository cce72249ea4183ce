"""netwarden.docgen: the marked sections config.render_doc and render_events_md rewrite."""

import pytest

from netwarden import docgen

PAGE = "intro\n<!-- generated: a -->\nold a\nmore old\n<!-- end: a -->\nmiddle\n<!-- generated: b -->\n<!-- end: b -->\ntail\n"


def test_replace_sections_replaces_only_the_named_section():
    out = docgen.replace_sections(PAGE, "a", "new a")
    assert out == PAGE.replace("old a\nmore old\n", "new a\n")
    assert docgen.replace_sections(out, "a", "new a\n") == out  # idempotent; one trailing newline either way


def test_render_fills_an_empty_section_and_takes_functions():
    out = docgen.render(PAGE, {"b": lambda: "| x |\n|---|", "a": "A"})
    assert "<!-- generated: b -->\n| x |\n|---|\n<!-- end: b -->" in out
    assert "<!-- generated: a -->\nA\n<!-- end: a -->" in out and out.startswith("intro\n") and out.endswith("tail\n")


def test_a_missing_section_is_one_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no generated section 'c'"):
        docgen.replace_sections(PAGE, "c", "x")
    page = tmp_path / "page.md"
    page.write_text(PAGE, encoding="utf-8")
    with pytest.raises(ValueError, match="page.md: no generated section 'c'"):
        docgen.rewrite(page, {"c": "x"})
    assert docgen.rewrite(page, {"a": "A"}) is True
    assert docgen.rewrite(page, {"a": "A"}) is False
    assert "<!-- generated: a -->\nA\n<!-- end: a -->" in page.read_text(encoding="utf-8")
