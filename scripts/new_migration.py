"""Write the next Alembic migration from the difference between the table definitions and head.

    make migration MSG="what changes"

A throw-away SQLite store is upgraded to head, then Alembic autogenerates the difference as
versions/NNNN_<slug>.py (NNNN the next number). Read it before committing: autogenerate does not
see triggers or data moves (0002 shows a hand-written migration). tests/test_migrations.py fails
while the migrations and the table definitions disagree.
"""

import re
import sys
import tempfile

from alembic import command
from alembic.config import Config

from netwarden.store import open_store
from netwarden.store.db import MIGRATIONS

msg = " ".join(sys.argv[1:]).strip()
if not msg:
    sys.exit('usage: make migration MSG="what changes"')
versions = MIGRATIONS / "versions"
last = max(int(p.name[:4]) for p in versions.glob("*.py") if p.name[:4].isdigit())
rev = f"{last + 1:04d}"
with tempfile.TemporaryDirectory() as d:
    url = f"sqlite:///{d}/head.db"
    open_store(url).close()  # at head
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    command.revision(cfg, message=msg, autogenerate=True, rev_id=rev)
for new in versions.glob(f"{rev}_*.py"):
    text = "\n".join(line for line in new.read_text().splitlines() if not line.startswith("Create Date:")) + "\n"
    slug = re.sub(r"[^a-z0-9]+", "_", msg.lower()).strip("_")[:40]
    new.unlink()
    (versions / f"{rev}_{slug}.py").write_text(text)
    print("wrote", versions / f"{rev}_{slug}.py", file=sys.stderr)
