"""Every state a module writes or compares is in the vocabulary netwarden.model declares for it
(issue 13 item 1: one vocabulary for kinds, states and actions), so a misspelt or new state cannot
slip into a table unnoticed."""

from __future__ import annotations

import ast
from pathlib import Path

from netwarden import model

SRC = Path(__file__).resolve().parents[1] / "src" / "netwarden"
CASES = {*model.CASE_STATES, *model.MEMBER_STATES, *model.DECISION_STATES}
VOCABULARY = {
    "cases.py": CASES,
    "store/case_queries.py": CASES,
    "web/routes_case.py": CASES,
    "enforce/outbox.py": set(model.OUTBOX_STATES),
    "enforce/worker.py": set(model.OUTBOX_STATES),
    "report/stats.py": set(model.OUTBOX_STATES),
    "report/export.py": set(model.OUTBOX_STATES),
    "report/ncmec_flow.py": {*model.NCMEC_REPORT_STATES, *model.NCMEC_FILE_STATES},
}


def _is_state(node: ast.AST) -> bool:
    """`x.state`, `x.c.state`, `d["state"]`, or a bare name `state`."""
    if isinstance(node, ast.Attribute):
        return node.attr == "state"
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and node.slice.value == "state"
    return isinstance(node, ast.Name) and node.id == "state"


def _strings(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [s for e in node.elts for s in _strings(e)]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def states_used(source: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.keyword) and node.arg == "state":
            found.update(_strings(node.value))
        elif isinstance(node, ast.Compare) and _is_state(node.left):
            for c in node.comparators:
                found.update(_strings(c))
        elif isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if isinstance(k, ast.Constant) and k.value == "state":
                    found.update(_strings(v))
    return found


def test_every_state_a_module_uses_is_declared_in_the_model():
    for rel, vocabulary in VOCABULARY.items():
        used = states_used((SRC / rel).read_text(encoding="utf-8"))
        assert used, f"{rel}: no state found; the check no longer sees how it writes states"
        assert used <= vocabulary, f"{rel} uses states netwarden.model does not declare: {used - vocabulary}"


def test_the_check_sees_every_way_a_state_is_written():
    """The control: each form is found, so a misspelt state cannot hide in one of them."""
    src = '''
q.update(x).values(state="dnoe")
if row.state == "opne": pass
if d["state"] in ("pendng",): pass
rows.append({"state": "faild" if bad else "done"})
'''
    assert states_used(src) == {"dnoe", "opne", "pendng", "faild", "done"}


def test_the_tables_name_the_vocabulary_they_hold():
    tables = (SRC / "store" / "tables_enforce.py").read_text() + (SRC / "store" / "tables_cases.py").read_text()
    for name in ("OUTBOX_STATES", "NCMEC_REPORT_STATES", "NCMEC_FILE_STATES", "DECISION_STATES"):
        assert f"model.{name}" in tables
