"""accounts state index: the suspended set is read by the evasion watch on every stream batch (issue 16)

Revision ID: 0012
Revises: 0011
"""
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_accounts_state', 'accounts', ['state', 'state_time'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_accounts_state', table_name='accounts')
