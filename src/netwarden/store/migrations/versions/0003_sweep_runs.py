"""sweep runs and their groups are stored (netwarden sweep --list / --run, case sweep --run)

Revision ID: 0003
Revises: 0002

The first migration after the first landing on main: stores made before it gain the two tables,
nothing else changes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sweep_groups",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("accounts", sa.Text(), nullable=False),
        sa.Column("core", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", "rank", name=op.f("pk_sweep_groups")),
    )
    op.create_table(
        "sweep_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("seeds", sa.Integer(), nullable=False),
        sa.Column("group_count", sa.Integer(), nullable=False),
        sa.Column("graph", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sweep_runs")),
    )


def downgrade() -> None:
    op.drop_table("sweep_runs")
    op.drop_table("sweep_groups")
