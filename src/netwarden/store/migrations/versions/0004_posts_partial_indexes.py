"""posts: reply_to, repost_of and quote_of indexed only where set (partial indexes)

Revision ID: 0004
Revises: 0003

Most posts are neither replies, reposts nor quotes; their NULLs no longer go into three B-trees on
every insert (stream worker write cost). Lookups by value use the partial indexes (a comparison
implies IS NOT NULL on SQLite and PostgreSQL).
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = ("quote_of", "reply_to", "repost_of")


def upgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        for c in COLUMNS:
            batch_op.drop_index(f"ix_posts_{c}")
            batch_op.create_index(f"ix_posts_{c}", [c], unique=False, sqlite_where=sa.text(f"{c} IS NOT NULL"),
                                  postgresql_where=sa.text(f"{c} IS NOT NULL"))


def downgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        for c in COLUMNS:
            batch_op.drop_index(f"ix_posts_{c}")
            batch_op.create_index(f"ix_posts_{c}", [c], unique=False)
