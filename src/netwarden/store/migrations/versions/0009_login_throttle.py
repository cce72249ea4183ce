"""login throttle: failed sign-ins per account and per address, with lockouts (issue 14)

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'login_throttle',
        sa.Column('key', sa.String(length=300), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('burst_start', sa.String(length=40), nullable=False),
        sa.Column('locked_until', sa.String(length=40), nullable=True),
        sa.Column('lockouts', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )


def downgrade() -> None:
    op.drop_table('login_throttle')
