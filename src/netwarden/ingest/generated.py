"""What is generated from the event model (`netwarden.model`): the JSON Schema and docs/events.md's tables.

    python -m netwarden.ingest.generated      (make docs)

rewrites `ingest/events.schema.json` and the generated sections of docs/events.md (between
`<!-- generated: NAME -->` and `<!-- end: NAME -->`); tests/ingest/test_event_model.py fails when
either differs from what this makes, so a field added to a kind reaches both.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from annotated_types import Ge, Le, MaxLen, MinLen

from .. import model as M
from ..docgen import render, rewrite

SCHEMA_FILE = "events.schema.json"


def _hex_pattern(digits: int) -> str:
    return f"^[0-9a-fA-F]{{{digits}}}$"


def _field_schema(f: M.FieldSpec) -> dict:
    if f.enum is not None:
        return {"const": f.enum[0]} if len(f.enum) == 1 and not isinstance(f.enum[0], str) else {"enum": list(f.enum)}
    if f.base is M.Media:
        return {"$ref": "#/$defs/media"}
    if f.base is list:
        return {"type": "array", "maxItems": f.get(MaxLen).max_length, "items": _field_schema(f.item)}
    if f.base is bool:
        return {"type": "boolean"}
    if f.base is dict:
        return {"type": "object"}
    if f.base is int:
        out = {"type": "integer", "minimum": f.get(Ge).ge}
        if f.get(Le):
            out["maximum"] = f.get(Le).le
        return out
    out: dict = {"type": "string"}
    if f.get(M.IsoTime):
        out["pattern"] = f.get(M.IsoTime).pattern
        return out
    hx = f.get(M.Hex)
    if hx and hx.exact:
        out["pattern"] = _hex_pattern(hx.digits)
        return out
    if f.get(MinLen):
        out["minLength"] = f.get(MinLen).min_length
    if f.get(MaxLen):
        out["maxLength"] = f.get(MaxLen).max_length
    if f.get(M.Utf8Bytes):
        n = f.get(M.Utf8Bytes).limit
        out["description"] = (f"at most {n} characters and {n} bytes in UTF-8 (the bytes rule is the validator's: "
                              "JSON Schema counts characters)")
    return out


def _object_schema(cls: type) -> dict:
    fs = M.fields(cls)
    out: dict = {"type": "object", "required": [f.name for f in fs if f.required],
                 "properties": {f.name: _field_schema(f) for f in fs}}
    for name, (other, value) in cls.required_if.items():
        out["if"] = {"properties": {other: {"const": value}}}
        out["then"] = {"required": [name]}
    if cls.dependent:
        out["dependentRequired"] = {k: [v] for k, v in cls.dependent.items()}
    return out


def schema() -> dict:
    """The JSON Schema (2020-12) of one native event, from the model."""
    envelope = {f.name: _field_schema(f) for f in M.fields(M.Event)}
    envelope["kind"] = {"enum": list(M.KINDS)}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://netwarden.invalid/schemas/events-v1.json",
        "title": f"Netwarden native event, schema version {M.SCHEMA_VERSION}",
        "description": "One JSON object per line (JSON Lines). See docs/events.md. Generated from netwarden.model.",
        "type": "object",
        "required": [f.name for f in M.fields(M.Event) if f.required],
        "properties": envelope,
        "allOf": [{"if": {"properties": {"kind": {"const": k}}},
                   "then": {"properties": {"data": _object_schema(M.BY_KIND[k])}}} for k in M.KINDS],
        "$defs": {"media": _object_schema(M.Media)},
    }


def schema_text() -> str:
    return json.dumps(schema(), indent=1, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------ docs/events.md


def _note(f: M.FieldSpec) -> str:
    parts = []
    if f.enum is not None:
        parts.append(" / ".join(f"`{v}`" for v in f.enum))
    if f.base is M.Media:
        parts.append("media")
    if f.base is list and f.item.base is M.Media:
        parts.append("list of media")
    doc = f.get(M.Doc)
    if doc:
        parts.append(doc.text)
    name = f"**{f.name}**" if f.required else f.name
    return f"{name} ({'; '.join(parts)})" if parts else name


def kinds_table() -> str:
    rows = ["| kind | `data` fields (required in bold) | effect |", "|---|---|---|"]
    for cls in M.EVENT_KINDS:
        kinds = " / ".join(f"`{k}`" for k in cls.kinds)
        effect = " ".join(cls.__doc__.split())
        rows.append(f"| {kinds} | {', '.join(_note(f) for f in M.fields(cls))} | {effect} |")
    rows += ["", f"A **media** object: {', '.join(_note(f) for f in M.fields(M.Media))}."]
    return "\n".join(rows)


def envelope_table() -> str:
    rows = ["| field | type | meaning |", "|---|---|---|"]
    for f in M.fields(M.Event):
        s = _field_schema(f)
        if "const" in s:
            typ = f"`{s['const']}`"
        elif f.get(M.IsoTime):
            typ = "ISO 8601 time, e.g. `2026-03-01T12:00:00Z`"
        elif s.get("type") == "string" and "maxLength" in s:
            typ = f"string, {s.get('minLength', 0)}-{s['maxLength']} chars"
        else:
            typ = s.get("type", "string")
        rows.append(f"| `{f.name}` | {typ} | {f.get(M.Doc).text} |")
    return "\n".join(rows)


def _limited(cls: type, owner: str):
    for f in M.fields(cls):
        g = f.item if f.base is list else f
        mx = g.get(MaxLen) if g.base is str and not g.get(M.Hex) else None
        if mx:
            yield f.name + ("[]" if f.base is list else ""), owner, mx.max_length, g.get(M.Utf8Bytes)


def limits_table() -> str:
    """Every string field's limit, grouped by limit; a name whose limit differs by kind names its kind."""
    data = [x for cls in (*M.EVENT_KINDS, M.Media) for x in _limited(cls, "media" if cls is M.Media else cls.kinds[0])]
    by_name: dict[str, set[int]] = {}
    for name, _, limit, _ in data:
        by_name.setdefault(name, set()).add(limit)
    groups: dict[tuple[int, bool], list[str]] = {}
    for name, owner, limit, utf8 in [*_limited(M.Event, "event"), *data]:
        label = f"`{name}`" if owner != "event" and len(by_name[name]) == 1 else f"{owner} `{name}`"
        key = (limit, utf8 is not None)
        if label not in groups.setdefault(key, []):
            groups[key].append(label)
    rows = ["| field | limit (characters) |", "|---|---|"]
    for (limit, utf8), labels in sorted(groups.items()):
        extra = f", and {limit:,} bytes in UTF-8 (each keys an index)" if utf8 else ""
        rows.append(f"| {', '.join(labels)} | {limit:,}{extra} |")
    rows.append(f"| lists (`mentions`, `hashtags`, `urls`, `media`, ...) | {M.L.LIST:,} items |")
    return "\n".join(rows)


SECTIONS = {"envelope": envelope_table, "limits": limits_table, "kinds": kinds_table}


def render_events_md(text: str) -> str:
    """docs/events.md with each generated section made again from the model."""
    return render(text, SECTIONS)


def main(root: Path) -> None:
    (Path(__file__).parent / SCHEMA_FILE).write_text(schema_text(), encoding="utf-8")
    rewrite(root / "docs" / "events.md", SECTIONS)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd())
