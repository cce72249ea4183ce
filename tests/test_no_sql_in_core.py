"""The core is library code over the data it is given; its SQL lives in netwarden.store (issue 13 item 5).

risk.py, cases.py and graph/ may not build queries: no SQLAlchemy import but the `Connection` type
they pass on to the store, and no SQL text.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "netwarden"
CORE = [SRC / "risk.py", SRC / "cases.py", *sorted((SRC / "graph").glob("*.py"))]
SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b[\s\S]*\b(FROM|INTO|SET)\b")
ALLOWED_IMPORTS = {("sqlalchemy.engine", "Connection")}


def sql_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            found += [f"from {node.module} import {a.name}" for a in node.names
                      if (node.module, a.name) not in ALLOWED_IMPORTS]
        elif isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.startswith("sqlalchemy")]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
            found.append(f"SQL text at line {node.lineno}: {node.value[:60]!r}")
    return found


def test_the_core_holds_no_sql():
    dirty = {str(p.relative_to(SRC)): sql_uses(p) for p in CORE}
    dirty = {k: v for k, v in dirty.items() if v}
    assert not dirty, f"SQL belongs in netwarden.store: {dirty}"


def test_the_check_finds_sql_text_and_query_builders(tmp_path):
    """The control: the check is not blind (a module with a query in either form is found)."""
    p = tmp_path / "m.py"
    p.write_text('from sqlalchemy import select\nQ = "SELECT id FROM accounts"\n'
                 "from sqlalchemy.engine import Connection\n")
    assert sql_uses(p) == ["from sqlalchemy import select", "SQL text at line 2: 'SELECT id FROM accounts'"]
