"""Which pinned versions differ between two requirement lists (the lock and a newer environment).

    python scripts/drift.py constraints.txt NEWER.txt     # NEWER: a `pip freeze` output
    python scripts/drift.py constraints.txt --newest      # what pip would install today (dry run)

Prints one line per difference and exits 1 when there is any, 0 when the lock is current.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path


def canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            out[canon(name.split("[")[0])] = version.split(";")[0].strip()
    return out


def newest(root: Path) -> dict[str, str]:
    """The versions `pip install .[dev]` would pick today, resolved without installing anything."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--dry-run",
                        "--ignore-installed", "--report", str(report), f"{root}[dev]"], check=True)
        items = json.loads(report.read_text())["install"]
    return {canon(i["metadata"]["name"]): i["metadata"]["version"] for i in items
            if canon(i["metadata"]["name"]) != "netwarden"}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    lock = pins(Path(argv[0]).read_text())
    other = newest(Path(argv[0]).resolve().parent) if argv[1] == "--newest" else pins(Path(argv[1]).read_text())
    lines = []
    for name in sorted(set(lock) | set(other)):
        a, b = lock.get(name), other.get(name)
        if a != b:
            lines.append(f"  {name}: {a or '(not pinned)'} -> {b or '(not needed)'}")
    if not lines:
        print(f"{argv[0]} is current: {len(lock)} pins, no newer version")
        return 0
    print(f"{len(lines)} version(s) differ from {argv[0]}:")
    print("\n".join(lines))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
