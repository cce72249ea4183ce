"""docs/cli.md, generated from the commands themselves: `python -m netwarden.cli.reference > docs/cli.md`.

tests/test_architecture_docs.py fails when the file differs from what this prints, so the
reference follows every new command, option or help string.
"""

from __future__ import annotations

import typer

HEADER = """# Command reference

Generated from the commands' own help by `python -m netwarden.cli.reference > docs/cli.md`
(`make docs`); `tests/test_architecture_docs.py` fails when it is out of date. The tour in README.md
shows the commands in use.
"""


def _commands(group, path: list[str]):
    for name in sorted(group.commands):
        cmd = group.commands[name]
        if getattr(cmd, "hidden", False):
            continue
        if hasattr(cmd, "commands"):  # a group (typer vendors its own click: no isinstance)
            yield [*path, name], cmd
            yield from _commands(cmd, [*path, name])
        else:
            yield [*path, name], cmd


def _cell(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def _param(p) -> tuple[str, str]:
    if p.param_type_name == "argument":
        return f"`{p.name.upper()}`" + ("" if p.required else " (optional)"), _cell(getattr(p, "help", ""))
    names = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts])
    help_ = _cell(getattr(p, "help", ""))
    default = p.default
    if not p.required and not callable(default) and default not in (None, False, (), [], "") and not p.is_flag:
        help_ += f" Default: `{default}`."
    return names, help_.strip()


def markdown() -> str:
    from . import app

    root = typer.main.get_command(app)
    out = [HEADER]
    for path, cmd in _commands(root, ["netwarden"]):
        out.append(f"\n## {' '.join(path)}\n")
        doc = (cmd.help or "").strip()
        if doc:
            out.append("\n" + "\n".join(line.rstrip() for line in doc.splitlines()) + "\n")
        rows = [_param(p) for p in cmd.params if p.name != "help" and not getattr(p, "hidden", False)]
        if rows:
            out.append("\n| argument / option | meaning |\n|---|---|\n")
            out.extend(f"| {n} | {h} |\n" for n, h in rows)
    return "".join(out)


if __name__ == "__main__":
    import sys

    sys.stdout.write(markdown())
