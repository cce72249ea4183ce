"""account labels: per-account labels set by reviewers (issue 18)

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'account_labels',
        sa.Column('account_id', sa.String(length=128), nullable=False),
        sa.Column('label', sa.String(length=60), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint('account_id', 'label'),
    )


def downgrade() -> None:
    op.drop_table('account_labels')
