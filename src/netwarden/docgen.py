"""Generated sections of the docs: the text between `<!-- generated: NAME -->` and `<!-- end: NAME -->`.

Shared by `python -m netwarden.config` (docs/configuration.md's settings tables) and
`python -m netwarden.ingest.generated` (docs/events.md's tables), so both mark and rewrite their
sections the same way; their tests fail when a committed page differs from what the code makes."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path


def replace_sections(text: str, name: str, body: str) -> str:
    """`text` with the section NAME's content replaced by `body`; a page without it is a ValueError."""
    pat = re.compile(rf"(<!-- generated: {re.escape(name)} -->\n)(?:.*?\n)?(<!-- end: {re.escape(name)} -->)", re.S)
    if not pat.search(text):
        raise ValueError(f"no generated section {name!r} (between '<!-- generated: {name} -->' and '<!-- end: {name} -->')")
    content = body.rstrip("\n") + "\n"
    return pat.sub(lambda m: m.group(1) + content + m.group(2), text)


def render(text: str, sections: Mapping[str, str | Callable[[], str]]) -> str:
    """`text` with every section in `sections` (name -> body, or a function making it) made again."""
    for name, body in sections.items():
        text = replace_sections(text, name, body() if callable(body) else body)
    return text


def rewrite(path: Path, sections: Mapping[str, str | Callable[[], str]]) -> bool:
    """Rewrite the file's generated sections; True when the file changed."""
    old = path.read_text(encoding="utf-8")
    try:
        new = render(old, sections)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    if new != old:
        path.write_text(new, encoding="utf-8")
    return new != old
