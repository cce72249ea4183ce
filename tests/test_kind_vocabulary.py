"""Every event kind, media kind and state the input adapters and the world generator write is in the
vocabulary netwarden.model declares (issue 13 item 1: one vocabulary for kinds, states and actions).

The adapters build events through `_foreign.event(id, kind, time, data)` and the generator through
`sink.emit(kind, time, data)`; a misspelt kind there would only show as dead-lettered records at run
time, on the one input that reaches that branch. This reads the source instead, so it fails at once.
"""

from __future__ import annotations

import ast
from pathlib import Path

from netwarden import model

SRC = Path(__file__).resolve().parents[1] / "src" / "netwarden"
MODULES = [*sorted((SRC / "ingest").glob("*.py")), *sorted((SRC / "world").glob("*.py"))]
STATES = {*model.ACCOUNT_STATES, *model.REQUEST_STATES}


def _strings(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def _callee(node: ast.Call) -> str:
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def vocabulary_used(source: str) -> dict[str, set[str]]:
    """{"event": kinds written as events, "media": media kinds, "state": account/request states}."""
    used: dict[str, set[str]] = {"event": set(), "media": set(), "state": set()}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = _callee(node)
            if name == "event" and len(node.args) >= 2:
                used["event"].update(_strings(node.args[1]))
            elif name == "emit" and node.args:
                used["event"].update(_strings(node.args[0]))
        elif isinstance(node, ast.Dict):
            keys = {k.value: v for k, v in zip(node.keys, node.values, strict=True)
                    if isinstance(k, ast.Constant) and isinstance(k.value, str)}
            if "kind" in keys:
                # an event record carries "v"; a media item carries its "uri"
                target = "event" if "v" in keys else "media" if "uri" in keys else None
                if target:
                    used[target].update(_strings(keys["kind"]))
            if "state" in keys and ("account_id" in keys or "src" in keys):
                used["state"].update(_strings(keys["state"]))
    return used


def test_every_kind_and_state_written_is_declared_in_the_model():
    totals: dict[str, set[str]] = {"event": set(), "media": set(), "state": set()}
    for path in MODULES:
        used = vocabulary_used(path.read_text(encoding="utf-8"))
        rel = path.relative_to(SRC)
        assert used["event"] <= set(model.KINDS), f"{rel}: event kinds not in model.KINDS: {used['event'] - set(model.KINDS)}"
        assert used["media"] <= set(model.MEDIA_KINDS), f"{rel}: media kinds not in model.MEDIA_KINDS: {used['media']}"
        assert used["state"] <= STATES, f"{rel}: states not in the model: {used['state'] - STATES}"
        for k in totals:
            totals[k] |= used[k]
    # the check still sees how the adapters and the generator write (it is not blind)
    assert {"post", "follow", "follow_request", "like", "account", "account_state", "report", "session"} <= totals["event"]
    assert {"photo", "video", "other"} <= totals["media"]
    assert {"suspended", "pending", "approved", "rejected"} <= totals["state"]


def test_the_check_sees_each_way_a_kind_is_written():
    """The control: a misspelling in each form is found."""
    src = '''
out.append(event("id", "folow", t, {}))
sink.emit("pots", t, {"src": a, "dst": b, "state": "aproved"})
rec = {"v": 1, "id": x, "kind": "reprot", "time": t, "data": {}}
m = {"id": i, "kind": "vidoe" if v else "photo", "uri": u}
'''
    assert vocabulary_used(src) == {"event": {"folow", "pots", "reprot"}, "media": {"vidoe", "photo"},
                                    "state": {"aproved"}}
