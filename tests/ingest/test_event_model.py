"""The event model (netwarden.model) is the one declaration of the native kinds: the JSON Schema and
docs/events.md's tables are generated from it, and the hand-written validator checks exactly its fields."""

from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path

import pytest
from annotated_types import Ge, Le, MaxLen, MinLen

from netwarden import model as M
from netwarden.ingest import apply, generated
from netwarden.ingest.events import KINDS, BadRecord, validate

ROOT = Path(__file__).resolve().parents[2]
T = "2026-01-01T00:00:00Z"


def test_committed_json_schema_is_the_generated_one():
    committed = (ROOT / "src" / "netwarden" / "ingest" / generated.SCHEMA_FILE).read_text(encoding="utf-8")
    assert committed == generated.schema_text(), \
        "ingest/events.schema.json is out of date: run `make docs` (python -m netwarden.ingest.generated)"


def test_events_md_tables_are_the_generated_ones():
    doc = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    assert doc == generated.render_events_md(doc), \
        "docs/events.md's generated tables are out of date: run `make docs` (python -m netwarden.ingest.generated)"
    for name in generated.SECTIONS:  # and each section is really there, once
        assert doc.count(f"<!-- generated: {name} -->") == 1


def test_every_kind_has_one_validator_and_one_projection():
    assert tuple(KINDS) == M.KINDS
    assert set(apply._HANDLERS) == set(M.KINDS)
    assert generated.schema()["properties"]["kind"]["enum"] == list(M.KINDS)


# ------------------------------------------------------------------ the validator against the model


def _sample(f: M.FieldSpec):
    if f.enum is not None:
        return f.enum[0]
    if f.base is M.Media:
        return {"id": "m"}
    if f.base is list:
        return [_sample(f.item)]
    if f.base is bool:
        return True
    if f.base is int:
        return 50
    if f.get(M.IsoTime):
        return T
    if f.get(M.Hex):
        return "a" * f.get(M.Hex).digits
    return "x"


def _minimal(cls: type) -> dict:
    d = {f.name: _sample(f) for f in M.fields(cls) if f.required}
    for name, (other, value) in cls.required_if.items():
        if d.get(other) == value:
            d[name] = "x"
    return d


def _wrong(f: M.FieldSpec):
    """A value of the wrong type or outside its enum."""
    if f.enum is not None:
        return "not-in-the-vocabulary"
    if f.get(M.IsoTime):
        return "yesterday"
    return 7 if f.base is str else "x"


def _cases():
    """(label, event kind, path of the data object inside the event's data, the class there)."""
    for cls in M.EVENT_KINDS:
        for k in cls.kinds:
            yield k, k, (), cls
    yield "post.media[0]", "post", ("media", 0), M.Media
    yield "account.avatar", "account", ("avatar",), M.Media


def _event(kind: str, path: tuple, obj: dict) -> dict:
    data = _minimal(M.BY_KIND[kind])
    if path:
        data[path[0]] = [obj] if path[0] == "media" else obj
    else:
        data = obj
    return {"v": 1, "id": "e1", "kind": kind, "time": T, "data": data}


def _where(path: tuple) -> str:
    return "data" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


@pytest.mark.parametrize("label,kind,path,cls", list(_cases()), ids=[c[0] for c in _cases()])
def test_validator_checks_every_model_field_and_only_those(label, kind, path, cls):
    where = _where(path)
    base = _minimal(cls)
    subject = validate(_event(kind, path, copy.deepcopy(base)))
    if not path:
        assert subject == base[cls.subject]
    full = {f.name: _sample(f) for f in M.fields(cls)}
    validate(_event(kind, path, copy.deepcopy(full)))  # every field at a good value
    for f in M.fields(cls):
        field = f"{where}.{f.name}"
        if f.required:
            d = copy.deepcopy(base)
            del d[f.name]
            with pytest.raises(BadRecord, match=re.escape(f"missing field {field}")):
                validate(_event(kind, path, d))
        bad = {**copy.deepcopy(full), f.name: _wrong(f)}
        with pytest.raises(BadRecord, match=re.escape(field)):
            validate(_event(kind, path, bad))
        g = f.item if f.base is list else f
        mx = g.get(MaxLen) if g.base is str and g.enum is None else None
        if mx:
            over = "z" * (mx.max_length + 1)
            value = [over] if f.base is list else over
            with pytest.raises(BadRecord, match=re.escape(field) + r".*oversized"):
                validate(_event(kind, path, {**copy.deepcopy(full), f.name: value}))
        if f.base is list:
            with pytest.raises(BadRecord, match=re.escape(field) + ".*oversized"):
                validate(_event(kind, path, {**copy.deepcopy(full), f.name: [_sample(f.item)] * (M.L.LIST + 1)}))
        if g.get(MinLen) and g.base is str:
            with pytest.raises(BadRecord, match=re.escape(field) + ".* is empty"):
                validate(_event(kind, path, {**copy.deepcopy(full), f.name: [""] if f.base is list else ""}))
        if f.base is int:
            for v in (f.get(Ge).ge - 1, *((f.get(Le).le + 1,) if f.get(Le) else ())):
                with pytest.raises(BadRecord, match=re.escape(field)):
                    validate(_event(kind, path, {**copy.deepcopy(full), f.name: v}))
    for name, (other, value) in cls.required_if.items():
        d = {**copy.deepcopy(base), other: value}
        d.pop(name, None)
        with pytest.raises(BadRecord, match=re.escape(f"missing field {where}.{name}")):
            validate(_event(kind, path, d))
    for other in cls.dependent.values():
        d = {**copy.deepcopy(full)}
        del d[other]
        with pytest.raises(BadRecord, match=re.escape(f"{where}.{other} is missing")):
            validate(_event(kind, path, d))
    # fields the model does not give this class are not read: wrong values there change nothing
    others = {f.name for c in (*M.EVENT_KINDS, M.Media) for f in M.fields(c)} - {f.name for f in M.fields(cls)}
    validate(_event(kind, path, {**copy.deepcopy(base), **{n: {"unexpected": 1} for n in others}}))


def test_the_classes_build_events_the_validator_accepts():
    """The typed classes are usable: an instance, as a dict without its unset fields, is a valid event."""
    for cls in M.EVENT_KINDS:
        obj = cls(**{f.name: _sample(f) for f in M.fields(cls)})
        data = {k: v for k, v in dataclasses.asdict(obj).items() if v is not None}
        for k in cls.kinds:
            assert validate({"v": M.SCHEMA_VERSION, "id": "e1", "kind": k, "time": T, "data": data}) == data[cls.subject]
    with pytest.raises(TypeError):
        M.Post(id="p1")  # author_id is required


def test_envelope_fields_are_the_models():
    good = {"v": 1, "id": "e1", "kind": "follow", "time": T, "data": {"src": "a", "dst": "b"}}
    validate(good)
    for f in M.fields(M.Event):
        assert f.required
        bad = {k: v for k, v in good.items() if k != f.name}
        with pytest.raises(BadRecord):
            validate(bad)


def test_the_vocabulary_is_declared_once():
    """States, actions and report categories live in netwarden.model; no other module spells them out."""
    src = ROOT / "src" / "netwarden"
    spelled = [r'"candidate", "confirmed", "cleared", "escalated"', r'"suspend", "remove_posts", "restrict"',
               r'\("child_sexual_exploitation", "child_grooming"\)', r'"actioned", "no_violation", "duplicate"',
               r'"active", "suspended", "deleted"', r'"photo", "video", "audio"', r'"pending", "approved", "rejected"']
    for p in src.rglob("*.py"):
        if p.name == "model.py":
            continue
        text = p.read_text(encoding="utf-8")
        for s in spelled:
            assert not re.search(s, text), f"{p.relative_to(src)} spells out {s}: import it from netwarden.model"
