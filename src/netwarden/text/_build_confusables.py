"""Regenerate confusables.json: non-Latin look-alikes folded onto one ASCII letter or digit.

Dev-time only. Source: the Unicode confusables data as packaged by `confusable-homoglyphs`
(install it somewhere temporary, e.g. `pip install --target /tmp/cfh confusable-homoglyphs`), then
`python -m netwarden.text._build_confusables /tmp/cfh/confusable_homoglyphs/confusables.json`.
Only characters whose look-alike is a single ASCII letter or digit are kept; Arabic-script
characters are left to the Arabic normalization step, and ASCII maps to itself.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

OUT = Path(__file__).with_name("confusables.json")
_ARABIC = [(0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)]


def _ascii_target(ch: str, data: dict, depth: int = 0) -> str | None:
    cands: list[str] = []
    for key in dict.fromkeys([ch, ch.upper(), ch.lower()]):
        cands += [x["c"] for x in data.get(key, [])]
    for c in cands:
        if len(c) == 1 and c.isascii() and c.isalnum():
            return c.lower()
    if depth < 1:
        for c in cands:
            if len(c) == 1 and not c.isascii():
                t = _ascii_target(c, data, depth + 1)
                if t:
                    return t
    return None


def build(src: str) -> dict[str, str]:
    data = json.loads(Path(src).read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for ch in sorted(data):
        if len(ch) != 1 or ch.isascii():
            continue
        cp = ord(ch)
        if any(a <= cp <= b for a, b in _ARABIC) or unicodedata.category(ch)[0] not in "LN":
            continue
        if unicodedata.category(ch) == "Nd":
            continue  # digits are folded by their numeric value
        t = _ascii_target(ch, data)
        if t:
            out[ch] = t
    return out


if __name__ == "__main__":
    mapping = build(sys.argv[1])
    OUT.write_text(json.dumps(mapping, ensure_ascii=False, sort_keys=True, separators=(",", ":")), encoding="utf-8")
    print(f"wrote {len(mapping)} entries to {OUT}")
