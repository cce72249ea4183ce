"""Regenerate the baseline Alembic migration (0001) from the table definitions.

Only while no release has shipped: after the first release, schema changes get their own
migrations (`alembic revision --autogenerate`). tests/test_migrations.py fails when the
migrations and the table definitions disagree.
"""

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config

from netwarden.store.db import MIGRATIONS

versions = MIGRATIONS / "versions"
for old in versions.glob("0001_*.py"):
    old.unlink()
later = sorted(p for p in versions.glob("*.py") if p.name[:4].isdigit())
with tempfile.TemporaryDirectory() as d:
    aside = Path(d) / "aside"
    aside.mkdir()
    for p in later:  # later migrations build on 0001; keep them out of autogenerate's way
        p.rename(aside / p.name)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", f"sqlite:///{d}/empty.db")
    try:
        command.revision(cfg, message="baseline", autogenerate=True, rev_id="0001")
    finally:
        for p in later:
            (aside / p.name).rename(p)
for new in versions.glob("0001_*.py"):
    text = new.read_text().replace("Revises: \n", "Revises:\n")
    # drop the wall-clock line so regenerating twice gives the same file
    text = "\n".join(line for line in text.splitlines() if not line.startswith("Create Date:")) + "\n"
    new.rename(versions / "0001_baseline.py")
    (versions / "0001_baseline.py").write_text(text)
print("regenerated", versions / "0001_baseline.py", file=sys.stderr)
